// The IPAM records in the Datastore (Calico's ipam_block_reader_writer.go): reads blocks,
// affinities and handles, and writes them back only with compare-and-swap on the revisions
// they were read at, so that two writers never both apply a change made from one state.
// `retry_lost_races` repeats a step that lost such a race, with a growing random pause.
// Which block to use and what to put in it is the Allocator's (allocator.hpp); the records'
// contents are block.hpp's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ipam/affine_block_cache.hpp"
#include "ipam/block.hpp"
#include "ipam/resources/resources.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

// A handle as read (absent: mod_revision 0 and no record), at the revision a commit compares.
struct StoredHandle {
  std::string id;
  std::string key;
  std::int64_t mod_revision = 0;
  std::optional<HandleRecord> record;

  static StoredHandle absent(const std::string& id);
};

class BlockReaderWriter {
 public:
  explicit BlockReaderWriter(Datastore& store) : store_(store) {}

  // A block as stored now (none when absent).
  Result<std::optional<StoredBlock>> read_block(const Prefix& cidr);
  // The block as last cached for its node (affine_blocks, commits) when it is, else as read: for
  // a commit that compares its revision, so a stale copy only loses (and is forgotten).
  Result<std::optional<StoredBlock>> cached_or_read_block(const Prefix& cidr);
  // The block that holds `address`: found through the pool that contains it (its blockSize),
  // else, when its pool is gone or has another block size, by a look at every block.
  Result<std::optional<StoredBlock>> block_holding(const Address& address, const std::vector<IPPool>& pools);
  // The first block inside `pool` (in address order) that `wanted` accepts.
  Result<std::optional<StoredBlock>> first_block_within(const Prefix& pool,
                                                        const std::function<bool(const AllocationBlock&)>& wanted);
  // The blocks that exist and overlap `pool`, from their keys alone (no values read).
  Result<std::vector<Prefix>> blocks_within(const Prefix& pool);
  // The blocks the affinity index gives to `node` (whether or not each block exists).
  Result<std::vector<Prefix>> affinities_of(const std::string& node);
  // Both of the above in one round trip, the index read no earlier than the pool's blocks (at
  // one revision on etcd): what a claim looks at. The node's cached blocks are read again in the
  // same trip (the cache then holds them as they are).
  struct ClaimView {
    std::vector<Prefix> taken;       // blocks_within(pool)
    std::vector<Prefix> affinities;  // affinities_of(node)
  };
  Result<ClaimView> claim_view(const Prefix& pool, const std::string& node);
  Result<StoredHandle> read_handle(const std::string& id);
  // The handle from `kv`, its key as read elsewhere (none: absent).
  static Result<StoredHandle> handle_as_read(const std::string& id, std::optional<KeyValue> kv);

  // The blocks whose cached copy holds an address of `handle` (a workload of a node whose
  // blocks are cached: they are its affine blocks).
  std::vector<Prefix> cached_blocks_holding(const std::string& handle) const { return cache_.blocks_holding(handle); }
  // What a release of handles that depend on each other reads (Allocator::release_handle_with),
  // in one round trip: the handles and every block within the pools.
  struct ReleaseView {
    std::vector<StoredHandle> handles;  // in the order asked (absent: revision 0, no record)
    std::vector<StoredBlock> blocks;    // those within a pool that parse (cached as read)
    std::set<Prefix> unreadable;        // those within a pool that do not
  };
  Result<ReleaseView> release_view(const std::vector<std::string>& handles, const std::vector<Prefix>& pools);

  // The node's affine blocks, parsed: from the cache, else read from the store (and cached).
  Result<AffineBlockCache::NodeBlocks*> affine_blocks(const std::string& node);
  bool has_cached(const std::string& node) { return cache_.find(node) != nullptr; }
  void forget(const std::string& node) { cache_.forget(node); }
  // A block read outside affine_blocks, for its node's cached view.
  void remember(StoredBlock read);

  // Assignments in one transaction (one address for the allocator's allocate, a batch for its
  // allocate_batch): every block of `blocks` (each read at its mod_revision; 0: a claim of a
  // free block, written with its affinity) as changed, and one more address for each handle in
  // the block beside it. Handles must be distinct. `guards` go in the same transaction (the
  // allocator's cached settings, ipam_settings_reader.hpp); when one of them failed,
  // *guard_failed is set. True when it applied; false when it lost: the blocks are then
  // refreshed in the cache and each handle holds the handle as it is now (no read needed).
  struct HandleInBlock {
    StoredHandle* handle;
    Prefix block;
  };
  Result<bool> commit_assignments(std::vector<StoredBlock> blocks, const std::vector<HandleInBlock>& handles,
                                  const std::vector<Unchanged>& guards, bool* guard_failed);
  // One block, one handle (the allocator's allocate).
  Result<bool> commit_assignment(StoredBlock block, StoredHandle& handle, const std::vector<Unchanged>& guards = {},
                                 bool* guard_failed = nullptr);
  // Writes a release from `cidr`: the block as read at block->mod_revision (none: it must still
  // be absent), with the addresses already freed, or deleted with its affinity when
  // `drop_block`; and the handle (none: it must still be absent) with its record after the
  // release, erased once the record counts no block. True when it applied.
  Result<bool> commit_release(const Prefix& cidr, std::optional<StoredBlock> block, bool drop_block,
                              const StoredHandle& handle);
  // The same for several blocks and handles in one transaction.
  struct BlockRelease {
    Prefix cidr;
    std::optional<StoredBlock> block;
    bool drop = false;
  };
  Result<bool> commit_releases(std::vector<BlockRelease> blocks, const std::vector<const StoredHandle*>& handles);
  // Deletes an empty block (read at block.mod_revision) with its affinity entry. True when it
  // applied; false when the block changed since it was read.
  Result<bool> drop_empty_block(const StoredBlock& block);
  // Takes `node`'s affinity off `cidr`: the block as read (at its mod_revision) keeps its
  // addresses and loses its affinity, and the index entry goes, in one transaction; with no
  // block, or one affine to another node, only the stale index entry goes. True when it applied.
  Result<bool> clear_affinity(const Prefix& cidr, const std::string& node, std::optional<StoredBlock> block);
  // Erases a handle that counts no block. True when it applied.
  Result<bool> erase_handle(const StoredHandle& handle);

 private:
  Datastore& store_;
  AffineBlockCache cache_;
};

// Conflicts are expected under contention (many workloads starting on one node, or many nodes
// claiming blocks at once); each attempt is cheap, but the bound keeps a caller from spinning
// forever against a store that keeps changing.
inline constexpr int kMaxLostRaces = 400;

// Before attempt number `attempt` (0 = the first): nothing for the first few, then a random
// pause that grows with the number of races lost, so contenders spread out.
void pause_before_attempt(int attempt);

// Runs `step` until it gives a value (or an error); a step that gives nothing lost a
// compare-and-swap race and is run again, after a pause, at most kMaxLostRaces times in a row.
// `what` names the operation for the error ("allocation for node n1").
template <class T, class Step>
Result<T> retry_lost_races(const std::string& what, Step&& step) {
  for (int attempt = 0; attempt < kMaxLostRaces; ++attempt) {
    pause_before_attempt(attempt);
    Result<std::optional<T>> r = step();
    if (!r) return r.error();
    if (*r) return std::move(**r);
  }
  return unavailable(what + " lost " + std::to_string(kMaxLostRaces) +
                     " compare-and-swap races in a row; the store is too contended, try again");
}

}  // namespace blockd::ipam
