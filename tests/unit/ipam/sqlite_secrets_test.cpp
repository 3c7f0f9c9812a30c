// The SQLite store holds BGP passwords: the files and folders it creates are its user's alone,
// wider modes found are reported, and a deleted or replaced password leaves neither the change
// history nor the file's free pages (secure_delete).
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "ipam/keys.hpp"
#include "ipam/store/sqlite_store.hpp"

namespace blockd::ipam {
namespace {

namespace fs = std::filesystem;

class SqliteSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = fs::temp_directory_path() / ("blockd-secrets-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    old_umask_ = ::umask(022);  // the usual umask: without care the store would be 0644 in 0755
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(dir_);
  }
  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }
  static std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static std::int64_t count(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(db_path.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    const std::int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }
  fs::path dir_;
  mode_t old_umask_ = 0;
};

TEST(SecretKeys, AreWhereBGPPeersLive) { EXPECT_EQ(keys::resource_folder("BGPPeer"), kSecretKeys); }

TEST_F(SqliteSecretsTest, ACreatedStoreIs0600InA0700Folder) {
  const fs::path path = dir_ / "lib" / "blockd" / "blockd.db";
  auto store = SqliteStore::open(path.string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->commit({{}, {Operation::put("/blockd/v1/x", "1")}}).ok());
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(path.string() + "-wal"), 0600u);
  EXPECT_EQ(mode_of(path.parent_path()), 0700u);
  EXPECT_EQ(mode_of(path.parent_path().parent_path()), 0700u);
  EXPECT_TRUE((*store)->warnings().empty());
}

TEST_F(SqliteSecretsTest, AnExistingStoreOthersCanReadIsWarnedAbout) {
  fs::create_directories(dir_);
  const fs::path path = dir_ / "blockd.db";
  { auto first = SqliteStore::open(path.string()); }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  auto store = SqliteStore::open(path.string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  const auto warnings = (*store)->warnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("is mode 0755"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("is mode 0644: other users can read its BGP passwords"), std::string::npos) << warnings[1];
  EXPECT_EQ(mode_of(path), 0644u) << "an operator's mode is reported, not changed";
}

TEST_F(SqliteSecretsTest, AReplacedOrDeletedPasswordLeavesNoTrace) {
  const fs::path path = dir_ / "blockd.db";
  const std::string key = std::string(kSecretKeys) + "tor-1";
  {
    auto store = SqliteStore::open(path.string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto& s = **store;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(s.commit({{}, {Operation::put("/blockd/v1/other/" + std::to_string(i), "x")}}).ok());
    ASSERT_TRUE(s.commit({{}, {Operation::put(key, R"({"password":"first-s3cret-Xq7"})")}}).ok());
    auto from = s.commit({{}, {Operation::put(key, R"({"password":"second-s3cret-Zr9"})")}});
    ASSERT_TRUE(from.ok());
    EXPECT_EQ(count(path.string(), "SELECT count(*) FROM changes WHERE key = '" + key + "'"), 1)
        << "only the latest change of a secret key stays in the history";
    // A watcher that had not seen the first password relists instead of reading it.
    auto w = s.watch(kKeyRoot, 20);
    ASSERT_TRUE(w.ok());
    auto batch = (*w)->next(std::chrono::milliseconds(0));
    ASSERT_FALSE(batch.ok());
    EXPECT_EQ(batch.error().code, ErrorCode::NotFound) << batch.error().message;
    ASSERT_TRUE(s.commit({{}, {Operation::erase(key)}}).ok());
    // A watcher that is current still sees every change.
    auto current = s.watch(kKeyRoot, from->revision);
    ASSERT_TRUE(current.ok());
    auto events = (*current)->next(std::chrono::milliseconds(0));
    ASSERT_TRUE(events.ok()) << events.error().message;
    ASSERT_EQ(events->events.size(), 1u);
    EXPECT_EQ(events->events[0].kind, WatchEvent::Kind::Delete);
  }  // closing the last connection checkpoints the WAL into the file
  const std::string file = bytes_of(path) + bytes_of(path.string() + "-wal");
  EXPECT_EQ(file.find("first-s3cret-Xq7"), std::string::npos) << "the replaced password is still in the file";
  EXPECT_EQ(file.find("second-s3cret-Zr9"), std::string::npos) << "the deleted password is still in the file";
}

}  // namespace
}  // namespace blockd::ipam
