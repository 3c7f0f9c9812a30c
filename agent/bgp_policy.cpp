#include "agent/bgp_policy.hpp"

#include <algorithm>

namespace blockd::agent {

const ipam::BGPConfiguration* default_bgp_configuration(const ClusterView& view) {
  for (const auto& c : view.bgp_configurations) {
    if (c.name == "default") return &c;
  }
  return nullptr;
}

void apply_bgp_policy(RoutePlan& plan, const ipam::BGPConfiguration* config) {
  if (config == nullptr) return;
  auto tagged = ipam::resolve_prefix_advertisements(*config);
  if (!tagged) {
    plan.notes.push_back("BGPConfiguration default: " + tagged.error().message + ": its communities are not applied");
    tagged = std::vector<ipam::TaggedPrefix>{};
  }
  bool added = false;
  for (const auto* list : {&config->service_cluster_ips, &config->service_external_ips,
                           &config->service_load_balancer_ips}) {
    for (const auto& cidr : *list) {
      const bool known = std::any_of(plan.advertise.begin(), plan.advertise.end(),
                                     [&](const Advertisement& a) { return a.prefix == cidr; });
      if (known) continue;
      plan.advertise.push_back({cidr, Advertisement::Kind::Service});
      added = true;
    }
  }
  if (added) {
    std::sort(plan.advertise.begin(), plan.advertise.end(),
              [](const Advertisement& a, const Advertisement& b) { return a.prefix < b.prefix; });
  }
  if (tagged->empty()) return;
  for (auto& a : plan.advertise) a.communities = ipam::communities_for(*tagged, a.prefix);
}

}  // namespace blockd::agent
