// Calico's BGP policy YAML (BGPConfiguration communities, prefixAdvertisements and service
// CIDRs; BGPPeer options and filters; BGPFilter) loads unchanged, round-trips, and what blockd
// does not implement is refused with a message naming the field.
#include <gtest/gtest.h>

#include <string>

#include "ipam/resources/bgp_communities.hpp"
#include "ipam/resources/resource_codec.hpp"

namespace blockd::ipam {
namespace {

Prefix P(const char* s) { return *Prefix::parse(s); }

// Calico's BGPConfiguration reference sample, the fields of this feature.
const char* kConfig = R"(apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  asNumber: 63400
  serviceClusterIPs:
    - cidr: 10.96.0.0/12
  serviceExternalIPs:
    - cidr: 104.244.42.129/32
    - cidr: 172.217.3.0/24
  serviceLoadBalancerIPs:
    - cidr: 198.51.100.0/24
  communities:
    - name: bgp-large-community
      value: 63400:300:100
  prefixAdvertisements:
    - cidr: 172.218.4.0/26
      communities:
        - bgp-large-community
        - 63400:120
    - cidr: 172.218.0.0/16
      communities: [no-export]
)";

Resource only(const std::string& yaml) {
  auto r = parse_resources_yaml(yaml);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok() || r->size() != 1) return BGPConfiguration{};
  return r->at(0);
}

std::string refusal(const std::string& yaml) {
  auto r = parse_resources_yaml(yaml);
  return r.ok() ? "(accepted)" : r.error().message;
}

TEST(BgpPolicyResources, CalicoBgpConfigurationLoadsAndRoundTrips) {
  const auto c = std::get<BGPConfiguration>(only(kConfig));
  EXPECT_EQ(c.service_cluster_ips, std::vector<Prefix>{P("10.96.0.0/12")});
  EXPECT_EQ(c.service_external_ips, (std::vector<Prefix>{P("104.244.42.129/32"), P("172.217.3.0/24")}));
  EXPECT_EQ(c.service_load_balancer_ips, std::vector<Prefix>{P("198.51.100.0/24")});
  ASSERT_EQ(c.communities.size(), 1u);
  EXPECT_EQ(c.communities[0].value, "63400:300:100");
  ASSERT_EQ(c.prefix_advertisements.size(), 2u);
  EXPECT_EQ(c.prefix_advertisements[0].communities, (std::vector<std::string>{"bgp-large-community", "63400:120"}));
  EXPECT_EQ(std::get<BGPConfiguration>(only(resource_to_yaml(c))), c);
}

TEST(BgpPolicyResources, CommunitiesOfARouteAreThoseOfEveryCidrHoldingIt) {
  const auto c = std::get<BGPConfiguration>(only(kConfig));
  auto tagged = resolve_prefix_advertisements(c);
  ASSERT_TRUE(tagged.ok()) << tagged.error().message;
  // A /32 inside the /26: both entries apply.
  const CommunitySet both = communities_for(*tagged, P("172.218.4.7/32"));
  EXPECT_EQ(both.standard, (std::vector<std::uint32_t>{63400u << 16 | 120, 0xFFFFFF01}));
  EXPECT_EQ(both.large, (std::vector<std::array<std::uint32_t, 3>>{{63400, 300, 100}}));
  // A block in the /16 only.
  EXPECT_EQ(communities_for(*tagged, P("172.218.9.0/26")).standard, std::vector<std::uint32_t>{0xFFFFFF01});
  EXPECT_TRUE(communities_for(*tagged, P("172.218.9.0/26")).large.empty());
  // A prefix shorter than the cidr is not inside it; another range gets nothing.
  EXPECT_TRUE(communities_for(*tagged, P("172.0.0.0/8")).empty());
  EXPECT_TRUE(communities_for(*tagged, P("10.0.0.0/26")).empty());
}

