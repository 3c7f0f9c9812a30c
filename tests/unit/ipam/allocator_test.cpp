// The allocator against the in-memory store: Calico's allocation order, borrowing, strict
// affinity, release, and what never happens (renumbering, double allocation).
#include "ipam/allocator.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <thread>
#include <utility>

#include "ipam/keys.hpp"
#include "ipam/store/memory_store.hpp"

namespace blockd::ipam {
namespace {

IPPool pool(const std::string& name, const std::string& cidr, const std::string& selector = "all()",
            unsigned block_size = 26) {
  IPPool p;
  p.name = name;
  p.cidr = Prefix::parse(cidr).value();
  p.block_size = block_size;
  p.node_selector = selector;
  return p;
}

// Each node starts its search for a free block at a point derived from its name (Calico's
// randomBlockGenerator); in the four blocks of 10.0.0.0/24, n1 starts at the first, n2 at the
// second, which the address expectations below rely on.
class AllocatorTest : public ::testing::Test {
 protected:
  AllocatedAddress allocate(const std::string& node, const std::string& handle, Labels labels = {}) {
    auto r = allocator.allocate({node, std::move(labels), pools}, {handle, Family::V4, {}});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : AllocatedAddress{};
  }
  AllocationBlock block(const std::string& cidr) {
    auto kv = store.get(keys::block(Prefix::parse(cidr).value())).value();
    EXPECT_TRUE(kv.has_value()) << cidr;
    return AllocationBlock::from_json(kv->value).value();
  }

