// Calico's BGPFilter rules, evaluated (pure): a route goes through a peer's filters' rules of its
// direction and family in order, and the first rule that matches decides; a route no rule
// matches is accepted (Calico's BGPFilter reference: "If an address does not match any explicit
// BGP filter rule, the default action is Accept"). Here, not in bgp/, because the BGPFilter
// resource (ipam/resources) and the speaker's export (bgp/outbound_rib.cpp) both hold rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipam/net/prefix.hpp"

namespace blockd::ipam {

enum class FilterAction { Accept, Reject };
// Calico's matchOperator: Equal / NotEqual compare the prefix with the rule's cidr; In / NotIn
// ask whether it lies inside the cidr (BIRD's `net ~ cidr`), within prefixLength when given.
enum class MatchOperator { Equal, NotEqual, In, NotIn };

struct FilterRule {
  FilterAction action = FilterAction::Accept;
  std::optional<Prefix> cidr;  // with match_operator; none: any prefix
  MatchOperator match_operator = MatchOperator::In;
  // prefixLength {min, max}, for In / NotIn: the prefix's length must lie in [min, max]
  // (defaults: the cidr's length and the family's maximum).
  std::optional<unsigned> min_length;
  std::optional<unsigned> max_length;
  // source: RemotePeers: only routes learned from BGP peers. blockd advertises only what it
  // originates, so on export such a rule matches nothing; on import it matches every route.
  bool from_remote_peers = false;
  // interface: a pattern (BIRD's `ifname ~ "..."`: `*` any run of characters, `?` one) on the
  // interface the route goes out of. Calico guards it with `defined(ifname)`, so a route with no
  // interface (a blackholed block, a service CIDR) matches no such rule. Empty: any route.
  std::string interface_pattern;
  friend bool operator==(const FilterRule&, const FilterRule&) = default;
};

// The rules of one direction, per family, as the BGPFilters attached to a peer give them
// (filters in the peer's order, each one's rules in order).
struct FilterRules {
  std::vector<FilterRule> v4;
  std::vector<FilterRule> v6;
  bool empty() const { return v4.empty() && v6.empty(); }
  friend bool operator==(const FilterRules&, const FilterRules&) = default;
};

const char* action_name(FilterAction a);
const char* match_operator_name(MatchOperator m);
std::optional<MatchOperator> parse_match_operator(std::string_view word);
std::optional<FilterAction> parse_filter_action(std::string_view word);

// BIRD's pattern match (filter `~` on strings): `*` matches any run of characters, `?` one.
bool interface_matches(std::string_view pattern, std::string_view name);

// Does `rule` match `prefix` (a route learned from a peer when `from_peer`, going out of
// `interface`, empty when it has none)?
bool rule_matches(const FilterRule& rule, const Prefix& prefix, bool from_peer, std::string_view interface = {});
// The first matching rule's action, Accept when none matches.
FilterAction filter_route(const std::vector<FilterRule>& rules, const Prefix& prefix, bool from_peer,
                          std::string_view interface = {});
// The same over the rules of the prefix's family.
bool accepts(const FilterRules& rules, const Prefix& prefix, bool from_peer, std::string_view interface = {});
// Whether any rule looks at interfaces (then the caller has to find each route's interface).
bool uses_interfaces(const FilterRules& rules);

}  // namespace blockd::ipam
