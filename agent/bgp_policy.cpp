#include "agent/bgp_policy.hpp"

#include <algorithm>

namespace blockd::agent {

void apply_bgp_policy(RoutePlan& plan, const EffectiveBgpConfiguration& config) {
  if (!config.policy_error.empty()) plan.notes.push_back(config.policy_error);
  bool added = false;
  for (const auto& cidr : config.service_cidrs) {
    const bool known = std::any_of(plan.advertise.begin(), plan.advertise.end(),
                                   [&](const Advertisement& a) { return a.prefix == cidr; });
    if (known) continue;
    plan.advertise.push_back({cidr, Advertisement::Kind::Service});
    added = true;
  }
  if (added) {
    std::sort(plan.advertise.begin(), plan.advertise.end(),
              [](const Advertisement& a, const Advertisement& b) { return a.prefix < b.prefix; });
  }
  if (config.tagged.empty()) return;
  for (auto& a : plan.advertise) a.communities = ipam::communities_for(config.tagged, a.prefix);
}

}  // namespace blockd::agent
