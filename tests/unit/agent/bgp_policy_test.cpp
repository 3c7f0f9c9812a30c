// What the default BGPConfiguration adds to a route plan (service CIDRs, communities), and how a
// BGPPeer's filters and options reach the speaker's peer config.
#include "agent/bgp_policy.hpp"

#include <gtest/gtest.h>

#include "agent/peer_selection.hpp"

#include <map>

namespace blockd::agent {
namespace {

ipam::Prefix P(const char* s) { return *ipam::Prefix::parse(s); }

ipam::BGPConfiguration config() {
  ipam::BGPConfiguration c;
  c.name = "default";
  c.communities = {{"rack", "65000:1:2"}};
  c.prefix_advertisements = {{P("192.168.0.0/24"), {"rack", "65000:100"}}, {P("10.96.0.0/12"), {"no-export"}}};
  c.service_cluster_ips = {P("10.96.0.0/12")};
  c.service_external_ips = {P("203.0.113.0/24"), P("10.96.0.0/12")};
  return c;
}

TEST(BgpPolicy, ServiceCidrsAreAdvertisedOnceInPrefixOrderWithTheirCommunities) {
  RoutePlan plan;
  plan.advertise = {{P("192.168.0.0/26"), Advertisement::Kind::Block},
                    {P("192.168.1.7/32"), Advertisement::Kind::Borrowed}};
  apply_bgp_policy(plan, effective_bgp_configuration({config()}, "node-1"));
  ASSERT_EQ(plan.advertise.size(), 4u);
  EXPECT_EQ(plan.advertise[0].prefix, P("10.96.0.0/12"));
  EXPECT_EQ(plan.advertise[0].kind, Advertisement::Kind::Service);
  EXPECT_EQ(plan.advertise[0].communities.standard, std::vector<std::uint32_t>{0xFFFFFF01});
  EXPECT_EQ(plan.advertise[1].prefix, P("192.168.0.0/26"));
  EXPECT_EQ(plan.advertise[1].communities.standard, std::vector<std::uint32_t>{65000u << 16 | 100});
  EXPECT_EQ(plan.advertise[1].communities.large, (std::vector<std::array<std::uint32_t, 3>>{{65000, 1, 2}}));
  EXPECT_TRUE(plan.advertise[2].communities.empty());  // 192.168.1.7/32 is outside the tagged /24
  EXPECT_EQ(plan.advertise[3].prefix, P("203.0.113.0/24"));
  const auto routes = to_advertised(plan);
  EXPECT_EQ(routes[1].large_communities, (std::vector<bgp::LargeCommunity>{{65000, 1, 2}}));
}

TEST(BgpPolicy, OnlyTheDefaultConfigurationApplies) {
  auto other = config();
  other.name = "node.node-1";
  RoutePlan plan;
  apply_bgp_policy(plan, effective_bgp_configuration({other}, "node-1"));
  EXPECT_TRUE(plan.advertise.empty());
  apply_bgp_policy(plan, effective_bgp_configuration({other, config()}, "node-1"));
  EXPECT_EQ(plan.advertise.size(), 2u);  // 10.96.0.0/12 and 203.0.113.0/24

  auto broken = config();
  broken.prefix_advertisements[0].communities = {"undefined-name"};
  RoutePlan unresolved;
  apply_bgp_policy(unresolved, effective_bgp_configuration({broken}, "node-1"));
  EXPECT_EQ(unresolved.advertise.size(), 2u);  // the services still go out, without communities
  EXPECT_TRUE(unresolved.advertise[0].communities.empty());
  ASSERT_EQ(unresolved.notes.size(), 1u);
  EXPECT_NE(unresolved.notes[0].find("undefined-name"), std::string::npos);
}

TEST(BgpPolicy, PeerFiltersAndOptionsReachThePeerConfig) {
  ipam::BGPPeer peer;
  peer.name = "tor";
  peer.peer_ip = *ipam::Address::parse("10.0.0.1");
  peer.as_number = 65001;
  peer.ttl_security = 1;
  peer.max_restart_time = 300;
  peer.num_allowed_local_as_numbers = 1;
  peer.filters = {"first", "gone", "second"};
  ipam::FilterRule reject;
  reject.action = ipam::FilterAction::Reject;
  ipam::FilterRule accept_v6;
  ipam::BGPFilter first{"first", {{reject}, {}}, {{}, {accept_v6}}};
  ipam::BGPFilter second{"second", {{}, {reject}}, {{reject}, {}}};
  const auto peers = select_peers({}, {peer}, "node-0", {}, {second, first});
  ASSERT_EQ(peers.size(), 1u);
  const auto& p = peers[0];
  EXPECT_EQ(p.config.ttl_security_hops, 1);
  EXPECT_EQ(p.config.restart_time, 300);
  EXPECT_EQ(p.config.allowed_own_as, 1u);
  EXPECT_EQ(p.config.export_filter.v4, std::vector<ipam::FilterRule>{reject});
  EXPECT_EQ(p.config.export_filter.v6, std::vector<ipam::FilterRule>{reject});
  EXPECT_EQ(p.import_filter.v4, std::vector<ipam::FilterRule>{reject});
  EXPECT_EQ(p.import_filter.v6, std::vector<ipam::FilterRule>{accept_v6});
  EXPECT_EQ(p.missing_filters, std::vector<std::string>{"gone"});
  EXPECT_FALSE(p.reachable_by);
}

TEST(BgpPolicy, ReachableByAndTheMeshRestartTimeReachTheirPeers) {
  ipam::BGPPeer tor;
  tor.name = "tor";
  tor.peer_ip = *ipam::Address::parse("10.9.0.1");
  tor.as_number = 65001;
  tor.reachable_by = *ipam::Address::parse("10.0.0.254");
  std::map<std::string, ipam::Node> nodes;
  for (const char* name : {"node-0", "node-1"}) {
    ipam::Node n;
    n.name = name;
    n.ipv4_address = *ipam::InterfaceAddress::parse(name == std::string("node-0") ? "10.0.0.10/24" : "10.0.0.11/24");
    nodes[name] = n;
  }
  const std::vector<ConfigPeer> none;
  const std::vector<ipam::BGPPeer> resources{tor};
  const std::string self = "node-0";
  const ipam::Labels labels;
  const auto peers = select_peers({none, resources, nodes, self, labels, true, 64512, 179, 300});
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0].reachable_by, tor.reachable_by);
  EXPECT_FALSE(peers[0].config.restart_time);  // a BGPPeer without maxRestartTime: the speaker's default
  EXPECT_EQ(peers[1].source, "Node/node-1");
  EXPECT_EQ(peers[1].config.restart_time, 300);  // nodeMeshMaxRestartTime
  EXPECT_FALSE(peers[1].reachable_by);
}

}  // namespace
}  // namespace blockd::agent