TEST(BgpPolicyResources, CommunityValuesAreChecked) {
  CommunitySet s;
  EXPECT_TRUE(parse_community("65535:65535", s).ok());
  EXPECT_TRUE(parse_community("4294967295:1:2", s).ok());
  EXPECT_TRUE(parse_community("no-advertise", s).ok());
  EXPECT_EQ(s.standard, (std::vector<std::uint32_t>{0xFFFFFFFF, 0xFFFFFF02}));
  for (const char* bad : {"65536:1", "1:65536", "1", "1:2:3:4", "a:b", "1::2", "4294967296:1:1", ""}) {
    EXPECT_FALSE(parse_community(bad, s).ok()) << bad;
  }
  const std::string base = "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec:\n";
  EXPECT_NE(refusal(base + "  prefixAdvertisements: [{cidr: 10.0.0.0/8, communities: [undefined-name]}]\n")
                .find("spec.prefixAdvertisements[0].communities[0]: \"undefined-name\" is neither a name in "
                      "spec.communities nor a community value"),
            std::string::npos);
  EXPECT_NE(refusal(base + "  communities: [{name: big, value: \"70000:1\"}]\n")
                .find("spec.communities[0].value: \"70000:1\": a standard community's parts are 0 to 65535 each"),
            std::string::npos);
  EXPECT_NE(refusal(base + "  serviceClusterIPs: [10.96.0.0/12]\n").find("spec.serviceClusterIPs[0]"), std::string::npos);
}

// Calico's BGPFilter reference sample, unchanged.
const char* kCalicoBgpFilter = R"(apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata:
  name: my-filter
spec:
  exportV4:
    - action: Accept
      matchOperator: In
      cidr: 77.0.0.0/16
      source: RemotePeers
    - action: Reject
      interface: '*.calico'
  importV4:
    - action: Accept
      matchOperator: In
      cidr: 55.0.0.0/16
      prefixLength:
        min: 30
    - action: Reject
      matchOperator: NotIn
      cidr: 44.0.0.0/16
  exportV6:
    - action: Reject
      source: RemotePeers
    - action: Reject
      interface: '*.calico'
  importV6:
    - action: Accept
      matchOperator: Equal
      cidr: 5000::0/64
    - action: Reject
)";

// Calico's reference pages' sample YAML (BGPConfiguration, BGPPeer, BGPFilter), pasted unchanged
// as one file: every field loads, nothing is refused, and each round-trips.
TEST(BgpPolicyResources, CalicoReferenceSamplesLoadUnchanged) {
  auto r = parse_resources_yaml(R"(apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: true
  nodeMeshMaxRestartTime: 120s
  asNumber: 63400
  serviceClusterIPs:
    - cidr: 10.96.0.0/12
  serviceExternalIPs:
    - cidr: 104.244.42.129/32
    - cidr: 172.217.3.0/24
  listenPort: 178
  bindMode: NodeIP
  communities:
    - name: bgp-large-community
      value: 63400:300:100
  prefixAdvertisements:
    - cidr: 172.218.4.0/26
      communities:
        - bgp-large-community
        - 63400:120
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: some.name
spec:
  node: rack1-host1
  peerIP: 192.168.1.1
  asNumber: 63400
---
)" + std::string(kCalicoBgpFilter));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  const auto& c = std::get<BGPConfiguration>(r->at(0));
  EXPECT_EQ(c.bind_mode, BindMode::NodeIP);
  EXPECT_EQ(c.node_mesh_max_restart_time, 120u);
  EXPECT_EQ(c.listen_port, 178);
  EXPECT_EQ(c.node_to_node_mesh_enabled, true);
  const auto& p = std::get<BGPPeer>(r->at(1));
  EXPECT_EQ(p.node, "rack1-host1");
  const auto& f = std::get<BGPFilter>(r->at(2));
  EXPECT_EQ(f.export_rules.v4.at(1).interface_pattern, "*.calico");
  for (const auto& resource : *r) EXPECT_EQ(only(resource_to_yaml(resource)), resource);
}

