// Garbage collection on every backend (the DatastoreConformance instantiations): `ipam check`
// names each problem with an id, and releasing a report's item frees exactly it, re-checked
// with compare-and-swap: an item that came back into use since the report is kept.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "ipam/problem_release.hpp"
#include "tests/datastore/conformance.hpp"
#include "tests/datastore/lifecycle.hpp"

namespace blockd::ipam::testing {
namespace {

void erase_key(Datastore& store, const std::string& key) {
  ASSERT_TRUE(store.commit({{}, {Operation::erase(key)}}).value().succeeded) << key;
}

struct GcCase {
  std::string name;
  std::function<void(Lifecycle&)> make;       // n1, n2 and pool p exist; creates the problem
  std::vector<std::string> ids;               // what ipam check reports
  std::function<void(Lifecycle&)> come_back;  // puts it back into use before the release
};

TEST_P(DatastoreConformance, ReportedProblemsAreReleasedUnlessTheyCameBackIntoUse) {
  const std::vector<GcCase> cases = {
      {"leaked address (its handle is gone)",
       [](Lifecycle& l) {
         ASSERT_TRUE(l.allocate("n1", "h1").ok());
         ASSERT_TRUE(l.allocate("n1", "h9").ok());
         erase_key(l.store_, keys::handle("h1"));
       },
       {"leaked-address/10.0.0.0"},
       [](Lifecycle& l) {
         HandleRecord h{"h1", {{Prefix::parse("10.0.0.0/26").value(), 1}}};
         ASSERT_TRUE(l.store_.commit({{}, {Operation::put(keys::handle("h1"), h.to_json())}}).value().succeeded);
       }},
      {"a deleted node's workload and block",
       [](Lifecycle& l) {
         ASSERT_TRUE(l.allocate("n2", "h2").ok());
         erase_key(l.store_, keys::resource_folder("Node") + "n2");
       },
       {"deleted-node-affinity/n2/10.0.0.64/26", "deleted-node-address/10.0.0.64"},
       [](Lifecycle& l) { ASSERT_TRUE(l.apply(node_yaml("n2", "1")).ok()); }},
      {"an empty block of a deleted pool",
       [](Lifecycle& l) {
         ASSERT_TRUE(l.allocate("n1", "h1").ok());
         l.release("h1");
         erase_key(l.store_, keys::resource_folder("IPPool") + "p");
       },
       {"empty-block-outside-pools/10.0.0.0/26"},
       [](Lifecycle& l) { ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24")).ok()); }},
      {"a handle with no address",
       [](Lifecycle& l) {
         ASSERT_TRUE(l.allocate("n1", "h1").ok());
         HandleRecord ghost{"ghost", {{Prefix::parse("10.0.0.0/26").value(), 1}}};
         ASSERT_TRUE(l.store_.commit({{}, {Operation::put(keys::handle("ghost"), ghost.to_json())}}).value().succeeded);
       },
       {"empty-handle/ghost"},
       [](Lifecycle& l) { ASSERT_TRUE(l.allocate("n1", "ghost").ok()); }},
  };
  for (const auto& c : cases) {
    for (bool comes_back : {false, true}) {
      SCOPED_TRACE(c.name + (comes_back ? ", back in use" : ""));
      auto fresh = GetParam().make();
      Lifecycle l(*fresh);
      ASSERT_TRUE(l.apply(node_yaml("n1", "0") + "---\n" + node_yaml("n2", "1")).ok());
      ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/24")).ok());
      c.make(l);
      auto report = check_ipam(*fresh);
      ASSERT_TRUE(report.ok());
      std::vector<std::string> ids;
      for (const auto& p : report->problems) ids.push_back(p.id);
      ASSERT_EQ(ids, c.ids);
      // The report file's form, read back.
      auto problems = problems_from_json(problems_to_json(report->problems, report->revision));
      ASSERT_TRUE(problems.ok()) << problems.error().message;
      ASSERT_EQ(*problems, report->problems);
      if (comes_back) c.come_back(l);
      const auto before = fresh->list(kKeyRoot).value();
      for (const auto& p : *problems) {
        auto r = release_problem(*fresh, p);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->released, !comes_back) << p.id << ": " << r->reason;
      }
      if (comes_back) {
        // Nothing was written.
        EXPECT_EQ(fresh->list(kKeyRoot).value().revision, before.revision);
      } else {
        l.expect_check_clean();
        // The allocator is happy with what is left.
        if (!l.resources_.pools().value().empty()) { EXPECT_TRUE(l.allocate("n1", "after").ok()); }
      }
    }
  }
}

// 8 allocators on the pool while a report of 40 leaked addresses is released: only the leaked
// addresses are freed, every address the allocators were given stays theirs, ipam check is clean.
TEST_P(DatastoreConformance, ReleasingAReportUnderConcurrentAllocatorsFreesOnlyTheLeaks) {
  Lifecycle l(*store);
  std::string nodes;
  for (int n = 0; n < 8; ++n) nodes += (n ? "---\n" : "") + node_yaml("n" + std::to_string(n), "0");
  ASSERT_TRUE(l.apply(nodes).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/22", "  blockSize: 28\n")).ok());
  for (int i = 0; i < 40; ++i) {
    const std::string h = "leak" + std::to_string(i);
    ASSERT_TRUE(l.allocate("n" + std::to_string(i % 8), h).ok());
    erase_key(*store, keys::handle(h));
  }
  auto report = check_ipam(*store);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 40u);
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> given;  // handle, address
  std::vector<std::thread> threads;
  for (int n = 0; n < 8; ++n) {
    threads.emplace_back([&, n] {
      Lifecycle mine(*store);
      const std::string node = "n" + std::to_string(n);
      for (int i = 0; i < 10; ++i) {
        const std::string h = node + "-w" + std::to_string(i);
        auto a = mine.allocate(node, h);
        ASSERT_TRUE(a.ok()) << a.error().message;
        std::lock_guard lock(mu);
        given.emplace_back(h, a->address.str());
      }
    });
  }
  std::size_t released = 0;
  for (const auto& p : report->problems) {
    auto r = release_problem(*store, p);
    ASSERT_TRUE(r.ok()) << r.error().message;
    released += r->released;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(released, 40u);
  Allocator reader(*store);
  for (const auto& [h, address] : given) {
    auto held = reader.addresses_of(h).value();
    ASSERT_EQ(held.size(), 1u) << h;
    EXPECT_EQ(held[0].str(), address) << h;
  }
  l.expect_check_clean();
}

}  // namespace
}  // namespace blockd::ipam::testing
