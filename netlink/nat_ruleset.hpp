// The natOutgoing ruleset as values, with no I/O: what blockd wants in its nftables table, what
// `nft -j list table inet blockd` showed, and the nft commands that turn one into the other.
//
// The table (family inet, one table for both address families) holds four interval sets,
// all_pools_v4/v6 (every pool) and nat_pools_v4/v6 (the natOutgoing pools), and a postrouting
// NAT chain with one rule per family, as Calico's cali-nat-outgoing chain does with its ipsets:
//   ip saddr @nat_pools_v4 ip daddr != @all_pools_v4 masquerade
// so traffic from a natOutgoing pool to a destination outside every pool is masqueraded, and
// traffic between pools or from other pools is not. A pool change is an element update of the
// sets in one nft transaction; the rules and chain are not touched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"

namespace blockd::netlink {

using ipam::Address;
using ipam::Family;
using ipam::Prefix;

// The agent passes every pool, disabled ones included: their running workloads still need NAT.
struct NatDesired {
  std::vector<Prefix> all_pools;
  std::vector<Prefix> nat_pools;  // the pools with natOutgoing: true
  friend bool operator==(const NatDesired&, const NatDesired&) = default;
};

inline constexpr const char* kNatChain = "postrouting";

// The names of the four sets.
const char* all_pools_set(Family f);  // "all_pools_v4" / "all_pools_v6"
const char* nat_pools_set(Family f);  // "nat_pools_v4" / "nat_pools_v6"

// An element of an interval set: a closed address range and how nft writes it
// ("10.0.0.0/16", "10.0.0.1", "10.0.0.3-10.0.0.9").
struct SetElement {
  Address first, last;
  std::string text;
  static SetElement of(const Prefix& p);
  friend bool operator==(const SetElement&, const SetElement&) = default;
};

// What one set should hold: the prefixes of `family`, nested ones dropped (an interval set
// refuses overlapping elements; pools nest only by mistake, and the outer one covers the inner),
// in address order.
std::vector<SetElement> set_elements(const std::vector<Prefix>& prefixes, Family family);

// The table as listed, parsed from nft's JSON output.
struct ListedSet {
  std::string name;
  std::string type;                // "ipv4_addr"; a concatenation or map type as its JSON text
  std::vector<std::string> flags;  // "interval", ...
  std::vector<SetElement> elements;
  // Anything else on the set (a map, a timeout, a policy, an element nft wrote in a form we
  // do not parse): the set is not ours as it stands.
  std::vector<std::string> oddities;
};
struct ListedChain {
  std::string name;
  std::string type, hook, policy;  // empty for a regular (non-base) chain
  std::optional<std::int64_t> priority;
};
struct ListedRule {
  std::string chain;
  std::uint64_t handle = 0;
  std::string expr;  // the rule's "expr" array, compact JSON
};
struct NatListing {
  std::vector<std::string> table_flags;  // "dormant", ...
  std::vector<ListedSet> sets;
  std::vector<ListedChain> chains;
  std::vector<ListedRule> rules;
  std::vector<std::string> other_objects;  // maps, counters, flowtables, ...: "counter c1"
};

// Parses the JSON of `nft -j list table inet TABLE`; an error when it is not JSON of that
// shape or does not contain the table.
Result<NatListing> parse_nat_listing(std::string_view json, const std::string& table);
// The table names of family inet in the JSON of `nft -j list tables`.
Result<std::vector<std::string>> parse_inet_tables(std::string_view json);

// The rule's expression in nft's JSON form, compact, as a listing shows it.
std::string masquerade_rule_expr(Family f);

struct SetUpdate {
  std::string set;
  std::vector<SetElement> add, remove;
  friend bool operator==(const SetUpdate&, const SetUpdate&) = default;
};

// The changes that turn the listed table into the desired one.
struct NatPlan {
  enum class Kind {
    Unchanged,  // nothing to do
    Create,     // the table is missing: create it whole
    Rebuild,    // its shape is wrong (a set's type, the chain's hook, a foreign object) or an
                // element must be replaced by an overlapping one: delete and recreate it in
                // one transaction, so no packet sees it half-built
    Update,     // rule repairs and set element changes only
  };
  Kind kind = Kind::Unchanged;
  std::vector<std::string> defects;         // why, for the log: "set nat_pools_v4 missing"
  std::vector<std::uint64_t> delete_rules;  // handles, in chain kNatChain
  std::vector<Family> add_rules;            // the masquerade rule of these families
  // Update: the sets with element changes. Create and Rebuild: all four sets, `add` holding
  // every element.
  std::vector<SetUpdate> sets;
  std::size_t elements_added() const;
  std::size_t elements_removed() const;
};

const char* kind_name(NatPlan::Kind k);

// The pure diff: `listed` is nullopt when the table does not exist.
NatPlan plan_nat(const NatDesired& desired, const std::optional<NatListing>& listed);

// The plan as one nft script (one transaction); empty for Unchanged.
std::string render_nat_plan(const NatPlan& plan, const std::string& table);

}  // namespace blockd::netlink
