// The agent's sweep of its own node's IPAM garbage (agent/ipam_sweep.hpp): a pod gateway no
// workload uses (a crash between a workload's release and its gateway's), and then the empty
// blocks of pools that no longer select the node.
#include <gtest/gtest.h>

#include "agent/ipam_sweep.hpp"
#include "agent/node_handles.hpp"
#include "ipam/ipam_check.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/store/memory_store.hpp"

namespace blockd::agent {
namespace {

using namespace blockd::ipam;

struct SweepCase {
  std::string name;
  std::string selector;     // pool p's nodeSelector when the sweep runs
  bool workload_stays;      // a second workload keeps using the pool
  bool gateway_released;
  bool block_kept;
};

TEST(IpamSweep, ReleasesUnusedGatewaysThenDeselectedEmptyBlocks) {
  const std::vector<SweepCase> cases = {
      {"gateway leaked, still selected: the empty block stays (Calico)", "all()", false, true, true},
      {"gateway leaked, de-selected: the block goes too", "rack == '1'", false, true, false},
      {"a workload still there: nothing released", "rack == '1'", true, false, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    MemoryStore store;
    ResourceStore resources(store);
    Node n1;
    n1.name = "n1";
    n1.labels = {{"rack", "0"}};
    ASSERT_TRUE(resources.write(n1, WriteMode::Create).ok());
    IPPool p;
    p.name = "p";
    p.cidr = Prefix::parse("10.0.0.0/24").value();
    ASSERT_TRUE(resources.write(p, WriteMode::Create).ok());
    Allocator allocator(store);
    PodGateways gateways(allocator, store, "n1", ReleaseOptions{false});
    const AllocationContext ctx{"n1", n1.labels, resources.pools().value()};
    ASSERT_TRUE(allocator.allocate(ctx, {"w1", Family::V4, {}}).ok());
    if (c.workload_stays) { ASSERT_TRUE(allocator.allocate(ctx, {"w2", Family::V4, {}}).ok()); }
    ASSERT_TRUE(gateways.gateway(ctx.pools[0], ctx).ok());
    ASSERT_TRUE(allocator.release_handle("w1").ok());  // and a crash before the gateway's release
    p.node_selector = c.selector;
    p.parsed_selector = {};
    ASSERT_TRUE(resources.write(p, WriteMode::Apply).ok());

    const ClusterView view = build_view(store.list(kKeyRoot).value());
    auto swept = sweep_node_ipam(allocator, gateways, view, "n1", n1.labels);
    ASSERT_TRUE(swept.ok()) << swept.error().message;
    EXPECT_EQ(swept->gateways_released, c.gateway_released ? 1u : 0u);
    EXPECT_EQ(allocator.addresses_of(gateway_handle("n1", "p")).value().empty(), c.gateway_released);
    EXPECT_EQ(store.get(keys::block(Prefix::parse("10.0.0.0/26").value())).value().has_value(), c.block_kept);
    auto report = check_ipam(store);
    ASSERT_TRUE(report.ok());
    for (const auto& problem : report->problems) ADD_FAILURE() << problem;
  }
}

}  // namespace
}  // namespace blockd::agent
