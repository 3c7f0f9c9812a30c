// The block allocator, with Calico's semantics (ARCHITECTURE.md, Allocation):
//   1. candidate pools (pool_selection.hpp);
//   2. a free address in a block affine to the node;
//   3. else claim a free block of a candidate pool for the node and allocate in it (try_claim);
//   4. else, unless the pool has strict affinity, borrow from another node's block;
// and release by address or by handle. Every change is one compare-and-swap transaction on the
// block's and the handle's revisions, retried on conflict, so concurrent allocators (threads,
// processes, hosts) never hand out one address twice, whatever the interleaving or crash point.
// Existing allocations are never moved or renumbered.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipam/block.hpp"
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
};

struct ReleasedAddress {
  Address address;
  Allocation allocation;
};

class Allocator {
 public:
  explicit Allocator(Datastore& store) : store_(store) {}

  // A handle holds at most one address per family: asking again for a family it holds returns
  // that address (reused), so a retried CNI ADD gets the address of the first try.
  Result<AllocatedAddress> allocate(const AllocationContext& ctx, const AllocationRequest& req);
  // pools helps find the block (a pool's blockSize); without a matching pool every block is read.
  Result<ReleasedAddress> release_address(const Address& address, const std::vector<IPPool>& pools,
                                          const ReleaseOptions& options = {});
  // Releasing a handle that holds nothing is not an error (CNI DEL is idempotent).
  Result<std::vector<ReleasedAddress>> release_handle(const std::string& handle, const ReleaseOptions& options = {});
  // The addresses a handle holds (none when the handle is unknown).
  Result<std::vector<Address>> addresses_of(const std::string& handle);

 private:
  // A block as stored now (none when absent), for the read-only lookups by handle.
  Result<std::optional<AllocationBlock>> read_block(const Prefix& cidr);
  // The address of req.family the handle (as last read) already holds, if any.
  Result<std::optional<AllocatedAddress>> held_address(const AllocationContext& ctx, const AllocationRequest& req,
                                                       const KeyValue& handle_kv);
  // One step of the order above: it allocated, found no room, or lost a race (retry all).
  struct Attempt {
    enum class Outcome { Allocated, NoRoom, Retry } outcome = Outcome::NoRoom;
    AllocatedAddress address;
  };
  Result<Attempt> try_affine(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                             const AllocationRequest& req, KeyValue& handle_kv);
  Result<Attempt> try_claim(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                            const AllocationRequest& req, KeyValue& handle_kv);
  // Whether another agent of this node claimed a block with room since we last read the node's
  // blocks (it is then in the cache); collects the node's affinities whose block is missing.
  Result<bool> sibling_claimed(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                               std::vector<Prefix>& dangling);
  Result<Attempt> try_borrow(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                             const AllocationRequest& req, KeyValue& handle_kv);
  // A block of a node's as last read or written: valid for exactly `mod_revision`, which every
  // commit compares, so a stale entry costs one lost compare-and-swap, never a wrong address.
  struct KnownBlock {
    std::string key;
    std::int64_t mod_revision = 0;
    AllocationBlock block;
  };
  using NodeBlocks = std::vector<KnownBlock>;  // in key order, which is address order
  // What a commit of block + handle told us: applied at `revision`, or lost to the block now
  // in the store (absent when it was deleted or, for a claim, the key is still free).
  struct Commit {
    bool succeeded = false;
    std::int64_t revision = 0;
    std::optional<KeyValue> block_now;
  };
  Result<Commit> commit_assignment(const std::string& node, const std::string& block_key, std::int64_t block_revision,
                                   const AllocationBlock& block, bool claim, const std::string& handle,
                                   KeyValue& handle_kv);
  // The node's affine blocks, parsed: from the cache, else read from the store.
  Result<NodeBlocks*> affine_blocks(const std::string& node);
  // Keep the node's cached view current after a write or a lost compare (nullptr: the block is
  // gone), so the next allocation needs no read and no parse.
  void remember(const std::string& node, const std::string& key, AllocationBlock* block, std::int64_t revision);
  // The same from the block a lost compare returned (parsed; the node is forgotten if it does
  // not parse, so the next read reports the damage).
  void refresh(const std::string& node, const std::string& key, const std::optional<KeyValue>& now);
  void forget(const std::string& node) { affine_cache_.erase(node); }

  Datastore& store_;
  // The node's affine blocks as last seen: an allocation into one of them is one round trip.
  std::map<std::string, NodeBlocks> affine_cache_;
};

}  // namespace blockd::ipam
