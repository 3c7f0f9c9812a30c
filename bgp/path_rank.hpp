// How good a received path is, by the steps of the BGP decision process that compare attributes
// (RFC 4271 §9.1.2.2 a-d), and which paths tie: the equal-cost paths a node installs together
// as one multipath route (ECMP toward two ToRs). Pure, no I/O.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

#include "bgp/codec/attributes.hpp"

namespace blockd::bgp {

struct PathRank {
  std::uint32_t local_pref = 100;      // LOCAL_PREF (iBGP; eBGP paths rank as the default 100)
  std::uint32_t as_path_length = 0;    // an AS_SET counts as one (RFC 4271 §9.1.2.2 a)
  Origin origin = Origin::Igp;
  std::uint32_t med = 0;               // MULTI_EXIT_DISC, missing: 0 (RFC 4271 §9.1.2.2 c)
  std::optional<std::uint32_t> neighbour_as;  // the path's first AS; none for an empty path
  bool ebgp = true;
  friend bool operator==(const PathRank&, const PathRank&) = default;
};

PathRank rank_of(const PathAttributes& attributes, bool ebgp);

// Less: a is preferred; equivalent: equal cost, both installed (multipath). Higher LOCAL_PREF,
// shorter AS_PATH, lower ORIGIN, lower MED when both came from the same neighbouring AS (RFC
// 4271 §9.1.2.2 c: MEDs of different ASes are not comparable), eBGP over iBGP. The AS paths
// themselves need not be equal: two ToRs of a rack usually have ASes of their own (FRR calls
// this `bgp bestpath as-path multipath-relax`). The IGP cost, router-ID and address tie-breaks
// (§9.1.2.2 e-g) pick one path of equals, which multipath does not need.
std::weak_ordering compare(const PathRank& a, const PathRank& b);

}  // namespace blockd::bgp
