// The BGPConfiguration this node runs with (Calico semantics): `default` applies to every node,
// `node.<name>` overrides it for one node (listenPort, logSeverityScreen, bindMode); asNumber,
// nodeToNodeMeshEnabled, nodeMeshMaxRestartTime, communities, prefixAdvertisements and the
// service CIDRs are cluster-wide and read from `default` only. Pure.
//
// The one place the agent reads BGPConfiguration resources (agent/bgp_policy.hpp applies the
// policy part of what this returns to the route plan).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ipam/resources/bgp_communities.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::agent {

// Calico's default AS number for a node that names none, when no BGPConfiguration does either.
inline constexpr std::uint32_t kDefaultAsNumber = 64512;

struct EffectiveBgpConfiguration {
  std::uint32_t as_number = kDefaultAsNumber;  // a node's AS when its Node has none
  std::uint16_t listen_port = 179;
  // blockd's default is off, unlike Calico's (README, "Node-to-node mesh"): blockd's racks peer
  // with their ToRs, and an implicit full iBGP mesh would add n-1 sessions per node to them.
  bool node_to_node_mesh = false;
  std::optional<std::string> log_level;  // spdlog's name of logSeverityScreen, when one is set
  bool bind_node_ip = false;  // bindMode NodeIP: the listener binds to the node's address
  std::optional<std::uint16_t> mesh_restart_time{};  // nodeMeshMaxRestartTime: graceful restart to mesh peers
  // The policy part (Calico's `default` only): the service CIDRs every node advertises
  // (serviceClusterIPs, serviceExternalIPs, serviceLoadBalancerIPs, in that order) and the
  // prefixAdvertisements with their communities resolved. `policy_error`: why the communities
  // could not be resolved (blockctl refuses such a configuration, so only a hand-written store
  // holds one); `tagged` is then empty.
  std::vector<ipam::Prefix> service_cidrs{};
  std::vector<ipam::TaggedPrefix> tagged{};
  std::string policy_error{};

  friend bool operator==(const EffectiveBgpConfiguration&, const EffectiveBgpConfiguration&) = default;
};

EffectiveBgpConfiguration effective_bgp_configuration(const std::vector<ipam::BGPConfiguration>& configurations,
                                                      const std::string& node);

// A node's AS number: its Node's spec.bgp.asNumber, else the cluster's (Calico).
std::uint32_t as_number_of(const ipam::Node* node, const EffectiveBgpConfiguration& configuration);

// Calico's logSeverityScreen (Debug, Info, Warning, Error, Fatal) as an spdlog level name.
std::string spdlog_level_of(const std::string& log_severity_screen);

}  // namespace blockd::agent
