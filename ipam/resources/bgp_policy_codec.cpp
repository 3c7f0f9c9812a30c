#include "ipam/resources/bgp_policy_codec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>
#include <initializer_list>

#include "ipam/resources/json_fields.hpp"

namespace blockd::ipam {
namespace {

using nlohmann::json;
using namespace json_fields;

std::string at(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

Result<Prefix> read_cidr(const json& obj, const std::string& path) {
  std::string text;
  if (auto s = read_string(obj, "cidr", path, text); !s) return s.error();
  const std::string field_path = join_path(path, "cidr");
  if (text.empty()) return invalid(field_path + ": required (e.g. 10.96.0.0/12)");
  if (text.find('/') == std::string::npos) {
    return invalid(field_path + ": \"" + text + "\" is not a CIDR (expected address/length)");
  }
  auto p = Prefix::parse(text);
  if (!p) return p.error().within(field_path);
  return *p;
}

// serviceClusterIPs: [{cidr: 10.96.0.0/12}, ...] as Calico writes them.
Status read_service_cidrs(const json& spec, const char* key, std::vector<Prefix>& out) {
  auto list = list_field(spec, key, "spec");
  if (!list) return list.error();
  if (*list == nullptr) return {};
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const json& e = (**list)[i];
    const std::string path = at(join_path("spec", key), i);
    if (!e.is_object()) return wrong_type(path, "a mapping ({cidr: ...})", e);
    if (auto s = check_fields(e, path, {"cidr"}); !s) return s;
    auto p = read_cidr(e, path);
    if (!p) return p.error();
    out.push_back(*p);
  }
  return {};
}

Status read_string_list(const json& obj, const char* key, const std::string& path, std::vector<std::string>& out) {
  auto list = list_field(obj, key, path);
  if (!list) return list.error();
  if (*list == nullptr) return {};
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const json& e = (**list)[i];
    if (!e.is_string()) return wrong_type(at(join_path(path, key), i), "a string", e);
    out.push_back(e.get<std::string>());
  }
  return {};
}

json cidr_list(const std::vector<Prefix>& prefixes) {
  json out = json::array();
  for (const auto& p : prefixes) out.push_back({{"cidr", p.str()}});
  return out;
}

// One rule of exportV4 etc.: {action, matchOperator, cidr, prefixLength: {min, max}, source, interface}.
Result<FilterRule> read_rule(const json& r, const std::string& path) {
  if (!r.is_object()) return wrong_type(path, "a mapping (a rule)", r);
  if (auto s = check_fields(r, path, {"action", "matchOperator", "cidr", "prefixLength", "source", "interface"}); !s) {
    return s.error();
  }
  FilterRule rule;
  std::string action, op, source;
  if (auto s = read_string(r, "action", path, action); !s) return s.error();
  if (action.empty()) return invalid(join_path(path, "action") + ": required (Accept or Reject)");
  auto a = parse_filter_action(action);
  if (!a) return invalid(join_path(path, "action") + ": \"" + action + "\" is not one of Accept, Reject");
  rule.action = *a;
  if (auto s = read_string(r, "matchOperator", path, op); !s) return s.error();
  if (field(r, "cidr") != nullptr) {
    auto p = read_cidr(r, path);
    if (!p) return p.error();
    rule.cidr = *p;
  }
  // Calico's validation: cidr and matchOperator come together.
  if (rule.cidr.has_value() != !op.empty()) {
    return invalid(path + ": cidr and matchOperator must be given together");
  }
  if (!op.empty()) {
    auto m = parse_match_operator(op);
    if (!m) return invalid(join_path(path, "matchOperator") + ": \"" + op + "\" is not one of Equal, NotEqual, In, NotIn");
    rule.match_operator = *m;
  }
  auto length = object_field(r, "prefixLength", path);
  if (!length) return length.error();
  if (*length != nullptr) {
    const std::string lpath = join_path(path, "prefixLength");
    if (auto s = check_fields(**length, lpath, {"min", "max"}); !s) return s.error();
    auto lo = read_uint(**length, "min", lpath, 0, 128);
    if (!lo) return lo.error();
    auto hi = read_uint(**length, "max", lpath, 0, 128);
    if (!hi) return hi.error();
    if (*lo) rule.min_length = static_cast<unsigned>(**lo);
    if (*hi) rule.max_length = static_cast<unsigned>(**hi);
  }
  if (auto s = read_string(r, "source", path, source); !s) return s.error();
  if (!source.empty() && source != "RemotePeers") {
    return invalid(join_path(path, "source") + ": \"" + source + "\" is not RemotePeers (the one source Calico has)");
  }
  rule.from_remote_peers = !source.empty();
  if (auto s = read_string(r, "interface", path, rule.interface_pattern); !s) return s.error();
  if (field(r, "interface") != nullptr) {
    // An interface name (IFNAMSIZ: 15 characters) with BIRD's wildcards `*` and `?`.
    const std::string& pat = rule.interface_pattern;
    const bool ok = !pat.empty() && pat.size() <= 64 && std::all_of(pat.begin(), pat.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("._-*?:@+").find(ch) != std::string_view::npos;
    });
    if (!ok) {
      return invalid(join_path(path, "interface") + ": \"" + pat.substr(0, 64) +
                     "\" is not an interface name or pattern (letters, digits, . _ - : @ +, wildcards * and ?; at most 64)");
    }
  }
  return rule;
}

