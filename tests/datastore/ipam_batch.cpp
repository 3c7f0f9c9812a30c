// Allocator::allocate_batch on every backend (memory, SQLite, etcd: the DatastoreConformance
// instantiations): a node's concurrent requests get distinct addresses in one transaction (with
// the claim of a block when the node needs one), split
// only at etcd's --max-txn-ops; a bad request fails alone; a handle asked twice, or again, gets
// the address it holds; and a batching node beside a node allocating one at a time in the same
// small pool never hands out an address twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "tests/datastore/conformance.hpp"
#include "tests/datastore/lifecycle.hpp"

namespace blockd::ipam::testing {
namespace {

// The store under test, counting the transactions that write and the largest one's compares
// (key compares and prefix guards), operations and bytes (keys and values).
class CountingStore : public Datastore {
 public:
  explicit CountingStore(Datastore& inner) : inner_(inner) {}
  Result<std::optional<KeyValue>> get(const std::string& key) override { return inner_.get(key); }
  Result<ListResult> list(const std::string& prefix) override { return inner_.list(prefix); }
  Result<ListResult> list_keys(const std::string& prefix) override { return inner_.list_keys(prefix); }
  Result<std::vector<ListResult>> read_many(const std::vector<Read>& reads) override { return inner_.read_many(reads); }
  Result<TransactionResult> commit(const Transaction& txn) override {
    if (!txn.operations.empty()) ++writes;
    max_compares = std::max(max_compares.load(), txn.compares.size() + txn.unchanged.size());
    max_operations = std::max(max_operations.load(), txn.operations.size());
    std::size_t bytes = 0;
    for (const auto& op : txn.operations) bytes += op.key.size() + op.value.size();
    max_bytes = std::max(max_bytes.load(), bytes);
    return inner_.commit(txn);
  }
  Result<std::unique_ptr<Watch>> watch(const std::string& prefix, std::int64_t after) override {
    return inner_.watch(prefix, after);
  }
  std::string describe() const override { return inner_.describe(); }

  std::atomic<int> writes{0};
  std::atomic<std::size_t> max_compares{0}, max_operations{0}, max_bytes{0};

 private:
  Datastore& inner_;
};

std::vector<AllocationRequest> requests(const std::string& prefix, int n) {
  std::vector<AllocationRequest> out;
  for (int i = 0; i < n; ++i) out.push_back({prefix + std::to_string(i), Family::V4, {}});
  return out;
}

AllocationContext context(Lifecycle& l, const std::string& node) {
  return {node, l.resources_.node(node).value().labels, l.resources_.pools().value()};
}

TEST_P(DatastoreConformance, ABatchGetsDistinctAddressesInOneTransactionWithItsClaim) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24", "  blockSize: 26\n")).ok());
  CountingStore counted(*store);
  Allocator allocator(counted);
  // A fresh node: the block is claimed in the same transaction as the 8 addresses.
  auto got = allocator.allocate_batch(context(l, "n1"), requests("h", 8));
  ASSERT_EQ(got.size(), 8u);
  std::set<std::string> addresses;
  for (const auto& a : got) {
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(a->block.str(), "10.0.0.0/26");
    EXPECT_FALSE(a->borrowed || a->reused);
    addresses.insert(a->address.str());
  }
  EXPECT_EQ(addresses.size(), 8u);
  EXPECT_EQ(counted.writes, 1);
  EXPECT_TRUE(l.affine("n1", "10.0.0.0/26"));
  // With the block claimed: 8 more in exactly one transaction.
  counted.writes = 0;
  got = allocator.allocate_batch(context(l, "n1"), requests("more", 8));
  for (const auto& a : got) {
    ASSERT_TRUE(a.ok()) << a.error().message;
    addresses.insert(a->address.str());
  }
  EXPECT_EQ(addresses.size(), 16u);
  EXPECT_EQ(counted.writes, 1);
  EXPECT_EQ(l.allocator_.addresses_of("more3").value().size(), 1u);
  l.expect_check_clean();
}

// A batch larger than the room left in the node's block fills that room and claims the next
// block: two transactions (the claim's read sees the room the batch is filling, which must not
// send the batch back to plan the same again until it gives up).
TEST_P(DatastoreConformance, ABatchOverflowingTheNodesBlockFillsItAndClaimsTheNextInTwoTransactions) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24", "  blockSize: 28\n")).ok());  // blocks of 16
  CountingStore counted(*store);
  Allocator allocator(counted);
  std::string first_block;
  for (const auto& a : allocator.allocate_batch(context(l, "n1"), requests("h", 12))) {
    ASSERT_TRUE(a.ok()) << a.error().message;
    first_block = a->block.str();
  }
  counted.writes = 0;
  auto got = allocator.allocate_batch(context(l, "n1"), requests("more", 8));
  std::map<std::string, int> per_block;
  for (const auto& a : got) {
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_FALSE(a->borrowed);
    ++per_block[a->block.str()];
  }
  EXPECT_EQ(per_block.size(), 2u);
  EXPECT_EQ(per_block[first_block], 4);
  EXPECT_EQ(counted.writes, 2);
  l.expect_check_clean();
}

