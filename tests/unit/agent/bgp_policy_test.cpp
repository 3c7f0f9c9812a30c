// What the default BGPConfiguration adds to a route plan (service CIDRs, communities), and how a
// BGPPeer's filters and options reach the speaker's peer config.
#include "agent/bgp_policy.hpp"

#include <gtest/gtest.h>

#include "agent/peer_selection.hpp"

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
  const auto c = config();
  apply_bgp_policy(plan, &c);
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
  ClusterView view;
  auto other = config();
  other.name = "node.node-1";
  view.bgp_configurations = {other};
  EXPECT_EQ(default_bgp_configuration(view), nullptr);
  view.bgp_configurations.push_back(config());
  ASSERT_NE(default_bgp_configuration(view), nullptr);
  EXPECT_EQ(default_bgp_configuration(view)->name, "default");
  RoutePlan plan;
  apply_bgp_policy(plan, nullptr);
  EXPECT_TRUE(plan.advertise.empty());
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
}

}  // namespace
}  // namespace blockd::agent
