#include "bgp/export_policy.hpp"

#include <algorithm>

namespace blockd::bgp {

std::optional<PathAttributes> export_attributes(const AdvertisedRoute& route, const ExportContext& context) {
  const bool v4 = route.prefix.is_v4();
  const AddressFamily family{static_cast<std::uint16_t>(v4 ? 1 : 2), kSafiUnicast};
  if (std::ranges::find(context.families, family) == context.families.end()) return std::nullopt;
  std::optional<Address> nh = route.next_hop;
  if (nh && nh->is_v4() != v4) return std::nullopt;
  if (!nh) nh = v4 ? context.self_v4 : context.self_v6;
  if (!nh) return std::nullopt;
  PathAttributes a;
  a.origin = Origin::Igp;
  a.as_path = context.ebgp ? AsPath{{SegmentType::Sequence, {context.local_as}}} : AsPath{};
  if (!context.ebgp) a.local_pref = 100;
  if (v4) a.next_hop = nh;
  else a.mp_next_hop = nh;
  a.communities = route.communities;
  std::ranges::sort(a.communities);
  a.communities.erase(std::unique(a.communities.begin(), a.communities.end()), a.communities.end());
  a.large_communities = route.large_communities;
  std::ranges::sort(a.large_communities);
  a.large_communities.erase(std::unique(a.large_communities.begin(), a.large_communities.end()),
                            a.large_communities.end());
  return a;
}

bool export_allowed(const AdvertisedRoute& route, const ExportContext& context) {
  return ipam::accepts(context.export_filter, route.prefix, false, route.interface);
}

}  // namespace blockd::bgp
