// IPAM lifecycle on every backend (memory, SQLite, etcd: the DatastoreConformance
// instantiations): pool changes as Calico makes them (cidr immutable, blockSize against the
// blocks already claimed, delete = disable + release empty blocks, a selector change gives back
// the empty blocks of nodes no longer selected), each against a concurrent allocator too.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "ipam/allocator.hpp"
#include "ipam/ipam_check.hpp"
#include "ipam/keys.hpp"
#include "ipam/node_release.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/resources/resource_codec.hpp"
#include "tests/datastore/conformance.hpp"
#include "tests/datastore/lifecycle.hpp"

namespace blockd::ipam::testing {
namespace {

// n1 (rack 0) and n2 (rack 1); pool p (10.0.0.0/24, /26 blocks) selecting both. n1 starts its
// search for a block at the first /26, n2 at the second (allocator_test.cpp).
void two_nodes_one_pool(Lifecycle& l, const std::string& selector = "all()") {
  ASSERT_TRUE(l.apply(node_yaml("n1", "0") + "---\n" + node_yaml("n2", "1")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24", "  nodeSelector: " + selector + "\n")).ok());
}

struct PoolChangeCase {
  std::string name;
  std::string change;  // applied after n1 holds 10.0.0.0 in 10.0.0.0/26 of pool p
  std::string error;   // what the message must contain ("" = accepted)
};

TEST_P(DatastoreConformance, PoolChangesAreCheckedAgainstTheStoredPoolAndItsBlocks) {
  const std::vector<PoolChangeCase> cases = {
      {"same cidr, new selector", pool_yaml("p", "10.0.0.0/24", "  nodeSelector: rack == '0'\n"), ""},
      {"cidr grown", pool_yaml("p", "10.0.0.0/23"),
       "IPPool p: spec.cidr: cannot be modified (it is 10.0.0.0/24, the new version has 10.0.0.0/23"},
      {"cidr moved", pool_yaml("p", "10.0.1.0/24"), "IPPool p: spec.cidr: cannot be modified"},
      {"blockSize changed", pool_yaml("p", "10.0.0.0/24", "  blockSize: 28\n"),
       "IPPool p: spec.blockSize: cannot change"},
      {"new pool over a block of another size", pool_yaml("q", "10.0.0.0/25", "  blockSize: 28\n"),
       "IPPool q: spec.cidr: 10.0.0.0/25 overlaps IPPool p"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto fresh = GetParam().make();
    Lifecycle l(*fresh);
    two_nodes_one_pool(l);
    ASSERT_EQ(l.allocate("n1", "h1").value().address.str(), "10.0.0.0");
    auto s = l.apply(c.change);
    if (c.error.empty()) {
      EXPECT_TRUE(s.ok()) << s.error().message;
    } else {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.error().code, ErrorCode::Invalid);
      EXPECT_NE(s.error().message.find(c.error), std::string::npos) << s.error().message;
    }
    EXPECT_EQ(l.block("10.0.0.0/26")->used(), 1u);  // nothing renumbered
    l.expect_check_clean();
  }
}

TEST_P(DatastoreConformance, APoolOverBlocksOfAnotherSizeIsRejectedNamingTheBlock) {
  Lifecycle l(*store);
  two_nodes_one_pool(l);
  ASSERT_TRUE(l.allocate("n1", "h1").ok());
  ASSERT_TRUE(l.resources_.remove("IPPool", "p").ok());  // 10.0.0.0/26 stays: it holds h1
  ASSERT_TRUE(l.block("10.0.0.0/26"));
  auto s = l.apply(pool_yaml("q", "10.0.0.0/24", "  blockSize: 28\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "IPPool q: spec.blockSize: 28 conflicts with block 10.0.0.0/26, already claimed inside 10.0.0.0/24 "
            "(release its addresses first, or give the pool that block size)");
  EXPECT_TRUE(l.apply(pool_yaml("q", "10.0.0.0/24", "  blockSize: 26\n")).ok());  // the same size is fine
}

TEST_P(DatastoreConformance, DeletingAPoolReleasesItsEmptyBlocksAndKeepsThoseInUseUntilEmpty) {
  Lifecycle l(*store);
  two_nodes_one_pool(l);
  ASSERT_EQ(l.allocate("n1", "h1").value().block.str(), "10.0.0.0/26");
  ASSERT_EQ(l.allocate("n2", "h2").value().block.str(), "10.0.0.64/26");
  l.release("h2");  // n2's block stays affine, empty (release_empty_blocks is off)
  ASSERT_TRUE(l.block("10.0.0.64/26"));

  ASSERT_TRUE(l.resources_.remove("IPPool", "p").ok());
  EXPECT_FALSE(l.resources_.get("IPPool", "p").value().has_value());
  EXPECT_FALSE(l.block("10.0.0.64/26"));  // empty: its affinity released, its route withdrawn
  EXPECT_FALSE(l.affine("n2", "10.0.0.64/26"));
  ASSERT_TRUE(l.block("10.0.0.0/26"));  // in use: stays affine (and routed) until empty
  EXPECT_EQ(l.block("10.0.0.0/26")->affinity(), "n1");
  EXPECT_TRUE(l.affine("n1", "10.0.0.0/26"));
  l.expect_check_clean();

  l.release("h1");  // its last address: the block goes with it
  EXPECT_FALSE(l.block("10.0.0.0/26"));
  EXPECT_FALSE(l.affine("n1", "10.0.0.0/26"));
  l.expect_check_clean();
}

TEST_P(DatastoreConformance, DeletingADisabledPoolFinishesAnInterruptedDelete) {
  Lifecycle l(*store);
  two_nodes_one_pool(l);
  ASSERT_TRUE(l.allocate("n2", "h2").ok());
  l.release("h2");
  // A delete that crashed after step 1 left the pool disabled and its empty block affine.
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24", "  disabled: true\n")).ok());
  ASSERT_TRUE(l.resources_.remove("IPPool", "p").ok());
  EXPECT_FALSE(l.block("10.0.0.64/26"));
  EXPECT_FALSE(l.affine("n2", "10.0.0.64/26"));
  l.expect_check_clean();
}

struct SelectorCase {
  std::string name;
  std::string change;           // the pool p's spec lines after the change
  std::vector<std::string> kept;  // empty blocks still there afterwards
  std::vector<std::string> gone;
};

TEST_P(DatastoreConformance, ASelectorChangeReleasesTheEmptyBlocksOfNodesNoLongerSelected) {
  const std::vector<SelectorCase> cases = {
      {"rack 0 only", "  nodeSelector: rack == '0'\n", {"10.0.0.0/26"}, {"10.0.0.64/26"}},
      {"rack 1 only", "  nodeSelector: rack == '1'\n", {"10.0.0.64/26"}, {"10.0.0.0/26"}},
      {"still both", "  nodeSelector: has(rack)\n", {"10.0.0.0/26", "10.0.0.64/26"}, {}},
      {"disabled", "  disabled: true\n", {}, {"10.0.0.0/26", "10.0.0.64/26"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto fresh = GetParam().make();
    Lifecycle l(*fresh);
    two_nodes_one_pool(l);
    ASSERT_TRUE(l.allocate("n1", "h1").ok());
    ASSERT_TRUE(l.allocate("n2", "h2").ok());
    ASSERT_TRUE(l.allocate("n2", "h3").ok());  // stays: a workload in a de-selected pool keeps its address
    l.release("h1");
    l.release("h2");
    ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24", c.change)).ok());
    for (const auto& b : c.kept) EXPECT_TRUE(l.block(b)) << b;
    for (const auto& b : c.gone) {
      // n2's block holds h3: it is never released under it.
      if (b == "10.0.0.64/26") {
        ASSERT_TRUE(l.block(b));
        EXPECT_EQ(l.block(b)->used(), 1u);
        l.release("h3");
        ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24", c.change + "  natOutgoing: true\n")).ok());
      }
      EXPECT_FALSE(l.block(b)) << b;
    }
    l.expect_check_clean();
  }
}

TEST_P(DatastoreConformance, AnAllocationGivesBackTheNodesEmptyBlocksOfPoolsThatNoLongerSelectIt) {
  Lifecycle l(*store);
  two_nodes_one_pool(l);
  ASSERT_TRUE(l.apply(pool_yaml("q", "10.1.0.0/24")).ok());
  ASSERT_EQ(l.allocate("n1", "h1").value().pool, "p");
  l.release("h1");
  // The selector changes in a stored pool the agent reads (no blockctl apply): its next
  // allocation releases the block, as Calico's autoAssign does.
  auto pools = l.resources_.pools().value();
  for (auto& p : pools) {
    if (p.name == "p") {
      p.node_selector = "rack == '1'";
      p.parsed_selector = {};
    }
  }
  auto a = l.allocator_.allocate({"n1", {{"rack", "0"}}, pools}, {"h2", Family::V4, {}});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->pool, "q");
  EXPECT_FALSE(l.block("10.0.0.0/26"));
  EXPECT_FALSE(l.affine("n1", "10.0.0.0/26"));
}

struct NodeRemovalCase {
  std::string name;
  std::vector<std::string> handles;  // allocated on n1, in this order
  bool force;
  std::string error;  // "" = done
};

bool own_of_n1(const std::string& h) { return h == "vxlan-tunnel-addr.n1" || h.starts_with("gateway.n1."); }

TEST_P(DatastoreConformance, RemovingANodeReleasesItsOwnAddressesAndRefusesWhileWorkloadsRun) {
  const std::vector<NodeRemovalCase> cases = {
      {"own addresses only", {"vxlan-tunnel-addr.n1", "gateway.n1.p"}, false, ""},
      {"a workload, not forced", {"gateway.n1.p", "pod-a"}, false,
       "node n1 still has workloads holding addresses: pod-a (10.0.0.1); release them first or use --force"},
      {"two workloads, forced", {"gateway.n1.p", "pod-a", "pod-b"}, true, ""},
      {"nothing at all", {}, false, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto fresh = GetParam().make();
    Lifecycle l(*fresh);
    two_nodes_one_pool(l);
    for (const auto& h : c.handles) ASSERT_TRUE(l.allocate("n1", h).ok()) << h;
    ASSERT_TRUE(l.allocate("n2", "pod-on-n2").ok());
    auto r = release_node_ipam(*fresh, "n1", {own_of_n1, c.force});
    if (!c.error.empty()) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::Invalid);
      EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
      EXPECT_EQ(l.block("10.0.0.0/26")->used(), c.handles.size());  // nothing released
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->released.size(), c.handles.size());
    EXPECT_FALSE(l.block("10.0.0.0/26"));  // its block given back, its route withdrawn
    EXPECT_FALSE(l.affine("n1", "10.0.0.0/26"));
    EXPECT_TRUE(l.resources_.remove("Node", "n1").ok());
    EXPECT_EQ(l.block("10.0.0.64/26")->used(), 1u);  // the other node untouched
    l.expect_check_clean();
  }
}

TEST_P(DatastoreConformance, ARemovedNodesBlockStaysForAddressesOtherNodesBorrowedFromIt) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0") + "---\n" + node_yaml("n2", "1")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/26")).ok());  // one block: n2 must borrow
  ASSERT_EQ(l.allocate("n1", "pod-a").value().address.str(), "10.0.0.0");
  auto borrowed = l.allocate("n2", "pod-b").value();
  ASSERT_TRUE(borrowed.borrowed);
  auto r = release_node_ipam(*store, "n1", {own_of_n1, true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->blocks_unaffined, std::vector<Prefix>{Prefix::parse("10.0.0.0/26").value()});
  ASSERT_TRUE(l.block("10.0.0.0/26"));
  EXPECT_EQ(l.block("10.0.0.0/26")->affinity(), "");
  EXPECT_FALSE(l.affine("n1", "10.0.0.0/26"));
  EXPECT_EQ(l.allocator_.addresses_of("pod-b").value(), std::vector<Address>{borrowed.address});
  ASSERT_TRUE(l.resources_.remove("Node", "n1").ok());
  l.expect_check_clean();
}

// A pod's DEL as the agent makes it (agent/pod_gateways.hpp): the workload's address, its
// node's pod gateway in the pool when no workload of the node is left there (one borrowed from
// another node's block counts), and the block this empties, in one commit; the gateway and the
// block stay while they serve.
struct CompanionCase {
  std::string name;
  std::vector<std::string> more;  // n1's workloads besides w (w2: borrowed from n2's block)
  bool release_empty_blocks;
  bool gateway_released;
  bool block_kept;
};

TEST_P(DatastoreConformance, ADelReleasesTheGatewayItLeavesUnusedAndTheBlockItEmptiesInOneCommit) {
  const std::vector<CompanionCase> cases = {
      {"the node's last workload, releaseEmptyBlocks", {}, true, true, false},
      {"the node's last workload, empty blocks kept", {}, false, true, true},
      {"another workload in the block", {"w1"}, true, false, true},
      {"another workload borrowed from n2's block", {"f1", "f2", "w2"}, true, false, true},
  };
  const std::string gateway = "gateway.n1.p";
  const ReleaseCompanion companion{[&](const IPPool& pool) { return "gateway.n1." + pool.name; },
                                   [&](const Allocation& a) { return a.node == "n1" && a.handle != gateway; }};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto fresh = GetParam().make();
    Lifecycle l(*fresh);
    ASSERT_TRUE(l.apply(node_yaml("n1", "0") + "---\n" + node_yaml("n2", "1")).ok());
    // Two blocks of four addresses: once n2 holds the other, n1 borrows when its own is full.
    ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/29", "  blockSize: 30\n")).ok());
    const AllocatedAddress gw = l.allocate("n1", gateway).value();
    const AllocatedAddress w = l.allocate("n1", "w").value();
    ASSERT_TRUE(l.allocate("n2", "x").ok());
    for (const auto& h : c.more) {
      auto a = l.allocate("n1", h);
      ASSERT_TRUE(a.ok()) << h << ": " << a.error().message;
      EXPECT_EQ(a->borrowed, h == "w2") << h;
    }
    auto pools = l.resources_.pools().value();
    ReleaseOptions options{c.release_empty_blocks};
    options.pools = &pools;
    auto r = l.allocator_.release_handle_with("w", pools, companion, options);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->companions_checked);
    ASSERT_EQ(r->released.size(), 1u);
    EXPECT_EQ(r->released[0].address, w.address);
    ASSERT_EQ(r->companions.size(), c.gateway_released ? 1u : 0u);
    if (c.gateway_released) { EXPECT_EQ(r->companions[0].address, gw.address); }
    EXPECT_EQ(l.allocator_.addresses_of(gateway).value().empty(), c.gateway_released);
    EXPECT_TRUE(l.allocator_.addresses_of("w").value().empty());
    EXPECT_EQ(l.block(w.block.str()).has_value(), c.block_kept);
    EXPECT_EQ(l.affine("n1", w.block.str()), c.block_kept);
    // Released once: a second DEL finds nothing and keeps what serves.
    auto again = l.allocator_.release_handle_with("w", pools, companion, options);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(again->released.empty());
    EXPECT_EQ(l.allocator_.addresses_of(gateway).value().empty(), c.gateway_released);
    for (const auto& h : c.more) l.release(h);
    l.release("x");
    if (!c.gateway_released) l.release(gateway);
    l.expect_check_clean();
  }
}

