// RoutePlan, one case per behaviour of ARCHITECTURE.md, Routes.
#include "agent/route_plan.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "ipam/keys.hpp"

namespace blockd::agent {
namespace {

using ipam::Address;
using ipam::EncapMode;
using ipam::Prefix;

Prefix P(const char* s) { return Prefix::parse(s).value(); }
Address A(const char* s) { return Address::parse(s).value(); }

// This node: n0 at 10.0.0.10/24. n1 shares its subnet; n2 is in 10.0.1.0/24.
class RoutePlanTest : public ::testing::Test {
 protected:
  RoutePlanTest() {
    self.name = "n0";
    self.address = ipam::InterfaceAddress::parse("10.0.0.10/24").value();
    add_node("n0", "10.0.0.10/24", "192.168.0.1", "02:00:00:00:00:00");
    add_node("n1", "10.0.0.11/24", "192.168.0.65", "02:00:00:00:00:01");
    add_node("n2", "10.0.1.10/24", "192.168.0.129", "02:00:00:00:00:02");
    pool(EncapMode::Never, EncapMode::Never);
  }
  void add_node(const std::string& name, const char* addr, const char* vtep, const char* mac) {
    ipam::Node n;
    n.name = name;
    n.ipv4_address = ipam::InterfaceAddress::parse(addr).value();
    n.ipv4_vxlan_tunnel_addr = A(vtep);
    n.vxlan_tunnel_mac = mac;
    resources.nodes[name] = n;
  }
  void pool(EncapMode ipip, EncapMode vxlan) {
    ipam::IPPool p;
    p.name = "p";
    p.cidr = P("192.168.0.0/16");
    p.block_size = 26;
    p.ipip_mode = ipip;
    p.vxlan_mode = vxlan;
    resources.pools = {p};
  }
  ipam::AllocationBlock& block(const char* cidr, const std::string& affinity) {
    blocks.emplace_back(P(cidr), affinity);
    return blocks.back();
  }
  RoutePlan plan(std::vector<LearnedRoute> learned = {}) {
    ClusterView view;
    view.resources = std::make_shared<const ipam::ClusterResources>(resources);
    for (const auto& b : blocks) view.blocks.put(ipam::keys::block(b.cidr()), b);
    return plan_routes(view, self, learned);
  }
  static const netlink::Route* find(const RoutePlan& p, const char* dst) {
    for (const auto& r : p.kernel.routes) {
      if (r.destination == P(dst)) return &r;
    }
    return nullptr;
  }

