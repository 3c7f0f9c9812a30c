// A pod's DEL through the node's pod gateways (agent/pod_gateways.hpp): the gateway goes with
// the node's last workload of its pool, in the workload's own commit when the allocator has the
// node's blocks cached, and after it when not (an agent that just started).
#include "agent/pod_gateways.hpp"

#include <gtest/gtest.h>

#include "agent/node_handles.hpp"
#include "ipam/keys.hpp"
#include "ipam/store/memory_store.hpp"

namespace blockd::agent {
namespace {

using namespace blockd::ipam;

TEST(PodGateways, ReleaseWorkloadTakesTheGatewayWithTheNodesLastWorkloadOfThePool) {
  for (const bool restarted : {false, true}) {
    SCOPED_TRACE(restarted ? "an agent with nothing cached" : "the node's blocks cached");
    MemoryStore store;
    IPPool p;
    p.name = "p";
    p.cidr = Prefix::parse("10.0.0.0/24").value();
    p.block_size = 26;
    p.node_selector = "all()";
    const AllocationContext ctx{"n1", {}, {p}};
    Allocator before(store);
    PodGateways started(before, store, "n1", ReleaseOptions{true});
    auto gw = started.gateway(p, ctx);
    ASSERT_TRUE(gw.ok()) << gw.error().message;
    ASSERT_TRUE(before.allocate(ctx, {"w1", Family::V4, {}}).ok());
    ASSERT_TRUE(before.allocate(ctx, {"w2", Family::V4, {}}).ok());
    Allocator after(store);
    Allocator& allocator = restarted ? after : before;
    PodGateways gateways(allocator, store, "n1", ReleaseOptions{true});

    auto first = gateways.release_workload("w1", ctx.pools);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->size(), 1u);
    EXPECT_EQ(allocator.addresses_of(gateway_handle("n1", "p")).value().size(), 1u);  // w2 uses it

    auto last = gateways.release_workload("w2", ctx.pools);
    ASSERT_TRUE(last.ok()) << last.error().message;
    EXPECT_EQ(last->size(), 1u);
    EXPECT_TRUE(allocator.addresses_of(gateway_handle("n1", "p")).value().empty());
    EXPECT_TRUE(store.list(keys::kBlocks).value().kvs.empty());  // releaseEmptyBlocks
    EXPECT_TRUE(store.list(keys::kHandles).value().kvs.empty());
  }
}

}  // namespace
}  // namespace blockd::agent
