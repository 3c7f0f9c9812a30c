// The node's IPIP tunnel address as Calico allocates it (agent/ipip_tunnel.hpp): only from an
// IPv4 pool that selects the node, allows Tunnel use and has ipipMode other than Never; kept
// across restarts (found by its handle); none when no IPIP pool selects the node.
#include <gtest/gtest.h>

#include "agent/ipip_tunnel.hpp"
#include "agent/node_handles.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/resources/resource_codec.hpp"
#include "ipam/store/memory_store.hpp"

namespace blockd::agent {
namespace {

using namespace blockd::ipam;

std::string pool(const std::string& name, const std::string& cidr, const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: " + name + "}\nspec: {cidr: " + cidr +
         ", " + spec + "}\n---\n";
}

void create(ResourceStore& resources, const std::string& yaml) {
  auto parsed = parse_resources_yaml(yaml);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const std::vector<Resource> items = std::move(*parsed);
  for (const auto& r : items) ASSERT_TRUE(resources.write(r, WriteMode::Create).ok());
}

struct IpipCase {
  std::string name;
  std::string pools;
  std::string expected;  // the tunnel address, "" for none
};

TEST(IpipTunnel, AllocatedFromAPoolAllowingTunnelUseWithIpipOn) {
  const std::vector<IpipCase> cases = {
      {"the IPIP pool that allows Tunnel",
       pool("workload-only", "10.1.0.0/24", "ipipMode: Always, allowedUses: [Workload]") +
           pool("no-ipip", "10.2.0.0/24", "ipipMode: Never") + pool("ipip", "10.3.0.0/24", "ipipMode: CrossSubnet"),
       "10.3.0.0"},
      {"no IPIP pool: no address", pool("no-ipip", "10.2.0.0/24", "ipipMode: Never"), ""},
      {"an IPIP pool that does not select the node",
       pool("other-rack", "10.4.0.0/24", "ipipMode: Always, nodeSelector: \"rack == '9'\""), ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    MemoryStore store;
    ResourceStore resources(store);
    create(resources, c.pools);
    AgentConfig config;
    config.node.name = "n1";
    config.node.labels = {{"rack", "0"}};
    config.node.address = InterfaceAddress::parse("192.168.50.1/24").value();
    config.dataplane.program_kernel = false;
    IpipTunnel tunnel(store, config.node, config.dataplane);
    const ClusterView view = build_view(store.list(kKeyRoot).value());
    auto up = tunnel.ensure(view, config.node.labels);
    ASSERT_TRUE(up.ok()) << up.error().message;
    EXPECT_EQ(*up, !c.expected.empty());
    EXPECT_EQ(tunnel.address() ? tunnel.address()->str() : "", c.expected);
    if (c.expected.empty()) continue;
    // A restarted agent finds the same address by its handle.
    IpipTunnel again(store, config.node, config.dataplane);
    ASSERT_TRUE(again.ensure(build_view(store.list(kKeyRoot).value()), config.node.labels).ok());
    EXPECT_EQ(again.address()->str(), c.expected);
    EXPECT_TRUE(is_node_own(ipip_handle("n1"), "n1"));
  }
}

// Calico's reconciliation: the pool of the address is deleted, the address is released and the
// node gets one from the IPIP pool that still selects it.
TEST(IpipTunnel, AnAddressOutsideEveryIpipPoolIsReplaced) {
  MemoryStore store;
  ResourceStore resources(store);
  create(resources, pool("old", "10.5.0.0/24", "ipipMode: Always"));
  AgentConfig config;
  config.node.name = "n1";
  config.node.address = InterfaceAddress::parse("192.168.50.1/24").value();
  config.dataplane.program_kernel = false;
  IpipTunnel tunnel(store, config.node, config.dataplane);
  ASSERT_TRUE(tunnel.ensure(build_view(store.list(kKeyRoot).value()), {}).value());
  EXPECT_EQ(tunnel.address()->str(), "10.5.0.0");
  create(resources, pool("new", "10.6.0.0/24", "ipipMode: Always"));
  ASSERT_TRUE(resources.remove("IPPool", "old").ok());
  EXPECT_TRUE(tunnel.ensure(build_view(store.list(kKeyRoot).value()), {}).value());
  EXPECT_EQ(tunnel.address()->str(), "10.6.0.0");
  // The old address is released and its block, in no pool now, is gone.
  EXPECT_FALSE(store.get(keys::block(Prefix::parse("10.5.0.0/26").value())).value().has_value());
  // Nothing changes on the next pass.
  EXPECT_FALSE(tunnel.ensure(build_view(store.list(kKeyRoot).value()), {}).value());
}

}  // namespace
}  // namespace blockd::agent
