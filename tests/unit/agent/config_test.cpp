// blockd's configuration: ARCHITECTURE.md's example loads; every bad field is named.
#include "agent/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace blockd::agent {
namespace {

const char* kDesignExample = R"(
node:
  name: kube-node-0
  labels: {rack: "0"}
  address: 10.0.0.10/24          # underlay address with its subnet (CrossSubnet uses it)
  asNumber: 65002
  routerId: 10.0.0.10            # optional, defaults to the address
datastore: sqlite:///var/lib/blockd/blockd.db      # or etcd://host:port,...
bgp:
  listenPort: 179
  peers: [{address: 10.0.0.1, asNumber: 65001, password: optional}]   # besides BGPPeer resources
  gracefulRestart: {restartTime: 120}
dataplane:
  uplink: eth0
  ipipDevice: tunl0
  vxlanDevice: vxlan.blockd
  vxlanVNI: 4096
  vxlanPort: 4789
  routeProtocol: 200             # rtnetlink protocol number of blockd's routes
control:
  socket: /run/blockd/blockd.sock
  metrics: 127.0.0.1:9095
log: {level: info}
)";

// What the file leaves out comes from the BGPConfiguration resources (agent/bgp_configuration.hpp).
TEST(AgentConfig, AsNumberListenPortAndLogLevelAreOptional) {
  auto c = parse_agent_config("node: {name: n0, address: 10.0.0.10/24}\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->node.as_number.has_value());
  EXPECT_FALSE(c->bgp.listen_port.has_value());
  EXPECT_FALSE(c->log_level.has_value());
}

TEST(AgentConfig, TheDesignExampleLoads) {
  auto c = parse_agent_config(kDesignExample);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->node.name, "kube-node-0");
  EXPECT_EQ(c->node.labels.at("rack"), "0");
  EXPECT_EQ(c->node.address.str(), "10.0.0.10/24");
  EXPECT_EQ(c->node.as_number, 65002u);
  EXPECT_EQ(c->node.router_id.str(), "10.0.0.10");
  ASSERT_EQ(c->bgp.peers.size(), 1u);
  EXPECT_EQ(c->bgp.peers[0].password, "optional");
  EXPECT_EQ(c->bgp.restart_time, 120);
  EXPECT_EQ(c->dataplane.vxlan_vni, 4096u);
  EXPECT_EQ(c->dataplane.route_protocol, 200);
  EXPECT_EQ(c->control.metrics, "127.0.0.1:9095");
  EXPECT_TRUE(c->ipam.release_empty_blocks);
}