// Allocators run while one pool is deleted and another's selector changes: afterwards no
// address is held twice, every address a workload still holds is in its block, and `ipam
// check` is clean once the workloads are gone.
TEST_P(DatastoreConformance, PoolDeleteAndSelectorChangeUnderConcurrentAllocators) {
  Lifecycle setup(*store);
  ASSERT_TRUE(setup.apply(node_yaml("n0", "0") + "---\n" + node_yaml("n1", "1") + "---\n" + node_yaml("n2", "0") +
                          "---\n" + node_yaml("n3", "1"))
                  .ok());
  ASSERT_TRUE(setup.apply(pool_yaml("doomed", "10.0.0.0/24", "  blockSize: 28\n")).ok());
  ASSERT_TRUE(setup.apply(pool_yaml("narrowed", "10.1.0.0/24", "  blockSize: 28\n")).ok());
  ASSERT_TRUE(setup.apply(pool_yaml("spare", "10.2.0.0/22", "  blockSize: 28\n")).ok());

  constexpr int kAllocators = 8, kRounds = 12;
  std::atomic<bool> failed{false};
  std::vector<std::map<std::string, Address>> held(kAllocators);  // per allocator: handle -> address
  std::vector<std::thread> threads;
  for (int t = 0; t < kAllocators; ++t) {
    threads.emplace_back([&, t] {
      Lifecycle l(*store);
      const std::string node = "n" + std::to_string(t % 4);
      for (int i = 0; i < kRounds && !failed; ++i) {
        const std::string handle = "w" + std::to_string(t) + "." + std::to_string(i);
        auto a = l.allocate(node, handle);
        if (!a) {
          ADD_FAILURE() << handle << ": " << a.error().message;
          failed = true;
          return;
        }
        held[t][handle] = a->address;
        if (i % 3 == 1) {  // release some, so blocks empty out while the pools change
          l.release(held[t].begin()->first);
          held[t].erase(held[t].begin());
        }
      }
    });
  }
  Lifecycle admin(*store);
  EXPECT_TRUE(admin.apply(pool_yaml("narrowed", "10.1.0.0/24", "  blockSize: 28\n  nodeSelector: rack == '0'\n")).ok());
  EXPECT_TRUE(admin.resources_.remove("IPPool", "doomed").ok());
  for (auto& th : threads) th.join();
  ASSERT_FALSE(failed);

  // No address twice; each still held by its workload in the block that holds it.
  std::set<Address> seen;
  for (const auto& per : held) {
    for (const auto& [handle, address] : per) {
      EXPECT_TRUE(seen.insert(address).second) << address.str() << " held twice";
      auto addresses = admin.allocator_.addresses_of(handle).value();
      EXPECT_EQ(addresses, std::vector<Address>{address}) << handle << " lost " << address.str();
    }
  }
  admin.expect_check_clean();
  for (const auto& per : held) {
    for (const auto& [handle, address] : per) admin.release(handle);
  }
  admin.expect_check_clean();
  // Nothing of the deleted pool is left once its workloads are gone.
  auto left = store->list_keys(keys::blocks_within(Prefix::parse("10.0.0.0/24").value())).value();
  for (const auto& kv : left.kvs) {
    auto cidr = keys::block_from_id(kv.key.substr(keys::kBlocks.size()));
    EXPECT_FALSE(cidr && Prefix::parse("10.0.0.0/24").value().contains(*cidr)) << kv.key << " left";
  }
}

}  // namespace
}  // namespace blockd::ipam::testing