TEST_P(DatastoreConformance, ABadRequestInABatchFailsAloneAndAFullBlockMovesOnToTheNext) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/28", "  blockSize: 30\n")).ok());  // 4 blocks of 4
  Allocator allocator(*store);
  auto batch = requests("h", 6);
  batch[1].pools = {"nope"};
  batch[2].handle = "";
  batch[3].family = Family::V6;
  auto got = allocator.allocate_batch(context(l, "n1"), batch);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[1].error().code, ErrorCode::Invalid);
  EXPECT_NE(got[1].error().message.find("not in the requested pools"), std::string::npos) << got[1].error().message;
  EXPECT_EQ(got[2].error().code, ErrorCode::Invalid);
  EXPECT_EQ(got[3].error().code, ErrorCode::Invalid);
  std::set<std::string> addresses;
  for (int i : {0, 4, 5}) {
    ASSERT_TRUE(got[i].ok()) << got[i].error().message;
    addresses.insert(got[i]->address.str());
  }
  EXPECT_EQ(addresses.size(), 3u);
  // 13 more than the pool's 16 addresses hold: the node fills its blocks, claims the rest, and
  // only the requests past the last free address fail, each with its own exhaustion error.
  got = allocator.allocate_batch(context(l, "n1"), requests("fill", 16));
  int ok = 0;
  for (const auto& a : got) {
    if (!a) {
      EXPECT_EQ(a.error().code, ErrorCode::Exhausted) << a.error().message;
      continue;
    }
    addresses.insert(a->address.str());
    ++ok;
  }
  EXPECT_EQ(ok, 13);
  EXPECT_EQ(addresses.size(), 16u);
  l.expect_check_clean();
}

TEST_P(DatastoreConformance, ABatchClaimsNoBlockPastMaxBlocksPerHost) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply("apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {name: default}\n"
                      "spec: {maxBlocksPerHost: 1, strictAffinity: true}\n")
                  .ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/28", "  blockSize: 30\n")).ok());
  Allocator allocator(*store);
  auto got = allocator.allocate_batch(context(l, "n1"), requests("h", 6));
  int ok = 0;
  for (const auto& a : got) {
    if (!a) {
      EXPECT_NE(a.error().message.find("per host block limit"), std::string::npos) << a.error().message;
      continue;
    }
    ++ok;
    EXPECT_EQ(a->block.str(), "10.0.0.0/30");
  }
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(store->list(keys::node_affinities("n1")).value().kvs.size(), 1u);
  l.expect_check_clean();
}

TEST_P(DatastoreConformance, AHandleTwiceInABatchOrAlreadyHoldingGetsTheAddressItHolds) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24", "  blockSize: 26\n")).ok());
  const auto first = l.allocate("n1", "held").value();
  Allocator allocator(*store);  // a second agent of the node: knows nothing of "held"
  auto got = allocator.allocate_batch(context(l, "n1"), {{"held", Family::V4, {}},
                                                          {"new", Family::V4, {}},
                                                          {"new", Family::V4, {}},
                                                          {"other", Family::V4, {}}});
  ASSERT_EQ(got.size(), 4u);
  for (const auto& a : got) ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(got[0]->address, first.address);
  EXPECT_TRUE(got[0]->reused);
  EXPECT_EQ(got[1]->address, got[2]->address);
  EXPECT_FALSE(got[1]->reused);
  EXPECT_TRUE(got[2]->reused);
  EXPECT_NE(got[1]->address, got[3]->address);
  EXPECT_NE(got[1]->address, first.address);
  EXPECT_NE(got[3]->address, first.address);
  EXPECT_EQ(l.allocator_.addresses_of("new").value().size(), 1u);
  l.expect_check_clean();
}

