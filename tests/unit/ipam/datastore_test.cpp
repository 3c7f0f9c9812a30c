// The conformance suite against the memory and SQLite backends, plus SQLite's own promises.
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "ipam/store/memory_store.hpp"
#include "ipam/store/sqlite_store.hpp"
#include "tests/datastore/conformance.hpp"

namespace blockd::ipam::testing {
namespace {

// Every folder temp_db made, removed when the test program ends (pass or fail).
class TempFolders : public ::testing::Environment {
 public:
  std::filesystem::path make() {
    auto dir = std::filesystem::temp_directory_path() /
               ("blockd-ds-" + std::to_string(getpid()) + "-" + std::to_string(made_.size()));
    std::filesystem::remove_all(dir);
    made_.push_back(dir);
    return dir;
  }
  void TearDown() override {
    for (const auto& dir : made_) std::filesystem::remove_all(dir);
  }

 private:
  std::vector<std::filesystem::path> made_;
};
TempFolders* const temp_folders =
    static_cast<TempFolders*>(::testing::AddGlobalTestEnvironment(new TempFolders));

std::string temp_db() { return (temp_folders->make() / "store.db").string(); }

INSTANTIATE_TEST_SUITE_P(Memory, DatastoreConformance,
                         ::testing::Values(StoreFactory{"memory", [] { return std::make_unique<MemoryStore>(); }}),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Sqlite, DatastoreConformance,
                         ::testing::Values(StoreFactory{"sqlite", [] {
                           return std::unique_ptr<Datastore>(SqliteStore::open(temp_db()).value());
                         }}),
                         [](const auto& info) { return info.param.name; });

TEST(SqliteStore, TwoHandlesOnOneFileSeeEachOthersWritesAndConflicts) {
  auto path = temp_db();
  auto a = SqliteStore::open(path).value();
  auto b = SqliteStore::open(path).value();
  ASSERT_TRUE(a->commit({{{"/blockd/v1/k", 0}}, {Operation::put("/blockd/v1/k", "a")}})->succeeded);
  auto lost = b->commit({{{"/blockd/v1/k", 0}}, {Operation::put("/blockd/v1/k", "b")}});
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost->succeeded);
  EXPECT_EQ(b->get("/blockd/v1/k").value()->value, "a");
}

TEST(SqliteStore, ReopenKeepsDataAndRevision) {
  auto path = temp_db();
  std::int64_t rev;
  {
    auto s = SqliteStore::open(path).value();
    rev = s->commit({{}, {Operation::put("/blockd/v1/k", "v")}})->revision;
  }
  auto s = SqliteStore::open(path).value();
  EXPECT_EQ(s->get("/blockd/v1/k").value()->value, "v");
  EXPECT_EQ(s->list("/blockd/v1/")->revision, rev);
}

TEST(SqliteStore, RejectsAFileThatIsNotAStore) {
  auto path = temp_db();
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not a database, it is a text file that happens to be long enough to check\n", f);
  fclose(f);
  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
}

TEST(OpenDatastore, NamesWhatIsWrongWithTheUrl) {
  EXPECT_EQ(open_datastore("sqlite://relative.db").error().code, ErrorCode::Invalid);
  auto bad = open_datastore("mysql://x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown scheme"), std::string::npos);
  EXPECT_TRUE(open_datastore("memory://").ok());
}

TEST(MemoryStore, WatchFromCompactedRevisionSaysSo) {
  MemoryStore s;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s.commit({{}, {Operation::put("/blockd/v1/k", std::to_string(i))}})->succeeded);
  s.compact(3);
  auto w = s.watch("/blockd/v1/", 1).value();
  auto b = w->next(std::chrono::milliseconds(10));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("compacted"), std::string::npos);
}

}  // namespace
}  // namespace blockd::ipam::testing
