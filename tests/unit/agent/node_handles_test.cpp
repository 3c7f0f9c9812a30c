// The handles of a node's own addresses (VTEP, pod gateways), told apart from workloads'.
#include "agent/node_handles.hpp"

#include <gtest/gtest.h>

namespace blockd::agent {
namespace {

TEST(NodeHandles, NamesFollowCalicoAndTheGatewayConvention) {
  EXPECT_EQ(vtep_handle("kube-node-3"), "vxlan-tunnel-addr.kube-node-3");
  EXPECT_EQ(gateway_handle("kube-node-3", "rack-1-ippool"), "gateway.kube-node-3.rack-1-ippool");
}

TEST(NodeHandles, OwnAddressesAreTheNodesVtepAndGatewaysOnly) {
  struct Case {
    const char* handle;
    bool own;
  };
  for (const auto& c : {Case{"vxlan-tunnel-addr.kube-node-3", true}, Case{"gateway.kube-node-3.rack-1-ippool", true},
                        Case{"vxlan-tunnel-addr.kube-node-2", false}, Case{"gateway.kube-node-2.rack-1-ippool", false},
                        Case{"gateway.kube-node-33.p", false}, Case{"blocknet.nginx-5c7588df-62lnf", false},
                        Case{"vxlan-tunnel-addr.kube-node-3x", false}}) {
    EXPECT_EQ(is_node_own(c.handle, "kube-node-3"), c.own) << c.handle;
  }
}

}  // namespace
}  // namespace blockd::agent
