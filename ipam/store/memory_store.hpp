// The in-memory Datastore: for unit tests of logic and as the reference the conformance suite
// holds the other backends to. Thread-safe; not shared between processes.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

class MemoryStore : public Datastore {
 public:
  Result<std::optional<KeyValue>> get(const std::string& key) override;
  Result<ListResult> list(const std::string& prefix) override;
  Result<ListResult> list_keys(const std::string& prefix) override;
  Result<TransactionResult> commit(const Transaction& txn) override;
  Result<std::unique_ptr<Watch>> watch(const std::string& prefix, std::int64_t after) override;
  std::string describe() const override { return "memory://"; }

  // Forget history up to `revision` so watches from before it report "compacted" (tests).
  void compact(std::int64_t revision);

 private:
  class MemoryWatch;
  struct State {
    std::mutex mu;
    std::condition_variable changed;
    std::map<std::string, KeyValue> kvs;
    std::vector<WatchEvent> history;  // every event, in revision order
    std::int64_t revision = 0;
    std::int64_t compacted = 0;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace blockd::ipam
