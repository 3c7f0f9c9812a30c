#include "ipam/store/memory_store.hpp"

#include <algorithm>

namespace blockd::ipam {

class MemoryStore::MemoryWatch : public Watch {
 public:
  MemoryWatch(std::shared_ptr<State> state, std::string prefix, std::int64_t after)
      : state_(std::move(state)), prefix_(std::move(prefix)), after_(after) {}

  Result<WatchBatch> next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(state_->mu);
    state_->changed.wait_for(lock, timeout, [&] { return state_->revision > after_; });
    if (after_ < state_->compacted) {
      return not_found("watch from revision " + std::to_string(after_) +
                       ": history compacted up to revision " + std::to_string(state_->compacted));
    }
    WatchBatch batch;
    auto it = std::upper_bound(state_->history.begin(), state_->history.end(), after_,
                               [](std::int64_t rev, const WatchEvent& e) { return rev < e.kv.mod_revision; });
    for (; it != state_->history.end(); ++it) {
      if (it->kv.key.starts_with(prefix_)) batch.events.push_back(*it);
    }
    after_ = state_->revision;
    batch.revision = after_;
    return batch;
  }

 private:
  std::shared_ptr<State> state_;
  std::string prefix_;
  std::int64_t after_;
};

Result<std::optional<KeyValue>> MemoryStore::get(const std::string& key) {
  std::lock_guard lock(state_->mu);
  auto it = state_->kvs.find(key);
  if (it == state_->kvs.end()) return std::optional<KeyValue>{};
  return std::optional<KeyValue>{it->second};
}

Result<ListResult> MemoryStore::list(const std::string& prefix) {
  std::lock_guard lock(state_->mu);
  ListResult out;
  out.revision = state_->revision;
  for (auto it = state_->kvs.lower_bound(prefix); it != state_->kvs.end() && it->first.starts_with(prefix); ++it) {
    out.kvs.push_back(it->second);
  }
  return out;
}

Result<ListResult> MemoryStore::list_keys(const std::string& prefix) {
  std::lock_guard lock(state_->mu);
  ListResult out;
  out.revision = state_->revision;
  for (auto it = state_->kvs.lower_bound(prefix); it != state_->kvs.end() && it->first.starts_with(prefix); ++it) {
    out.kvs.push_back({it->first, {}, it->second.create_revision, it->second.mod_revision});
  }
  return out;
}

Result<TransactionResult> MemoryStore::commit(const Transaction& txn) {
  std::lock_guard lock(state_->mu);
  TransactionResult result;
  bool holds = true;
  for (const auto& c : txn.compares) {
    auto it = state_->kvs.find(c.key);
    const std::int64_t rev = it == state_->kvs.end() ? 0 : it->second.mod_revision;
    if (rev != c.mod_revision) holds = false;
  }
  for (const auto& u : txn.unchanged) {
    for (auto it = state_->kvs.lower_bound(u.prefix); it != state_->kvs.end() && it->first.starts_with(u.prefix); ++it) {
      if (it->second.mod_revision > u.revision) result.changed_since = true;
    }
  }
  holds = holds && !result.changed_since;
  if (!holds) {
    for (const auto& c : txn.compares) {
      if (auto it = state_->kvs.find(c.key); it != state_->kvs.end()) result.current.push_back(it->second);
    }
    result.revision = state_->revision;
    return result;
  }
  if (!txn.operations.empty()) {
    const std::int64_t rev = ++state_->revision;
    for (const auto& op : txn.operations) {
      if (op.kind == Operation::Kind::Put) {
        auto& kv = state_->kvs[op.key];
        if (kv.create_revision == 0) kv.create_revision = rev;
        kv.key = op.key;
        kv.value = op.value;
        kv.mod_revision = rev;
        state_->history.push_back({WatchEvent::Kind::Put, kv});
      } else if (state_->kvs.erase(op.key) > 0) {
        state_->history.push_back({WatchEvent::Kind::Delete, KeyValue{op.key, {}, 0, rev}});
      }
    }
    state_->changed.notify_all();
  }
  result.succeeded = true;
  result.revision = state_->revision;
  return result;
}

Result<std::unique_ptr<Watch>> MemoryStore::watch(const std::string& prefix, std::int64_t after) {
  return std::unique_ptr<Watch>(std::make_unique<MemoryWatch>(state_, prefix, after));
}

void MemoryStore::compact(std::int64_t revision) {
  std::lock_guard lock(state_->mu);
  state_->compacted = std::max(state_->compacted, revision);
  std::erase_if(state_->history, [&](const WatchEvent& e) { return e.kv.mod_revision <= revision; });
}

}  // namespace blockd::ipam