// A graceful-restart time (maxRestartTime, nodeMeshMaxRestartTime): a duration such as "120s".
Status read_restart_time(const json& spec, const char* key, std::optional<std::uint32_t>& out) {
  const json* t = field(spec, key);
  if (t == nullptr) return {};
  const std::string path = join_path("spec", key);
  if (!t->is_string()) return wrong_type(path, "a duration such as \"120s\"", *t);
  auto seconds = parse_duration_seconds(t->get<std::string>());
  if (!seconds) return seconds.error().within(path);
  // RFC 4724 §3: the Restart Time field has 12 bits.
  if (*seconds > 4095) {
    return invalid(path + ": " + std::to_string(*seconds) +
                   " s; graceful restart's Restart Time holds at most 4095 s (RFC 4724 §3)");
  }
  out = static_cast<std::uint32_t>(*seconds);
  return {};
}

json rule_json(const FilterRule& r) {
  json j = {{"action", action_name(r.action)}};
  if (r.cidr) {
    j["cidr"] = r.cidr->str();
    j["matchOperator"] = match_operator_name(r.match_operator);
  }
  if (r.min_length || r.max_length) {
    json l = json::object();
    if (r.min_length) l["min"] = *r.min_length;
    if (r.max_length) l["max"] = *r.max_length;
    j["prefixLength"] = l;
  }
  if (r.from_remote_peers) j["source"] = "RemotePeers";
  if (!r.interface_pattern.empty()) j["interface"] = r.interface_pattern;
  return j;
}

}  // namespace

Result<std::uint64_t> parse_duration_seconds(const std::string& text) {
  const std::string bad = "\"" + text + "\" is not a duration (e.g. 120s, 2m, 1h30m)";
  if (text.empty() || text.size() > 32) return invalid(bad);
  double total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i) return invalid(bad);
    double n = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + j, n);
    if (ec != std::errc{} || ptr != text.data() + j) return invalid(bad);
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string unit = text.substr(j, k - j);
    if (unit == "h") total += n * 3600;
    else if (unit == "m") total += n * 60;
    else if (unit == "s") total += n;
    else if (unit == "ms") total += n / 1000;
    else return invalid(bad + ": unit \"" + unit + "\" is not h, m, s or ms");
    i = k;
  }
  if (total > 1e9) return invalid(bad + ": too long");
  return static_cast<std::uint64_t>(total);
}

Status read_bgp_policy_config(const json& sp, BGPConfiguration& c) {
  auto named = list_field(sp, "communities", "spec");
  if (!named) return named.error();
  if (*named != nullptr) {
    for (std::size_t i = 0; i < (*named)->size(); ++i) {
      const json& e = (**named)[i];
      const std::string path = at("spec.communities", i);
      if (!e.is_object()) return wrong_type(path, "a mapping ({name, value})", e);
      if (auto s = check_fields(e, path, {"name", "value"}); !s) return s;
      NamedCommunity n;
      if (auto s = read_string(e, "name", path, n.name); !s) return s;
      if (auto s = read_string(e, "value", path, n.value); !s) return s;
      c.communities.push_back(std::move(n));
    }
  }
  auto adverts = list_field(sp, "prefixAdvertisements", "spec");
  if (!adverts) return adverts.error();
  if (*adverts != nullptr) {
    for (std::size_t i = 0; i < (*adverts)->size(); ++i) {
      const json& e = (**adverts)[i];
      const std::string path = at("spec.prefixAdvertisements", i);
      if (!e.is_object()) return wrong_type(path, "a mapping ({cidr, communities})", e);
      if (auto s = check_fields(e, path, {"cidr", "communities"}); !s) return s;
      auto p = read_cidr(e, path);
      if (!p) return p.error();
      PrefixAdvertisement pa{*p, {}};
      if (auto s = read_string_list(e, "communities", path, pa.communities); !s) return s;
      c.prefix_advertisements.push_back(std::move(pa));
    }
  }
  if (auto s = read_service_cidrs(sp, "serviceClusterIPs", c.service_cluster_ips); !s) return s;
  if (auto s = read_service_cidrs(sp, "serviceExternalIPs", c.service_external_ips); !s) return s;
  if (auto s = read_service_cidrs(sp, "serviceLoadBalancerIPs", c.service_load_balancer_ips); !s) return s;
  std::string bind;
  if (auto s = read_string(sp, "bindMode", "spec", bind); !s) return s;
  if (bind == "None") c.bind_mode = BindMode::None;
  else if (bind == "NodeIP") c.bind_mode = BindMode::NodeIP;
  else if (!bind.empty()) return invalid("spec.bindMode: \"" + bind.substr(0, 64) + "\" is neither None nor NodeIP");
  return read_restart_time(sp, "nodeMeshMaxRestartTime", c.node_mesh_max_restart_time);
}

