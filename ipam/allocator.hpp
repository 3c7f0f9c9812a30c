// The block allocator, with Calico's semantics (ARCHITECTURE.md, Allocation):
//   1. candidate pools (pool_selection.hpp);
//   2. a free address in a block affine to the node;
//   3. else claim a free block of a candidate pool for the node and allocate in it (try_claim);
//   4. else, unless the pool or the IPAMConfiguration has strict affinity, borrow from another
//      node's block;
// never handing out a reserved address (IPReservation, IPv6 Subnet-Router anycast) and never
// claiming past the IPAMConfiguration's maxBlocksPerHost or when its autoAllocateBlocks is false;
// and release by address or by handle. The orchestrator of Calico's ipam.go: what to do with a
// block is block.hpp's, where a node claims is unclaimed_block.hpp's, and every change is one
// compare-and-swap transaction on the block's and the handle's revisions through
// block_reader_writer.hpp, retried on conflict, so concurrent allocators (threads, processes,
// hosts) never hand out one address twice, whatever the interleaving or crash point. Existing
// allocations are never moved or renumbered.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipam/block.hpp"
#include "ipam/block_reader_writer.hpp"
#include "ipam/ipam_settings_reader.hpp"
#include "ipam/store/datastore.hpp"
#include "ipam/pool_selection.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::ipam {

// What the caller knows of the node and the pools (the agent from its cluster view, blockctl
// from a fresh read).
struct AllocationContext {
  std::string node;
  Labels labels;
  std::vector<IPPool> pools;
};

struct AllocationRequest {
  std::string handle;
  Family family = Family::V4;
  std::vector<std::string> pools;  // restrict to these pools, in this order (empty: any)
  AddressUse use = AddressUse::Workload;  // only pools whose allowedUses include it
};

struct AllocatedAddress {
  Address address;
  Prefix block;
  std::string pool;
  bool borrowed = false;  // from a block affine to another node
  bool reused = false;    // the handle already held it (a retried request): nothing was taken
};

struct ReleaseOptions {
  // Delete a block once its last address is released (Calico keeps empty affine blocks until
  // the node goes away; this gives the block back to the pool at once).
  bool release_empty_blocks = false;
  // The pools as the caller knows them: an emptied block none of them contains (its pool was
  // deleted) is deleted whatever release_empty_blocks says, as Calico's pool deletion keeps a
  // block only while it holds addresses. release_address uses its own pools argument.
  const std::vector<IPPool>* pools = nullptr;
};

// An address that serves others and goes when the last of them goes (the agent's pod gateways,
// agent/pod_gateways.hpp): for a pool, the handle that holds it and which allocations keep it.
struct ReleaseCompanion {
  std::function<std::string(const IPPool&)> handle;
  std::function<bool(const Allocation&)> keeps;
};

struct CompanionRelease {
  std::vector<ReleasedAddress> released;    // the handle's
  std::vector<ReleasedAddress> companions;  // the companions released with them
  // False when the handle was released alone (its blocks were not where the cache said): the
  // caller then sees to the companions itself.
  bool companions_checked = true;
};

// A batch's transaction stays within etcd's defaults: --max-txn-ops 128 (compares and puts
// are each counted) and --max-request-bytes 1.5 MiB (the values well below it).
inline constexpr std::size_t kMaxBatchOperations = 128;
inline constexpr std::size_t kMaxBatchBytes = 512 * 1024;

class Allocator {
 public:
  explicit Allocator(Datastore& store) : store_(store), blocks_(store) {}

  // A handle holds at most one address per family: asking again for a family it holds returns
  // that address (reused), so a retried CNI ADD gets the address of the first try.
  // First, as Calico's autoAssign does, the node's empty blocks of pools that no longer select
  // it (selector changed, pool disabled or deleted) are given back.
  Result<AllocatedAddress> allocate(const AllocationContext& ctx, const AllocationRequest& req);
  // Several requests of one node at once (a node starting pods in parallel): addresses in the
  // node's affine blocks, and in at most one block claimed for the node when they are full, are
  // assigned in one pass and committed in ONE transaction (a compare per block touched and per
  // handle, the claim's affinity, the settings guard), split only where etcd's limits require
  // (kMaxBatchOperations, kMaxBatchBytes); a lost race retries the batch. A request with no room
  // even so (an address to borrow, none free) or whose handle exists (a retry, or the same
  // handle twice) goes allocate()'s way, one at a time. One answer per request, in order: a
  // request that cannot be served (no such pool, no free address) fails alone.
  std::vector<Result<AllocatedAddress>> allocate_batch(const AllocationContext& ctx,
                                                       const std::vector<AllocationRequest>& requests);
  // pools helps find the block (a pool's blockSize); without a matching pool every block is read.
  Result<ReleasedAddress> release_address(const Address& address, const std::vector<IPPool>& pools,
                                          const ReleaseOptions& options = {});
  // Releasing a handle that holds nothing is not an error (CNI DEL is idempotent).
  Result<std::vector<ReleasedAddress>> release_handle(const std::string& handle, const ReleaseOptions& options = {});
  // The same with the handle's key as the caller just read it (none: absent) in a read of its
  // own, which saves the first read: a stale copy loses its compare and is read again; the
  // caller must have read it no earlier than whatever made it decide to release.
  Result<std::vector<ReleasedAddress>> release_handle(const std::string& handle, std::optional<KeyValue> as_read,
                                                      const ReleaseOptions& options);
  // release_handle, and in the same transaction the companion of each of its pools that no
  // allocation `keeps` any more: one read (the handle, the companions' handles, the blocks of
  // the pools the cache says the handle's blocks lie in) and one commit, which deletes a block
  // that this empties (options). A block that changed since the read loses the commit, and all
  // is read again.
  Result<CompanionRelease> release_handle_with(const std::string& handle, const std::vector<IPPool>& pools,
                                               const ReleaseCompanion& companion, const ReleaseOptions& options);
  // The addresses a handle holds (none when the handle is unknown).
  Result<std::vector<Address>> addresses_of(const std::string& handle);
  // Gives back the node's empty affine blocks that lie in no pool of ctx.pools selecting it
  // (allocate() does it first; the agent's sweep too, for a node that allocates nothing).
  Status release_deselected_blocks(const AllocationContext& ctx);

