#include "agent/bgp_configuration.hpp"

#include <algorithm>

namespace blockd::agent {

EffectiveBgpConfiguration effective_bgp_configuration(const std::vector<ipam::BGPConfiguration>& configurations,
                                                      const std::string& node) {
  EffectiveBgpConfiguration out;
  const ipam::BGPConfiguration* cluster = nullptr;
  const ipam::BGPConfiguration* own = nullptr;
  for (const auto& c : configurations) {
    if (c.name == "default") cluster = &c;
    if (c.name == "node." + node) own = &c;
  }
  if (cluster) {
    if (cluster->as_number) out.as_number = *cluster->as_number;
    if (cluster->node_to_node_mesh_enabled) out.node_to_node_mesh = *cluster->node_to_node_mesh_enabled;
    if (cluster->node_mesh_max_restart_time) {
      out.mesh_restart_time = static_cast<std::uint16_t>(std::min<std::uint32_t>(*cluster->node_mesh_max_restart_time, 4095));
    }
    for (const auto* list : {&cluster->service_cluster_ips, &cluster->service_external_ips,
                             &cluster->service_load_balancer_ips}) {
      out.service_cidrs.insert(out.service_cidrs.end(), list->begin(), list->end());
    }
    if (auto tagged = ipam::resolve_prefix_advertisements(*cluster)) {
      out.tagged = std::move(*tagged);
    } else {
      out.policy_error = "BGPConfiguration default: " + tagged.error().message + ": its communities are not applied";
    }
  }
  for (const auto* c : {cluster, own}) {  // the node's own wins
    if (!c) continue;
    if (c->listen_port) out.listen_port = *c->listen_port;
    if (!c->log_severity_screen.empty()) out.log_level = spdlog_level_of(c->log_severity_screen);
    if (c->bind_mode) out.bind_node_ip = *c->bind_mode == ipam::BindMode::NodeIP;
  }
  return out;
}

std::uint32_t as_number_of(const ipam::Node* node, const EffectiveBgpConfiguration& configuration) {
  return node && node->as_number ? *node->as_number : configuration.as_number;
}

std::string spdlog_level_of(const std::string& severity) {
  if (severity == "Debug") return "debug";
  if (severity == "Warning") return "warn";
  if (severity == "Error") return "err";
  if (severity == "Fatal") return "critical";
  return "info";
}

}  // namespace blockd::agent
