#include "agent/route_interfaces.hpp"

namespace blockd::agent {

std::string device_toward(const ipam::Prefix& dst, const std::vector<netlink::Route>& routes) {
  const netlink::Route* best = nullptr;
  for (const auto& r : routes) {
    if (r.table != netlink::kMainTable || r.is_blackhole() || r.gateway || r.is_multipath() || r.device.empty()) continue;
    if (r.destination.family() != dst.family() || !r.destination.contains(dst)) continue;
    if (!best || r.destination.length() > best->destination.length()) best = &r;
  }
  return best ? best->device : std::string{};
}

void name_interfaces(RoutePlan& plan, const std::vector<netlink::Route>& routes) {
  for (auto& a : plan.advertise) {
    if (a.kind == Advertisement::Kind::Borrowed) a.interface = device_toward(a.prefix, routes);
  }
}

}  // namespace blockd::agent