  MemoryStore store;
  Allocator allocator{store};
  std::vector<IPPool> pools{pool("p", "10.0.0.0/24")};
};

TEST_F(AllocatorTest, FirstAllocationClaimsTheFirstBlockForTheNode) {
  auto a = allocate("n1", "h1");
  EXPECT_EQ(a.address.str(), "10.0.0.0");
  EXPECT_EQ(a.block.str(), "10.0.0.0/26");
  EXPECT_EQ(a.pool, "p");
  EXPECT_FALSE(a.borrowed);
  EXPECT_EQ(block("10.0.0.0/26").affinity(), "n1");
  EXPECT_TRUE(store.get(keys::affinity("n1", a.block)).value().has_value());
}

TEST_F(AllocatorTest, LaterAllocationsFillTheAffineBlockBeforeClaimingAnother) {
  allocate("n1", "h1");
  EXPECT_EQ(allocate("n1", "h2").address.str(), "10.0.0.1");
  EXPECT_EQ(allocate("n2", "h3").block.str(), "10.0.0.64/26");
  EXPECT_EQ(allocate("n1", "h4").address.str(), "10.0.0.2");
}

TEST_F(AllocatorTest, AFullAffineBlockLeadsToANewClaim) {
  for (int i = 0; i < 64; ++i) allocate("n1", "h" + std::to_string(i));
  auto a = allocate("n1", "h64");
  EXPECT_EQ(a.block.str(), "10.0.0.64/26");
  EXPECT_FALSE(a.borrowed);
}

TEST_F(AllocatorTest, BorrowsFromAnotherNodesBlockWhenNoBlockIsFree) {
  pools = {pool("small", "10.0.0.0/26")};
  allocate("n1", "h1");
  auto b = allocate("n2", "h2");
  EXPECT_TRUE(b.borrowed);
  EXPECT_EQ(b.block.str(), "10.0.0.0/26");
  EXPECT_EQ(b.address.str(), "10.0.0.1");
  auto stored = block("10.0.0.0/26");
  EXPECT_EQ(stored.affinity(), "n1");  // borrowing never moves the block
  EXPECT_EQ(stored.allocation_of(b.address)->node, "n2");
}

TEST_F(AllocatorTest, StrictAffinityNeverBorrows) {
  pools = {pool("small", "10.0.0.0/26")};
  pools[0].strict_affinity = true;
  allocate("n1", "h1");
  auto r = allocator.allocate({"n2", {}, pools}, {"h2", Family::V4, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Exhausted);
  EXPECT_NE(r.error().message.find("strict affinity"), std::string::npos) << r.error().message;
  EXPECT_FALSE(store.get(keys::handle("h2")).value().has_value());  // nothing half-allocated
}

TEST_F(AllocatorTest, ExhaustionIsAClearErrorAndWritesNothing) {
  pools = {pool("tiny", "10.0.0.0/30", "all()", 30)};
  for (int i = 0; i < 4; ++i) allocate("n1", "h" + std::to_string(i));
  const auto before = store.list(kKeyRoot)->revision;
  auto r = allocator.allocate({"n1", {}, pools}, {"h9", Family::V4, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Exhausted);
  EXPECT_EQ(r.error().message, "no free address for node n1 in tiny (10.0.0.0/30: every block claimed and full)");
  EXPECT_EQ(store.list(kKeyRoot)->revision, before);
}

TEST_F(AllocatorTest, CandidatePoolsFollowSelectorsAndDisabledWins) {
  pools = {pool("rack-0", "10.0.0.0/24", "rack == \"0\""), pool("rack-1", "10.0.1.0/24", "rack == \"1\""),
           pool("off", "10.0.2.0/24", "all()")};
  pools[2].disabled = true;
  EXPECT_EQ(allocate("n0", "a", {{"rack", "0"}}).pool, "rack-0");
  EXPECT_EQ(allocate("n1", "b", {{"rack", "1"}}).pool, "rack-1");
  auto r = allocator.allocate({"n5", {{"rack", "5"}}, pools}, {"c", Family::V4, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Invalid);
  EXPECT_EQ(r.error().message,
            "no IPv4 IP pool selects node n5 (labels: rack=5); rack-0: selector rack == \"0\" does not match; "
            "rack-1: selector rack == \"1\" does not match; off: disabled");
}

TEST_F(AllocatorTest, FamilyAndRequestedPoolsRestrictCandidates) {
  pools = {pool("v4", "10.0.0.0/24"), pool("v6", "fd00::/64", "all()", 122), pool("other", "10.9.0.0/24")};
  auto v6 = allocator.allocate({"n", {}, pools}, {"h6", Family::V6, {}});
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_TRUE(pools[1].cidr.contains(v6->block)) << v6->block.str();
  EXPECT_EQ(v6->block.length(), 122u);
  auto only = allocator.allocate({"n", {}, pools}, {"h", Family::V4, {"other"}});
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->pool, "other");
  auto missing = allocator.allocate({"n", {}, pools}, {"h", Family::V4, {"nope"}});
  ASSERT_FALSE(missing.ok());
}

TEST_F(AllocatorTest, AManualPoolServesOnlyARequestThatNamesIt) {
  // Calico's assignmentMode: Manual (determinePools skips it unless the request lists it).
  pools = {pool("manual", "10.0.0.0/24")};
  pools[0].assignment_mode = AssignmentMode::Manual;
  auto unnamed = allocator.allocate({"n1", {}, pools}, {"h1", Family::V4, {}});
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error().message,
            "no IPv4 IP pool selects node n1 (labels: none); manual: assignmentMode Manual (used only when a "
            "request names the pool)");
  auto named = allocator.allocate({"n1", {}, pools}, {"h1", Family::V4, {"manual"}});
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->pool, "manual");
  // With an Automatic pool beside it, unnamed requests go there and never to the Manual one.
  pools.push_back(pool("auto", "10.0.1.0/24"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(allocate("n1", "a" + std::to_string(i)).pool, "auto");
  EXPECT_EQ(selection_gaps({{"n1", Node{}}}, {pools[0]}).unselected_nodes, std::vector<std::string>{"n1"});
  EXPECT_TRUE(selection_gaps({{"n1", Node{}}}, pools).unselected_nodes.empty());
}

TEST_F(AllocatorTest, ReleaseByAddressAndByHandle) {
  auto a = allocate("n1", "h1");
  auto b = allocate("n1", "h2");
  auto r = allocator.release_address(a.address, pools);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->allocation.handle, "h1");
  EXPECT_FALSE(store.get(keys::handle("h1")).value().has_value());
  auto again = allocator.release_address(a.address, pools);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::NotFound);

  auto by_handle = allocator.release_handle("h2");
  ASSERT_TRUE(by_handle.ok());
  ASSERT_EQ(by_handle->size(), 1u);
  EXPECT_EQ((*by_handle)[0].address, b.address);
  EXPECT_TRUE(allocator.release_handle("h2")->empty());  // idempotent, like CNI DEL
  EXPECT_EQ(block("10.0.0.0/26").used(), 0u);
  EXPECT_EQ(block("10.0.0.0/26").affinity(), "n1");  // empty affine blocks stay by default
}

TEST_F(AllocatorTest, ReleasedAddressesAreReusedLast) {
  auto a = allocate("n1", "h1");
  allocate("n1", "h2");
  ASSERT_TRUE(allocator.release_address(a.address, pools).ok());
  EXPECT_EQ(allocate("n1", "h3").address.str(), "10.0.0.2");
}

TEST_F(AllocatorTest, ReleaseEmptyBlocksGivesTheBlockBack) {
  pools = {pool("small", "10.0.0.0/26")};  // one block, so the next claim can only be this one
  auto a = allocate("n1", "h1");
  ASSERT_TRUE(allocator.release_handle("h1", {true}).ok());
  EXPECT_FALSE(store.get(keys::block(a.block)).value().has_value());
  EXPECT_FALSE(store.get(keys::affinity("n1", a.block)).value().has_value());
  auto b = allocate("n2", "h2");
  EXPECT_EQ(b.block, a.block);  // claimable again
  EXPECT_FALSE(b.borrowed);
}

TEST_F(AllocatorTest, AnAffinityWithoutItsBlockDoesNotStopClaims) {
  // Left by an older tool or a hand edit: the claim of that block would fail on the affinity's
  // compare forever, so the search skips it.
  const Prefix first = Prefix::parse("10.0.0.0/26").value();  // n1's starting block here
  ASSERT_TRUE(store.commit({{}, {Operation::put(keys::affinity("n1", first), "{}")}}).value().succeeded);
  auto a = allocate("n1", "h1");
  EXPECT_NE(a.block, first);
  EXPECT_EQ(block(a.block.str()).affinity(), "n1");
}

TEST_F(AllocatorTest, AllocatingAHandleAgainReturnsTheAddressItHolds) {
  // A retried CNI ADD (same handle) must get the address of the first try, not a second one.
  auto first = allocate("n1", "h");
  EXPECT_FALSE(first.reused);
  auto again = allocate("n1", "h");
  EXPECT_EQ(again.address, first.address);
  EXPECT_EQ(again.block, first.block);
  EXPECT_EQ(again.pool, first.pool);
  EXPECT_TRUE(again.reused);
  auto released = allocator.release_handle("h");
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->size(), 1u);
}

TEST_F(AllocatorTest, AnotherAgentsAllocatorAlsoFindsTheHeldAddress) {
  auto first = allocate("n1", "h");
  Allocator other(store);  // no cache: a restarted agent, or blockctl
  auto again = other.allocate({"n1", {}, pools}, {"h", Family::V4, {}});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->address, first.address);
  EXPECT_TRUE(again->reused);
}