void write_bgp_policy_config(const BGPConfiguration& c, json& spec) {
  if (!c.communities.empty()) {
    json list = json::array();
    for (const auto& n : c.communities) list.push_back({{"name", n.name}, {"value", n.value}});
    spec["communities"] = std::move(list);
  }
  if (!c.prefix_advertisements.empty()) {
    json list = json::array();
    for (const auto& pa : c.prefix_advertisements) list.push_back({{"cidr", pa.cidr.str()}, {"communities", pa.communities}});
    spec["prefixAdvertisements"] = std::move(list);
  }
  if (!c.service_cluster_ips.empty()) spec["serviceClusterIPs"] = cidr_list(c.service_cluster_ips);
  if (!c.service_external_ips.empty()) spec["serviceExternalIPs"] = cidr_list(c.service_external_ips);
  if (!c.service_load_balancer_ips.empty()) spec["serviceLoadBalancerIPs"] = cidr_list(c.service_load_balancer_ips);
  if (c.bind_mode) spec["bindMode"] = *c.bind_mode == BindMode::NodeIP ? "NodeIP" : "None";
  if (c.node_mesh_max_restart_time) spec["nodeMeshMaxRestartTime"] = std::to_string(*c.node_mesh_max_restart_time) + "s";
}

Status read_peer_options(const json& sp, BGPPeer& p) {
  auto ttl = read_uint(sp, "ttlSecurity", "spec", 0, 254, " (GTSM hops; 0 turns it off)");
  if (!ttl) return ttl.error();
  if (*ttl) p.ttl_security = static_cast<unsigned>(**ttl);
  if (auto s = read_bool(sp, "keepOriginalNextHop", "spec", p.keep_original_next_hop); !s) return s;
  if (auto s = read_restart_time(sp, "maxRestartTime", p.max_restart_time); !s) return s;
  auto allowed = read_uint(sp, "numAllowedLocalASNumbers", "spec", 0, 10);
  if (!allowed) return allowed.error();
  if (*allowed) p.num_allowed_local_as_numbers = static_cast<unsigned>(**allowed);
  std::string gateway;
  if (auto s = read_string(sp, "reachableBy", "spec", gateway); !s) return s;
  if (!gateway.empty()) {
    auto a = Address::parse(gateway);
    if (!a) return a.error().within("spec.reachableBy");
    p.reachable_by = *a;
  }
  return read_string_list(sp, "filters", "spec", p.filters);
}

void write_peer_options(const BGPPeer& p, json& spec) {
  if (p.ttl_security != 0) spec["ttlSecurity"] = p.ttl_security;
  if (p.keep_original_next_hop) spec["keepOriginalNextHop"] = true;
  if (p.max_restart_time) spec["maxRestartTime"] = std::to_string(*p.max_restart_time) + "s";
  if (p.num_allowed_local_as_numbers != 0) spec["numAllowedLocalASNumbers"] = p.num_allowed_local_as_numbers;
  if (!p.filters.empty()) spec["filters"] = p.filters;
  if (p.reachable_by) spec["reachableBy"] = p.reachable_by->str();
}

Result<BGPFilter> decode_bgp_filter(const json& doc, std::string name) {
  BGPFilter f;
  f.name = std::move(name);
  auto spec = read_spec(doc, {"exportV4", "exportV6", "importV4", "importV6"});
  if (!spec) return spec.error();
  if (*spec == nullptr) return f;
  const json& sp = **spec;
  for (auto [key, target, v4] : {std::tuple{"exportV4", &f.export_rules.v4, true},
                                 std::tuple{"exportV6", &f.export_rules.v6, false},
                                 std::tuple{"importV4", &f.import_rules.v4, true},
                                 std::tuple{"importV6", &f.import_rules.v6, false}}) {
    auto list = list_field(sp, key, "spec");
    if (!list) return list.error();
    if (*list == nullptr) continue;
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      const std::string path = at(join_path("spec", key), i);
      auto rule = read_rule((**list)[i], path);
      if (!rule) return rule.error();
      if (rule->cidr && rule->cidr->is_v4() != v4) {
        return invalid(join_path(path, "cidr") + ": " + rule->cidr->str() + " is not " + (v4 ? "IPv4" : "IPv6") +
                       " (the rule is in " + key + ")");
      }
      target->push_back(*rule);
    }
  }
  return f;
}

json bgp_filter_spec(const BGPFilter& f) {
  json spec = json::object();
  for (auto [key, rules] : {std::pair{"exportV4", &f.export_rules.v4}, std::pair{"exportV6", &f.export_rules.v6},
                            std::pair{"importV4", &f.import_rules.v4}, std::pair{"importV6", &f.import_rules.v6}}) {
    if (rules->empty()) continue;
    json list = json::array();
    for (const auto& r : *rules) list.push_back(rule_json(r));
    spec[key] = std::move(list);
  }
  return spec;
}

}  // namespace blockd::ipam
