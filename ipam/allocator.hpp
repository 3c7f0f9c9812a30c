// The block allocator, with Calico's semantics (DESIGN.md, Allocation):
//   1. candidate pools (pool_selection.hpp);
//   2. a free address in a block affine to the node;
//   3. else claim a free block of a candidate pool for the node and allocate in it;
//   4. else, unless the pool has strict affinity, borrow from another node's block;
// and release by address or by handle. Every change is one compare-and-swap transaction on the
// block's and the handle's revisions, retried on conflict, so concurrent allocators (threads,
// processes, hosts) never hand out one address twice, whatever the interleaving or crash point.
// Existing allocations are never moved or renumbered.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ipam/block.hpp"
#include "ipam/datastore.hpp"
#include "ipam/pool_selection.hpp"
#include "ipam/resources.hpp"

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

  Result<AllocatedAddress> allocate(const AllocationContext& ctx, const AllocationRequest& req);
  // pools helps find the block (a pool's blockSize); without a matching pool every block is read.
  Result<ReleasedAddress> release_address(const Address& address, const std::vector<IPPool>& pools,
                                          const ReleaseOptions& options = {});
  // Releasing a handle that holds nothing is not an error (CNI DEL is idempotent).
  Result<std::vector<ReleasedAddress>> release_handle(const std::string& handle, const ReleaseOptions& options = {});
  // The addresses a handle holds (none when the handle is unknown).
  Result<std::vector<Address>> addresses_of(const std::string& handle);

 private:
  // One step of DESIGN.md's order: it allocated, found no room, or lost a race (retry all).
  struct Attempt {
    enum class Outcome { Allocated, NoRoom, Retry } outcome = Outcome::NoRoom;
    AllocatedAddress address;
  };
  Result<Attempt> try_affine(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                             const AllocationRequest& req, KeyValue& handle_kv);
  Result<Attempt> try_claim(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                            const AllocationRequest& req, KeyValue& handle_kv);
  Result<Attempt> try_borrow(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                             const AllocationRequest& req, KeyValue& handle_kv);
  // Commits block + handle; nullopt when a compare failed (handle_kv/block cache refreshed).
  Result<std::optional<std::int64_t>> commit_assignment(const std::string& node, const KeyValue& block_kv,
                                                        const AllocationBlock& block, bool claim,
                                                        const std::string& handle, KeyValue& handle_kv);
  Result<std::vector<KeyValue>> affine_blocks(const std::string& node);
  // After our own successful write of a block: keep the node's cached view current (a
  // released address is free again without another read).
  void remember(const std::string& node, const std::string& key, const std::string* value, std::int64_t revision);

  Datastore& store_;
  // The node's affine blocks as last seen: an allocation into one of them is one round trip;
  // a lost compare-and-swap refreshes the entry from the transaction's answer.
  std::map<std::string, std::vector<KeyValue>> affine_cache_;
};

}  // namespace blockd::ipam
