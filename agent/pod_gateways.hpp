// The on-link gateway of this node's pods, one address per pool. Debian's CNI ptp
// (containernetworking-plugins 1.x) gives the host end of every pod's veth the gateway address
// and first routes the pod's default route through it, so the gateway must be on-link for the
// pod: each node reserves one address per pool (handle gateway.<node>.<pool>,
// node_handles.hpp) and reports pods' addresses with the pool's prefix length. ptp then replaces
// the pool's on-link route with one via the gateway, so pod traffic still goes through the host.
#pragma once

#include <string>
#include <vector>

#include "agent/node_handles.hpp"
#include "ipam/allocator.hpp"
#include "ipam/block_list.hpp"

namespace blockd::agent {

class PodGateways {
 public:
  // `allocator` is the caller's: a PodGateways is used on the allocator's thread only.
  PodGateways(ipam::Allocator& allocator, ipam::Datastore& store, std::string node, ipam::ReleaseOptions options)
      : allocator_(allocator), store_(store), node_(std::move(node)), options_(options) {}

  // The pool's gateway for this node (ctx: this node and the pools), reserved on first use.
  Result<ipam::Address> gateway(const ipam::IPPool& pool, const ipam::AllocationContext& ctx);
  // Releases a workload's handle and, in the same transaction, the gateway of each of its pools
  // that no workload of this node uses any more (Allocator::release_handle_with): one read and
  // one commit, which also deletes the block this empties (ipam.releaseEmptyBlocks).
  Result<std::vector<ipam::ReleasedAddress>> release_workload(const std::string& handle,
                                                              const std::vector<ipam::IPPool>& pools);
  // After `released` were given back: releases the gateway of each of their pools that no
  // workload of this node uses any more. Failures are logged (the next release retries).
  void release_unused(const std::vector<ipam::Address>& released, const std::vector<ipam::IPPool>& pools);
  // The sweep's (ipam_sweep.hpp): releases every gateway of this node in `blocks` whose pool is
  // gone or used by none of its workloads. Returns how many were released.
  Result<std::size_t> release_unused_in(const ipam::BlockList& blocks, const std::vector<ipam::IPPool>& pools);

 private:
  // A workload of this node (its own VTEP and gateway addresses keep no gateway alive).
  bool workload_here(const ipam::Allocation& a) const { return a.node == node_ && !is_node_own(a.handle, node_); }

  ipam::Allocator& allocator_;
  ipam::Datastore& store_;
  std::string node_;
  ipam::ReleaseOptions options_;
};

}  // namespace blockd::agent