TEST_F(AllocatorTest, PoolChangesNeverRenumberExistingAllocations) {
  auto a = allocate("n1", "h1", {{"rack", "0"}});
  pools[0].node_selector = "rack == \"1\"";
  pools[0].disabled = true;
  EXPECT_EQ(block("10.0.0.0/26").allocation_of(a.address)->handle, "h1");
  EXPECT_FALSE(allocator.allocate({"n1", {{"rack", "0"}}, pools}, {"h2", Family::V4, {}}).ok());
  EXPECT_EQ(block("10.0.0.0/26").allocation_of(a.address)->handle, "h1");
}

TEST_F(AllocatorTest, ConcurrentAllocatorsNeverHandOutAnAddressTwice) {
  pools = {pool("p", "10.0.0.0/22")};
  std::vector<std::thread> threads;
  std::vector<std::vector<Address>> got(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Allocator mine(store);  // each with its own cache, like separate processes
      for (int i = 0; i < 100; ++i) {
        auto r = mine.allocate({"n" + std::to_string(t % 3), {}, pools}, {"h" + std::to_string(t * 1000 + i), Family::V4, {}});
        ASSERT_TRUE(r.ok()) << r.error().message;
        got[t].push_back(r->address);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<Address> all;
  for (const auto& v : got) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 800u);
}

TEST_F(AllocatorTest, AnotherAllocatorsStaleCacheNeverHandsOutOrFreesAnAddressTwice) {
  // `other` caches n1's block, then this allocator changes it: every step of `other` works from
  // a stale copy, which only loses its compare-and-swap and is read again.
  pools = {pool("p", "10.0.0.0/24", "all()", 30)};  // four addresses a block
  Allocator other(store);
  auto first = other.allocate({"n1", {}, pools}, {"o1", Family::V4, {}});
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto second = allocate("n1", "h2");
  ASSERT_EQ(second.block, first->block);
  auto third = other.allocate({"n1", {}, pools}, {"o3", Family::V4, {}});  // from the stale copy
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(third->block, first->block);
  const std::set<std::string> distinct{first->address.str(), second.address.str(), third->address.str()};
  EXPECT_EQ(distinct.size(), 3u);
  // A release from a stale copy must not undo h4's allocation, made since `other` cached it.
  const auto fourth = allocate("n1", "h4");
  ASSERT_EQ(fourth.block, first->block);
  ASSERT_TRUE(other.release_handle("o1").ok());
  EXPECT_EQ(block(first->block.str()).addresses_of("h4"), std::vector<Address>{fourth.address});
  EXPECT_TRUE(block(first->block.str()).addresses_of("o1").empty());
  // The block is full as `other` last saw it (o1's place freed by itself); h2 freed here since:
  // `other` uses that room before claiming a second block for n1.
  ASSERT_TRUE(allocator.release_handle("h2").ok());
  auto fifth = other.allocate({"n1", {}, pools}, {"o5", Family::V4, {}});
  ASSERT_TRUE(fifth.ok()) << fifth.error().message;
  EXPECT_EQ(fifth->block, first->block);
  auto sixth = other.allocate({"n1", {}, pools}, {"o6", Family::V4, {}});
  ASSERT_TRUE(sixth.ok()) << sixth.error().message;
  EXPECT_EQ(sixth->block, first->block);
  EXPECT_EQ(store.list(keys::kBlocks).value().kvs.size(), 1u);
  const AllocationBlock b = block(first->block.str());
  EXPECT_EQ(b.used(), 4u);
}

// The memory store, counting the calls that are round trips on etcd (read_many is one).
class TripCountingStore : public MemoryStore {
 public:
  Result<std::optional<KeyValue>> get(const std::string& key) override { return trip(), MemoryStore::get(key); }
  Result<ListResult> list(const std::string& prefix) override { return trip(), MemoryStore::list(prefix); }
  Result<ListResult> list_keys(const std::string& prefix) override { return trip(), MemoryStore::list_keys(prefix); }
  Result<std::vector<ListResult>> read_many(const std::vector<Read>& reads) override {
    trip();
    in_read_many_ = true;
    auto r = MemoryStore::read_many(reads);
    in_read_many_ = false;
    return r;
  }
  Result<TransactionResult> commit(const Transaction& txn) override { return trip(), MemoryStore::commit(txn); }
  int trips = 0;

 private:
  void trip() { trips += !in_read_many_; }
  bool in_read_many_ = false;
};

TEST(AllocatorRoundTrips, AClaimAfterTheNodesLastBlockWentReadsOnceAndItsReleaseOnce) {
  // A pod's ADD that claims a block and its DEL that empties it (the convergence benchmark's
  // cycle): the claim's one read goes before its commit, the release reads only the handle.
  TripCountingStore store;
  Allocator allocator(store);
  const std::vector<IPPool> pools{pool("p", "10.0.0.0/24")};
  const ReleaseOptions drop{true};
  for (int i = 0; i < 3; ++i) {
    const std::string handle = "h" + std::to_string(i);
    store.trips = 0;
    auto a = allocator.allocate({"n1", {}, pools}, {handle, Family::V4, {}});
    ASSERT_TRUE(a.ok()) << a.error().message;
    if (i > 0) {  // the first also reads the settings
      EXPECT_EQ(store.trips, 2) << "claim " << i;
    }
    store.trips = 0;
    auto r = allocator.release_handle(handle, drop);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(store.trips, 2) << "release " << i;
    EXPECT_TRUE(store.list(keys::kBlocks).value().kvs.empty());
  }
  // With the handle as the caller read it (the pod gateway's, read with its pool's blocks): the
  // commit alone, though the block changed since the handle was read.
  ASSERT_TRUE(allocator.allocate({"n1", {}, pools}, {"g", Family::V4, {}}).ok());
  auto as_read = store.get(keys::handle("g")).value();
  ASSERT_TRUE(allocator.allocate({"n1", {}, pools}, {"g2", Family::V4, {}}).ok());
  store.trips = 0;
  auto r = allocator.release_handle("g", std::move(as_read), drop);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(store.trips, 1);
  EXPECT_FALSE(store.get(keys::handle("g")).value().has_value());
  EXPECT_EQ(allocator.addresses_of("g2").value().size(), 1u);
}

// The agent's pod gateway as a companion (agent/pod_gateways.hpp): kept by n1's other workloads.
const ReleaseCompanion kGateway{[](const IPPool& p) { return "gw." + p.name; },
                                [](const Allocation& a) { return a.node == "n1" && !a.handle.starts_with("gw."); }};

TEST(AllocatorRoundTrips, ADelThatEmptiesTheBlockReleasesTheGatewayAndTheBlockInOneReadAndOneCommit) {
  // The convergence benchmark's DEL: the workload, then the gateway it leaves unused, empty the
  // node's block. Released one after the other, that was four round trips (the handle, its
  // release, the pool's blocks with the gateway's handle, its release).
  TripCountingStore store;
  Allocator allocator(store);
  const std::vector<IPPool> pools{pool("p", "10.0.0.0/24")};
  const ReleaseOptions drop{true};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(allocator.allocate({"n1", {}, pools}, {"gw.p", Family::V4, {}}).ok());
    ASSERT_TRUE(allocator.allocate({"n1", {}, pools}, {"w", Family::V4, {}}).ok());
    store.trips = 0;
    auto r = allocator.release_handle_with("w", pools, kGateway, drop);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(store.trips, 2) << "cycle " << i;
    EXPECT_EQ(r->released.size(), 1u);
    EXPECT_EQ(r->companions.size(), 1u);
    EXPECT_TRUE(store.list(keys::kBlocks).value().kvs.empty());
    EXPECT_TRUE(store.list(keys::kHandles).value().kvs.empty());
    EXPECT_TRUE(store.list(keys::kAffinity).value().kvs.empty());
  }
}