TEST(BgpPolicyResources, PeerOptionsLoadAndRoundTrip) {
  const auto p = std::get<BGPPeer>(only(R"(apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec:
  peerIP: 10.0.0.1
  asNumber: 65001
  ttlSecurity: 1
  keepOriginalNextHop: true
  maxRestartTime: 2m30s
  numAllowedLocalASNumbers: 2
  filters: [only-blocks, no-default]
  reachableBy: 10.0.0.254
)"));
  EXPECT_EQ(p.ttl_security, 1u);
  EXPECT_TRUE(p.keep_original_next_hop);
  EXPECT_EQ(p.max_restart_time, 150u);
  EXPECT_EQ(p.num_allowed_local_as_numbers, 2u);
  EXPECT_EQ(p.filters, (std::vector<std::string>{"only-blocks", "no-default"}));
  EXPECT_EQ(p.reachable_by, std::optional<Address>(*Address::parse("10.0.0.254")));
  EXPECT_EQ(std::get<BGPPeer>(only(resource_to_yaml(p))), p);
}

TEST(BgpPolicyResources, WhatBlockdDoesNotImplementIsRefusedByName) {
  const std::string peer = "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\nspec:\n"
                           "  peerIP: 10.0.0.1\n  asNumber: 65001\n";
  EXPECT_NE(refusal(peer + "  password: {secretKeyRef: {name: s, key: k}}\n").find("secretKeyRef needs the Kubernetes API"),
            std::string::npos);
  EXPECT_NE(refusal(peer + "  maxRestartTime: 2h\n").find("spec.maxRestartTime: 7200 s"), std::string::npos);
  EXPECT_NE(refusal(peer + "  ttlSecurity: 255\n").find("spec.ttlSecurity"), std::string::npos);
  EXPECT_NE(refusal(peer + "  restartMode: LongLivedGracefulRestart\n")
                .find("unknown field spec.restartMode: blockd does not implement it"),
            std::string::npos);
  EXPECT_NE(refusal(peer + "  reachableBy: fd00::1\n").find("spec.reachableBy: fd00::1 is not a gateway address of spec.peerIP's family"),
            std::string::npos);
  EXPECT_NE(refusal(peer + "  reachableBy: gateway\n").find("spec.reachableBy"), std::string::npos);
  const std::string config = "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec:\n";
  EXPECT_NE(refusal(config + "  bindMode: Wildcard\n").find("spec.bindMode: \"Wildcard\" is neither None nor NodeIP"),
            std::string::npos);
  EXPECT_NE(refusal(config + "  nodeMeshMaxRestartTime: 90m\n").find("spec.nodeMeshMaxRestartTime: 5400 s"),
            std::string::npos);
  EXPECT_NE(refusal("apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: node.n1}\nspec:\n"
                    "  nodeMeshMaxRestartTime: 60s\n")
                .find("spec.nodeMeshMaxRestartTime: only valid on the BGPConfiguration named default"),
            std::string::npos);
  const std::string filter = "apiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata: {name: f}\nspec:\n";
  EXPECT_NE(refusal(filter + "  exportV4: [{action: Reject, interface: 'eth0; reject'}]\n")
                .find("spec.exportV4[0].interface: \"eth0; reject\" is not an interface name or pattern"),
            std::string::npos);
  EXPECT_NE(refusal(filter + "  exportV4: [{action: Reject, cidr: 10.0.0.0/8}]\n")
                .find("cidr and matchOperator must be given together"),
            std::string::npos);
  EXPECT_NE(refusal(filter + "  importV6: [{action: Accept, matchOperator: In, cidr: 10.0.0.0/8}]\n")
                .find("spec.importV6[0].cidr: 10.0.0.0/8 is not IPv6"),
            std::string::npos);
  EXPECT_NE(refusal(filter + "  exportV4: [{action: Reject, matchOperator: In, cidr: 10.0.0.0/16, prefixLength: {min: 8}}]\n")
                .find("spec.exportV4[0].prefixLength: min 8, max 32 must satisfy 16"),
            std::string::npos);
  EXPECT_NE(refusal(filter + "  exportV4: [{action: Drop}]\n").find("\"Drop\" is not one of Accept, Reject"),
            std::string::npos);
}

TEST(BgpPolicyResources, CalicoBgpFilterLoadsAndRoundTrips) {
  // Calico's BGPFilter reference sample, unchanged.
  const auto f = std::get<BGPFilter>(only(kCalicoBgpFilter));
  ASSERT_EQ(f.export_rules.v4.size(), 2u);
  EXPECT_TRUE(f.export_rules.v4[0].from_remote_peers);
  EXPECT_EQ(f.export_rules.v4[1].interface_pattern, "*.calico");
  ASSERT_EQ(f.export_rules.v6.size(), 2u);
  EXPECT_EQ(f.export_rules.v6[1].interface_pattern, "*.calico");
  ASSERT_EQ(f.import_rules.v4.size(), 2u);
  EXPECT_EQ(f.import_rules.v4[0].min_length, 30u);
  EXPECT_EQ(f.import_rules.v4[1].match_operator, MatchOperator::NotIn);
  ASSERT_EQ(f.import_rules.v6.size(), 2u);
  EXPECT_FALSE(f.import_rules.v6[1].cidr.has_value());
  EXPECT_EQ(std::get<BGPFilter>(only(resource_to_yaml(f))), f);
  auto kind = canonical_kind("bgpfilters");
  ASSERT_TRUE(kind.ok());
  EXPECT_EQ(*kind, "BGPFilter");
}

}  // namespace
}  // namespace blockd::ipam
