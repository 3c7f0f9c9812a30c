// BlockList: the blocks of a listing in key order, a copy sharing every block with its original
// and a change copying only the chunk it touches (ipam/block_list.hpp).
#include "ipam/block_list.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "ipam/keys.hpp"

namespace blockd::ipam {
namespace {

// The nth /26 of 10.0.0.0/8, with its key.
std::pair<std::string, AllocationBlock> nth(int n, const std::string& node = "n") {
  const auto cidr = Prefix::parse("10." + std::to_string(n / 1024) + "." + std::to_string(n / 4 % 256) + "." +
                                  std::to_string(n % 4 * 64) + "/26")
                        .value();
  return {keys::block(cidr), AllocationBlock(cidr, node)};
}

std::vector<std::string> affinities(const BlockList& list) {
  std::vector<std::string> out;
  for (const auto& b : list) out.push_back(b.affinity());
  return out;
}

TEST(BlockList, HoldsWhatAMapWouldInKeyOrderThroughSplitsAndErasures) {
  BlockList list;
  std::map<std::string, std::string> expected;  // key -> affinity
  std::mt19937 random(20);
  for (int i = 0; i < 2000; ++i) {
    const int n = static_cast<int>(random() % 700);
    auto [key, block] = nth(n, "node" + std::to_string(i));
    if (random() % 4 == 0) {
      EXPECT_EQ(list.erase(key), expected.erase(key) == 1) << key;
    } else {
      expected[key] = block.affinity();
      list.put(key, block);
    }
  }
  ASSERT_GT(list.size(), 2 * BlockList::kChunk);  // more than one chunk
  std::vector<std::string> want;
  for (const auto& [key, affinity] : expected) {
    want.push_back(affinity);
    ASSERT_NE(list.find(key), nullptr) << key;
    EXPECT_EQ(list.find(key)->block.affinity(), affinity);
  }
  EXPECT_EQ(list.size(), expected.size());
  EXPECT_EQ(affinities(list), want);
  EXPECT_EQ(list.find(nth(5000).first), nullptr);
  EXPECT_FALSE(list.erase(nth(5000).first));
}

TEST(BlockList, ACopySharesEveryBlockAndAChangeToOneLeavesTheOtherAsItWas) {
  BlockList before;
  for (int n = 0; n < 300; ++n) {
    auto [key, block] = nth(n);
    before.put(key, block);
  }
  BlockList after = before;
  for (int n = 0; n < 300; ++n) EXPECT_EQ(after.find(nth(n).first), before.find(nth(n).first));  // the same entry

  auto [changed_key, changed] = nth(7, "moved");
  after.put(changed_key, changed);
  ASSERT_TRUE(after.erase(nth(200).first));
  auto [added_key, added] = nth(1000, "added");
  after.put(added_key, added);

  EXPECT_EQ(before.size(), 300u);
  EXPECT_EQ(before.find(changed_key)->block.affinity(), "n");
  EXPECT_NE(before.find(nth(200).first), nullptr);
  EXPECT_EQ(before.find(added_key), nullptr);
  EXPECT_EQ(after.size(), 300u);
  EXPECT_EQ(after.find(changed_key)->block.affinity(), "moved");
  int shared = 0;
  for (int n = 0; n < 300; ++n) shared += after.find(nth(n).first) == before.find(nth(n).first);
  EXPECT_EQ(shared, 298);  // all but the changed and the erased one

  // What was put since: the changed and the added block, found without visiting the others.
  std::vector<std::string> put;
  after.for_each_put_since(before, [&](const AllocationBlock& b) { put.push_back(b.affinity()); });
  EXPECT_EQ(put, (std::vector<std::string>{"moved", "added"}));
  put.clear();
  before.for_each_put_since(before, [&](const AllocationBlock& b) { put.push_back(b.affinity()); });
  EXPECT_TRUE(put.empty());
}

}  // namespace
}  // namespace blockd::ipam
