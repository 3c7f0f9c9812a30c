// This node's own IPAM garbage, given back when the agent starts and then periodically (Calico's
// IPAM garbage collector does it for the cluster; here each agent does its own node's, with the
// same compare-and-swap writes as the allocator, so it is safe beside allocations):
//   - its empty blocks in pools that no longer select it (selector changed, pool disabled or
//     deleted), which an allocation would also give back, but a node that allocates nothing
//     would keep;
//   - its pods' gateway reservations (pod_gateways.hpp) in pools none of its workloads uses any
//     more, or whose pool is gone (a crash between a release and the gateway's release leaks one).
#pragma once

#include "agent/cluster_view.hpp"
#include "agent/pod_gateways.hpp"
#include "ipam/allocator.hpp"

namespace blockd::agent {

struct SweepResult {
  std::size_t gateways_released = 0;
};

// On the allocator's thread. `view` is the cluster as last read, `labels` this node's.
Result<SweepResult> sweep_node_ipam(ipam::Allocator& allocator, PodGateways& gateways, const ClusterView& view,
                                    const std::string& node, const ipam::Labels& labels);

}  // namespace blockd::agent
