// The decision-process steps that rank received paths (RFC 4271 §9.1.2.2 a-d) and which paths
// tie for multipath.
#include "bgp/path_rank.hpp"

#include <gtest/gtest.h>

namespace blockd::bgp {
namespace {

PathAttributes path(std::vector<std::uint32_t> asns) {
  PathAttributes a;
  a.origin = Origin::Igp;
  a.as_path = AsPath{{SegmentType::Sequence, std::move(asns)}};
  return a;
}

TEST(PathRank, ReadsTheRankingAttributes) {
  auto a = path({65101, 65002});
  a.as_path->push_back({SegmentType::Set, {65003, 65004}});
  a.as_path->push_back({SegmentType::ConfedSequence, {64512}});
  a.med = 20;
  a.local_pref = 300;
  a.origin = Origin::Incomplete;
  const PathRank ebgp = rank_of(a, true);
  EXPECT_EQ(ebgp.as_path_length, 3u);  // the set counts as one, the confederation segment not
  EXPECT_EQ(ebgp.neighbour_as, 65101u);
  EXPECT_EQ(ebgp.med, 20u);
  EXPECT_EQ(ebgp.origin, Origin::Incomplete);
  EXPECT_EQ(ebgp.local_pref, 100u);  // LOCAL_PREF from an eBGP peer is ignored (RFC 4271 §5.1.5)
  EXPECT_EQ(rank_of(a, false).local_pref, 300u);
  EXPECT_FALSE(rank_of(PathAttributes{}, true).neighbour_as);
}

TEST(PathRank, TwoTorsOfDifferentAsesWithEqualPathsTie) {
  EXPECT_EQ(compare(rank_of(path({65101, 65002}), true), rank_of(path({65102, 65002}), true)),
            std::weak_ordering::equivalent);
}

TEST(PathRank, EachStepDecidesInRfcOrder) {
  const auto base = rank_of(path({65101, 65002}), true);
  auto r = base;
  r.as_path_length = 1;
  EXPECT_EQ(compare(r, base), std::weak_ordering::less);  // shorter AS path
  r = base;
  r.origin = Origin::Incomplete;
  EXPECT_EQ(compare(r, base), std::weak_ordering::greater);  // IGP before INCOMPLETE
  r = base;
  r.local_pref = 200;
  r.as_path_length = 9;
  EXPECT_EQ(compare(r, base), std::weak_ordering::less);  // LOCAL_PREF before AS path length
  r = base;
  r.ebgp = false;
  EXPECT_EQ(compare(base, r), std::weak_ordering::less);  // eBGP before iBGP
}

TEST(PathRank, MedComparesOnlyPathsFromTheSameNeighbourAs) {
  auto a = rank_of(path({65101, 65002}), true);
  auto b = rank_of(path({65101, 65002}), true);
  b.med = 50;
  EXPECT_EQ(compare(a, b), std::weak_ordering::less);
  b.neighbour_as = 65102;
  EXPECT_EQ(compare(a, b), std::weak_ordering::equivalent);
}

}  // namespace
}  // namespace blockd::bgp
