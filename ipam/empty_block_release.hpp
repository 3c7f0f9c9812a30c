// Giving empty blocks back to their pool (Calico's releaseAffinity of an empty block): the
// block and its node's affinity entry are deleted in one compare-and-swap on the block's
// revision, so a block an allocator wrote to since it was read is never dropped; its route is
// withdrawn as every agent sees it go. Blocks that hold addresses are left as they are
// (they keep routing their workloads; the release of their last address drops them).
#pragma once

#include <functional>
#include <vector>

#include "ipam/block.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

// Deletes every empty block inside `within` that `wanted` accepts; returns the blocks deleted.
// A block that changed since it was read is read again and judged again.
Result<std::vector<Prefix>> release_empty_blocks(Datastore& store, const Prefix& within,
                                                 const std::function<bool(const AllocationBlock&)>& wanted);

// The same for the blocks the affinity index gives to `node` (any pool); an index entry whose
// block is gone is erased.
Result<std::vector<Prefix>> release_empty_blocks_of(Datastore& store, const std::string& node,
                                                    const std::function<bool(const AllocationBlock&)>& wanted);

}  // namespace blockd::ipam