TEST(AgentConfig, PeerBfdTakesMetalLbsNamesAndDefaults) {
  const std::string node = "node: {name: n0, address: 10.0.0.10/24, asNumber: 65002}\n";
  auto c = parse_agent_config(node + "bgp: {peers: [{address: 10.0.0.1, asNumber: 65001, bfd: {}},\n"
                                     "  {address: 10.0.0.2, asNumber: 65001, bfd: {receiveInterval: 100, transmitInterval: 150, detectMultiplier: 5}},\n"
                                     "  {address: 10.0.0.3, asNumber: 65001}]}\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->bgp.peers[0].bfd, (BfdProfile{300, 300, 3}));
  EXPECT_EQ(c->bgp.peers[1].bfd, (BfdProfile{100, 150, 5}));
  EXPECT_FALSE(c->bgp.peers[2].bfd);
}

TEST(AgentConfig, PeerLocalAddressIsOfThePeersFamily) {
  const std::string node = "node: {name: n0, address: 10.0.0.10/24, asNumber: 65002}\n";
  auto c = parse_agent_config(node + "bgp: {peers: [{address: 10.1.0.1, asNumber: 65001, localAddress: 10.1.0.2}]}\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->bgp.peers[0].local_address, ipam::Address::parse("10.1.0.2").value());
  c = parse_agent_config(node + "bgp: {peers: [{address: 10.1.0.1, asNumber: 65001, localAddress: fd00::2}]}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "bgp.peers[0].localAddress: fd00::2 is IPv6 but the peer 10.1.0.1 is IPv4");
}

TEST(AgentConfig, RouterIdDefaultsToTheNodeAddress) {
  auto c = parse_agent_config("node: {name: n, address: 10.1.2.3/16, asNumber: 1}");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->node.router_id.str(), "10.1.2.3");
  EXPECT_EQ(c->datastore, "sqlite:///var/lib/blockd/blockd.db");
}

struct BadCase {
  std::string yaml;
  const char* message;
};

TEST(AgentConfig, EveryBadFieldIsNamed) {
  const std::string node = "node: {name: n, address: 10.0.0.1/24, asNumber: 65000}\n";
  const BadCase cases[] = {
      {"", "config: expected a mapping with node, datastore, bgp, dataplane, control, log"},
      {"bgp: {}", "node: required (name, address)"},
      {"node: {address: 10.0.0.1/24, asNumber: 1}", "node.name: required"},
      {"node: {name: 'a b', address: 10.0.0.1/24, asNumber: 1}",
       "node.name: \"a b\" is not a valid node name (alphanumerics with '.', '_' or '-')"},
      {"node: {name: n, address: 10.0.0.1, asNumber: 1}",
       "node.address: \"10.0.0.1\" needs a prefix length (address/length, e.g. 10.0.0.10/24)"},
      {"node: {name: n, address: 10.0.0.1/24, asNumber: 0}", "node.asNumber: 0 is out of range (1 to 4294967295)"},
      {"node: {name: n, address: 10.0.0.1/24, asNumber: 23456}",
       "node.asNumber: 23456 is AS_TRANS, reserved to stand in for 4-octet AS numbers (RFC 6793)"},
      {"node: {name: n, address: 10.0.0.1/24, asNumber: x}", "node.asNumber: expected a whole number"},
      {"node: {name: n, address: 10.0.0.1/24, asNumber: 1, routerid: 1.1.1.1}", "node.routerid: unknown field"},
      {"datastore: mysql://x", "datastore: \"mysql://x\" is not sqlite:///abs/path.db or etcd://host:port[,host:port]"},
      {"bgp: {listenPort: 70000}", "bgp.listenPort: 70000 is out of range (0 to 65535)"},
      {"bgp: {holdTime: 2}", "bgp.holdTime: 1 and 2 are not allowed (0 or at least 3; RFC 4271 4.2)"},
      {"bgp: {peers: [{asNumber: 1}]}", "bgp.peers[0].address: required"},
      // What the speaker would refuse (issue 16): no IPv6 address to peer from, AS_TRANS, a long key.
      {"bgp: {peers: [{address: fd00::1, asNumber: 1}]}",
       "bgp.peers[0].address: fd00::1 is IPv6 but node.addressV6 is not set: no address to peer from"},
      {"bgp: {peers: [{address: 10.0.0.1, asNumber: 23456}]}",
       "bgp.peers[0].asNumber: 23456 is AS_TRANS, reserved to stand in for 4-octet AS numbers (RFC 6793)"},
      {"bgp: {peers: [{address: 10.0.0.1, asNumber: 1, password: \"" + std::string(81, 'x') + "\"}]}",
       "bgp.peers[0].password: 81 octets; a TCP-MD5 key holds at most 80 (Linux TCP_MD5SIG_MAXKEYLEN)"},
      {"bgp: {peers: [{address: 10.0.0.300, asNumber: 1}]}", "bgp.peers[0].address: \"10.0.0.300\" is not an IP address"},
      {"bgp: {peers: [{address: 10.0.0.2, asNumber: 1}, {address: 10.0.0.2, asNumber: 2}]}",
       "bgp.peers[1].address: 10.0.0.2 is listed twice"},
      {"bgp: {peers: [{address: 10.0.0.1, asNumber: 1, bfd: {receiveInterval: 5}}]}",
       "bgp.peers[0].bfd: receiveInterval 5 ms is out of range: must be 10..60000 ms"},
      {"bgp: {peers: [{address: 10.0.0.1, asNumber: 1, bfd: {transmitInterval: 60001}}]}",
       "bgp.peers[0].bfd: transmitInterval 60001 ms is out of range: must be 10..60000 ms"},
      {"bgp: {peers: [{address: 10.0.0.1, asNumber: 1, bfd: {detectMultiplier: 1}}]}",
       "bgp.peers[0].bfd: detectMultiplier 1 is out of range: must be 2..255"},
      {"bgp: {peers: [{address: 10.0.0.1, asNumber: 1, bfd: {minimumTtl: 254}}]}",
       "bgp.peers[0].bfd.minimumTtl: unknown field"},
      {"bgp: {peers: [{address: 10.0.0.1, asNumber: 1, bfd: yes}]}", "bgp.peers[0].bfd: expected a mapping"},
      {"bgp: {gracefulRestart: {restartTime: 5000}}", "bgp.gracefulRestart.restartTime: 5000 is out of range (1 to 4095)"},
      {"dataplane: {vxlanDevice: a-very-long-device-name}",
       "dataplane.vxlanDevice: \"a-very-long-device-name\" is not a valid interface name (1 to 15 characters, no '/', ':' or spaces)"},
      {"dataplane: {routeProtocol: 2}", "dataplane.routeProtocol: 2 is out of range (5 to 254)"},
      {"dataplane: {vxlanVNI: 0}", "dataplane.vxlanVNI: 0 is out of range (1 to 16777215)"},
      {"control: {socket: relative.sock}", "control.socket: must be an absolute path"},
      {"control: {metrics: 0.0.0.0:9095}", "control.metrics: \"0.0.0.0:9095\" must be a loopback address and port, e.g. 127.0.0.1:9095"},
      {"log: {level: loud}", "log.level: \"loud\" is not one of trace, debug, info, warning, error, critical, off"},
      {"ipam: {releaseEmptyBlocks: maybe}", "ipam.releaseEmptyBlocks: expected true or false"},
      {"colour: blue", "colour: unknown field"},
  };
  for (const auto& c : cases) {
    const std::string text = std::string(c.yaml).starts_with("node") || std::string(c.yaml).empty() ||
                                     std::string(c.yaml) == "bgp: {}"
                                 ? std::string(c.yaml)
                                 : node + c.yaml;
    auto r = parse_agent_config(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().message, c.message) << text;
  }
}

// passwordFile: the TCP-MD5 key from a file (Calico keeps it in a Secret), its trailing newline dropped.
TEST(AgentConfig, PeerPasswordFromAFile) {
  char dir[] = "/tmp/blockd_pwfile_XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string key = std::string(dir) + "/tor.key", long_key = std::string(dir) + "/long.key";
  std::FILE* f = std::fopen(key.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("s3cret\n", f);
  std::fclose(f);
  f = std::fopen(long_key.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(std::string(81, 'k').c_str(), f);
  std::fclose(f);
  const std::string node = "node: {name: n, address: 10.0.0.10/24, asNumber: 65002}\n";
  auto c = parse_agent_config(node + "bgp: {peers: [{address: 10.0.0.1, asNumber: 1, passwordFile: " + key + "}]}");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->bgp.peers[0].password, "s3cret");
  auto both = parse_agent_config(node + "bgp: {peers: [{address: 10.0.0.1, asNumber: 1, password: x, passwordFile: " +
                                 key + "}]}");
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().message, "bgp.peers[0].passwordFile: give password or passwordFile, not both");
  auto too_long = parse_agent_config(node + "bgp: {peers: [{address: 10.0.0.1, asNumber: 1, passwordFile: " + long_key + "}]}");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().message,
            "bgp.peers[0].passwordFile: 81 octets; a TCP-MD5 key holds at most 80 (Linux TCP_MD5SIG_MAXKEYLEN)");
  auto missing = parse_agent_config(node + "bgp: {peers: [{address: 10.0.0.1, asNumber: 1, passwordFile: " +
                                    std::string(dir) + "/none}]}");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("bgp.peers[0].passwordFile"), std::string::npos) << missing.error().message;
  std::remove(key.c_str());
  std::remove(long_key.c_str());
  ::rmdir(dir);
}

TEST(AgentConfig, UnreadableFileIsNamed) {
  auto r = load_agent_config("/nonexistent/blockd.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "--config /nonexistent/blockd.yaml: cannot read /nonexistent/blockd.yaml (no such file or not readable)");
}

}  // namespace
}  // namespace blockd::agent
