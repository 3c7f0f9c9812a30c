// Many agents, one pool, one etcd: eight processes (tests/integration/ipam/allocation_driver.cpp)
// allocate and release thousands of addresses at once, also while etcd is killed and restarted,
// while a member of a three-member cluster stops, and while one of them is killed with SIGKILL.
// Afterwards every address a process believes it holds is held by its handle in the store, no
// address is believed held by two, and `ipam check` finds no leak or inconsistency.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "ipam/allocator.hpp"
#include "ipam/block.hpp"
#include "ipam/store/etcd_store.hpp"
#include "ipam/ipam_check.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"
#include "tests/integration/ipam/etcd_cluster.hpp"
#include "tests/support/ipam/test_pool.hpp"

namespace blockd::ipam::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kAgents = 8;

struct Agent {
  pid_t pid = -1;
  fs::path out, err;
  std::map<std::string, std::string> held;  // handle -> address it believes it holds
  std::set<std::string> released;
  int allocated = 0;
  bool done = false;
  int errors = 0;

  void read() {
    held.clear();
    released.clear();
    allocated = 0;
    std::ifstream in(out);
    std::string tag, handle, address, line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      ls >> tag;
      if (tag == "A") {
        ls >> handle >> address;
        held[handle] = address;
        ++allocated;
      } else if (tag == "R") {
        ls >> handle;
        held.erase(handle);
        released.insert(handle);
      } else if (tag == "DONE") {
        done = true;
        std::string e;
        ls >> e;
        errors = std::stoi(e.substr(e.find('=') + 1));
      }
    }
  }
  std::string stderr_text() const {
    std::ifstream in(err);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

class EtcdAllocation : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& a : agents) {
      if (a.pid > 0) {
        ::kill(a.pid, SIGKILL);
        ::waitpid(a.pid, nullptr, 0);
      }
    }
  }

  // Agents on `nodes` nodes (fewer nodes than agents: agents contend for one node's blocks),
  // `per_agent` allocations each, every second one released at once.
  void start_agents(const std::string& url, const fs::path& dir, int per_agent, int nodes) {
    this->per_agent = per_agent;
    {
      auto store = EtcdStore::open(url).value();
      ResourceStore resources(*store);
      ASSERT_TRUE(resources.write(test_pool(), WriteMode::Create).ok());
      for (int n = 0; n < nodes; ++n) {  // blocks must be affine to nodes that exist
        Node node;
        node.name = "node-" + std::to_string(n);
        auto w = resources.write(node, WriteMode::Create);
        ASSERT_TRUE(w.ok()) << w.error().message;
      }
    }
    for (int i = 0; i < kAgents; ++i) {
      Agent a;
      a.out = dir / ("agent-" + std::to_string(i) + ".out");
      a.err = dir / ("agent-" + std::to_string(i) + ".err");
      const std::string node = "node-" + std::to_string(i % nodes);
      const pid_t pid = ::fork();
      if (pid == 0) {
        const int o = ::open(a.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int e = ::open(a.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(o, 1);
        ::dup2(e, 2);
        const std::string id = std::to_string(i), count = std::to_string(per_agent);
        ::execl(BLOCKD_ALLOCATION_DRIVER, BLOCKD_ALLOCATION_DRIVER, url.c_str(), id.c_str(), count.c_str(), node.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
      }
      a.pid = pid;
      agents.push_back(a);
    }
  }

  // Waits until the agents together allocated `n` addresses (to pick a moment mid-run).
  void wait_progress(int n) {
    for (int i = 0; i < 1200; ++i) {
      int total = 0;
      for (auto& a : agents) {
        a.read();
        total += a.allocated;
      }
      if (total >= n) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the agents never reached " << n << " allocations";
  }

  void wait_agent(Agent& a, bool expect_success) {
    int status = 0;
    ASSERT_EQ(::waitpid(a.pid, &status, 0), a.pid);
    a.pid = -1;
    a.read();
    if (expect_success) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "agent failed (" << status << "):\n" << a.stderr_text().substr(0, 3000);
      EXPECT_TRUE(a.done);
      EXPECT_EQ(a.allocated, per_agent);
      EXPECT_EQ(a.held.size(), static_cast<std::size_t>(per_agent / 2));
    }
  }

  // Every address an agent believes it holds is its handle's in the store; no address twice;
  // ipam check clean. killed: agents whose last step may not have been printed: a release that
  // committed just before the kill leaves one address the agent still believes it holds, free
  // in the store or already handed to another agent.
  void expect_consistent(Datastore& store, const std::set<int>& killed = {}) {
    std::map<std::string, std::string> believed;  // address -> handle, live agents' and killed ones'
    std::set<std::string> of_killed;               // addresses believed only by killed agents
    for (int pass = 0; pass < 2; ++pass) {         // live agents first: they must never collide
      for (std::size_t i = 0; i < agents.size(); ++i) {
        if (killed.count(static_cast<int>(i)) != (pass == 1)) continue;
        for (const auto& [handle, address] : agents[i].held) {
          auto [it, fresh] = believed.emplace(address, handle);
          if (pass == 1) {
            if (fresh) of_killed.insert(address);
            continue;  // a collision is a released address given again: counted below
          }
          EXPECT_TRUE(fresh) << "address " << address << " believed held by " << it->second << " and " << handle;
        }
      }
    }
    std::size_t believed_total = 0;
    for (const auto& a : agents) believed_total += a.held.size();
    // Ask the store who holds each believed address.
    std::size_t checked = 0;
    auto blocks = store.list(keys::kBlocks);
    ASSERT_TRUE(blocks.ok()) << blocks.error().message;
    std::map<std::string, std::string> actual;  // address -> handle
    for (const auto& kv : blocks->kvs) {
      auto block = AllocationBlock::from_json(kv.value);
      ASSERT_TRUE(block.ok()) << kv.key << ": " << block.error().message;
      for (const auto& [address, handle] : believed) {
        auto addr = Address::parse(address);
        ASSERT_TRUE(addr.ok()) << address;
        if (!block->cidr().contains(*addr)) continue;
        auto who = block->allocation_of(*addr);
        actual[address] = who ? who->handle : "(free)";
      }
      checked += block->allocations().size();
    }
    std::size_t released_unprinted = 0;
    for (const auto& [address, handle] : believed) {
      if (of_killed.count(address) && actual[address] != handle) {
        ++released_unprinted;
        continue;
      }
      EXPECT_EQ(actual[address], handle) << "address " << address;
    }
    for (int k : killed) {
      for (const auto& [handle, address] : agents[static_cast<std::size_t>(k)].held) {
        if (believed[address] != handle) ++released_unprinted;  // already given to a live agent
      }
    }
    EXPECT_LE(released_unprinted, killed.size()) << "more addresses of killed agents gone than releases in flight";
    // Allocations in the store: exactly what the agents hold, but for at most one in flight per
    // killed agent.
    EXPECT_GE(checked + killed.size(), believed_total);
    EXPECT_LE(checked, believed_total + killed.size());
    auto report = check_ipam(store);
    ASSERT_TRUE(report.ok()) << report.error().message;
    for (const auto& p : report->problems) ADD_FAILURE() << "ipam check: " << p;
    EXPECT_EQ(report->allocations, checked);
  }

  std::vector<Agent> agents;
  int per_agent = 0;
};

TEST_F(EtcdAllocation, EightAgentsShareOnePoolWithoutDuplicatesOrLeaks) {
  EtcdCluster etcd(1);
  start_agents(etcd.url(), etcd.dir(), 1000, kAgents);
  for (auto& a : agents) wait_agent(a, true);
  auto store = EtcdStore::open(etcd.url()).value();
  expect_consistent(*store);
}

TEST_F(EtcdAllocation, TwoAgentsPerNodeClaimOnlyTheBlocksTheyNeed) {
  // Two agents per node race for each new block; the one that loses (or sees its sibling's
  // affinity before claiming) allocates in the sibling's block instead of claiming another,
  // and the four nodes start their searches at different blocks.
  EtcdCluster etcd(1);
  start_agents(etcd.url(), etcd.dir(), 250, kAgents / 2);
  for (auto& a : agents) wait_agent(a, true);
  auto store = EtcdStore::open(etcd.url()).value();
  expect_consistent(*store);
  auto blocks = store->list(keys::kBlocks);
  ASSERT_TRUE(blocks.ok()) << blocks.error().message;
  std::map<std::string, std::pair<std::size_t, std::size_t>> per_node;  // node -> blocks, used
  for (const auto& kv : blocks->kvs) {
    auto block = AllocationBlock::from_json(kv.value).value();
    ++per_node[block.affinity()].first;
    per_node[block.affinity()].second += block.used();
  }
  ASSERT_EQ(per_node.size(), static_cast<std::size_t>(kAgents / 2));
  for (const auto& [node, counts] : per_node) {
    // Each node's agents hold 2 x 125 at the end, one more each in flight at most; one block
    // of slack for a claim that raced its sibling's despite the re-read.
    EXPECT_EQ(counts.second, 250u) << node;
    EXPECT_LE(counts.first, (counts.second + 2 + 63) / 64 + 1) << node << " claimed " << counts.first << " blocks";
  }
}

TEST_F(EtcdAllocation, EtcdKilledAndRestartedMidRunFailsClearlyThenResumes) {
  EtcdCluster etcd(1);
  start_agents(etcd.url(), etcd.dir(), 250, kAgents);
  wait_progress(kAgents * per_agent / 4);
  etcd.stop(0, SIGKILL);
  std::this_thread::sleep_for(1500ms);  // long enough for every agent to hit the outage
  etcd.start(0);
  etcd.wait_ready(0);
  int errors = 0;
  for (auto& a : agents) {
    wait_agent(a, true);
    errors += a.errors;
    if (a.errors > 0) {
      // The error each agent saw names the store and what failed.
      const auto text = a.stderr_text();
      EXPECT_NE(text.find(etcd.endpoint(0)), std::string::npos) << text.substr(0, 2000);
      EXPECT_NE(text.find("unavailable"), std::string::npos) << text.substr(0, 2000);
    }
  }
  EXPECT_GT(errors, 0) << "no agent noticed etcd was down";
  auto store = EtcdStore::open(etcd.url()).value();
  expect_consistent(*store);
}

TEST_F(EtcdAllocation, AnAgentKilledWithSigkillMidTransactionLeavesNoLeak) {
  EtcdCluster etcd(1);
  start_agents(etcd.url(), etcd.dir(), 250, kAgents / 2);  // two agents per node contend too
  wait_progress(kAgents * per_agent / 4);
  ASSERT_EQ(::kill(agents[0].pid, SIGKILL), 0);
  wait_agent(agents[0], false);
  for (std::size_t i = 1; i < agents.size(); ++i) wait_agent(agents[i], true);
  EXPECT_LT(agents[0].allocated, per_agent) << "agent 0 finished before it was killed";
  auto store = EtcdStore::open(etcd.url()).value();
  expect_consistent(*store, {0});
  // The store still serves the next allocation.
  Allocator allocator(*store);
  EXPECT_TRUE(allocator.allocate({"node-0", {}, {test_pool()}}, {"after", Family::V4, {}}).ok());
}

TEST_F(EtcdAllocation, ThreeMemberClusterLosesItsLeaderMidRunAndAllocationContinues) {
  EtcdCluster etcd(3);
  start_agents(etcd.url(), etcd.dir(), 250, kAgents);
  wait_progress(kAgents * per_agent / 4);
  const int leader = etcd.leader();
  ASSERT_GE(leader, 0);
  etcd.stop(leader, SIGKILL);
  for (auto& a : agents) wait_agent(a, true);
  auto store = EtcdStore::open(etcd.url()).value();
  expect_consistent(*store);
}

}  // namespace
}  // namespace blockd::ipam::testing
