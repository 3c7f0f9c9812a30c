// Concurrent block claims: agents of one node claim no more blocks than their addresses need,
// and nodes starting together claim different blocks instead of all racing for the first free
// one (Calico's per-host starting block). The store answers every call after a short pause, a
// round trip as on etcd, so the races happen as they would against a network store; the pause
// only widens the windows, nothing is timed.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "ipam/allocator.hpp"
#include "ipam/block.hpp"
#include "ipam/keys.hpp"
#include "ipam/store/memory_store.hpp"
#include "tests/support/ipam/test_pool.hpp"

namespace blockd::ipam {
namespace {

using testing::test_pool;

using namespace std::chrono_literals;

// The memory store behind a round trip; counts transactions whose compare failed.
class RoundTripStore : public Datastore {
 public:
  Result<std::optional<KeyValue>> get(const std::string& key) override { return trip(), inner_.get(key); }
  Result<ListResult> list(const std::string& prefix) override { return trip(), inner_.list(prefix); }
  Result<ListResult> list_keys(const std::string& prefix) override { return trip(), inner_.list_keys(prefix); }
  Result<TransactionResult> commit(const Transaction& txn) override {
    trip();
    auto r = inner_.commit(txn);
    if (r && !r->succeeded) ++conflicts;
    return r;
  }
  Result<std::unique_ptr<Watch>> watch(const std::string& prefix, std::int64_t after) override {
    return inner_.watch(prefix, after);
  }
  std::string describe() const override { return "round-trip memory://"; }

  std::atomic<int> conflicts{0};

 private:
  static void trip() { std::this_thread::sleep_for(200us); }
  MemoryStore inner_;
};

struct BlockCount {
  std::size_t blocks = 0;
  std::size_t used = 0;
};

BlockCount count_blocks(Datastore& store) {
  BlockCount c;
  auto listed = store.list(keys::kBlocks);
  EXPECT_TRUE(listed.ok()) << listed.error().message;
  if (!listed) return c;
  for (const auto& kv : listed->kvs) {
    auto block = AllocationBlock::from_json(kv.value);
    EXPECT_TRUE(block.ok()) << kv.key << ": " << block.error().message;
    ++c.blocks;
    if (block) c.used += block->used();
  }
  return c;
}

TEST(ClaimContention, AgentsOfOneNodeClaimOnlyTheBlocksTheirAddressesNeed) {
  // Two agents per node (a restarted agent beside the old one, blockctl beside the agent), as
  // the many-agents etcd test runs them: each allocates and releases every second address.
  RoundTripStore store;
  constexpr int kAgents = 4, kEach = 300;
  std::vector<std::thread> threads;
  std::latch start(kAgents);
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex mu;
  auto failed = [&](const Error& e) {
    std::lock_guard lock(mu);
    if (failures++ == 0) first_failure = e.message;
  };
  for (int t = 0; t < kAgents; ++t) {
    threads.emplace_back([&, t] {
      Allocator mine(store);  // each with its own cache, like separate processes
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        const std::string handle = "a" + std::to_string(t) + "-" + std::to_string(i);
        auto a = mine.allocate({"node-0", {}, {test_pool()}}, {handle, Family::V4, {}});
        if (!a) failed(a.error());
        if (i % 2 == 1) {
          auto r = mine.release_handle(handle);
          if (!r) failed(r.error());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures, 0) << first_failure;
  const auto c = count_blocks(store);
  EXPECT_EQ(c.used, static_cast<std::size_t>(kAgents * kEach / 2));
  // At most kAgents addresses were held beyond the final count at any moment (one in flight
  // per agent); one block more for a claim that raced a sibling's despite the re-read.
  const std::size_t needed = (c.used + kAgents + 63) / 64;
  EXPECT_LE(c.blocks, needed + 1) << "blocks claimed for " << c.used << " addresses held";
}

TEST(ClaimContention, NodesStartingTogetherClaimDifferentBlocks) {
  RoundTripStore store;
  constexpr int kNodes = 16;
  std::vector<std::thread> threads;
  std::latch start(kNodes);
  std::vector<Prefix> blocks(kNodes);
  std::atomic<int> failures{0};
  for (int n = 0; n < kNodes; ++n) {
    threads.emplace_back([&, n] {
      Allocator mine(store);
      start.arrive_and_wait();
      auto r = mine.allocate({"node-" + std::to_string(n), {}, {test_pool()}}, {"w" + std::to_string(n), Family::V4, {}});
      if (!r) {
        ++failures;
        return;
      }
      blocks[static_cast<std::size_t>(n)] = r->block;
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures, 0);
  EXPECT_EQ(std::set<Prefix>(blocks.begin(), blocks.end()).size(), static_cast<std::size_t>(kNodes));
  // Address order sends all sixteen to 10.10.0.0/26 at once: fifteen lose, then fourteen, ...
  // Starting blocks spread by node name collide only by chance (1024 blocks here).
  EXPECT_LE(store.conflicts.load(), 2) << "compare-and-swap conflicts among " << kNodes << " nodes claiming at once";
}

TEST(ClaimContention, EachNodeStartsAtItsOwnBlockAndContinuesFromIt) {
  // Deterministic per node (a restarted agent resumes where it was), and a node's next block
  // follows its first, so adjacent blocks of one node aggregate into one route.
  MemoryStore one, two;
  Allocator a(one), b(two);
  std::vector<IPPool> pools{test_pool()};
  auto first = a.allocate({"node-7", {}, pools}, {"h0", Family::V4, {}});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(b.allocate({"node-7", {}, pools}, {"h0", Family::V4, {}})->block, first->block);
  for (int i = 1; i < 64; ++i) ASSERT_TRUE(a.allocate({"node-7", {}, pools}, {"h" + std::to_string(i), Family::V4, {}}).ok());
  auto second = a.allocate({"node-7", {}, pools}, {"h64", Family::V4, {}});
  ASSERT_TRUE(second.ok());
  const auto last_block = pools[0].cidr.blocks(26).at(1023);
  const Address expected = first->block == last_block ? pools[0].cidr.first()
                                                       : Address::from_value(Family::V4, first->block.last().value() + 1);
  EXPECT_EQ(second->block.first(), expected);
}

}  // namespace
}  // namespace blockd::ipam
