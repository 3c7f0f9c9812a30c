// An allocation block (Calico's AllocationBlock): a /26 (by default) of a pool, affine to at
// most one node, recording which of its addresses are allocated and to which handle.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"
#include "ipam/reserved_addresses.hpp"

namespace blockd::ipam {

struct Allocation {
  std::string handle;
  std::string node;  // where the workload runs; differs from the affinity when borrowed

  friend bool operator==(const Allocation&, const Allocation&) = default;
};

struct ReleasedAddress {
  Address address;
  Allocation allocation;
};

class AllocationBlock {
 public:
  AllocationBlock() = default;
  AllocationBlock(Prefix cidr, std::string affinity);

  static Result<AllocationBlock> from_json(const std::string& text);
  std::string to_json() const;

  const Prefix& cidr() const { return cidr_; }
  const std::string& affinity() const { return affinity_; }  // node name, "" when none
  const std::map<std::uint32_t, Allocation>& allocations() const { return allocations_; }

  std::size_t capacity() const { return static_cast<std::size_t>(cidr_.size()); }
  std::size_t used() const { return allocations_.size(); }
  std::size_t free() const { return unallocated_.size(); }
  bool empty() const { return allocations_.empty(); }

  // Takes the next free address that is not reserved (reserved_addresses.hpp: IPReservations,
  // IPv6 Subnet-Router anycast); a skipped one keeps its place. Like Calico, released ordinals
  // go to the back of the queue, so an address just freed is the last to be handed out again.
  std::optional<Address> assign(const Allocation& a, const ReservedAddresses& reserved = {});
  // Whether assign() would find an address.
  bool has_room(const ReservedAddresses& reserved = {}) const;
  // Frees one address; nullopt if it was not allocated (or not in this block).
  std::optional<Allocation> release(const Address& a);
  std::optional<Allocation> allocation_of(const Address& a) const;
  // The addresses `handle` holds in this block, in address order.
  std::vector<Address> addresses_of(const std::string& handle) const;
  // The block is no node's any more (its node was removed; other nodes keep what they borrowed).
  void clear_affinity() { affinity_.clear(); }
  // Frees every address `handle` holds in this block (Calico's releaseByHandle).
  std::vector<ReleasedAddress> release_handle(const std::string& handle);

 private:
  Prefix cidr_;
  std::string affinity_;
  std::map<std::uint32_t, Allocation> allocations_;
  std::deque<std::uint32_t> unallocated_;
};

// A handle (one per workload) and how many addresses it holds in each block.
struct HandleRecord {
  std::string handle;
  std::map<Prefix, std::uint32_t> blocks;

  static Result<HandleRecord> from_json(const std::string& text);
  std::string to_json() const;
  std::uint32_t total() const;
  // One more address of the handle in `block`.
  void add(const Prefix& block) { ++blocks[block]; }
  // One address fewer in `block`; the block is dropped from the record at zero.
  void remove(const Prefix& block);
};

}  // namespace blockd::ipam
