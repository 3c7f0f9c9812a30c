// The embedded Datastore: one SQLite file, safe with several processes on one host.
// Writers serialise on BEGIN IMMEDIATE; the file is in WAL mode, so a process killed at any
// point (kill -9) leaves either the whole transaction or none of it.
// Watches poll a change log table (history kept for the last kHistory revisions).
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

 private:
  class SqliteWatch;
  Result<ListResult> read_range(const std::string& prefix, bool with_values);
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  std::mutex mu_;  // one connection; transactions from several threads must not interleave
  sqlite3* db_;
  std::string path_;
};

}  // namespace blockd::ipam
