// The allocator's parts apart: the pure block operations (block.hpp), where a node claims its
// next block (unclaimed_block.hpp), and the compare-and-swap writer (block_reader_writer.hpp)
// against the in-memory store.
#include <gtest/gtest.h>

#include "ipam/block.hpp"
#include "ipam/block_reader_writer.hpp"
#include "ipam/keys.hpp"
#include "ipam/store/memory_store.hpp"
#include "ipam/unclaimed_block.hpp"

namespace blockd::ipam {
namespace {

Prefix P(const std::string& s) { return Prefix::parse(s).value(); }
Address A(const std::string& s) { return Address::parse(s).value(); }

TEST(AllocationBlockTest, ReleaseHandleFreesOnlyThatHandlesAddressesAndQueuesThemLast) {
  AllocationBlock b(P("10.0.0.0/30"), "n1");
  b.assign({"h1", "n1"});
  b.assign({"h2", "n1"});
  b.assign({"h1", "n1"});
  EXPECT_EQ(b.addresses_of("h1"), (std::vector<Address>{A("10.0.0.0"), A("10.0.0.2")}));
  auto released = b.release_handle("h1");
  ASSERT_EQ(released.size(), 2u);
  EXPECT_EQ(released[0].address, A("10.0.0.0"));
  EXPECT_EQ(released[1].allocation, (Allocation{"h1", "n1"}));
  EXPECT_TRUE(b.addresses_of("h1").empty());
  EXPECT_EQ(b.used(), 1u);
  // 10.0.0.3 was never used: it comes before the two just freed.
  EXPECT_EQ(b.assign({"h3", "n1"}), A("10.0.0.3"));
  EXPECT_EQ(b.assign({"h3", "n1"}), A("10.0.0.0"));
}

TEST(HandleRecordTest, RemoveDropsABlockAtZero) {
  HandleRecord r{"h", {}};
  r.add(P("10.0.0.0/26"));
  r.add(P("10.0.0.0/26"));
  r.remove(P("10.0.0.0/26"));
  EXPECT_EQ(r.total(), 1u);
  r.remove(P("10.0.0.0/26"));
  EXPECT_TRUE(r.blocks.empty());
  r.remove(P("10.0.0.64/26"));  // not held: nothing happens
  EXPECT_TRUE(r.blocks.empty());
}

// In the four blocks of 10.0.0.0/24, n1 starts at the first and n2 at the second (as in
// allocator_test.cpp).
TEST(UnclaimedBlockTest, StartsAtTheNodesBlockAndSkipsTakenOnesWrappingAround) {
  const Prefix pool = P("10.0.0.0/24");
  EXPECT_EQ(find_unclaimed_block(pool, 26, {}, "n1"), P("10.0.0.0/26"));
  EXPECT_EQ(find_unclaimed_block(pool, 26, {}, "n2"), P("10.0.0.64/26"));
  EXPECT_EQ(find_unclaimed_block(pool, 26, {P("10.0.0.64/26")}, "n2"), P("10.0.0.128/26"));
  EXPECT_EQ(find_unclaimed_block(pool, 26, {P("10.0.0.64/26"), P("10.0.0.128/26"), P("10.0.0.192/26")}, "n2"),
            P("10.0.0.0/26"));
}

TEST(UnclaimedBlockTest, ABlockOfAnotherSizeCoversSeveralCandidates) {
  // A /25 left by a deleted pool with another blockSize covers the first two /26s.
  EXPECT_EQ(find_unclaimed_block(P("10.0.0.0/24"), 26, {P("10.0.0.0/25")}, "n1"), P("10.0.0.128/26"));
}

TEST(UnclaimedBlockTest, NothingWhenEveryBlockIsTakenOrThePoolIsSmallerThanABlock) {
  std::vector<Prefix> all{P("10.0.0.0/26"), P("10.0.0.64/26"), P("10.0.0.128/26"), P("10.0.0.192/26")};
  EXPECT_FALSE(find_unclaimed_block(P("10.0.0.0/24"), 26, all, "n1"));
  EXPECT_FALSE(find_unclaimed_block(P("10.0.0.0/27"), 26, {}, "n1"));
}

TEST(BlockReaderWriterTest, AClaimOfATakenBlockLosesAndLeavesTheWinnersBlock) {
  MemoryStore store;
  BlockReaderWriter one(store), two(store);
  auto h1 = StoredHandle::absent("h1"), h2 = StoredHandle::absent("h2");
  AllocationBlock mine(P("10.0.0.0/26"), "n1"), theirs(P("10.0.0.0/26"), "n2");
  mine.assign({"h1", "n1"});
  theirs.assign({"h2", "n2"});
  EXPECT_TRUE(one.commit_assignment({keys::block(P("10.0.0.0/26")), 0, mine}, h1).value());
  EXPECT_FALSE(two.commit_assignment({keys::block(P("10.0.0.0/26")), 0, theirs}, h2).value());
  EXPECT_EQ(h2.mod_revision, 0);  // the handle still does not exist
  auto stored = one.read_block(P("10.0.0.0/26")).value();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->block.affinity(), "n1");
  EXPECT_EQ(one.affinities_of("n1").value(), std::vector<Prefix>{P("10.0.0.0/26")});
  EXPECT_TRUE(two.affinities_of("n2").value().empty());
  EXPECT_EQ(h1.record->total(), 1u);
}

TEST(BlockReaderWriterTest, AnAssignmentFromAStaleReadLosesAndLearnsTheHandleAsItIsNow) {
  MemoryStore store;
  BlockReaderWriter writer(store);
  auto h = StoredHandle::absent("h");
  AllocationBlock block(P("10.0.0.0/26"), "n1");
  block.assign({"h", "n1"});
  ASSERT_TRUE(writer.commit_assignment({keys::block(P("10.0.0.0/26")), 0, block}, h).value());
  auto stale_handle = StoredHandle::absent("h");
  auto read = writer.read_block(P("10.0.0.0/26")).value();
  ASSERT_TRUE(read);
  read->block.assign({"h", "n1"});
  EXPECT_FALSE(writer.commit_assignment(*read, stale_handle).value());
  EXPECT_EQ(stale_handle.mod_revision, h.mod_revision);
  ASSERT_TRUE(stale_handle.record);
  EXPECT_EQ(stale_handle.record->total(), 1u);
  // With the handle as it is now, the same write applies.
  EXPECT_TRUE(writer.commit_assignment(*read, stale_handle).value());
  EXPECT_EQ(writer.read_handle("h").value().record->total(), 2u);
}

TEST(BlockReaderWriterTest, ARetriedStepStopsAtItsFirstValueAndGivesUpAfterTheBound) {
  int calls = 0;
  auto third = retry_lost_races<int>("test", [&]() -> Result<std::optional<int>> {
    return ++calls < 3 ? std::optional<int>{} : std::optional<int>{calls};
  });
  EXPECT_EQ(third.value(), 3);
  auto never = retry_lost_races<int>("the test step", [] { return Result<std::optional<int>>{std::nullopt}; });
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, ErrorCode::Unavailable);
  EXPECT_NE(never.error().message.find("the test step lost 400 compare-and-swap races"), std::string::npos);
}

}  // namespace
}  // namespace blockd::ipam