  ipam::ClusterResources resources;
  std::deque<ipam::AllocationBlock> blocks;  // (a block's reference stays valid as more are added)
  ThisNode self;
};

TEST_F(RoutePlanTest, OwnBlockIsAdvertisedOnceAndBlackholed) {
  block("192.168.0.0/26", "n0").assign({"w1", "n0"});
  auto p = plan();
  ASSERT_EQ(p.advertise.size(), 1u);
  EXPECT_EQ(p.advertise[0], (Advertisement{P("192.168.0.0/26"), Advertisement::Kind::Block}));
  ASSERT_EQ(p.kernel.routes.size(), 1u);
  EXPECT_EQ(p.kernel.routes[0], netlink::Route::blackhole(P("192.168.0.0/26")));
  EXPECT_EQ(p.local_workloads, 1u);
}

TEST_F(RoutePlanTest, AdjacentOwnBlocksMergeButNeverOverAnotherNodesBlock) {
  block("192.168.0.0/26", "n0");
  block("192.168.0.64/26", "n0");
  block("192.168.0.128/26", "n0");
  block("192.168.0.192/26", "n1");
  auto p = plan();
  std::vector<Prefix> adv;
  for (const auto& a : p.advertise) adv.push_back(a.prefix);
  EXPECT_EQ(adv, (std::vector<Prefix>{P("192.168.0.0/25"), P("192.168.0.128/26")}));
  EXPECT_NE(find(p, "192.168.0.0/25"), nullptr);
  EXPECT_EQ(find(p, "192.168.0.0/25")->kind, netlink::RouteKind::Blackhole);
}

TEST_F(RoutePlanTest, AddressBorrowedHereIsAdvertisedAsAHostRoute) {
  block("192.168.0.64/26", "n1").assign({"w", "n0"});
  auto p = plan();
  ASSERT_EQ(p.advertise.size(), 1u);
  EXPECT_EQ(p.advertise[0], (Advertisement{P("192.168.0.64/32"), Advertisement::Kind::Borrowed}));
  EXPECT_EQ(p.local_workloads, 1u);
  EXPECT_EQ(find(p, "192.168.0.64/32"), nullptr);  // the CNI plugin routes it to the pod
}

TEST_F(RoutePlanTest, AddressBorrowedFromUsByAnotherNodeIsRoutedToIt) {
  auto& b = block("192.168.0.0/26", "n0");
  b.assign({"mine", "n0"});
  b.assign({"theirs", "n1"});
  auto p = plan();
  ASSERT_NE(find(p, "192.168.0.1/32"), nullptr);
  EXPECT_EQ(*find(p, "192.168.0.1/32"), netlink::Route::direct(P("192.168.0.1/32"), A("10.0.0.11")));
  EXPECT_EQ(p.advertise.size(), 1u);  // the block only: n1 advertises its /32
}

// A route reflector passes on the originating node's address as the next hop (RFC 4456): not a
// gateway the kernel takes from another subnet, so the block is left to the default route. A
// router that is no node (the ToR of a second uplink) stays a gateway: ECMP's case.
TEST_F(RoutePlanTest, ALearnedNextHopOutsideThisSubnetIsNoKernelGateway) {
  block("192.168.0.128/26", "n2");
  auto p = plan({{P("192.168.0.128/26"), A("10.0.1.10"), {}}});
  EXPECT_EQ(find(p, "192.168.0.128/26"), nullptr);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0], "192.168.0.128/26: learned via 10.0.1.10, another node not on this node's subnet; left to the default route");
  // The ToR's route, on this subnet, wins over the reflected one even when shorter.
  p = plan({{P("192.168.0.128/26"), A("10.0.1.10"), {}}, {P("192.168.0.0/16"), A("10.0.0.1"), {}}});
  ASSERT_NE(find(p, "192.168.0.128/26"), nullptr);
  EXPECT_EQ(*find(p, "192.168.0.128/26"), netlink::Route::direct(P("192.168.0.128/26"), A("10.0.0.1")));
  // A router off this subnet that is no node (a second uplink's ToR) is taken.
  p = plan({{P("192.168.0.128/26"), A("10.9.0.1"), {}}});
  ASSERT_NE(find(p, "192.168.0.128/26"), nullptr);
  EXPECT_EQ(*find(p, "192.168.0.128/26"), netlink::Route::direct(P("192.168.0.128/26"), A("10.9.0.1")));
}

struct ModeCase {
  const char* name;
  EncapMode ipip, vxlan;
  const char* remote;  // n1 (same subnet) or n2 (other subnet)
  netlink::RouteKind kind;
  const char* via;  // expected gateway, "" when not routed
};

class RoutePlanModes : public RoutePlanTest, public ::testing::WithParamInterface<ModeCase> {};

