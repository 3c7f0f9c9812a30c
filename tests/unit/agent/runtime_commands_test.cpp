// blockctl's runtime commands: the peer tables in calicoctl's layout, the route tables and the
// route-reduction line, and where the control socket comes from.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/blockctl/commands.hpp"

namespace blockd::agent::blockctl {
namespace {

using json = nlohmann::json;
using namespace std::chrono;

// 2026-11-23 12:00:00 UTC
const system_clock::time_point kNow = system_clock::time_point(seconds(1795435200));

TEST(NodeStatus, PeerTablesLookLikeCalicoctls) {
  const json peers = json::parse(R"([
    {"address": "10.0.0.1", "state": "Established", "since": 3600, "source": "BGPPeer/rack-0-tor", "peerType": "global"},
    {"address": "10.0.0.2", "state": "Active", "since": null, "lastError": "Socket: Connection refused", "source": "config"},
    {"address": "10.0.0.3", "state": "Connect", "since": null, "source": "BGPPeer/rack-0-tor-b"}
  ])");
  std::ostringstream out;
  print_node_status(json{{"warnings", {"node kube-node-0 has no IPv6 address"}}}, peers, kNow, out);
  EXPECT_EQ(out.str(),
            "blockd process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "+--------------+---------------+-------+----------+-----------------------------------+\n"
            "| PEER ADDRESS |   PEER TYPE   | STATE |  SINCE   |               INFO                |\n"
            "+--------------+---------------+-------+----------+-----------------------------------+\n"
            "| 10.0.0.1     | global        | up    | 11:00:00 | Established                       |\n"
            "| 10.0.0.2     | config        | start |          | Active Socket: Connection refused |\n"
            "| 10.0.0.3     | node specific | start |          | Connect                           |\n"
            "+--------------+---------------+-------+----------+-----------------------------------+\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n"
            "warning: node kube-node-0 has no IPv6 address\n");
}

TEST(NodeStatus, ARefusedPeerIsListedWithTheRuleItBreaks) {
  const json peers = json::parse(R"([
      {"address": "10.0.0.1", "state": "Established", "since": 3600, "source": "BGPPeer/tor", "peerType": "global"},
      {"address": "10.0.0.9", "state": "Refused", "since": null, "source": "BGPPeer/bad", "peerType": "global",
       "lastError": "bgp peer 10.0.0.9: TCP-MD5 password is 81 octets; the kernel takes at most 80"}])");
  std::ostringstream out;
  print_node_status(json::object(), peers, kNow, out);
  EXPECT_NE(out.str().find("| 10.0.0.1     | global    | up      | 11:00:00 | Established"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("| 10.0.0.9     | global    | refused |          | Refused bgp peer 10.0.0.9: TCP-MD5 "
                           "password is 81 octets; the kernel takes at most 80 |"),
            std::string::npos)
      << out.str();
}

TEST(NodeStatus, IPv6PeersGetTheirOwnTableAndOldSessionsShowTheDate) {
  const json peers = json::parse(R"([{"address": "fd00::1", "state": "Established", "since": 172800, "source": "config"}])");
  std::ostringstream out;
  print_node_status(json::object(), peers, kNow, out);
  EXPECT_NE(out.str().find("No IPv4 peers found.\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("| fd00::1      | config    | up    | 2026-11-21 | Established |"), std::string::npos)
      << out.str();
}

TEST(NodeStatus, ABfdColumnShowsEachPeersBfdState) {
  const json peers = json::parse(R"([
    {"address": "10.0.0.1", "state": "Established", "since": 3600, "source": "config", "bfd": "Up"},
    {"address": "10.0.0.2", "state": "Idle", "since": null, "source": "config", "bfd": "Down"},
    {"address": "10.0.0.3", "state": "Established", "since": 3600, "source": "config", "bfd": null},
    {"address": "fd00::1", "state": "Established", "since": 3600, "source": "config", "bfd": null}
  ])");
  std::ostringstream out;
  print_node_status(json::object(), peers, kNow, out);
  EXPECT_NE(out.str().find("| PEER ADDRESS | PEER TYPE | STATE | BFD  |  SINCE   |    INFO     |"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("| 10.0.0.1     | config    | up    | Up   | 11:00:00 | Established |"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("| 10.0.0.2     | config    | start | Down |          | Idle        |"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("| 10.0.0.3     | config    | up    | -    | 11:00:00 | Established |"), std::string::npos)
      << out.str();
  // No IPv6 peer has BFD: that table has calicoctl's columns.
  EXPECT_NE(out.str().find("| fd00::1      | config    | up    | 11:00:00 | Established |"), std::string::npos)
      << out.str();
}

TEST(Routes, AdvertisedEndsWithTheRouteReductionLine) {
  const json answer = json::parse(R"({"routes": [
      {"prefix": "192.168.0.0/26", "nextHop": "10.0.0.10", "kind": "block", "communities": []},
      {"prefix": "192.168.0.64/26", "nextHop": "10.0.0.10", "kind": "block", "communities": ["65001:100"]},
      {"prefix": "192.168.1.9/32", "nextHop": "10.0.0.10", "kind": "borrowed", "communities": []}],
    "workloads": 70})");
  std::ostringstream out;
  ASSERT_TRUE(print_routes("advertised", answer, OutputFormat::Table, out).ok());
  EXPECT_EQ(out.str(),
            "PREFIX            NEXT HOP    KIND\n"
            "192.168.0.0/26    10.0.0.10   block\n"
            "192.168.0.64/26   10.0.0.10   block\n"
            "192.168.1.9/32    10.0.0.10   borrowed\n"
            "\n"
            "3 routes advertised for 70 workload addresses (a /32-per-workload design would need 70)\n");
  std::ostringstream wide;
  ASSERT_TRUE(print_routes("advertised", answer, OutputFormat::Wide, wide).ok());
  EXPECT_NE(wide.str().find("COMMUNITIES"), std::string::npos);
  EXPECT_NE(wide.str().find("65001:100"), std::string::npos);
}

TEST(Routes, ABareListIsAcceptedWithoutTheSummary) {
  std::ostringstream out;
  ASSERT_TRUE(print_routes("advertised", json::parse(R"([{"prefix": "10.1.0.0/26", "nextHop": "10.0.0.1", "kind": "block"}])"),
                           OutputFormat::Table, out)
                  .ok());
  EXPECT_NE(out.str().find("10.1.0.0/26"), std::string::npos);
  EXPECT_EQ(out.str().find("advertised for"), std::string::npos);
}

TEST(Routes, ReceivedShowsThePathAndWideShowsStaleness) {
  const json answer = json::parse(
      R"([{"prefix": "10.2.0.0/26", "nextHop": "10.0.1.1", "peer": "10.0.0.1", "asPath": [65001, 65003], "stale": true}])");
  std::ostringstream out, wide;
  ASSERT_TRUE(print_routes("received", answer, OutputFormat::Table, out).ok());
  EXPECT_EQ(out.str(),
            "PREFIX        NEXT HOP   PEER       AS PATH\n"
            "10.2.0.0/26   10.0.1.1   10.0.0.1   65001 65003\n");
  ASSERT_TRUE(print_routes("received", answer, OutputFormat::Wide, wide).ok());
  EXPECT_NE(wide.str().find("STALE"), std::string::npos);
  EXPECT_NE(wide.str().find("yes"), std::string::npos);
}

TEST(Routes, KernelRoutesAndEmptyTables) {
  const json answer = json::parse(
      R"([{"prefix": "10.2.0.0/26", "kind": "unicast", "via": "10.0.0.11", "device": "vxlan.blockd", "onlink": true, "protocol": 200}])");
  std::ostringstream out, wide, empty;
  ASSERT_TRUE(print_routes("kernel", answer, OutputFormat::Table, out).ok());
  EXPECT_EQ(out.str(),
            "PREFIX        KIND      VIA         DEVICE\n"
            "10.2.0.0/26   unicast   10.0.0.11   vxlan.blockd\n");
  ASSERT_TRUE(print_routes("kernel", answer, OutputFormat::Wide, wide).ok());
  EXPECT_NE(wide.str().find("ONLINK   PROTOCOL"), std::string::npos) << wide.str();
  EXPECT_NE(wide.str().find("yes      200"), std::string::npos) << wide.str();
  ASSERT_TRUE(print_routes("kernel", json::array(), OutputFormat::Table, empty).ok());
  EXPECT_EQ(empty.str(), "No kernel routes.\n");
}

TEST(Routes, JsonIsTheApisAnswerAndYamlIsRefused) {
  const json answer = {{"routes", json::array()}, {"workloads", 0}};
  std::ostringstream out;
  ASSERT_TRUE(print_routes("advertised", answer, OutputFormat::Json, out).ok());
  EXPECT_EQ(json::parse(out.str()), answer);
  auto yaml = print_routes("advertised", answer, OutputFormat::Yaml, out);
  ASSERT_FALSE(yaml.ok());
  EXPECT_EQ(yaml.error().code, ErrorCode::Invalid);
  EXPECT_FALSE(print_routes("advertised", json{{"routes", 5}}, OutputFormat::Table, out).ok());
}

TEST(Routes, AnUnreachableAgentIsExitStatusTwo) {
  auto r = routes("/nonexistent/blockd.sock", "kernel", OutputFormat::Table, std::cout);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(exit_status(r.error()), 2);
  EXPECT_NE(r.error().message.find("cannot reach blockd at /nonexistent/blockd.sock"), std::string::npos);
  std::ostringstream out;
  auto s = node_status("/nonexistent/blockd.sock", out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(exit_status(s.error()), 2);
  EXPECT_EQ(out.str(), "blockd process is not running.\n");
}

class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("BLOCKD_SOCKET"); }
  void TearDown() override {
    ::unsetenv("BLOCKD_SOCKET");
    if (!config_.empty()) std::filesystem::remove(config_);
  }
  std::string write_config(const std::string& text) {
    config_ = (std::filesystem::temp_directory_path() / ("blockctl-config-" + std::to_string(::getpid()) + ".yaml")).string();
    std::ofstream(config_) << text;
    return config_;
  }
  std::string config_;
};

TEST_F(ControlSocketTest, FlagThenEnvironmentThenConfigThenDefault) {
  const std::string config = write_config("control:\n  socket: /from/config.sock\n");
  EXPECT_EQ(*control_socket("", ""), "/run/blockd/blockd.sock");
  EXPECT_EQ(*control_socket("", config), "/from/config.sock");
  ::setenv("BLOCKD_SOCKET", "/from/env.sock", 1);
  EXPECT_EQ(*control_socket("", config), "/from/env.sock");
  EXPECT_EQ(*control_socket("/from/flag.sock", config), "/from/flag.sock");
}

TEST_F(ControlSocketTest, AConfigWithoutControlSocketMeansTheDefault) {
  EXPECT_EQ(*control_socket("", write_config("node: {name: n}\n")), "/run/blockd/blockd.sock");
}

TEST_F(ControlSocketTest, AnUnreadableConfigIsTheUsersError) {
  auto r = control_socket("", "/nonexistent/blockd.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Invalid);
  EXPECT_NE(r.error().message.find("/nonexistent/blockd.yaml"), std::string::npos);
}

}  // namespace
}  // namespace blockd::agent::blockctl
