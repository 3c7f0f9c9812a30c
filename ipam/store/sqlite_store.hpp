// The embedded Datastore: one SQLite file, safe with several processes on one host.
// Writers serialise on BEGIN IMMEDIATE; the file is in WAL mode, so a process killed at any
// point (kill -9) leaves either the whole transaction or none of it.
// Watches read a change log table (history kept for the last kHistory revisions, and for keys
// that hold secrets only their latest change) when inotify reports a write to the file or its
// WAL and SQLite's data_version confirms a commit; an idle store is looked at once a second.
// The store holds BGP passwords: a file it creates is mode 0600, a folder it creates 0700, and
// SQLite's secure_delete overwrites what is deleted; wider modes found are warnings().
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "ipam/store/datastore.hpp"

struct sqlite3;

namespace blockd::ipam {

class SqliteStore : public Datastore {
 public:
  static constexpr std::int64_t kHistory = 100000;

  // Opens (creating the file, its folder and the schema if needed).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

  Result<std::optional<KeyValue>> get(const std::string& key) override;
  Result<ListResult> list(const std::string& prefix) override { return read_range(prefix, true); }
  Result<ListResult> list_keys(const std::string& prefix) override { return read_range(prefix, false); }
  Result<TransactionResult> commit(const Transaction& txn) override;
  Result<std::unique_ptr<Watch>> watch(const std::string& prefix, std::int64_t after) override;
  std::string describe() const override { return "sqlite://" + path_; }
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  class SqliteWatch;
  Result<ListResult> read_range(const std::string& prefix, bool with_values);
  SqliteStore(sqlite3* db, std::string path, std::vector<std::string> warnings)
      : db_(db), path_(std::move(path)), warnings_(std::move(warnings)) {}
  std::mutex mu_;  // one connection; transactions from several threads must not interleave
  sqlite3* db_;
  std::string path_;
  std::vector<std::string> warnings_;
};

}  // namespace blockd::ipam
