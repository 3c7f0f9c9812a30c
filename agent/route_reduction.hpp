// What blockd saves at the ToR, from the datastore alone (blockctl routes summary, the labs):
// per node, its workloads, its affine blocks, the routes it advertises for them (a route per
// block, sibling blocks merged, as agent/route_plan.hpp advertises them) and its borrowed /32s,
// against the one route per workload a /32-per-workload design needs.
#pragma once

#include <string>
#include <vector>

#include "ipam/block.hpp"

namespace blockd::agent {

struct NodeRoutes {
  std::string node;
  std::size_t workloads = 0;     // addresses of workloads on the node (not its gateway or VTEP)
  std::size_t blocks = 0;        // blocks affine to the node
  std::size_t block_routes = 0;  // what it advertises for them: sibling blocks go as one
  std::size_t borrowed = 0;      // addresses it holds in other nodes' blocks: a /32 (/128) each
  std::size_t routes() const { return block_routes + borrowed; }
};

struct RouteReduction {
  std::vector<NodeRoutes> nodes;  // by name: every node with a block or an address
  NodeRoutes total;               // node: "total"
};

RouteReduction count_routes(const std::vector<ipam::AllocationBlock>& blocks);

// "5 workloads: 4 routes at the ToR (4 for 4 blocks, 0 borrowed /32); a /32 per workload needs 5"
std::string reduction_line(const RouteReduction& r);

}  // namespace blockd::agent
