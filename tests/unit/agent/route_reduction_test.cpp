// Route reduction counts from blocks alone: what `blockctl routes summary` prints.
#include "agent/route_reduction.hpp"

#include <gtest/gtest.h>

namespace blockd::agent {
namespace {

ipam::AllocationBlock block(const char* cidr, const std::string& affinity,
                            std::vector<std::pair<std::string, std::string>> allocations) {
  ipam::AllocationBlock b(ipam::Prefix::parse(cidr).value(), affinity);
  for (auto& [handle, node] : allocations) EXPECT_TRUE(b.assign({handle, node}));
  return b;
}

const NodeRoutes& node(const RouteReduction& r, const std::string& name) {
  for (const auto& n : r.nodes) {
    if (n.node == name) return n;
  }
  throw std::runtime_error("no row for " + name);
}

TEST(RouteReduction, SiblingBlocksGoAsOneRouteAndBorrowedAddressesAsOneEach) {
  // n0: two sibling blocks (one /25 route) with three workloads and its gateway;
  // n1: one block, one workload; n1 also borrows an address in n0's first block.
  std::vector<ipam::AllocationBlock> blocks = {
      block("192.168.0.0/26", "n0", {{"net.a", "n0"}, {"gateway.n0.pool", "n0"}, {"net.x", "n1"}}),
      block("192.168.0.64/26", "n0", {{"net.b", "n0"}, {"net.c", "n0"}}),
      block("192.168.1.0/26", "n1", {{"net.d", "n1"}}),
  };
  const RouteReduction r = count_routes(blocks);
  ASSERT_EQ(r.nodes.size(), 2u);
  EXPECT_EQ(node(r, "n0").workloads, 3u);  // the gateway is the node's, not a workload
  EXPECT_EQ(node(r, "n0").blocks, 2u);
  EXPECT_EQ(node(r, "n0").block_routes, 1u);
  EXPECT_EQ(node(r, "n0").borrowed, 0u);
  EXPECT_EQ(node(r, "n1").workloads, 2u);
  EXPECT_EQ(node(r, "n1").routes(), 2u);  // its block and the borrowed /32
  EXPECT_EQ(r.total.workloads, 5u);
  EXPECT_EQ(r.total.routes(), 3u);
  EXPECT_EQ(reduction_line(r),
            "5 workloads: 3 routes at the ToR (2 for 3 blocks, 1 borrowed /32); a /32 per workload needs 5");
}

TEST(RouteReduction, BlocksOfDifferentNodesNeverMerge) {
  std::vector<ipam::AllocationBlock> blocks = {block("192.168.0.0/26", "n0", {{"net.a", "n0"}}),
                                               block("192.168.0.64/26", "n1", {{"net.b", "n1"}})};
  const RouteReduction r = count_routes(blocks);
  EXPECT_EQ(r.total.block_routes, 2u);
}

TEST(RouteReduction, AnEmptyAffineBlockStillCostsARoute) {
  std::vector<ipam::AllocationBlock> blocks = {block("192.168.0.0/26", "n0", {})};
  const RouteReduction r = count_routes(blocks);
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.total.workloads, 0u);
  EXPECT_EQ(r.total.routes(), 1u);
}

}  // namespace
}  // namespace blockd::agent
