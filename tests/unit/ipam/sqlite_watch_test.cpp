// The SQLite store's watch wakes on another process's commit (inotify on the store's folder,
// confirmed by SQLite's data_version) instead of polling: the wake itself, what does not wake
// it, and every commit of a burst from other processes delivered in order.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ipam/store/file_changes.hpp"
#include "ipam/store/sqlite_store.hpp"

namespace blockd::ipam {
namespace {

const std::string kPrefix = "/blockd/v1/test/";

class SqliteWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("blockd-watch-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    path = (dir / "store.db").string();
    store = SqliteStore::open(path).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // Another process opens the store, puts `count` keys (one store opened per put, as separate
  // blockctl runs do) and exits 0, or 3 on an error.
  pid_t write_from_child(int count) {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    for (int i = 0; i < count; ++i) {
      auto other = SqliteStore::open(path);
      if (!other) _exit(3);
      auto r = (*other)->commit({{}, {Operation::put(kPrefix + std::to_string(i), "v" + std::to_string(i))}});
      if (!r || !r->succeeded) _exit(3);
    }
    _exit(0);
  }
  void expect_child_ok(pid_t pid) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed: " << status;
  }

  std::filesystem::path dir;
  std::string path;
  std::unique_ptr<SqliteStore> store;
};

TEST_F(SqliteWatchTest, ACommitFromAnotherProcessWakesTheFolderWatch) {
  auto changes = FileChanges::watch(dir.string(), {"store.db", "store.db-wal"});
  ASSERT_NE(changes, nullptr);
  const pid_t pid = write_from_child(1);
  EXPECT_TRUE(changes->wait(std::chrono::seconds(30))) << "no write to the store or its WAL was reported";
  expect_child_ok(pid);
}

TEST_F(SqliteWatchTest, OtherFilesAndAQuietStoreDoNotWakeIt) {
  auto changes = FileChanges::watch(dir.string(), {"store.db", "store.db-wal"});
  ASSERT_NE(changes, nullptr);
  EXPECT_FALSE(changes->wait(std::chrono::milliseconds(50)));
  std::ofstream(dir / "unrelated.txt") << "not the store";
  EXPECT_FALSE(changes->wait(std::chrono::milliseconds(50)));
  // Reading the store writes nothing a watcher would take for a commit.
  ASSERT_TRUE(store->list(kPrefix).ok());
  EXPECT_FALSE(changes->wait(std::chrono::milliseconds(50)));
}

TEST_F(SqliteWatchTest, EveryCommitOfABurstFromOtherProcessesArrivesInOrder) {
  auto w = store->watch(kPrefix, store->list(kPrefix)->revision);
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_TRUE((*w)->next(std::chrono::milliseconds(1)).ok());  // the watcher is waiting when they write
  constexpr int kWrites = 200;
  const pid_t pid = write_from_child(kWrites);
  std::vector<WatchEvent> seen;
  for (int i = 0; i < 600 && seen.size() < kWrites; ++i) {
    auto b = (*w)->next(std::chrono::milliseconds(100));
    ASSERT_TRUE(b.ok()) << b.error().message;
    for (auto& e : b->events) seen.push_back(e);
  }
  expect_child_ok(pid);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kWrites));
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_EQ(seen[i].kv.key, kPrefix + std::to_string(i));
    EXPECT_EQ(seen[i].kv.value, "v" + std::to_string(i));
  }
}

}  // namespace
}  // namespace blockd::ipam
