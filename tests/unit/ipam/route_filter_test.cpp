// Calico's BGPFilter rule evaluation (ipam/net/route_filter.hpp), table-driven: each row a rule
// list, a route and the verdict Calico's generated BIRD filter gives it.
#include "ipam/net/route_filter.hpp"

#include <gtest/gtest.h>

namespace blockd::ipam {
namespace {

Prefix P(const char* s) { return *Prefix::parse(s); }

FilterRule rule(FilterAction action, const char* cidr = nullptr, MatchOperator op = MatchOperator::In,
                std::optional<unsigned> min = std::nullopt, std::optional<unsigned> max = std::nullopt,
                bool remote = false) {
  FilterRule r;
  r.action = action;
  if (cidr != nullptr) r.cidr = P(cidr);
  r.match_operator = op;
  r.min_length = min;
  r.max_length = max;
  r.from_remote_peers = remote;
  return r;
}

constexpr auto Accept = FilterAction::Accept;
constexpr auto Reject = FilterAction::Reject;

struct Row {
  const char* what;
  std::vector<FilterRule> rules;
  const char* prefix;
  bool from_peer;
  FilterAction want;
};

TEST(RouteFilter, FirstMatchingRuleDecidesAndNoMatchAccepts) {
  const std::vector<Row> rows = {
      {"no rules: accept", {}, "10.0.0.0/26", false, Accept},
      {"Equal matches the exact prefix", {rule(Reject, "10.0.0.0/26", MatchOperator::Equal)}, "10.0.0.0/26", false, Reject},
      {"Equal: a longer prefix inside does not match", {rule(Reject, "10.0.0.0/24", MatchOperator::Equal)},
       "10.0.0.0/26", false, Accept},
      {"NotEqual matches every other prefix", {rule(Reject, "10.0.0.0/24", MatchOperator::NotEqual)}, "10.0.0.0/26",
       false, Reject},
      {"NotEqual: the prefix itself is not matched", {rule(Reject, "10.0.0.0/24", MatchOperator::NotEqual)},
       "10.0.0.0/24", false, Accept},
      {"In: a prefix inside", {rule(Reject, "10.0.0.0/16")}, "10.0.3.64/26", false, Reject},
      {"In: the cidr itself", {rule(Reject, "10.0.0.0/16")}, "10.0.0.0/16", false, Reject},
      {"In: a shorter prefix is not inside", {rule(Reject, "10.0.0.0/16")}, "10.0.0.0/8", false, Accept},
      {"In: outside", {rule(Reject, "10.0.0.0/16")}, "10.1.0.0/26", false, Accept},
      {"NotIn: outside matches", {rule(Reject, "10.0.0.0/16", MatchOperator::NotIn)}, "10.1.0.0/26", false, Reject},
      {"NotIn: inside does not", {rule(Reject, "10.0.0.0/16", MatchOperator::NotIn)}, "10.0.1.0/26", false, Accept},
      {"In with prefixLength min: too short", {rule(Reject, "10.0.0.0/16", MatchOperator::In, 30)}, "10.0.0.0/26",
       false, Accept},
      {"In with prefixLength min: long enough", {rule(Reject, "10.0.0.0/16", MatchOperator::In, 30)}, "10.0.0.4/32",
       false, Reject},
      {"In with prefixLength max", {rule(Reject, "10.0.0.0/16", MatchOperator::In, std::nullopt, 26)}, "10.0.0.7/32",
       false, Accept},
      {"NotIn with prefixLength: a /32 inside but longer than max matches",
       {rule(Reject, "10.0.0.0/16", MatchOperator::NotIn, std::nullopt, 26)}, "10.0.0.7/32", false, Reject},
      {"first match wins: accept before reject", {rule(Accept, "10.0.0.0/24"), rule(Reject)}, "10.0.0.64/26", false,
       Accept},
      {"first match wins: catch-all reject", {rule(Accept, "10.0.0.0/24"), rule(Reject)}, "10.9.0.0/26", false, Reject},
      {"source RemotePeers: not our own route",
       {rule(Reject, nullptr, MatchOperator::In, std::nullopt, std::nullopt, true)}, "10.0.0.0/26", false, Accept},
      {"source RemotePeers: a learned route",
       {rule(Reject, nullptr, MatchOperator::In, std::nullopt, std::nullopt, true)}, "10.0.0.0/26", true, Reject},
      {"a rule of the other family never matches", {rule(Reject, "fd00::/8", MatchOperator::NotIn)}, "10.0.0.0/26",
       false, Accept},
      {"IPv6 In", {rule(Reject, "fd00::/48")}, "fd00::40/122", false, Reject},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(filter_route(row.rules, P(row.prefix), row.from_peer), row.want) << row.what;
  }
}

// BIRD's `ifname ~ "pattern"` behind Calico's `interface`: `*` any run, `?` one character.
TEST(RouteFilter, InterfacePatternsAsBirdMatchesThem) {
  const struct {
    const char* pattern;
    const char* name;
    bool want;
  } rows[] = {
      {"*.calico", "vxlan.calico", true}, {"*.calico", "vxlan.blockd", false}, {"*.calico", ".calico", true},
      {"veth*", "veth1a2b3c", true},      {"veth*", "eth0", false},            {"eth?", "eth0", true},
      {"eth?", "eth10", false},           {"*", "lo", true},                   {"eth0", "eth0", true},
      {"e*h*0", "eth-eth0", true},        {"**", "", true},                    {"a*b", "ab-ab-ac", false},
  };
  for (const auto& r : rows) EXPECT_EQ(interface_matches(r.pattern, r.name), r.want) << r.pattern << " ~ " << r.name;
}

// Calico guards the pattern with `defined(ifname)`: a route with no interface (an own block,
// blackholed; a service CIDR) matches no interface rule, whatever the pattern.
TEST(RouteFilter, AnInterfaceRuleMatchesOnlyRoutesOutOfAMatchingInterface) {
  FilterRule veth = rule(Reject);
  veth.interface_pattern = "veth*";
  FilterRule any = rule(Reject);
  any.interface_pattern = "*";
  EXPECT_EQ(filter_route({veth}, P("10.0.0.7/32"), false, "veth1234"), Reject);
  EXPECT_EQ(filter_route({veth}, P("10.0.0.7/32"), false, "eth0"), Accept);
  EXPECT_EQ(filter_route({any}, P("10.0.0.0/26"), false, ""), Accept);
  FilterRules rules;
  rules.v4 = {veth};
  EXPECT_TRUE(uses_interfaces(rules));
  EXPECT_FALSE(uses_interfaces(FilterRules{}));
}

TEST(RouteFilter, AcceptsPicksTheRulesOfThePrefixFamily) {
  FilterRules rules;
  rules.v4 = {rule(Reject)};
  EXPECT_FALSE(accepts(rules, P("10.0.0.0/26"), false));
  EXPECT_TRUE(accepts(rules, P("fd00::/122"), false));
}

TEST(RouteFilter, NamesRoundTrip) {
  for (auto m : {MatchOperator::Equal, MatchOperator::NotEqual, MatchOperator::In, MatchOperator::NotIn}) {
    EXPECT_EQ(parse_match_operator(match_operator_name(m)), m);
  }
  EXPECT_EQ(parse_match_operator("in"), std::nullopt);
  EXPECT_EQ(parse_filter_action("Reject"), Reject);
  EXPECT_EQ(parse_filter_action("Deny"), std::nullopt);
}

}  // namespace
}  // namespace blockd::ipam
