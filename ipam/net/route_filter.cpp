#include "ipam/net/route_filter.hpp"

namespace blockd::ipam {

const char* action_name(FilterAction a) { return a == FilterAction::Accept ? "Accept" : "Reject"; }

const char* match_operator_name(MatchOperator m) {
  switch (m) {
    case MatchOperator::Equal: return "Equal";
    case MatchOperator::NotEqual: return "NotEqual";
    case MatchOperator::In: return "In";
    case MatchOperator::NotIn: return "NotIn";
  }
  return "In";
}

std::optional<MatchOperator> parse_match_operator(std::string_view word) {
  for (auto m : {MatchOperator::Equal, MatchOperator::NotEqual, MatchOperator::In, MatchOperator::NotIn}) {
    if (word == match_operator_name(m)) return m;
  }
  return std::nullopt;
}

std::optional<FilterAction> parse_filter_action(std::string_view word) {
  if (word == "Accept") return FilterAction::Accept;
  if (word == "Reject") return FilterAction::Reject;
  return std::nullopt;
}

bool interface_matches(std::string_view pattern, std::string_view name) {
  // Iterative glob with one backtrack point: linear in practice, no recursion on hostile input.
  std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool rule_matches(const FilterRule& rule, const Prefix& prefix, bool from_peer, std::string_view interface) {
  if (rule.from_remote_peers && !from_peer) return false;
  if (!rule.interface_pattern.empty() && (interface.empty() || !interface_matches(rule.interface_pattern, interface))) {
    return false;
  }
  if (!rule.cidr) return true;
  const Prefix& cidr = *rule.cidr;
  if (cidr.is_v4() != prefix.is_v4()) return false;
  switch (rule.match_operator) {
    case MatchOperator::Equal: return prefix == cidr;
    case MatchOperator::NotEqual: return prefix != cidr;
    case MatchOperator::In:
    case MatchOperator::NotIn: {
      const unsigned lo = rule.min_length.value_or(cidr.length());
      const unsigned hi = rule.max_length.value_or(prefix.is_v4() ? 32U : 128U);
      const bool in = cidr.contains(prefix) && prefix.length() >= lo && prefix.length() <= hi;
      return rule.match_operator == MatchOperator::In ? in : !in;
    }
  }
  return false;
}

FilterAction filter_route(const std::vector<FilterRule>& rules, const Prefix& prefix, bool from_peer,
                          std::string_view interface) {
  for (const auto& r : rules) {
    if (rule_matches(r, prefix, from_peer, interface)) return r.action;
  }
  return FilterAction::Accept;
}

bool accepts(const FilterRules& rules, const Prefix& prefix, bool from_peer, std::string_view interface) {
  return filter_route(prefix.is_v4() ? rules.v4 : rules.v6, prefix, from_peer, interface) == FilterAction::Accept;
}

bool uses_interfaces(const FilterRules& rules) {
  for (const auto* list : {&rules.v4, &rules.v6}) {
    for (const auto& r : *list) {
      if (!r.interface_pattern.empty()) return true;
    }
  }
  return false;
}

}  // namespace blockd::ipam
