#include "agent/bgp_configuration.hpp"

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
  }
  for (const auto* c : {cluster, own}) {  // the node's own wins
    if (!c) continue;
    if (c->listen_port) out.listen_port = *c->listen_port;
    if (!c->log_severity_screen.empty()) out.log_level = spdlog_level_of(c->log_severity_screen);
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