// The memory store, running `between` once after the next read_many returns: another writer
// between a release's read and its commit.
class InterleavingStore : public MemoryStore {
 public:
  Result<std::vector<ListResult>> read_many(const std::vector<Read>& reads) override {
    auto r = MemoryStore::read_many(reads);
    if (auto run = std::exchange(between, nullptr)) run();
    return r;
  }
  std::function<void()> between;
};

TEST(AllocatorReleaseWithCompanion, AWorkloadArrivingBetweenTheReadAndTheCommitKeepsTheGateway) {
  InterleavingStore store;
  Allocator allocator(store), other(store);  // `other`: a second agent process of n1 (a restart)
  const std::vector<IPPool> pools{pool("p", "10.0.0.0/24")};
  const auto gw = allocator.allocate({"n1", {}, pools}, {"gw.p", Family::V4, {}}).value();
  ASSERT_TRUE(allocator.allocate({"n1", {}, pools}, {"w", Family::V4, {}}).ok());
  Address late;
  store.between = [&] { late = other.allocate({"n1", {}, pools}, {"w2", Family::V4, {}}).value().address; };
  auto r = allocator.release_handle_with("w", pools, kGateway, ReleaseOptions{true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->released.size(), 1u);
  EXPECT_TRUE(r->companions.empty());  // the retry saw w2
  EXPECT_EQ(allocator.addresses_of("gw.p").value(), std::vector<Address>{gw.address});
  EXPECT_EQ(allocator.addresses_of("w2").value(), std::vector<Address>{late});
  EXPECT_TRUE(allocator.addresses_of("w").value().empty());
}

TEST(AllocatorReleaseWithCompanion, AHandleOutsideTheCachedBlocksIsReleasedAloneAndSaysSo) {
  MemoryStore store;
  Allocator allocator(store), fresh(store);  // `fresh` has cached nothing (an agent just started)
  const std::vector<IPPool> pools{pool("p", "10.0.0.0/24")};
  ASSERT_TRUE(allocator.allocate({"n1", {}, pools}, {"gw.p", Family::V4, {}}).ok());
  ASSERT_TRUE(allocator.allocate({"n1", {}, pools}, {"w", Family::V4, {}}).ok());
  auto r = fresh.release_handle_with("w", pools, kGateway, ReleaseOptions{true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->companions_checked);  // the caller sees to the gateway (PodGateways does)
  EXPECT_EQ(r->released.size(), 1u);
  EXPECT_EQ(allocator.addresses_of("gw.p").value().size(), 1u);
}

TEST(BlockKeys, SortInAddressOrderAndRoundTrip) {
  const auto a = Prefix::parse("192.168.0.64/26").value();
  const auto b = Prefix::parse("192.168.1.0/26").value();
  EXPECT_EQ(keys::block_id(a), "192.168.000.064-26");
  EXPECT_LT(keys::block_id(a), keys::block_id(b));
  EXPECT_EQ(keys::block_from_id(keys::block_id(a)).value(), a);
  const auto v6 = Prefix::parse("fd00::40/122").value();
  EXPECT_EQ(keys::block_from_id(keys::block_id(v6)).value(), v6);
  EXPECT_EQ(keys::blocks_within(Prefix::parse("192.168.0.0/24").value()), keys::kBlocks + "192.168.000.");
  EXPECT_EQ(keys::handle("k8s-pod-network.abc/def"), keys::kHandles + "k8s-pod-network.abc%2Fdef");
}

TEST(AllocationBlockJson, RejectsInconsistentRecords) {
  AllocationBlock b(Prefix::parse("10.0.0.0/30").value(), "n1");
  b.assign({"h", "n1"});
  auto round = AllocationBlock::from_json(b.to_json());
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->allocations(), b.allocations());
  EXPECT_FALSE(AllocationBlock::from_json(R"({"cidr":"10.0.0.0/30","allocations":{"0":{"handle":"h"}},"unallocated":[0,1,2,3]})").ok());
  EXPECT_FALSE(AllocationBlock::from_json(R"({"cidr":"10.0.0.0/30","allocations":{},"unallocated":[0,1]})").ok());
  EXPECT_FALSE(AllocationBlock::from_json("not json").ok());
}

}  // namespace
}  // namespace blockd::ipam