TEST_P(RoutePlanModes, RemoteBlockAndRemoteBorrowedAddressFollowThePoolMode) {
  const auto& c = GetParam();
  pool(c.ipip, c.vxlan);
  const bool n1 = std::string(c.remote) == "n1";
  auto& b = block(n1 ? "192.168.0.64/26" : "192.168.0.128/26", c.remote);
  (void)b;
  // And an address the remote node holds in a block affine to no node (its affinity released).
  block("192.168.1.0/26", "").assign({"x", c.remote});
  auto p = plan({{P("192.168.0.0/16"), A("10.0.0.1"), {}}});
  for (const char* dst : {n1 ? "192.168.0.64/26" : "192.168.0.128/26", "192.168.1.0/32"}) {
    const auto* r = find(p, dst);
    ASSERT_NE(r, nullptr) << dst;
    EXPECT_EQ(r->kind, c.kind) << dst;
    ASSERT_TRUE(r->gateway.has_value());
    EXPECT_EQ(r->gateway->str(), c.via) << dst;
    EXPECT_EQ(r->onlink, c.kind == netlink::RouteKind::Vxlan || c.kind == netlink::RouteKind::Ipip);
  }
  if (c.kind == netlink::RouteKind::Vxlan) {
    ASSERT_EQ(p.kernel.neighbours.size(), 1u);
    EXPECT_EQ(p.kernel.neighbours[0].address.str(), c.via);
    ASSERT_EQ(p.kernel.fdb.size(), 1u);
    EXPECT_EQ(p.kernel.fdb[0].destination.str(), n1 ? "10.0.0.11" : "10.0.1.10");
  } else {
    EXPECT_TRUE(p.kernel.neighbours.empty());
    EXPECT_TRUE(p.kernel.fdb.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, RoutePlanModes,
    ::testing::Values(
        ModeCase{"NeverSameSubnet", EncapMode::Never, EncapMode::Never, "n1", netlink::RouteKind::Direct, "10.0.0.11"},
        ModeCase{"NeverOtherSubnetUsesBgp", EncapMode::Never, EncapMode::Never, "n2", netlink::RouteKind::Direct, "10.0.0.1"},
        ModeCase{"IpipAlwaysSameSubnet", EncapMode::Always, EncapMode::Never, "n1", netlink::RouteKind::Ipip, "10.0.0.11"},
        ModeCase{"IpipAlwaysOtherSubnet", EncapMode::Always, EncapMode::Never, "n2", netlink::RouteKind::Ipip, "10.0.1.10"},
        ModeCase{"IpipCrossSubnetSame", EncapMode::CrossSubnet, EncapMode::Never, "n1", netlink::RouteKind::Direct, "10.0.0.11"},
        ModeCase{"IpipCrossSubnetOther", EncapMode::CrossSubnet, EncapMode::Never, "n2", netlink::RouteKind::Ipip, "10.0.1.10"},
        ModeCase{"VxlanAlwaysSameSubnet", EncapMode::Never, EncapMode::Always, "n1", netlink::RouteKind::Vxlan, "192.168.0.65"},
        ModeCase{"VxlanAlwaysOtherSubnet", EncapMode::Never, EncapMode::Always, "n2", netlink::RouteKind::Vxlan, "192.168.0.129"},
        ModeCase{"VxlanCrossSubnetSame", EncapMode::Never, EncapMode::CrossSubnet, "n1", netlink::RouteKind::Direct, "10.0.0.11"},
        ModeCase{"VxlanCrossSubnetOther", EncapMode::Never, EncapMode::CrossSubnet, "n2", netlink::RouteKind::Vxlan, "192.168.0.129"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(RoutePlanTest, OtherSubnetWithoutALearnedRouteIsANoteNotARoute) {
  block("192.168.0.128/26", "n2");
  auto p = plan();
  EXPECT_EQ(find(p, "192.168.0.128/26"), nullptr);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_NE(p.notes[0].find("no BGP peer sent a route"), std::string::npos);
}

// Two ToRs send n2's block with equal rank (eBGP, same AS path length, ToRs of different ASes):
// one multipath route via both. When one ToR's session ends (BFD Down), its routes leave the
// Adj-RIB-In and the route keeps the other next hop: replaced, never withdrawn.
TEST_F(RoutePlanTest, EqualRoutesFromTwoPeersMakeOneMultipathRoute) {
  block("192.168.0.128/26", "n2");
  bgp::PathRank tor_a{.as_path_length = 2, .neighbour_as = 65101};
  bgp::PathRank tor_b{.as_path_length = 2, .neighbour_as = 65102};
  auto p = plan({{P("192.168.0.128/26"), A("10.0.0.2"), tor_b}, {P("192.168.0.128/26"), A("10.0.0.1"), tor_a}});
  const auto* r = find(p, "192.168.0.128/26");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r, netlink::Route::multipath(P("192.168.0.128/26"), {A("10.0.0.1"), A("10.0.0.2")}));
  EXPECT_EQ(r->next_hops, (std::vector<Address>{A("10.0.0.1"), A("10.0.0.2")}));

  p = plan({{P("192.168.0.128/26"), A("10.0.0.2"), tor_b}});
  r = find(p, "192.168.0.128/26");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r, netlink::Route::direct(P("192.168.0.128/26"), A("10.0.0.2")));
}

TEST_F(RoutePlanTest, MultipathTakesOnlyTheBestRankOfTheLongestPrefix) {
  const bgp::PathRank two{.as_path_length = 2, .neighbour_as = 65101};
  const bgp::PathRank three{.as_path_length = 3, .neighbour_as = 65102};
  // A longer AS path loses; a shorter prefix loses to a longer one whatever its rank.
  EXPECT_EQ(equal_cost_next_hops({{P("192.168.0.128/26"), A("10.0.0.1"), two},
                                  {P("192.168.0.128/26"), A("10.0.0.2"), three},
                                  {P("192.168.0.0/16"), A("10.0.0.3"), two}},
                                 P("192.168.0.128/26")),
            (std::vector<Address>{A("10.0.0.1")}));
  EXPECT_EQ(equal_cost_next_hops({{P("192.168.0.0/16"), A("10.0.0.3"), two},
                                  {P("192.168.0.128/26"), A("10.0.0.2"), three}},
                                 P("192.168.0.128/26")),
            (std::vector<Address>{A("10.0.0.2")}));
  // The same next hop twice (two prefixes, or a peer's stale copy) is one next hop.
  EXPECT_EQ(equal_cost_next_hops({{P("192.168.0.128/26"), A("10.0.0.1"), two},
                                  {P("192.168.0.128/26"), A("10.0.0.1"), two}},
                                 P("192.168.0.128/26")),
            (std::vector<Address>{A("10.0.0.1")}));
  EXPECT_TRUE(equal_cost_next_hops({{P("10.9.0.0/16"), A("10.0.0.1"), two}}, P("192.168.0.128/26")).empty());
}

TEST_F(RoutePlanTest, DisabledPoolsKeepRoutingTheirBlocks) {
  resources.pools[0].disabled = true;
  block("192.168.0.0/26", "n0").assign({"w", "n0"});
  block("192.168.0.64/26", "n1");
  auto p = plan();
  EXPECT_EQ(p.advertise.size(), 1u);
  EXPECT_NE(find(p, "192.168.0.0/26"), nullptr);
  EXPECT_NE(find(p, "192.168.0.64/26"), nullptr);
}

// Calico's disableBGPExport: the pool's own blocks and borrowed addresses are kernel-routed
// (blackhole for an own block) but never advertised; another pool's are advertised as before.
TEST_F(RoutePlanTest, DisableBGPExportKeepsThePoolsBlocksOutOfBgpButInTheKernel) {
  resources.pools[0].disable_bgp_export = true;
  block("192.168.0.0/26", "n0").assign({"w", "n0"});
  block("192.168.0.64/26", "n1").assign({"borrowed", "n0"});
  ipam::IPPool exported = resources.pools[0];
  exported.name = "exported";
  exported.cidr = P("10.9.0.0/24");
  exported.disable_bgp_export = false;
  resources.pools.push_back(exported);
  block("10.9.0.0/26", "n0").assign({"w2", "n0"});
  auto p = plan();
  ASSERT_EQ(p.advertise.size(), 1u);
  EXPECT_EQ(p.advertise[0].prefix, P("10.9.0.0/26"));
  const auto* own = find(p, "192.168.0.0/26");
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->kind, netlink::RouteKind::Blackhole);
  EXPECT_NE(find(p, "10.9.0.0/26"), nullptr);
}

TEST_F(RoutePlanTest, PoolsThatNoLongerSelectThisNodeKeepRoutingItsBlocks) {
  resources.pools[0].node_selector = "rack == \"9\"";
  resources.nodes["n0"].labels = {{"rack", "0"}};
  block("192.168.0.0/26", "n0").assign({"w", "n0"});
  auto p = plan();
  ASSERT_EQ(p.advertise.size(), 1u);
  EXPECT_EQ(p.advertise[0].prefix, P("192.168.0.0/26"));
}

TEST_F(RoutePlanTest, BlocksOfDeletedPoolsRouteDirectAndUnknownNodesAreNoted) {
  resources.pools.clear();
  block("192.168.0.64/26", "n1");
  block("192.168.0.192/26", "ghost");
  auto p = plan();
  ASSERT_NE(find(p, "192.168.0.64/26"), nullptr);
  EXPECT_EQ(find(p, "192.168.0.64/26")->kind, netlink::RouteKind::Direct);
  EXPECT_EQ(find(p, "192.168.0.192/26"), nullptr);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_NE(p.notes[0].find("ghost does not exist"), std::string::npos);
}

TEST_F(RoutePlanTest, VxlanRemoteWithoutVtepIsNoted) {
  pool(EncapMode::Never, EncapMode::Always);
  resources.nodes["n1"].vxlan_tunnel_mac.clear();
  block("192.168.0.64/26", "n1");
  auto p = plan();
  EXPECT_TRUE(p.kernel.routes.empty());
  ASSERT_EQ(p.notes.size(), 1u);
}

TEST_F(RoutePlanTest, VxlanRemoteIsNotRoutedUntilThisNodeHasItsVxlanDevice) {
  // A node no VXLAN pool selects has no VTEP nor device: routes, neighbours and FDB entries on
  // that device would all be refused by the kernel (and retried with a growing back-off).
  pool(EncapMode::Never, EncapMode::CrossSubnet);
  self.has_vxlan_device = false;
  block("192.168.0.64/26", "n1");
  block("192.168.0.128/26", "n2");
  auto p = plan();
  ASSERT_NE(find(p, "192.168.0.64/26"), nullptr);  // same subnet: direct, no device needed
  EXPECT_EQ(find(p, "192.168.0.64/26")->kind, netlink::RouteKind::Direct);
  EXPECT_EQ(find(p, "192.168.0.128/26"), nullptr);
  EXPECT_TRUE(p.kernel.neighbours.empty());
  EXPECT_TRUE(p.kernel.fdb.empty());
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_NE(p.notes[0].find("no VXLAN device"), std::string::npos);
}

}  // namespace
}  // namespace blockd::agent
