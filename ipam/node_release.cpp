#include "ipam/node_release.hpp"

#include <map>

#include "ipam/block_reader_writer.hpp"
#include "ipam/empty_block_release.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"

namespace blockd::ipam {
namespace {

// Handles with an address on `node`, each with its first address (for the refusal message).
Result<std::map<std::string, Address>> handles_on(Datastore& store, const std::string& node) {
  auto listed = store.list(keys::kBlocks);
  if (!listed) return listed.error();
  std::map<std::string, Address> out;
  for (const auto& kv : listed->kvs) {
    auto block = AllocationBlock::from_json(kv.value);
    if (!block) return block.error().within(kv.key);
    for (const auto& [ordinal, a] : block->allocations()) {
      if (a.node == node) out.emplace(a.handle, block->cidr().at(ordinal));
    }
  }
  return out;
}

// A block of the node that others still use: its affinity (and the index entry) goes in one
// compare-and-swap. True when the block still holds addresses.
Result<bool> unaffine(Datastore& store, const Prefix& cidr, const std::string& node) {
  BlockReaderWriter blocks(store);
  return retry_lost_races<bool>("release of the affinity of " + cidr.str(), [&]() -> Result<std::optional<bool>> {
    auto block = blocks.read_block(cidr);
    if (!block) return block.error();
    const bool in_use = *block && !(*block)->block.empty();
    auto done = blocks.clear_affinity(cidr, node, *block);
    if (!done) return done.error();
    if (!*done) return std::optional<bool>{};
    return std::optional<bool>{in_use};
  });
}

}  // namespace

Result<NodeRelease> release_node_ipam(Datastore& store, const std::string& node, const NodeReleaseOptions& options) {
  auto held = handles_on(store, node);
  if (!held) return held.error();
  std::string workloads;
  for (const auto& [handle, address] : *held) {
    if (options.is_own_handle && options.is_own_handle(handle)) continue;
    workloads += (workloads.empty() ? "" : ", ") + handle + " (" + address.str() + ")";
  }
  if (!workloads.empty() && !options.force) {
    return invalid("node " + node + " still has workloads holding addresses: " + workloads +
                   "; release them first or use --force to release them too");
  }
  auto pools = ResourceStore(store).pools();
  if (!pools) return pools.error();
  NodeRelease out;
  Allocator allocator(store);
  ReleaseOptions release{true, &*pools};
  for (const auto& [handle, address] : *held) {
    auto r = allocator.release_handle(handle, release);
    if (!r) return r.error();
    out.released.insert(out.released.end(), r->begin(), r->end());
  }
  auto freed = release_empty_blocks_of(store, node, [](const AllocationBlock&) { return true; });
  if (!freed) return freed.error();
  out.blocks_released = std::move(*freed);
  auto left = BlockReaderWriter(store).affinities_of(node);
  if (!left) return left.error();
  for (const auto& cidr : *left) {
    auto kept = unaffine(store, cidr, node);
    if (!kept) return kept.error();
    if (*kept) out.blocks_unaffined.push_back(cidr);
  }
  return out;
}

}  // namespace blockd::ipam
