#include "ipam/empty_block_release.hpp"

#include "ipam/block_reader_writer.hpp"

namespace blockd::ipam {
namespace {

// One block: true when it was deleted, false when it is kept (it holds addresses, is gone, or
// `wanted` declines it). `indexed_for`: the node whose affinity index named the block; that
// entry is erased when the block is gone.
Result<bool> release_if_empty(Datastore& store, const Prefix& cidr,
                              const std::function<bool(const AllocationBlock&)>& wanted,
                              const std::string& indexed_for) {
  BlockReaderWriter blocks(store);
  return retry_lost_races<bool>("release of block " + cidr.str(), [&]() -> Result<std::optional<bool>> {
    auto block = blocks.read_block(cidr);
    if (!block) return block.error();
    if (!*block && !indexed_for.empty()) {
      auto erased = blocks.clear_affinity(cidr, indexed_for, std::nullopt);
      if (!erased) return erased.error();
    }
    if (!*block || !(*block)->block.empty() || !wanted((*block)->block)) return std::optional<bool>{false};
    auto dropped = blocks.drop_empty_block(**block);
    if (!dropped) return dropped.error();
    if (!*dropped) return std::optional<bool>{};  // changed since read: judge it again
    return std::optional<bool>{true};
  });
}

Result<std::vector<Prefix>> release_each(Datastore& store, const std::vector<Prefix>& cidrs,
                                         const std::function<bool(const AllocationBlock&)>& wanted,
                                         const std::string& indexed_for = {}) {
  std::vector<Prefix> released;
  for (const auto& cidr : cidrs) {
    auto done = release_if_empty(store, cidr, wanted, indexed_for);
    if (!done) return done.error();
    if (*done) released.push_back(cidr);
  }
  return released;
}

}  // namespace

Result<std::vector<Prefix>> release_empty_blocks(Datastore& store, const Prefix& within,
                                                 const std::function<bool(const AllocationBlock&)>& wanted) {
  auto cidrs = BlockReaderWriter(store).blocks_within(within);
  if (!cidrs) return cidrs.error();
  std::erase_if(*cidrs, [&](const Prefix& b) { return !within.contains(b); });
  return release_each(store, *cidrs, wanted);
}

Result<std::vector<Prefix>> release_empty_blocks_of(Datastore& store, const std::string& node,
                                                    const std::function<bool(const AllocationBlock&)>& wanted) {
  auto cidrs = BlockReaderWriter(store).affinities_of(node);
  if (!cidrs) return cidrs.error();
  return release_each(
      store, *cidrs, [&](const AllocationBlock& b) { return b.affinity() == node && wanted(b); }, node);
}

}  // namespace blockd::ipam
