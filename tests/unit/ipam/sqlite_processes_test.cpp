// Several processes allocating from one SQLite file at once, and one of them killed with
// SIGKILL in the middle: no address is handed out twice and `ipam check` stays clean.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "ipam/allocator.hpp"
#include "ipam/ipam_check.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/store/sqlite_store.hpp"
#include "tests/support/ipam/test_pool.hpp"

namespace blockd::ipam {
namespace {

std::vector<IPPool> test_pools() { return {testing::test_pool()}; }

// Child body: allocate `count` addresses on `node` (releasing every third) and exit 0, or 3 on
// error.
[[noreturn]] void allocate_in_child(const std::string& path, int id, int count, const std::string& node) {
  auto store = SqliteStore::open(path);
  if (!store) _exit(3);
  Allocator allocator(**store);
  const auto pools = test_pools();
  for (int i = 0; i < count; ++i) {
    const std::string handle = "w" + std::to_string(id) + "-" + std::to_string(i);
    auto a = allocator.allocate({node, {}, pools}, {handle, Family::V4, {}});
    if (!a) _exit(3);
    if (i % 3 == 0 && !allocator.release_handle(handle)) _exit(3);
  }
  _exit(0);
}

class SqliteProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("blockd-procs-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    path = (dir / "store.db").string();
    auto store = SqliteStore::open(path);
    ASSERT_TRUE(store.ok());
    ResourceStore resources(**store);
    // The pool is in the store as well, as the check judges blocks against the stored pools.
    ASSERT_TRUE(resources.write(testing::test_pool(), WriteMode::Create).ok());
    for (int i = 0; i < 4; ++i) {  // blocks must be affine to nodes that exist
      Node n;
      n.name = "node-" + std::to_string(i);
      ASSERT_TRUE(resources.write(n, WriteMode::Create).ok());
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  pid_t spawn(int id, int count) { return spawn_on("node-" + std::to_string(id % 4), id, count); }
  pid_t spawn_on(const std::string& node, int id, int count) {
    const pid_t pid = fork();
    if (pid == 0) allocate_in_child(path, id, count, node);
    return pid;
  }

  // No address twice: every allocation in every block has one owner by construction, so check
  // the handles: each handle holds exactly the addresses the blocks say, and vice versa.
  void expect_consistent() {
    auto store = SqliteStore::open(path).value();
    auto report = check_ipam(*store);
    ASSERT_TRUE(report.ok()) << report.error().message;
    for (const auto& p : report->problems) ADD_FAILURE() << p;
    EXPECT_GT(report->allocations, 0u);
  }

  std::filesystem::path dir;
  std::string path;
};

TEST_F(SqliteProcesses, ConcurrentAllocatorsShareOneFileSafely) {
  std::vector<pid_t> pids;
  for (int i = 0; i < 6; ++i) pids.push_back(spawn(i, 150));
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed: " << status;
  }
  expect_consistent();
  auto store = SqliteStore::open(path).value();
  auto report = check_ipam(*store).value();
  EXPECT_EQ(report.allocations, 6u * 100u);  // 150 each, every third released
}

TEST_F(SqliteProcesses, AgentsOfOneNodeClaimOnlyTheBlocksTheyNeed) {
  // Four processes for one node: a claim that loses to a sibling's uses the sibling's block
  // instead of claiming one more (each sibling starts its search at the node's block).
  std::vector<pid_t> pids;
  for (int i = 0; i < 4; ++i) pids.push_back(spawn_on("node-0", i, 300));
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed: " << status;
  }
  expect_consistent();
  auto store = SqliteStore::open(path).value();
  const auto report = check_ipam(*store).value();
  EXPECT_EQ(report.allocations, 4u * 200u);  // 300 each, every third released
  const auto blocks = store->list_keys(keys::kBlocks).value().kvs.size();
  // One address in flight per process beyond what is held at the end; one block of slack.
  EXPECT_LE(blocks, (report.allocations + 4 + 63) / 64 + 1) << "blocks for " << report.allocations << " addresses";
}

TEST_F(SqliteProcesses, KillNineMidStormLosesAndDuplicatesNothing) {
  std::vector<pid_t> pids;
  for (int i = 0; i < 4; ++i) pids.push_back(spawn(i, 100000));
  // Let the storm run, then kill one child at an arbitrary point of its work.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(kill(pids[0], SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (std::size_t i = 1; i < pids.size(); ++i) kill(pids[i], SIGKILL);
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status)) << "child ended before it was killed: " << status;
  }
  expect_consistent();
  // The store still works for the next allocator.
  auto store = SqliteStore::open(path).value();
  Allocator allocator(*store);
  EXPECT_TRUE(allocator.allocate({"node-0", {}, test_pools()}, {"after", Family::V4, {}}).ok());
}

}  // namespace
}  // namespace blockd::ipam
