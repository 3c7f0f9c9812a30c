// Which BGP peers a node has: the config file's, then the BGPPeer resources that select it.
#include "agent/peer_selection.hpp"

#include <gtest/gtest.h>

namespace blockd::agent {
namespace {

ipam::Address A(const char* s) { return *ipam::Address::parse(s); }

ipam::BGPPeer resource(const char* name, const char* ip, std::string node = "", std::string selector = "") {
  ipam::BGPPeer p;
  p.name = name;
  p.peer_ip = A(ip);
  p.as_number = 65000;
  p.node = std::move(node);
  p.node_selector = std::move(selector);
  return p;
}

std::vector<std::string> addresses(const std::vector<SelectedPeer>& peers) {
  std::vector<std::string> out;
  for (const auto& p : peers) out.push_back(p.config.address.str() + " " + p.source + " " + p.type);
  return out;
}

TEST(PeerSelection, ConfigPeersThenTheResourcesThatSelectThisNode) {
  const std::vector<ConfigPeer> configured{{A("10.0.0.1"), 65001, "secret", 1179, true, std::nullopt, std::nullopt}};
  const std::vector<ipam::BGPPeer> resources{
      resource("everyone", "10.0.0.2"),
      resource("mine", "10.0.0.3", "n1"),
      resource("other-node", "10.0.0.4", "n2"),
      resource("racks", "10.0.0.5", "", "rack == 'r1'"),
      resource("other-rack", "10.0.0.6", "", "rack == 'r2'"),
  };
  const auto peers = select_peers(configured, resources, "n1", {{"rack", "r1"}});
  EXPECT_EQ(addresses(peers), (std::vector<std::string>{"10.0.0.1 config config", "10.0.0.2 BGPPeer/everyone global",
                                                        "10.0.0.3 BGPPeer/mine node specific",
                                                        "10.0.0.5 BGPPeer/racks node specific"}));
  EXPECT_EQ(peers[0].config.password, "secret");
  EXPECT_EQ(peers[0].config.port, 1179);
  EXPECT_TRUE(peers[0].config.passive);
  EXPECT_EQ(peers[1].config.peer_as, 65000u);
}

TEST(PeerSelection, TheConfigFileWinsForAnAddressBothName) {
  const auto peers = select_peers({{A("10.0.0.2"), 65001, "", 179, false, std::nullopt, std::nullopt}}, {resource("same", "10.0.0.2")}, "n1", {});
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].source, "config");
  EXPECT_EQ(peers[0].config.peer_as, 65001u);
}

TEST(PeerSelection, APeerThatAsksForBfdCarriesItsProfile) {
  auto with_bfd = resource("bfd", "10.0.0.3");
  with_bfd.bfd = BfdProfile{100, 200, 5};
  const auto peers = select_peers({{A("10.0.0.2"), 65001, "", 179, false, BfdProfile{}, std::nullopt}}, {with_bfd, resource("plain", "10.0.0.4")}, "n1", {});
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_TRUE(peers[0].config.bfd && peers[0].bfd == BfdProfile{});
  EXPECT_TRUE(peers[1].config.bfd && peers[1].bfd == (BfdProfile{100, 200, 5}));
  EXPECT_FALSE(peers[2].config.bfd || peers[2].bfd);
}

// Calico's sourceAddress: UseNodeIP (the default) binds the session to the node's address of the
// peer's family; None leaves it to the kernel. A config peer binds to its localAddress alone.
TEST(PeerSelection, SourceAddressUseNodeIpBindsToTheNodesAddressAndNoneToNothing) {
  auto v4 = resource("v4", "10.0.0.2");
  auto v6 = resource("v6", "fd00::2");
  auto none = resource("none", "10.0.0.3");
  none.source_address = ipam::SourceAddress::None;
  ConfigPeer uplink{A("10.1.0.1"), 65001, "", 179, false, std::nullopt, A("10.1.0.2")};
  ConfigPeer plain{A("10.2.0.1"), 65001, "", 179, false, std::nullopt, std::nullopt};
  const auto peers = select_peers({uplink, plain}, {v4, v6, none}, "n1", {}, {}, {A("10.0.0.10"), A("fd00::10")});
  ASSERT_EQ(peers.size(), 5u);
  EXPECT_EQ(peers[0].config.local_address, A("10.1.0.2"));
  EXPECT_EQ(peers[1].config.local_address, std::nullopt);
  EXPECT_EQ(peers[2].config.local_address, A("10.0.0.10"));
  EXPECT_EQ(peers[3].config.local_address, A("fd00::10"));
  EXPECT_EQ(peers[4].config.local_address, std::nullopt);
  // A node without an address of the peer's family: nothing to bind (the speaker refuses the peer).
  EXPECT_EQ(select_peers({}, {v6}, "n1", {}, {}, {A("10.0.0.10")})[0].config.local_address, std::nullopt);
}

ipam::Node node(const char* name, const char* v4, std::optional<std::uint32_t> as = std::nullopt, ipam::Labels labels = {},
                const char* v6 = nullptr) {
  ipam::Node n;
  n.name = name;
  n.ipv4_address = *ipam::InterfaceAddress::parse(v4);
  if (v6) n.ipv6_address = *ipam::InterfaceAddress::parse(v6);
  n.as_number = as;
  n.labels = std::move(labels);
  return n;
}

