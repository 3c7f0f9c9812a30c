#include "agent/route_reduction.hpp"

#include <fmt/format.h>

#include <map>

#include "agent/node_handles.hpp"
#include "agent/route_plan.hpp"

namespace blockd::agent {

RouteReduction count_routes(const std::vector<ipam::AllocationBlock>& blocks) {
  std::map<std::string, NodeRoutes> by_node;
  std::map<std::string, std::vector<ipam::Prefix>> own;
  auto entry = [&](const std::string& node) -> NodeRoutes& {
    auto& n = by_node[node];
    n.node = node;
    return n;
  };
  for (const auto& block : blocks) {
    if (!block.affinity().empty()) {
      ++entry(block.affinity()).blocks;
      own[block.affinity()].push_back(block.cidr());
    }
    for (const auto& [ordinal, a] : block.allocations()) {
      auto& n = entry(a.node);
      if (!is_node_handle(a.handle)) ++n.workloads;
      if (a.node != block.affinity()) ++n.borrowed;
    }
  }
  for (auto& [node, blocks] : own) by_node[node].block_routes = merge_siblings(std::move(blocks)).size();

  RouteReduction r;
  r.total.node = "total";
  for (auto& [name, n] : by_node) {
    r.total.workloads += n.workloads;
    r.total.blocks += n.blocks;
    r.total.block_routes += n.block_routes;
    r.total.borrowed += n.borrowed;
    r.nodes.push_back(std::move(n));
  }
  return r;
}

std::string reduction_line(const RouteReduction& r) {
  const NodeRoutes& t = r.total;
  return fmt::format("{} workloads: {} routes at the ToR ({} for {} blocks, {} borrowed /32); a /32 per workload needs {}",
                     t.workloads, t.routes(), t.block_routes, t.blocks, t.borrowed, t.workloads);
}

}  // namespace blockd::agent
