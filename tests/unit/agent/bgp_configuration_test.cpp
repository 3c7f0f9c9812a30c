// The BGPConfiguration a node runs with: `default` for all, `node.<name>` overriding.
#include "agent/bgp_configuration.hpp"

#include <gtest/gtest.h>

namespace blockd::agent {
namespace {

ipam::BGPConfiguration configuration(std::string name) {
  ipam::BGPConfiguration c;
  c.name = std::move(name);
  return c;
}

TEST(BgpConfiguration, NoneGivesCalicosDefaultsButNoMesh) {
  const auto e = effective_bgp_configuration({}, "n1");
  EXPECT_EQ(e.as_number, 64512u);
  EXPECT_EQ(e.listen_port, 179);
  EXPECT_FALSE(e.node_to_node_mesh);  // blockd's default (README: BGP topology)
  EXPECT_FALSE(e.log_level);
}

TEST(BgpConfiguration, TheNodesOwnOverridesDefaultForPortAndLogLevel) {
  auto cluster = configuration("default");
  cluster.as_number = 63400;
  cluster.listen_port = 178;
  cluster.node_to_node_mesh_enabled = true;
  cluster.log_severity_screen = "Warning";
  auto own = configuration("node.n1");
  own.listen_port = 1179;
  own.log_severity_screen = "Debug";
  auto other = configuration("node.n2");
  other.listen_port = 2179;
  const auto n1 = effective_bgp_configuration({own, cluster, other}, "n1");
  EXPECT_EQ(n1, (EffectiveBgpConfiguration{63400, 1179, true, "debug"}));
  const auto n3 = effective_bgp_configuration({own, cluster, other}, "n3");
  EXPECT_EQ(n3, (EffectiveBgpConfiguration{63400, 178, true, "warn"}));
  cluster.node_to_node_mesh_enabled = false;
  EXPECT_FALSE(effective_bgp_configuration({cluster}, "n1").node_to_node_mesh);
}

TEST(BgpConfiguration, BindModeByNodeAndMeshRestartTimeFromDefault) {
  auto cluster = configuration("default");
  cluster.bind_mode = ipam::BindMode::NodeIP;
  cluster.node_mesh_max_restart_time = 300;
  auto own = configuration("node.n1");
  own.bind_mode = ipam::BindMode::None;
  const auto n1 = effective_bgp_configuration({cluster, own}, "n1");
  EXPECT_FALSE(n1.bind_node_ip);  // the node's own None wins
  EXPECT_EQ(n1.mesh_restart_time, 300);
  const auto n2 = effective_bgp_configuration({cluster, own}, "n2");
  EXPECT_TRUE(n2.bind_node_ip);
  EXPECT_FALSE(effective_bgp_configuration({}, "n1").mesh_restart_time);
}

TEST(BgpConfiguration, ANodesAsNumberWinsOverTheClusters) {
  EffectiveBgpConfiguration e;
  e.as_number = 63400;
  ipam::Node n;
  EXPECT_EQ(as_number_of(nullptr, e), 63400u);
  EXPECT_EQ(as_number_of(&n, e), 63400u);
  n.as_number = 65002;
  EXPECT_EQ(as_number_of(&n, e), 65002u);
}

TEST(BgpConfiguration, LogSeverityScreenAsSpdlogLevels) {
  for (auto [calico, spd] : {std::pair{"Debug", "debug"}, {"Info", "info"}, {"Warning", "warn"}, {"Error", "err"},
                             {"Fatal", "critical"}}) {
    EXPECT_EQ(spdlog_level_of(calico), spd) << calico;
  }
}

}  // namespace
}  // namespace blockd::agent
