// The Datastore: a revisioned key-value store with compare-and-swap transactions and watches
// (etcd v3's model). Backends: memory (unit tests), SQLite (embedded default), etcd v3.
// Every key lives under /blockd/v1/.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipam/net/result.hpp"

namespace blockd::ipam {

inline constexpr const char* kKeyRoot = "/blockd/v1/";
// Keys whose values may hold secrets (BGPPeer passwords; keys::resource_folder("BGPPeer")): a
// store keeps no superseded value of them in its change history.
inline constexpr const char* kSecretKeys = "/blockd/v1/resources/bgppeers/";

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;  // the store revision of the last write to this key
};

// A compare on one key's mod_revision; 0 means "the key must not exist".
struct Compare {
  std::string key;
  std::int64_t mod_revision = 0;
};

struct Operation {
  enum class Kind { Put, Delete } kind = Kind::Put;
  std::string key;
  std::string value;  // Put only

  static Operation put(std::string key, std::string value) {
    return {Kind::Put, std::move(key), std::move(value)};
  }
  static Operation erase(std::string key) { return {Kind::Delete, std::move(key), {}}; }
};

// A compare on every key under a prefix: none was written after `revision`. A key deleted
// since is not seen (etcd keeps no tombstone to compare), so callers guard with it only what a
// deletion makes less strict (e.g. the IPAM settings an allocation obeys).
struct Unchanged {
  std::string prefix;
  std::int64_t revision = 0;
};

// All compares hold => all operations apply atomically at one new revision.
struct Transaction {
  Transaction() = default;
  Transaction(std::vector<Compare> c, std::vector<Operation> o, std::vector<Unchanged> u = {})
      : compares(std::move(c)), operations(std::move(o)), unchanged(std::move(u)) {}

  std::vector<Compare> compares;
  std::vector<Operation> operations;
  std::vector<Unchanged> unchanged;
};

struct TransactionResult {
  bool succeeded = false;
  std::int64_t revision = 0;  // the store revision after the transaction
  // When it did not succeed: the current value of every compared key that exists, so a
  // caller can retry without another read (one round trip per attempt on etcd).
  std::vector<KeyValue> current;
  // When it did not succeed: whether an Unchanged compare failed (a key under its prefix was
  // written since its revision).
  bool changed_since = false;
};

struct WatchEvent {
  enum class Kind { Put, Delete } kind = Kind::Put;
  KeyValue kv;  // for Delete: key and mod_revision (the deleting revision), empty value
};

struct WatchBatch {
  std::vector<WatchEvent> events;
  std::int64_t revision = 0;  // every change up to this revision has been delivered
};

// A watch on a key prefix from a revision. next() blocks at most `timeout`; an empty batch
// means nothing changed. An error of code NotFound with "compacted" means the start revision is
// gone: list again and watch from the listed revision.
class Watch {
 public:
  virtual ~Watch() = default;
  virtual Result<WatchBatch> next(std::chrono::milliseconds timeout) = 0;
};

struct ListResult {
  std::vector<KeyValue> kvs;  // in key order
  std::int64_t revision = 0;  // the store revision the list was read at
};

// One read of several (Datastore::read_many): the key itself, or with `prefix` every key under it.
struct Read {
  std::string key;
  bool prefix = false;
  bool keys_only = false;  // no values (as list_keys)
};

class Datastore {
 public:
  virtual ~Datastore() = default;

  virtual Result<std::optional<KeyValue>> get(const std::string& key) = 0;
  // Every key that starts with prefix, in key order.
  virtual Result<ListResult> list(const std::string& prefix) = 0;
  // The same without values (etcd's keys_only): cheap enough to scan a pool's blocks for a
  // free one. Backends override it where they can skip reading values.
  virtual Result<ListResult> list_keys(const std::string& prefix) {
    auto r = list(prefix);
    if (r) {
      for (auto& kv : r->kvs) kv.value.clear();
    }
    return r;
  }
  // Several reads, one ListResult each in order (a missing key: no kvs), in one round trip
  // where the backend can (etcd: one read-only transaction); by default one after the other.
  virtual Result<std::vector<ListResult>> read_many(const std::vector<Read>& reads);
  virtual Result<TransactionResult> commit(const Transaction& txn) = 0;
  // Changes to keys under prefix after revision `after`.
  virtual Result<std::unique_ptr<Watch>> watch(const std::string& prefix, std::int64_t after) = 0;
  // What this store is, for messages ("sqlite:///var/lib/blockd/blockd.db").
  virtual std::string describe() const = 0;
  // What the operator should fix but that does not stop the store (e.g. a store file other
  // users can read), for the log and for blockctl's stderr.
  virtual std::vector<std::string> warnings() const { return {}; }
};

// The store a URL names: sqlite:///abs/path.db, memory:// (tests), etcd://host:port[,...].
Result<std::unique_ptr<Datastore>> open_datastore(const std::string& url);

}  // namespace blockd::ipam