namespace blockd::ipam {
namespace {

// Calico's allowedUses: a Tunnel-only pool supplies tunnel addresses (the VXLAN VTEP) and never a
// workload's; a Workload-only pool never a tunnel address.
TEST(AllocatorAllowedUses, EachUseComesOnlyFromPoolsAllowingIt) {
  struct Case {
    std::string name;
    std::vector<std::vector<std::string>> uses;  // of pools a (10.0.0.0/24) and b (10.1.0.0/24)
    AddressUse use;
    std::string pool;   // where the address comes from ("" = refused)
    std::string error;  // part of the refusal
  };
  const std::vector<Case> cases = {
      {"tunnel from the tunnel-only pool", {{"Workload"}, {"Tunnel"}}, AddressUse::Tunnel, "b", ""},
      {"workload from the workload-only pool", {{"Tunnel"}, {"Workload"}}, AddressUse::Workload, "b", ""},
      {"no workload from tunnel-only pools", {{"Tunnel"}, {"Tunnel"}}, AddressUse::Workload, "",
       "a: allowedUses does not include Workload; b: allowedUses does not include Workload"},
      {"no tunnel from workload-only pools", {{"Workload"}, {"Workload"}}, AddressUse::Tunnel, "",
       "a: allowedUses does not include Tunnel"},
      {"both uses allowed", {{"Workload", "Tunnel"}, {"Tunnel"}}, AddressUse::Tunnel, "a", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    MemoryStore store;
    Allocator allocator(store);
    std::vector<IPPool> pools{pool("a", "10.0.0.0/24"), pool("b", "10.1.0.0/24")};
    pools[0].allowed_uses = c.uses[0];
    pools[1].allowed_uses = c.uses[1];
    AllocationRequest req{"h", Family::V4, {}, c.use};
    auto r = allocator.allocate({"n1", {}, pools}, req);
    if (c.pool.empty()) {
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
    } else {
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->pool, c.pool);
    }
  }
}

}  // namespace
}  // namespace blockd::ipam
