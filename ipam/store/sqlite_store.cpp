#include "ipam/store/sqlite_store.hpp"

#include "ipam/store/file_changes.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <thread>


namespace blockd::ipam {
namespace {

constexpr int kBusyTimeoutMs = 10000;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
  revision INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  value BLOB,
  create_revision INTEGER NOT NULL,
  PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta VALUES ('revision', 0), ('compacted', 0);
)sql";

// The smallest key greater than every key that starts with prefix ("" = no upper bound).
std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& c = prefix.back();
    if (static_cast<unsigned char>(c) != 0xff) {
      c = static_cast<char>(static_cast<unsigned char>(c) + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return {};
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool prepared() const { return rc_ == SQLITE_OK; }
  Statement& bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_blob(int i, const std::string& s) {
    sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  KeyValue kv() const { return {text(0), text(1), integer(2), integer(3)}; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

Error sqlite_error(sqlite3* db, const std::string& what) {
  const int rc = sqlite3_errcode(db);
  std::string msg = "sqlite " + what + ": " + sqlite3_errmsg(db);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return unavailable(msg + " (another process holds the store)");
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return internal(msg + " (the file is not a healthy blockd store)");
  return unavailable(msg);
}

bool exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

Result<std::int64_t> meta_value(sqlite3* db, const char* name) {
  Statement s(db, "SELECT value FROM meta WHERE name = ?1");
  s.bind(1, std::string(name));
  if (s.step() != SQLITE_ROW) return sqlite_error(db, std::string("reading ") + name);
  return s.integer(0);
}

Result<sqlite3*> open_connection(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Error e = unavailable("cannot open sqlite store " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // Deleted records (a BGPPeer's password) are overwritten with zeros, not left in free pages.
  if (!exec(db, "PRAGMA secure_delete=ON")) {
    Error e = sqlite_error(db, "setting secure_delete on " + path);
    sqlite3_close(db);
    return e;
  }
  return db;
}

std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The folder (missing parts created 0700) and the file (created empty, 0600, before SQLite
// opens it: its -wal and -shm files take the same mode). Wider modes found are warnings.
Status prepare_files(const std::string& path, std::vector<std::string>& warnings) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(path).parent_path();
  std::vector<fs::path> missing;
  for (fs::path d = dir; !d.empty() && !fs::exists(d); d = d.parent_path()) {
    missing.push_back(d);
    if (d == d.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return unavailable("cannot create folder " + it->string() + " for sqlite store: " + errno_text());
    }
  }
  struct stat st {};
  if (missing.empty() && !dir.empty() && ::stat(dir.c_str(), &st) == 0 && (st.st_mode & 0077) != 0 &&
      (st.st_mode & S_ISVTX) == 0) {
    warnings.push_back("sqlite store folder " + dir.string() + " is mode " + octal_mode(st.st_mode) +
                       ": other users can list it (chmod 700 " + dir.string() + ")");
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    return unavailable("cannot create sqlite store " + path + ": " + errno_text());
  } else if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    warnings.push_back("sqlite store " + path + " is mode " + octal_mode(st.st_mode) +
                       ": other users can read its BGP passwords (chmod 600 " + path + "*)");
  }
  return {};
}

// Keeps only the latest change of each key that may hold a secret: a watcher that had not yet
// read an older one relists (the history counts as compacted up to it), and the value is gone
// (secure_delete). Without this a deleted BGPPeer's password would stay for kHistory revisions.
Status drop_superseded_secrets(sqlite3* db) {
  const std::string from = kSecretKeys;
  const std::string to = prefix_end(from);
  const char* where =
      " FROM changes AS c WHERE key >= ?1 AND key < ?2 AND revision < "
      "(SELECT max(revision) FROM changes WHERE key = c.key)";
  Statement newest(db, (std::string("SELECT max(revision)") + where).c_str());
  newest.bind(1, from).bind(2, to);
  if (newest.step() != SQLITE_ROW) return sqlite_error(db, "finding superseded secrets");
  const std::int64_t upto = newest.integer(0);
  if (upto == 0) return {};
  Statement drop(db, (std::string("DELETE") + where).c_str());
  drop.bind(1, from).bind(2, to);
  Statement mark(db, "UPDATE meta SET value = max(value, ?1) WHERE name = 'compacted'");
  mark.bind(1, upto);
  if (drop.step() != SQLITE_DONE || mark.step() != SQLITE_DONE) return sqlite_error(db, "dropping superseded secrets");
  return {};
}

}  // namespace

class SqliteStore::SqliteWatch : public Watch {
 public:
  SqliteWatch(sqlite3* db, const std::string& path, std::string prefix, std::int64_t after)
      : db_(db), prefix_(std::move(prefix)), end_(prefix_end(prefix_)), after_(after) {
    const std::filesystem::path file(path);
    const std::string name = file.filename().string();
    writes_ = FileChanges::watch(file.parent_path().empty() ? "." : file.parent_path().string(), {name, name + "-wal"});
  }
  ~SqliteWatch() override { sqlite3_close(db_); }

  // Sleeps until a write to the file or its WAL (a commit appends to the WAL; a checkpoint
  // writes the file) and reads the change log only when SQLite's data_version says another
  // connection committed: an idle store costs one look a second (and the caller's wake-ups).
  Result<WatchBatch> next(std::chrono::milliseconds timeout) override {
    using std::chrono::milliseconds;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    milliseconds settle{0};  // the next short look after a wake; 0: none due
    bool woken = false;
    for (;;) {
      const bool safety_due = std::chrono::steady_clock::now() - last_look_ >= kSafetyPoll;
      if (!writes_ || woken || safety_due || !data_version_) {
        last_look_ = std::chrono::steady_clock::now();
        auto changed = data_version_changed();
        if (!changed) return changed.error();
        if (*changed) {
          auto batch = poll();
          if (!batch || !batch->events.empty() || batch->revision > after_) {
            if (batch) after_ = batch->revision;
            return batch;
          }
        }
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return WatchBatch{{}, after_};
      const auto wait = std::chrono::ceil<milliseconds>(deadline - now);
      woken = false;
      if (!writes_) {
        // No inotify: poll, as often as before it (a local file: one indexed read).
        std::this_thread::sleep_for(std::min(wait, milliseconds(5)));
      } else if (settle.count() > 0) {
        // A writer's WAL frames land (and wake us) just before it publishes the commit in the
        // shared-memory index, which no inotify event reports: look again after 1, 2, 4 ...
        // 128 ms, so a writer descheduled in between (a loaded host) is still seen at once.
        std::this_thread::sleep_for(std::min(wait, settle));
        settle = settle < kSettleLast ? settle * 2 : milliseconds(0);
        woken = true;
      } else if (writes_->wait(std::min(wait, kSafetyPoll))) {
        settle = milliseconds(1);
        woken = true;
      }
    }
  }

 private:
  // The slow look nothing wakes: a write inotify cannot see (a store on a network file system,
  // a folder replaced under us) still arrives within a second.
  static constexpr std::chrono::milliseconds kSafetyPoll{1000};
  static constexpr std::chrono::milliseconds kSettleLast{128};

  // PRAGMA data_version changes when another connection commits (ours only reads). It is read
  // before the change log, so a commit between the two is seen again, never missed.
  Result<bool> data_version_changed() {
    Statement s(db_, "PRAGMA data_version");
    if (s.step() != SQLITE_ROW) return sqlite_error(db_, "reading data_version");
    const std::int64_t v = s.integer(0);
    const bool changed = !data_version_ || *data_version_ != v;
    data_version_ = v;
    return changed;
  }

  Result<WatchBatch> poll() {
    if (!exec(db_, "BEGIN")) return sqlite_error(db_, "starting a watch read");
    auto rev = meta_value(db_, "revision");
    auto compacted = meta_value(db_, "compacted");
    if (!rev || !compacted) {
      exec(db_, "ROLLBACK");
      return rev ? compacted.error() : rev.error();
    }
    if (after_ < *compacted) {
      exec(db_, "ROLLBACK");
      return not_found("watch from revision " + std::to_string(after_) +
                       ": history compacted up to revision " + std::to_string(*compacted));
    }
    WatchBatch batch;
    batch.revision = *rev;
    if (*rev > after_) {
      Statement s(db_, end_.empty()
                           ? "SELECT key, value, create_revision, revision, deleted FROM changes "
                             "WHERE revision > ?1 AND key >= ?2 ORDER BY revision, seq"
                           : "SELECT key, value, create_revision, revision, deleted FROM changes "
                             "WHERE revision > ?1 AND key >= ?2 AND key < ?3 ORDER BY revision, seq");
      s.bind(1, after_).bind(2, prefix_);
      if (!end_.empty()) s.bind(3, end_);
      int rc;
      while ((rc = s.step()) == SQLITE_ROW) {
        WatchEvent e;
        e.kind = s.integer(4) ? WatchEvent::Kind::Delete : WatchEvent::Kind::Put;
        e.kv = s.kv();
        batch.events.push_back(std::move(e));
      }
      if (rc != SQLITE_DONE) {
        exec(db_, "ROLLBACK");
        return sqlite_error(db_, "reading changes");
      }
    }
    exec(db_, "COMMIT");
    return batch;
  }

  sqlite3* db_;
  std::string prefix_;
  std::string end_;
  std::int64_t after_;
  std::optional<std::int64_t> data_version_;  // as of the last look; none before the first
  std::chrono::steady_clock::time_point last_look_;
  std::unique_ptr<FileChanges> writes_;       // null: inotify unavailable, poll instead
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  std::vector<std::string> warnings;
  if (auto ok = prepare_files(path, warnings); !ok) return ok.error();
  auto db = open_connection(path);
  if (!db) return db.error();
  // WAL lets watchers read while a writer commits. synchronous=NORMAL: a committed
  // transaction survives the process being killed at any point (the WAL is in the page cache);
  // only an OS crash or power loss may lose the last commits, never corrupting the file, and
  // that takes down the host's workloads with it. FULL costs an fsync per allocation.
  if (!exec(*db, "PRAGMA journal_mode=WAL") || !exec(*db, "PRAGMA synchronous=NORMAL") ||
      !exec(*db, "BEGIN IMMEDIATE")) {
    Error e = sqlite_error(*db, "opening " + path);
    sqlite3_close(*db);
    return e;
  }
  if (!exec(*db, kSchema) || !drop_superseded_secrets(*db) || !exec(*db, "COMMIT")) {
    Error e = sqlite_error(*db, "creating the schema in " + path);
    sqlite3_close(*db);
    return e;
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(*db, path, std::move(warnings)));
}

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

Result<std::optional<KeyValue>> SqliteStore::get(const std::string& key) {
  std::lock_guard lock(mu_);
  Statement s(db_, "SELECT key, value, create_revision, mod_revision FROM kv WHERE key = ?1");
  s.bind(1, key);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<KeyValue>{s.kv()};
  if (rc == SQLITE_DONE) return std::optional<KeyValue>{};
  return sqlite_error(db_, "reading " + key);
}

Result<ListResult> SqliteStore::read_range(const std::string& prefix, bool with_values) {
  std::lock_guard lock(mu_);
  if (!exec(db_, "BEGIN")) return sqlite_error(db_, "starting a read");
  ListResult out;
  auto rev = meta_value(db_, "revision");
  if (!rev) {
    exec(db_, "ROLLBACK");
    return rev.error();
  }
  out.revision = *rev;
  const std::string end = prefix_end(prefix);
  const std::string columns = with_values ? "key, value, create_revision, mod_revision" : "key, '', create_revision, mod_revision";
  const std::string sql = "SELECT " + columns + " FROM kv WHERE key >= ?1" + (end.empty() ? "" : " AND key < ?2") + " ORDER BY key";
  Statement s(db_, sql.c_str());
  s.bind(1, prefix);
  if (!end.empty()) s.bind(2, end);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.kvs.push_back(s.kv());
  if (rc != SQLITE_DONE) {
    exec(db_, "ROLLBACK");
    return sqlite_error(db_, "listing " + prefix);
  }
  exec(db_, "COMMIT");
  return out;
}

namespace {

// The parts of one commit, each inside the caller's write transaction; an error leaves the
// rollback to the caller.

// Whether every compare holds; `current` gets each compared key that exists, as it is now.
Result<bool> compares_hold(sqlite3* db, const std::vector<Compare>& compares, std::vector<KeyValue>& current) {
  Statement read(db, "SELECT key, value, create_revision, mod_revision FROM kv WHERE key = ?1");
  bool holds = true;
  for (const auto& c : compares) {
    read.bind(1, c.key);
    const int rc = read.step();
    if (rc == SQLITE_ROW) {
      current.push_back(read.kv());
      if (current.back().mod_revision != c.mod_revision) holds = false;
    } else if (rc == SQLITE_DONE) {
      if (c.mod_revision != 0) holds = false;
    } else {
      return sqlite_error(db, "comparing " + c.key);
    }
    read.reset();
  }
  return holds;
}

// Whether a key under one of the prefixes was written after its revision.
Result<bool> changed_since(sqlite3* db, const std::vector<Unchanged>& unchanged) {
  for (const auto& u : unchanged) {
    const std::string end = prefix_end(u.prefix);
    const std::string sql = std::string("SELECT 1 FROM kv WHERE key >= ?1 AND mod_revision > ?2") +
                            (end.empty() ? "" : " AND key < ?3") + " LIMIT 1";
    Statement s(db, sql.c_str());
    s.bind(1, u.prefix).bind(2, u.revision);
    if (!end.empty()) s.bind(3, end);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) return sqlite_error(db, "comparing the revisions under " + u.prefix);
  }
  return false;
}

// Applies the operations at revision `next`, logging each change for the watches (a delete of
// a key that is not there changes nothing and is not logged).
Status apply_operations(sqlite3* db, const std::vector<Operation>& operations, std::int64_t next) {
  Statement put(db,
                "INSERT INTO kv (key, value, create_revision, mod_revision) VALUES (?1, ?2, ?3, ?3) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision "
                "RETURNING create_revision");
  Statement del(db, "DELETE FROM kv WHERE key = ?1 RETURNING create_revision");
  Statement log(db, "INSERT INTO changes (revision, seq, key, deleted, value, create_revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  std::int64_t seq = 0;
  for (const auto& op : operations) {
    const bool is_put = op.kind == Operation::Kind::Put;
    Statement& s = is_put ? put : del;
    s.bind(1, op.key);
    if (is_put) s.bind_blob(2, op.value).bind(3, next);
    int rc = s.step();
    const bool touched = rc == SQLITE_ROW;
    const std::int64_t create_rev = touched ? s.integer(0) : 0;
    while (rc == SQLITE_ROW) rc = s.step();
    if (rc != SQLITE_DONE) return sqlite_error(db, "writing " + op.key);
    s.reset();
    if (!touched) continue;
    log.bind(1, next).bind(2, seq++).bind(3, op.key).bind(4, std::int64_t{is_put ? 0 : 1});
    log.bind_blob(5, is_put ? op.value : std::string()).bind(6, create_rev);
    if (log.step() != SQLITE_DONE) return sqlite_error(db, "logging " + op.key);
    log.reset();
  }
  Statement bump(db, "UPDATE meta SET value = ?1 WHERE name = 'revision'");
  bump.bind(1, next);
  if (bump.step() != SQLITE_DONE) return sqlite_error(db, "advancing the revision");
  return {};
}

bool writes_secrets(const std::vector<Operation>& operations) {
  for (const auto& op : operations) {
    if (op.key.starts_with(kSecretKeys)) return true;
  }
  return false;
}

// Keeps a bounded change history (every 1000 revisions); watchers further behind relist.
Status compact_history(sqlite3* db, std::int64_t revision) {
  const std::int64_t upto = revision - SqliteStore::kHistory;
  if (revision % 1000 != 0 || upto <= 0) return {};
  Statement trim(db, "DELETE FROM changes WHERE revision <= ?1");
  Statement mark(db, "UPDATE meta SET value = max(value, ?1) WHERE name = 'compacted'");
  trim.bind(1, upto);
  mark.bind(1, upto);
  if (trim.step() != SQLITE_DONE || mark.step() != SQLITE_DONE) return sqlite_error(db, "compacting history");
  return {};
}

}  // namespace

Result<TransactionResult> SqliteStore::commit(const Transaction& txn) {
  std::lock_guard lock(mu_);
  // IMMEDIATE takes the write lock first, so the compares and the writes see one state.
  if (!exec(db_, "BEGIN IMMEDIATE")) return sqlite_error(db_, "starting a transaction");
  auto rollback = [&](Error e) {
    exec(db_, "ROLLBACK");
    return e;
  };
  auto rev = meta_value(db_, "revision");
  if (!rev) return rollback(sqlite_error(db_, "reading the revision"));
  TransactionResult result;
  std::vector<KeyValue> current;
  auto holds = compares_hold(db_, txn.compares, current);
  if (!holds) return rollback(holds.error());
  auto changed = changed_since(db_, txn.unchanged);
  if (!changed) return rollback(changed.error());
  result.changed_since = *changed;
  *holds = *holds && !*changed;
  if (!*holds || txn.operations.empty()) {
    exec(db_, "COMMIT");
    result.succeeded = *holds;
    result.revision = *rev;
    if (!*holds) result.current = std::move(current);
    return result;
  }
  const std::int64_t next = *rev + 1;
  if (auto ok = apply_operations(db_, txn.operations, next); !ok) return rollback(ok.error());
  if (writes_secrets(txn.operations)) {
    if (auto ok = drop_superseded_secrets(db_); !ok) return rollback(ok.error());
  }
  if (auto ok = compact_history(db_, next); !ok) return rollback(ok.error());
  if (!exec(db_, "COMMIT")) return rollback(sqlite_error(db_, "committing"));
  result.succeeded = true;
  result.revision = next;
  return result;
}

Result<std::unique_ptr<Watch>> SqliteStore::watch(const std::string& prefix, std::int64_t after) {
  auto db = open_connection(path_);
  if (!db) return db.error();
  return std::unique_ptr<Watch>(std::make_unique<SqliteWatch>(*db, path_, prefix, after));
}

}  // namespace blockd::ipam