TEST_P(DatastoreConformance, ABatchIsSplitAtTheTransactionOperationLimit) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/22", "  blockSize: 24\n")).ok());
  CountingStore counted(*store);
  Allocator allocator(counted);
  auto got = allocator.allocate_batch(context(l, "n1"), requests("h", 200));
  std::set<std::string> addresses;
  for (const auto& a : got) {
    ASSERT_TRUE(a.ok()) << a.error().message;
    addresses.insert(a->address.str());
  }
  EXPECT_EQ(addresses.size(), 200u);
  // Two transactions (the first with the claim), none past etcd's default --max-txn-ops (on
  // etcd, the store refuses a larger one).
  EXPECT_EQ(counted.writes, 2);
  EXPECT_LE(counted.max_compares, kMaxBatchOperations);
  EXPECT_LE(counted.max_operations, kMaxBatchOperations);
  EXPECT_GT(counted.max_operations, kMaxBatchOperations / 2);
  l.expect_check_clean();
}

TEST_P(DatastoreConformance, ABatchIsSplitAtTheTransactionSizeLimit) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/21", "  blockSize: 22\n")).ok());
  // Handles of the longest length allowed: 1,000 of them make the node's first block's JSON
  // larger than kMaxBatchBytes on its own.
  auto long_handles = [](const std::string& prefix, int n) {
    auto out = requests(prefix, n);
    for (auto& r : out) r.handle.resize(512, 'x');
    return out;
  };
  Allocator filler(*store);
  for (const auto& a : filler.allocate_batch(context(l, "n1"), long_handles("fill", 1000))) {
    ASSERT_TRUE(a.ok()) << a.error().message;
  }
  CountingStore counted(*store);
  Allocator allocator(counted);
  auto got = allocator.allocate_batch(context(l, "n1"), long_handles("more", 30));
  std::set<std::string> addresses;
  for (const auto& a : got) {
    ASSERT_TRUE(a.ok()) << a.error().message;
    addresses.insert(a->address.str());
  }
  EXPECT_EQ(addresses.size(), 30u);
  // 30 requests are far under the operation limit, but the full block's 24 go one per
  // transaction (the block alone is past the size limit), then the new block's 6 in one.
  EXPECT_GE(counted.writes, 25);
  EXPECT_LE(counted.max_bytes, 1024u * 1024);  // well inside etcd's default --max-request-bytes (1.5 MiB)
  l.expect_check_clean();
}

TEST_P(DatastoreConformance, BatchingAgentsAndAnotherNodeShareASmallPoolWithoutDuplicates) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0") + "---\n" + node_yaml("n2", "0")).ok());
  // 8 blocks of 16: the nodes claim them all, then borrow from each other's.
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/25", "  blockSize: 28\n")).ok());
  const AllocationContext n1 = context(l, "n1");
  std::vector<std::string> got[3];
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // n2, one allocation at a time
    Lifecycle n2(*store);
    for (int i = 0; i < 48; ++i) {
      auto a = n2.allocate("n2", "n2-" + std::to_string(i));
      ASSERT_TRUE(a.ok()) << a.error().message;
      got[0].push_back(a->address.str());
    }
  });
  for (int agent = 1; agent <= 2; ++agent) {  // two agents of n1 (a restart beside the old one), batching
    threads.emplace_back([&, agent] {
      Allocator batching(*store);
      for (int round = 0; round < 4; ++round) {
        const std::string prefix = "n1-" + std::to_string(agent) + "-" + std::to_string(round) + "-";
        for (const auto& a : batching.allocate_batch(n1, requests(prefix, 8))) {
          ASSERT_TRUE(a.ok()) << a.error().message;
          got[agent].push_back(a->address.str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), 112u);
  l.expect_check_clean();
}

}  // namespace
}  // namespace blockd::ipam::testing
