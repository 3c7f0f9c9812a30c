// The agent's cluster view kept current by a watch, change by change: always what a fresh
// listing decodes to (decode_listing), with handle and affinity-index changes left out.
#include "agent/cluster_view.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ipam/allocator.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/store/memory_store.hpp"

namespace blockd::agent {
namespace {

using namespace std::chrono_literals;
using ipam::Family;
using ipam::IPPool;
using ipam::Node;
using ipam::Prefix;

// Waits (at most 10 s) until the watcher has called back with a view at `target` (a change it
// reads), so that the call has been counted.
std::shared_ptr<const ClusterView> caught_up(const ClusterWatcher& watcher, const std::atomic<std::int64_t>& called,
                                             std::int64_t target) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (called < target && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  return watcher.current();
}

// The pool the watch tests allocate from: 10.1.0.0/16 in /26 blocks.
IPPool test_pool() {
  IPPool pool;
  pool.name = "p";
  pool.cidr = Prefix::parse("10.1.0.0/16").value();
  pool.block_size = 26;
  return pool;
}

// Waits (at most 10 s) for a view that satisfies `ready`.
template <class Ready>
std::shared_ptr<const ClusterView> view_where(const ClusterWatcher& watcher, Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto view = watcher.current();
  while (!ready(*view) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    view = watcher.current();
  }
  return view;
}

void expect_same(const ClusterView& kept, const ClusterView& listed) {
  ASSERT_EQ(kept.blocks.size(), listed.blocks.size());
  for (auto k = kept.blocks.begin(), l = listed.blocks.begin(); k != kept.blocks.end(); ++k, ++l) {
    EXPECT_EQ(k->to_json(), l->to_json());
  }
  EXPECT_EQ(kept.resources->pools, listed.resources->pools);
  EXPECT_EQ(kept.resources->nodes, listed.resources->nodes);
  EXPECT_EQ(kept.problems, listed.problems);
}

TEST(ClusterWatcher, KeepsWhatAListingDecodesToChangeByChange) {
  ipam::MemoryStore store;
  ipam::ResourceStore resources(store);
  const IPPool pool = test_pool();
  ASSERT_TRUE(resources.write(pool, ipam::WriteMode::Create));
  std::atomic<int> changes{0};
  std::atomic<std::int64_t> called{0};  // the revision of the last view called back with
  ClusterWatcher watcher(store, [&](std::shared_ptr<const ClusterView> view) {
    ++changes;
    called = view->revision;
  });
  ASSERT_TRUE(watcher.start());

  for (const char* name : {"n1", "n2"}) {
    Node node;
    node.name = name;
    ASSERT_TRUE(resources.write(node, ipam::WriteMode::Create));
  }
  ipam::Allocator allocator(store);
  for (int i = 0; i < 5; ++i) {
    const ipam::AllocationContext ctx{i % 2 ? "n1" : "n2", {}, {pool}};
    ASSERT_TRUE(allocator.allocate(ctx, {"h" + std::to_string(i), Family::V4, {}}));
  }
  // Records the view cannot read are named in its problems, as a listing names them.
  auto last = store.commit({{}, {ipam::Operation::put(ipam::keys::kBlocks + "bad", "{"),
                                  ipam::Operation::put(ipam::keys::resource_folder("Node") + "bad", "[]")}});
  ASSERT_TRUE(last);
  auto view = caught_up(watcher, called, last->revision);
  auto listed = ipam::decode_listing(store.list(ipam::kKeyRoot).value());
  EXPECT_EQ(listed.blocks.size(), 2u);
  EXPECT_EQ(listed.problems.size(), 2u);
  expect_same(*view, listed);

  ASSERT_TRUE(allocator.release_handle("h0"));
  last = store.commit({{}, {ipam::Operation::erase(ipam::keys::kBlocks + "bad")}});
  ASSERT_TRUE(last);
  view = caught_up(watcher, called, last->revision);
  listed = ipam::decode_listing(store.list(ipam::kKeyRoot).value());
  EXPECT_EQ(listed.problems.size(), 1u);
  expect_same(*view, listed);

  // A handle alone changing changes nothing the view holds: no rebuild, no call.
  const int before = changes;
  ASSERT_TRUE(store.commit({{}, {ipam::Operation::put(ipam::keys::handle("lone"), "{}")}}));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(changes, before);
  watcher.stop();
}

// A change costs what changed: a new view shares with the last every piece that did not change
// (tests/bench/ipam/etcd_nodes_sim.cpp: with a thousand views, copying the rest made each
// allocation cost nodes x blocks copies).
TEST(ClusterWatcher, ANewViewSharesEveryUnchangedPieceWithTheLast) {
  ipam::MemoryStore store;
  ipam::ResourceStore resources(store);
  const IPPool pool = test_pool();
  ASSERT_TRUE(resources.write(pool, ipam::WriteMode::Create));
  for (const char* name : {"n1", "n2"}) {
    Node node;
    node.name = name;
    ASSERT_TRUE(resources.write(node, ipam::WriteMode::Create));
  }
  ipam::Allocator allocator(store);
  auto allocate = [&](const char* node, const std::string& handle) {
    auto a = allocator.allocate({node, {}, {pool}}, {handle, Family::V4, {}});
    EXPECT_TRUE(a);
    return a ? ipam::keys::block(a->block) : std::string();
  };
  const std::string n1_block = allocate("n1", "a"), n2_block = allocate("n2", "b");
  ClusterWatcher watcher(store, [](std::shared_ptr<const ClusterView>) {});
  ASSERT_TRUE(watcher.start());
  const auto first = watcher.current();

  allocate("n1", "c");  // changes n1's block alone
  const auto second = view_where(watcher, [&](const ClusterView& v) {
    auto b = v.blocks.find(n1_block);
    return b && b->block.allocations().size() == 2;
  });
  EXPECT_EQ(second->resources, first->resources);
  EXPECT_EQ(second->blocks.find(n2_block), first->blocks.find(n2_block));
  ASSERT_NE(second->blocks.find(n1_block), nullptr);
  EXPECT_NE(second->blocks.find(n1_block), first->blocks.find(n1_block));
  EXPECT_EQ(second->blocks.find(n1_block)->block.allocations().size(), 2u);
  std::vector<std::string> put;
  second->blocks.for_each_put_since(first->blocks, [&](const ipam::AllocationBlock& b) { put.push_back(b.affinity()); });
  EXPECT_EQ(put, std::vector<std::string>{"n1"});

  // A resource changing: new resources, the same blocks.
  Node n3;
  n3.name = "n3";
  ASSERT_TRUE(resources.write(n3, ipam::WriteMode::Create));
  const auto third = view_where(watcher, [](const ClusterView& v) { return v.resources->nodes.size() == 3; });
  ASSERT_EQ(third->resources->nodes.size(), 3u);
  EXPECT_NE(third->resources, second->resources);
  EXPECT_EQ(third->blocks.find(n1_block), second->blocks.find(n1_block));
  EXPECT_EQ(third->blocks.find(n2_block), second->blocks.find(n2_block));
  watcher.stop();
}

}  // namespace
}  // namespace blockd::agent