namespace blockd::ipam::testing {
namespace {

// Allocators on other nodes run (borrowing from the removed node's blocks: the pool has few)
// while a node with workloads is removed by force: no address held twice, none of theirs lost.
TEST_P(DatastoreConformance, NodeRemovalUnderConcurrentAllocators) {
  Lifecycle setup(*store);
  ASSERT_TRUE(setup.apply(node_yaml("gone", "0") + "---\n" + node_yaml("n1", "0") + "---\n" + node_yaml("n2", "1"))
                  .ok());
  ASSERT_TRUE(setup.apply(pool_yaml("p", "10.0.0.0/26", "  blockSize: 28\n")).ok());  // four blocks
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(setup.allocate("gone", "old" + std::to_string(i)).ok());
  ASSERT_TRUE(setup.allocate("gone", "vxlan-tunnel-addr.gone").ok());

  constexpr int kAllocators = 6, kRounds = 8;
  std::atomic<bool> failed{false};
  std::vector<std::map<std::string, Address>> held(kAllocators);
  std::vector<std::thread> threads;
  for (int t = 0; t < kAllocators; ++t) {
    threads.emplace_back([&, t] {
      Lifecycle l(*store);
      const std::string node = t % 2 ? "n1" : "n2";
      for (int i = 0; i < kRounds && !failed; ++i) {
        const std::string handle = "w" + std::to_string(t) + "." + std::to_string(i);
        auto a = l.allocate(node, handle);
        if (!a) {
          ADD_FAILURE() << handle << ": " << a.error().message;
          failed = true;
          return;
        }
        held[t][handle] = a->address;
      }
    });
  }
  auto removed = release_node_ipam(*store, "gone", {[](const std::string& h) { return h.starts_with("vxlan-"); }, true});
  for (auto& th : threads) th.join();
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  ASSERT_FALSE(failed);
  ASSERT_TRUE(setup.resources_.remove("Node", "gone").ok());

  std::set<Address> seen;
  for (const auto& per : held) {
    for (const auto& [handle, address] : per) {
      EXPECT_TRUE(seen.insert(address).second) << address.str() << " held twice";
      EXPECT_EQ(setup.allocator_.addresses_of(handle).value(), std::vector<Address>{address}) << handle;
    }
  }
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(setup.allocator_.addresses_of("old" + std::to_string(i)).value().empty());
  EXPECT_TRUE(store->list(keys::node_affinities("gone")).value().kvs.empty());
  setup.expect_check_clean();
}

}  // namespace
}  // namespace blockd::ipam::testing
