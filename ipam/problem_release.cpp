#include "ipam/problem_release.hpp"

#include "ipam/block_reader_writer.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"

namespace blockd::ipam {
namespace {

using Step = Result<std::optional<ProblemRelease>>;

ProblemRelease kept(std::string reason) { return {false, std::move(reason)}; }

Result<bool> node_exists(Datastore& store, const std::string& node) {
  auto kv = store.get(keys::resource_folder("Node") + node);
  if (!kv) return kv.error();
  return kv->has_value();
}

// An address still held by the report's handle (and, for a deleted node's, still that node's,
// the node still absent): released from its block and its handle, in one transaction comparing
// both as read here.
Step release_address(BlockReaderWriter& io, Datastore& store, const Problem& p) {
  if (!p.address || !p.block || p.handle.empty()) return invalid(p.id + ": the report gives no address, block or handle");
  if (p.kind == ProblemKind::DeletedNodeAddress) {
    auto exists = node_exists(store, p.node);
    if (!exists) return exists.error();
    if (*exists) return std::optional(kept("node " + p.node + " exists again"));
  }
  auto block = io.read_block(*p.block);
  if (!block) return block.error();
  if (!*block) return std::optional(kept("block " + p.block->str() + " is gone"));
  const auto held = (*block)->block.allocation_of(*p.address);
  if (!held || held->handle != p.handle || (p.kind == ProblemKind::DeletedNodeAddress && held->node != p.node)) {
    return std::optional(kept(p.address->str() + " is no longer held by handle " + p.handle));
  }
  auto handle = io.read_handle(p.handle);
  if (!handle) return handle.error();
  if (p.kind == ProblemKind::LeakedAddress && handle->record) {
    return std::optional(kept("handle " + p.handle + " exists again"));
  }
  (*block)->block.release(*p.address);
  if (handle->record) handle->record->remove(*p.block);
  // An emptied block that is no node's goes back to its pool.
  const bool drop = (*block)->block.empty() && (*block)->block.affinity().empty();
  auto committed = io.commit_release(*p.block, std::move(**block), drop, *handle);
  if (!committed) return committed.error();
  if (!*committed) return std::optional<ProblemRelease>{};  // changed meanwhile: check again
  return std::optional(ProblemRelease{true, ""});
}

Step release_affinity(BlockReaderWriter& io, Datastore& store, const Problem& p) {
  if (!p.block || p.node.empty()) return invalid(p.id + ": the report gives no block or node");
  auto exists = node_exists(store, p.node);
  if (!exists) return exists.error();
  if (*exists) return std::optional(kept("node " + p.node + " exists again"));
  auto block = io.read_block(*p.block);
  if (!block) return block.error();
  if (!*block || (*block)->block.affinity() != p.node) {
    return std::optional(kept("block " + p.block->str() + " is no longer affine to " + p.node));
  }
  auto done = (*block)->block.empty() ? io.drop_empty_block(**block) : io.clear_affinity(*p.block, p.node, **block);
  if (!done) return done.error();
  if (!*done) return std::optional<ProblemRelease>{};
  return std::optional(ProblemRelease{true, ""});
}

Step release_block_outside_pools(BlockReaderWriter& io, Datastore& store, const Problem& p) {
  if (!p.block) return invalid(p.id + ": the report gives no block");
  auto pools = ResourceStore(store).pools();
  if (!pools) return pools.error();
  for (const auto& pool : *pools) {
    if (pool.cidr.overlaps(*p.block)) return std::optional(kept("IP pool " + pool.name + " holds the block again"));
  }
  auto block = io.read_block(*p.block);
  if (!block) return block.error();
  if (!*block) return std::optional(kept("block " + p.block->str() + " is gone"));
  if (!(*block)->block.empty()) return std::optional(kept("block " + p.block->str() + " holds addresses again"));
  auto done = io.drop_empty_block(**block);
  if (!done) return done.error();
  if (!*done) return std::optional<ProblemRelease>{};
  return std::optional(ProblemRelease{true, ""});
}

Step release_empty_handle(BlockReaderWriter& io, const Problem& p) {
  if (p.handle.empty()) return invalid(p.id + ": the report gives no handle");
  auto handle = io.read_handle(p.handle);
  if (!handle) return handle.error();
  if (!handle->record) return std::optional(kept("handle " + p.handle + " is gone"));
  for (const auto& [cidr, count] : handle->record->blocks) {
    auto block = io.read_block(cidr);
    if (!block) return block.error();
    if (*block && !(*block)->block.addresses_of(p.handle).empty()) {
      return std::optional(kept("handle " + p.handle + " holds an address in " + cidr.str() + " again"));
    }
  }
  // Compared at the revision read: an allocation for the handle since then changes it.
  auto done = io.erase_handle(*handle);
  if (!done) return done.error();
  if (!*done) return std::optional<ProblemRelease>{};
  return std::optional(ProblemRelease{true, ""});
}

}  // namespace

Result<ProblemRelease> release_problem(Datastore& store, const Problem& problem) {
  if (!problem.releasable()) return kept("an inconsistency: release by hand after reading it");
  BlockReaderWriter io(store);
  return retry_lost_races<ProblemRelease>("release of " + problem.id, [&]() -> Step {
    switch (problem.kind) {
      case ProblemKind::LeakedAddress:
      case ProblemKind::DeletedNodeAddress:
        return release_address(io, store, problem);
      case ProblemKind::DeletedNodeAffinity:
        return release_affinity(io, store, problem);
      case ProblemKind::EmptyBlockOutsidePools:
        return release_block_outside_pools(io, store, problem);
      case ProblemKind::EmptyHandle:
        return release_empty_handle(io, problem);
      case ProblemKind::Inconsistency:
        break;
    }
    return std::optional(kept("not releasable"));
  });
}

}  // namespace blockd::ipam
