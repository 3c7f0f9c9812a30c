#include "netlink/nat_ruleset.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace blockd::netlink {
namespace {

using nlohmann::json;

constexpr Family kFamilies[] = {Family::V4, Family::V6};

const char* addr_type(Family f) { return f == Family::V4 ? "ipv4_addr" : "ipv6_addr"; }
const char* payload_protocol(Family f) { return f == Family::V4 ? "ip" : "ip6"; }

// inet's "srcnat" priority (nft(8), PRIORITY): 100.
constexpr std::int64_t kSrcnatPriority = 100;

std::vector<std::string> expected_sets() {
  std::vector<std::string> out;
  for (Family f : kFamilies) {
    out.emplace_back(all_pools_set(f));
    out.emplace_back(nat_pools_set(f));
  }
  return out;
}

Family set_family(const std::string& name) {
  return name.ends_with("_v4") ? Family::V4 : Family::V6;
}

std::string joined(const std::vector<SetElement>& elements) {
  std::string out;
  for (const auto& e : elements) {
    if (!out.empty()) out += ", ";
    out += e.text;
  }
  return out;
}

std::string strings_of(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

Result<Address> address_of(const json& j) {
  if (!j.is_string()) return invalid("not an address: " + j.dump());
  return Address::parse(j.get<std::string>());
}

// One element of a listed interval set: "10.0.0.1", {"prefix": {...}}, {"range": [a, b]}.
Result<SetElement> element_of(const json& j) {
  if (j.is_string()) {
    auto a = address_of(j);
    if (!a) return a.error();
    return SetElement{*a, *a, a->str()};
  }
  if (j.is_object() && j.size() == 1 && j.contains("prefix")) {
    const json& p = j["prefix"];
    if (!p.is_object() || !p.contains("addr") || !p.contains("len") || !p["len"].is_number_unsigned())
      return invalid("not a prefix: " + j.dump());
    auto a = address_of(p["addr"]);
    if (!a) return a.error();
    const unsigned len = p["len"].get<unsigned>();
    if (len > a->bits()) return invalid("not a prefix: " + j.dump());
    SetElement e = SetElement::of(Prefix::make(*a, len));
    e.text = a->str() + "/" + std::to_string(len);  // as listed, so a delete names it exactly
    return e;
  }
  if (j.is_object() && j.size() == 1 && j.contains("range")) {
    const json& r = j["range"];
    if (!r.is_array() || r.size() != 2) return invalid("not a range: " + j.dump());
    auto a = address_of(r[0]);
    auto b = address_of(r[1]);
    if (!a) return a.error();
    if (!b) return b.error();
    return SetElement{*a, *b, a->str() + "-" + b->str()};
  }
  return invalid("element in an unknown form: " + j.dump());
}

ListedSet set_of(const json& s) {
  static const std::set<std::string> known = {"family", "name", "table", "type", "handle", "flags", "elem"};
  ListedSet out;
  out.name = s.value("name", "");
  if (s.contains("type")) out.type = strings_of(s["type"]);
  if (s.contains("flags")) {
    if (s["flags"].is_array())
      for (const auto& f : s["flags"]) out.flags.push_back(strings_of(f));
    else
      out.flags.push_back(strings_of(s["flags"]));
  }
  for (const auto& [key, value] : s.items())
    if (!known.contains(key)) out.oddities.push_back(key + " " + value.dump());
  if (s.contains("elem")) {
    if (!s["elem"].is_array()) {
      out.oddities.push_back("elem " + s["elem"].dump());
    } else {
      for (const auto& e : s["elem"]) {
        auto element = element_of(e);
        if (element) out.elements.push_back(*element);
        else out.oddities.push_back(element.error().message);
      }
    }
  }
  return out;
}

ListedChain chain_of(const json& c) {
  ListedChain out;
  out.name = c.value("name", "");
  if (c.contains("type")) out.type = strings_of(c["type"]);
  if (c.contains("hook")) out.hook = strings_of(c["hook"]);
  if (c.contains("policy")) out.policy = strings_of(c["policy"]);
  if (c.contains("prio") && c["prio"].is_number_integer()) out.priority = c["prio"].get<std::int64_t>();
  return out;
}

ListedRule rule_of(const json& r) {
  ListedRule out;
  out.chain = r.value("chain", "");
  if (r.contains("handle") && r["handle"].is_number_unsigned()) out.handle = r["handle"].get<std::uint64_t>();
  out.expr = r.contains("expr") ? r["expr"].dump() : "[]";
  // A comment (or anything else) on the rule makes it someone else's edit.
  static const std::set<std::string> known = {"family", "table", "chain", "handle", "expr"};
  for (const auto& [key, value] : r.items())
    if (!known.contains(key)) out.expr += " " + key + " " + value.dump();
  return out;
}

Result<json> nftables_array(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid("nft output is not JSON");
  if (!doc.is_object() || !doc.contains("nftables") || !doc["nftables"].is_array())
    return invalid("nft output has no \"nftables\" array");
  return doc["nftables"];
}

bool overlaps(const SetElement& a, const SetElement& b) {
  return a.first.family() == b.first.family() && !(a.last < b.first) && !(b.last < a.first);
}

std::string set_declaration(const std::string& table, const std::string& name,
                            const std::vector<SetElement>& elements) {
  std::string out = "add set inet " + table + " " + name + " { type " +
                    addr_type(set_family(name)) + "; flags interval; ";
  if (!elements.empty()) out += "elements = { " + joined(elements) + " }; ";
  return out + "}\n";
}

std::string rule_statement(const std::string& table, Family f) {
  const std::string p = payload_protocol(f);
  return "add rule inet " + table + " " + kNatChain + " " + p + " saddr @" + nat_pools_set(f) +
         " " + p + " daddr != @" + all_pools_set(f) + " masquerade\n";
}

}  // namespace

const char* all_pools_set(Family f) { return f == Family::V4 ? "all_pools_v4" : "all_pools_v6"; }
const char* nat_pools_set(Family f) { return f == Family::V4 ? "nat_pools_v4" : "nat_pools_v6"; }

SetElement SetElement::of(const Prefix& p) {
  return {p.first(), p.last(), p.is_host() ? p.address().str() : p.str()};
}

std::vector<SetElement> set_elements(const std::vector<Prefix>& prefixes, Family family) {
  std::vector<Prefix> sorted;
  for (const auto& p : prefixes)
    if (p.family() == family) sorted.push_back(p);
  // Shorter first among equal addresses, so a nested prefix follows the one covering it.
  std::sort(sorted.begin(), sorted.end(), [](const Prefix& a, const Prefix& b) {
    if (a.address() != b.address()) return a.address() < b.address();
    return a.length() < b.length();
  });
  std::vector<SetElement> out;
  const Prefix* outer = nullptr;
  for (const auto& p : sorted) {
    if (outer && outer->contains(p)) continue;  // prefixes either nest or are disjoint
    outer = &p;
    out.push_back(SetElement::of(p));
  }
  return out;
}

Result<NatListing> parse_nat_listing(std::string_view text, const std::string& table) {
  auto items = nftables_array(text);
  if (!items) return items.error();
  NatListing out;
  bool found = false;
  for (const auto& item : *items) {
    if (!item.is_object() || item.size() != 1) return invalid("nft output item is not an object of one kind: " + item.dump());
    const auto first = item.begin();
    const std::string kind = first.key();
    const json& body = first.value();
    if (kind == "metainfo") continue;
    if (!body.is_object()) return invalid("nft output " + kind + " is not an object");
    if (body.value("family", "") != "inet") continue;
    if (kind == "table") {
      if (body.value("name", "") != table) continue;
      found = true;
      if (body.contains("flags")) {
        if (body["flags"].is_array())
          for (const auto& f : body["flags"]) out.table_flags.push_back(strings_of(f));
        else
          out.table_flags.push_back(strings_of(body["flags"]));
      }
      continue;
    }
    if (body.value("table", "") != table) continue;
    if (kind == "set") out.sets.push_back(set_of(body));
    else if (kind == "chain") out.chains.push_back(chain_of(body));
    else if (kind == "rule") out.rules.push_back(rule_of(body));
    else out.other_objects.push_back(kind + " " + body.value("name", "?"));
  }
  if (!found) return not_found("table inet " + table + " is not in the listing");
  return out;
}

Result<std::vector<std::string>> parse_inet_tables(std::string_view text) {
  auto items = nftables_array(text);
  if (!items) return items.error();
  std::vector<std::string> out;
  for (const auto& item : *items) {
    if (!item.is_object() || !item.contains("table")) continue;
    const json& t = item["table"];
    if (t.is_object() && t.value("family", "") == "inet") out.push_back(t.value("name", ""));
  }
  return out;
}

std::string masquerade_rule_expr(Family f) {
  const auto match = [&](const char* op, const char* field, const std::string& set) {
    return json{{"match",
                 {{"op", op},
                  {"left", {{"payload", {{"protocol", payload_protocol(f)}, {"field", field}}}}},
                  {"right", "@" + set}}}};
  };
  json expr = json::array({match("==", "saddr", nat_pools_set(f)),
                           match("!=", "daddr", all_pools_set(f)), json{{"masquerade", nullptr}}});
  return expr.dump();
}

std::size_t NatPlan::elements_added() const {
  std::size_t n = 0;
  for (const auto& s : sets) n += s.add.size();
  return n;
}

std::size_t NatPlan::elements_removed() const {
  std::size_t n = 0;
  for (const auto& s : sets) n += s.remove.size();
  return n;
}

const char* kind_name(NatPlan::Kind k) {
  switch (k) {
    case NatPlan::Kind::Unchanged: return "unchanged";
    case NatPlan::Kind::Create: return "create";
    case NatPlan::Kind::Rebuild: return "rebuild";
    case NatPlan::Kind::Update: return "update";
  }
  return "?";
}

namespace {

// The table's shape (flags, sets, chain): anything wrong here is repaired by recreating it.
std::vector<std::string> shape_defects(const NatListing& listed) {
  std::vector<std::string> shape;
  for (const auto& f : listed.table_flags) shape.push_back("table has flag " + f);
  for (const auto& o : listed.other_objects) shape.push_back("unexpected " + o);
  const auto wanted_sets = expected_sets();
  for (const auto& name : wanted_sets) {
    auto it = std::find_if(listed.sets.begin(), listed.sets.end(),
                           [&](const ListedSet& s) { return s.name == name; });
    if (it == listed.sets.end()) {
      shape.push_back("set " + name + " missing");
      continue;
    }
    const std::string type = addr_type(set_family(name));
    if (it->type != type) shape.push_back("set " + name + " has type " + it->type + ", want " + type);
    if (it->flags != std::vector<std::string>{"interval"})
      shape.push_back("set " + name + " has flags other than interval");
    for (const auto& o : it->oddities) shape.push_back("set " + name + ": " + o);
  }
  for (const auto& s : listed.sets)
    if (std::find(wanted_sets.begin(), wanted_sets.end(), s.name) == wanted_sets.end())
      shape.push_back("unexpected set " + s.name);
  bool chain_found = false;
  for (const auto& c : listed.chains) {
    if (c.name != kNatChain) {
      shape.push_back("unexpected chain " + c.name);
      continue;
    }
    chain_found = true;
    if (c.type != "nat" || c.hook != "postrouting" || c.priority != kSrcnatPriority || c.policy != "accept")
      shape.push_back(std::string("chain ") + kNatChain + " is not type nat hook postrouting priority srcnat policy accept");
  }
  if (!chain_found) shape.push_back(std::string("chain ") + kNatChain + " missing");
  return shape;
}

// The element changes that bring the listed sets to `whole`, compared as address ranges. An
// update nft would refuse (see below) is a shape defect: the table is rebuilt instead.
std::vector<SetUpdate> element_updates(const std::vector<SetUpdate>& whole, const NatListing& listed,
                                       std::vector<std::string>& shape) {
  std::vector<SetUpdate> updates;
  for (const auto& want : whole) {
    auto it = std::find_if(listed.sets.begin(), listed.sets.end(),
                           [&](const ListedSet& s) { return s.name == want.set; });
    const std::vector<SetElement> none;
    const auto& have = it == listed.sets.end() ? none : it->elements;
    const auto same = [](const SetElement& a, const SetElement& b) {
      return a.first == b.first && a.last == b.last;
    };
    SetUpdate u{want.set, {}, {}};
    for (const auto& e : want.add)
      if (std::none_of(have.begin(), have.end(), [&](const SetElement& h) { return same(h, e); }))
        u.add.push_back(e);
    for (const auto& h : have)
      if (std::none_of(want.add.begin(), want.add.end(), [&](const SetElement& e) { return same(h, e); }))
        u.remove.push_back(h);
    // nft 1.0.6 checks a new interval against the set as it was before the transaction, so
    // it refuses an element overlapping one deleted in the same transaction.
    for (const auto& a : u.add)
      for (const auto& r : u.remove)
        if (overlaps(a, r))
          shape.push_back("set " + want.set + ": " + a.text + " replaces overlapping " + r.text);
    if (!u.add.empty() || !u.remove.empty()) updates.push_back(std::move(u));
  }
  return updates;
}

// The rules: exactly one masquerade rule per family in the chain; others are deleted.
void plan_rules(const NatListing& listed, NatPlan& plan) {
  bool have_rule[2] = {false, false};
  for (const auto& r : listed.rules) {
    bool ours = false;
    for (Family f : kFamilies) {
      const int i = f == Family::V4 ? 0 : 1;
      if (r.chain == kNatChain && !have_rule[i] && r.expr == masquerade_rule_expr(f)) {
        have_rule[i] = ours = true;
        break;
      }
    }
    if (!ours) {
      plan.delete_rules.push_back(r.handle);
      plan.defects.push_back("unexpected rule handle " + std::to_string(r.handle));
    }
  }
  for (Family f : kFamilies) {
    if (have_rule[f == Family::V4 ? 0 : 1]) continue;
    plan.add_rules.push_back(f);
    plan.defects.push_back(std::string(family_name(f)) + " masquerade rule missing");
  }
}

}  // namespace

NatPlan plan_nat(const NatDesired& desired, const std::optional<NatListing>& listed) {
  // all_pools covers the natOutgoing pools even if the caller left one out of it.
  std::vector<Prefix> all = desired.all_pools;
  all.insert(all.end(), desired.nat_pools.begin(), desired.nat_pools.end());
  std::vector<SetUpdate> whole;
  for (Family f : kFamilies) {
    whole.push_back({all_pools_set(f), set_elements(all, f), {}});
    whole.push_back({nat_pools_set(f), set_elements(desired.nat_pools, f), {}});
  }

  NatPlan plan;
  if (!listed) {
    plan.kind = NatPlan::Kind::Create;
    plan.defects.push_back("table missing");
    plan.sets = std::move(whole);
    return plan;
  }
  std::vector<std::string> shape = shape_defects(*listed);
  std::vector<SetUpdate> updates = element_updates(whole, *listed, shape);
  if (!shape.empty()) {
    plan.kind = NatPlan::Kind::Rebuild;
    plan.defects = std::move(shape);
    plan.sets = std::move(whole);
    return plan;
  }
  plan_rules(*listed, plan);
  plan.sets = std::move(updates);
  if (!plan.delete_rules.empty() || !plan.add_rules.empty() || !plan.sets.empty())
    plan.kind = NatPlan::Kind::Update;
  return plan;
}

std::string render_nat_plan(const NatPlan& plan, const std::string& table) {
  std::string out;
  switch (plan.kind) {
    case NatPlan::Kind::Unchanged:
      return out;
    case NatPlan::Kind::Rebuild:
      out += "delete table inet " + table + "\n";
      [[fallthrough]];
    case NatPlan::Kind::Create:
      out += "add table inet " + table + "\n";
      for (const auto& s : plan.sets) out += set_declaration(table, s.set, s.add);
      out += "add chain inet " + table + " " + kNatChain +
             " { type nat hook postrouting priority srcnat; policy accept; }\n";
      for (Family f : kFamilies) out += rule_statement(table, f);
      return out;
    case NatPlan::Kind::Update:
      for (auto h : plan.delete_rules)
        out += "delete rule inet " + table + " " + kNatChain + " handle " + std::to_string(h) + "\n";
      // Deletes before adds: one transaction, applied in order.
      for (const auto& s : plan.sets)
        if (!s.remove.empty())
          out += "delete element inet " + table + " " + s.set + " { " + joined(s.remove) + " }\n";
      for (const auto& s : plan.sets)
        if (!s.add.empty())
          out += "add element inet " + table + " " + s.set + " { " + joined(s.add) + " }\n";
      for (Family f : plan.add_rules) out += rule_statement(table, f);
      return out;
  }
  return out;
}

}  // namespace blockd::netlink