std::map<std::string, ipam::Node> cluster(std::vector<ipam::Node> nodes) {
  std::map<std::string, ipam::Node> out;
  for (auto& n : nodes) out[n.name] = std::move(n);
  return out;
}

TEST(PeerSelection, TheMeshPeersWithEveryOtherNodeAtItsAddressAndAs) {
  const auto nodes = cluster({node("n1", "10.0.0.11/24"), node("n2", "10.0.0.12/24", 65010),
                              node("n3", "10.0.0.13/24"), node("tor-less", "10.0.1.14/24")});
  const std::vector<ConfigPeer> none;
  const std::vector<ipam::BGPPeer> no_resources;
  const ipam::Labels labels;
  const auto peers = select_peers({none, no_resources, nodes, "n1", labels, true, 64512, 1179});
  EXPECT_EQ(addresses(peers),
            (std::vector<std::string>{"10.0.0.12 Node/n2 node-to-node mesh", "10.0.0.13 Node/n3 node-to-node mesh",
                                      "10.0.1.14 Node/tor-less node-to-node mesh"}));
  EXPECT_EQ(peers[0].config.peer_as, 65010u);  // the Node's own AS
  EXPECT_EQ(peers[1].config.peer_as, 64512u);  // none on the Node: the cluster's
  EXPECT_EQ(peers[1].config.port, 1179);       // where the cluster listens
  EXPECT_TRUE(select_peers({none, no_resources, nodes, "n1", labels, false, 64512, 179}).empty());
}

TEST(PeerSelection, TheMeshAddsIpv6SessionsOnlyWhenThisNodeHasIpv6) {
  const auto v4_only = cluster({node("n1", "10.0.0.11/24"), node("n2", "10.0.0.12/24", {}, {}, "fd00::12/64")});
  const std::vector<ConfigPeer> none;
  const std::vector<ipam::BGPPeer> no_resources;
  const ipam::Labels labels;
  EXPECT_EQ(select_peers({none, no_resources, v4_only, "n1", labels, true, 64512, 179}).size(), 1u);
  const auto dual = cluster({node("n1", "10.0.0.11/24", {}, {}, "fd00::11/64"), node("n2", "10.0.0.12/24", {}, {}, "fd00::12/64")});
  EXPECT_EQ(addresses(select_peers({none, no_resources, dual, "n1", labels, true, 64512, 179})),
            (std::vector<std::string>{"10.0.0.12 Node/n2 node-to-node mesh", "fd00::12 Node/n2 node-to-node mesh"}));
}

TEST(PeerSelection, ExplicitPeersWinOverTheMeshForTheSameAddress) {
  const auto nodes = cluster({node("n1", "10.0.0.11/24"), node("n2", "10.0.0.12/24")});
  const std::vector<ConfigPeer> configured{{A("10.0.0.12"), 65099, "", 179, false, std::nullopt, std::nullopt}};
  const std::vector<ipam::BGPPeer> no_resources;
  const ipam::Labels labels;
  const auto peers = select_peers({configured, no_resources, nodes, "n1", labels, true, 64512, 179});
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].source, "config");
  EXPECT_EQ(peers[0].config.peer_as, 65099u);
}

// Calico's route-reflector recipe: the reflectors are Nodes labelled route-reflector=true; one
// BGPPeer with nodeSelector !has(route-reflector) and peerSelector has(route-reflector) makes
// every other node their client. A node never peers with itself.
TEST(PeerSelection, PeerSelectorPeersWithTheSelectedNodes) {
  const auto nodes = cluster({node("n1", "10.0.0.11/24"), node("n2", "10.0.1.12/24"),
                              node("rr-a", "10.0.9.1/24", 65100, {{"route-reflector", "true"}}),
                              node("rr-b", "10.0.9.2/24", std::nullopt, {{"route-reflector", "true"}})});
  ipam::BGPPeer to_rr;
  to_rr.name = "peer-with-route-reflectors";
  to_rr.node_selector = "!has(route-reflector)";
  to_rr.peer_selector = "route-reflector == 'true'";
  ipam::BGPPeer rr_mesh;
  rr_mesh.name = "rr-mesh";
  rr_mesh.node_selector = "has(route-reflector)";
  rr_mesh.peer_selector = "has(route-reflector)";
  const std::vector<ConfigPeer> none;
  const std::vector<ipam::BGPPeer> resources{to_rr, rr_mesh};
  const ipam::Labels client_labels;
  const auto client = select_peers({none, resources, nodes, "n1", client_labels, false, 64512, 179});
  EXPECT_EQ(addresses(client), (std::vector<std::string>{"10.0.9.1 BGPPeer/peer-with-route-reflectors node specific",
                                                         "10.0.9.2 BGPPeer/peer-with-route-reflectors node specific"}));
  EXPECT_EQ(client[0].config.peer_as, 65100u);
  EXPECT_EQ(client[1].config.peer_as, 64512u);
  const ipam::Labels rr_labels{{"route-reflector", "true"}};
  EXPECT_EQ(addresses(select_peers({none, resources, nodes, "rr-a", rr_labels, false, 64512, 179})),
            (std::vector<std::string>{"10.0.9.2 BGPPeer/rr-mesh node specific"}));
}

TEST(PeerSelection, ABadSelectorSelectsNoNode) {
  EXPECT_TRUE(select_peers({}, {resource("bad", "10.0.0.2", "", "rack ==")}, "n1", {{"rack", "r1"}}).empty());
}

}  // namespace
}  // namespace blockd::agent
