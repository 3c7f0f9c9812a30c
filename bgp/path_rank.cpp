#include "bgp/path_rank.hpp"

namespace blockd::bgp {

PathRank rank_of(const PathAttributes& attributes, bool ebgp) {
  PathRank r;
  r.ebgp = ebgp;
  if (!ebgp && attributes.local_pref) r.local_pref = *attributes.local_pref;
  if (attributes.origin) r.origin = *attributes.origin;
  r.med = attributes.med.value_or(0);
  if (attributes.as_path) {
    for (const auto& segment : *attributes.as_path) {
      if (segment.type == SegmentType::Sequence) {
        r.as_path_length += static_cast<std::uint32_t>(segment.asns.size());
      } else if (segment.type == SegmentType::Set) {
        r.as_path_length += 1;
      }  // confederation segments do not count (RFC 5065 §5.3)
      if (!r.neighbour_as && segment.type == SegmentType::Sequence && !segment.asns.empty())
        r.neighbour_as = segment.asns.front();
    }
  }
  return r;
}

std::weak_ordering compare(const PathRank& a, const PathRank& b) {
  if (a.local_pref != b.local_pref) return a.local_pref > b.local_pref ? std::weak_ordering::less : std::weak_ordering::greater;
  if (auto c = a.as_path_length <=> b.as_path_length; c != 0) return c;
  if (auto c = a.origin <=> b.origin; c != 0) return c;
  if (a.neighbour_as == b.neighbour_as) {
    if (auto c = a.med <=> b.med; c != 0) return c;
  }
  if (a.ebgp != b.ebgp) return a.ebgp ? std::weak_ordering::less : std::weak_ordering::greater;
  return std::weak_ordering::equivalent;
}

}  // namespace blockd::bgp