 private:
  // The pools a request may take an address from, or why it cannot be served.
  Result<std::vector<IPPool>> candidate_pools(const AllocationContext& ctx, const AllocationRequest& req) const;
  // allocate_batch's requests and what became of them.
  struct Batch;
  // Assigns what fits in the node's affine blocks to the batch's waiting requests and commits it
  // in one transaction: how many it allocated (0: none fitted), nothing when it lost a race.
  Result<std::optional<std::size_t>> commit_batch(const AllocationContext& ctx, Batch& batch);
  // The address of req.family the handle (as last read) already holds, if any.
  Result<std::optional<AllocatedAddress>> held_address(const AllocationContext& ctx, const AllocationRequest& req,
                                                       const StoredHandle& handle);
  // One step of the order above: it allocated, found no room, or lost a race (retry all).
  struct Attempt {
    enum class Outcome { Allocated, NoRoom, Retry } outcome = Outcome::NoRoom;
    AllocatedAddress address;
    bool block_limit = false;  // NoRoom because the node holds maxBlocksPerHost blocks
  };
  // Assigns one address of `block` (at revision 0: claims it) to the request and commits it.
  Result<Attempt> assign_in(StoredBlock block, const std::string& pool, const AllocationContext& ctx,
                            const AllocationRequest& req, const IpamSettings& settings, StoredHandle& handle);
  Result<Attempt> try_affine(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                             const AllocationRequest& req, const IpamSettings& settings, StoredHandle& handle);
  Result<Attempt> try_claim(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                            const AllocationRequest& req, const IpamSettings& settings, StoredHandle& handle);
  // The free block the node would claim next (Allocated: `block`, at revision 0, affine to the
  // node), none (NoRoom), or Retry when another agent of the node claimed one since.
  struct Claim {
    Attempt::Outcome outcome = Attempt::Outcome::NoRoom;
    bool block_limit = false;
    std::optional<StoredBlock> block;
    std::string pool;
  };
  Result<Claim> find_claim(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                           const IpamSettings& settings);
  // Whether another agent of this node claimed a block with room since we last read the node's
  // blocks (it is then in the cache), or room came free in one of them (as claim_view just read
  // them), from the node's `affinities` as just read; collects those
  // whose block is missing and counts the node's blocks in the candidate pools (maxBlocksPerHost).
  Result<bool> sibling_claimed(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                               const IpamSettings& settings, const std::vector<Prefix>& affinities,
                               std::vector<Prefix>& dangling, std::size_t& held);
  Result<Attempt> try_borrow(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                             const AllocationRequest& req, const IpamSettings& settings, StoredHandle& handle);
  // Releases the addresses of the handle's first block: true when the handle holds nothing
  // more (the last block's release erased it), false after one block's release of several,
  // nothing when it lost a race.
  // release_handle from the handle as read (`first`); every later step reads it again.
  Result<std::vector<ReleasedAddress>> release_handle(StoredHandle first, const ReleaseOptions& options);
  // One try of release_handle_with in `look_in`: true when done, false when a block of the
  // handle lies outside them or does not parse, nothing when it lost a race.
  Result<std::optional<bool>> release_with_companions(const std::string& handle,
                                                      const std::vector<const IPPool*>& look_in,
                                                      const ReleaseCompanion& companion,
                                                      const ReleaseOptions& options, CompanionRelease& out);
  Result<std::optional<bool>> release_first_block(StoredHandle stored, const ReleaseOptions& options,
                                                  std::vector<ReleasedAddress>& released);

  // Whether an emptied block is deleted: when asked, and always when its pool is gone.
  static bool drop_emptied(const AllocationBlock& block, const ReleaseOptions& options);

  Datastore& store_;
  BlockReaderWriter blocks_;
  // The IPAM settings as last read, kept across allocations: each commit guards them
  // (ipam_settings_reader.hpp says why that keeps every reservation honoured); none when a
  // commit found them changed.
  std::optional<IpamSettings> settings_;
  // Whether this allocate() call read the node's affine blocks (none were cached before it).
  bool affine_read_now_ = false;
  // Whether try_affine found no room in blocks cached by an earlier call (they may be stale).
  bool affine_from_cache_ = false;
  std::size_t held_blocks_ = 0;  // the node's blocks as try_claim last counted them (for the error)
};

}  // namespace blockd::ipam
