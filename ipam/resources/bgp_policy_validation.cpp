#include "ipam/resources/bgp_policy_validation.hpp"

#include <set>
#include <string>

#include "ipam/resources/bgp_communities.hpp"
#include "ipam/resources/validation.hpp"

namespace blockd::ipam {

Status validate_bgp_policy_config(const BGPConfiguration& c) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < c.communities.size(); ++i) {
    const auto& n = c.communities[i];
    const std::string at = "spec.communities[" + std::to_string(i) + "]";
    if (!valid_resource_name(n.name)) return invalid(at + ".name: \"" + n.name + "\" is not a valid name");
    if (!names.insert(n.name).second) return invalid(at + ".name: \"" + n.name + "\" is defined twice");
    CommunitySet ignored;
    if (n.value.empty()) return invalid(at + ".value: required (aa:nn or aa:nn:mm)");
    if (auto s = parse_community(n.value, ignored); !s) return s.error().within(at + ".value");
  }
  if (auto r = resolve_prefix_advertisements(c); !r) return r.error();
  return {};
}

Status validate_filter_rules(const BGPFilter& f) {
  for (auto [key, rules] : {std::pair{"exportV4", &f.export_rules.v4}, std::pair{"exportV6", &f.export_rules.v6},
                            std::pair{"importV4", &f.import_rules.v4}, std::pair{"importV6", &f.import_rules.v6}}) {
    for (std::size_t i = 0; i < rules->size(); ++i) {
      const FilterRule& r = (*rules)[i];
      const std::string at = std::string("spec.") + key + "[" + std::to_string(i) + "].prefixLength";
      if (!r.min_length && !r.max_length) continue;
      if (!r.cidr || (r.match_operator != MatchOperator::In && r.match_operator != MatchOperator::NotIn)) {
        return invalid(at + ": only with a cidr and matchOperator In or NotIn");
      }
      const unsigned family_max = r.cidr->is_v4() ? 32 : 128;
      const unsigned lo = r.min_length.value_or(r.cidr->length());
      const unsigned hi = r.max_length.value_or(family_max);
      if (lo < r.cidr->length() || hi > family_max || lo > hi) {
        return invalid(at + ": min " + std::to_string(lo) + ", max " + std::to_string(hi) + " must satisfy " +
                       std::to_string(r.cidr->length()) + " (the cidr's length) <= min <= max <= " +
                       std::to_string(family_max));
      }
    }
  }
  return {};
}

}  // namespace blockd::ipam
