// The IPAM side of removing a node (calicoctl's node deletion): every address allocated on the
// node is released (its own, such as its tunnel address and its pods' gateways, and, only when
// forced, its workloads'), its empty blocks are given back, and a block of it that still holds
// addresses borrowed by other nodes loses its affinity (they keep them). Each change is one
// compare-and-swap, so a concurrent allocator never loses an address it was given.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ipam/allocator.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

struct NodeReleaseOptions {
  // Whether a handle is the node's own (tunnel address, gateway) rather than a workload's.
  std::function<bool(const std::string& handle)> is_own_handle;
  // Release workloads' addresses too; without it a node with workloads is refused.
  bool force = false;
};

struct NodeRelease {
  std::vector<ReleasedAddress> released;
  std::vector<Prefix> blocks_released;  // empty blocks given back to their pool
  std::vector<Prefix> blocks_unaffined;  // blocks kept for other nodes' borrowed addresses
};

// Refuses (Invalid, naming each workload and its address) when workloads still hold addresses
// on the node and not options.force.
Result<NodeRelease> release_node_ipam(Datastore& store, const std::string& node, const NodeReleaseOptions& options);

}  // namespace blockd::ipam
