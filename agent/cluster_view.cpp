#include "agent/cluster_view.hpp"

#include <spdlog/spdlog.h>

#include "ipam/keys.hpp"

namespace blockd::agent {

ClusterWatcher::ClusterWatcher(ipam::Datastore& store, Callback on_change)
    : store_(store), on_change_(std::move(on_change)) {}

ClusterWatcher::~ClusterWatcher() { stop(); }

Status ClusterWatcher::start() {
  auto listing = store_.list(ipam::kKeyRoot);
  if (!listing) return listing.error().within("reading the cluster from " + store_.describe());
  {
    std::lock_guard lock(mu_);
    reset(*listing);
    view_ = assemble();
  }
  thread_ = std::thread([this] { run(); });
  return {};
}

void ClusterWatcher::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const ClusterView> ClusterWatcher::current() const {
  std::lock_guard lock(mu_);
  return view_;
}

void ClusterWatcher::reset(const ipam::ListResult& listing) {
  resources_.clear();
  blocks_ = {};
  unreadable_blocks_.clear();
  resources_changed_ = true;
  for (const auto& kv : listing.kvs) apply({ipam::WatchEvent::Kind::Put, kv});
  revision_ = listing.revision;
}

bool ClusterWatcher::apply(const ipam::WatchEvent& event) {
  const auto& key = event.kv.key;
  const bool erase = event.kind == ipam::WatchEvent::Kind::Delete;
  if (key.starts_with(ipam::keys::kBlocks)) {
    unreadable_blocks_.erase(key);
    if (erase) {
      blocks_.erase(key);
      return true;
    }
    auto block = ipam::decode_block(event.kv);
    if (block) {
      blocks_.put(key, std::move(*block));
    } else {
      blocks_.erase(key);  // as a listing would: the block is its problem, not its last value
      unreadable_blocks_[key] = block.error().message;
    }
    return true;
  }
  if (key.starts_with(ipam::keys::kResources)) {
    resources_changed_ = true;
    if (erase) {
      resources_.erase(key);
      return true;
    }
    auto resource = ipam::decode_resource(event.kv);
    if (resource) resources_[key] = {std::move(*resource), {}};
    else resources_[key] = {std::nullopt, resource.error().message};
    return true;
  }
  return false;  // handles and the affinity index: the allocator's, not the view's
}

std::shared_ptr<const ClusterView> ClusterWatcher::assemble() {
  // What decode_listing would make of the same records: the blocks' problems before the
  // resources' (key order).
  if (resources_changed_) {
    ipam::ClusterResources resources;
    unreadable_resources_.clear();
    for (const auto& [_, decoded] : resources_) {
      if (decoded.value) ipam::add_resource(resources, *decoded.value);
      else unreadable_resources_.push_back(decoded.problem);
    }
    shared_resources_ = std::make_shared<const ipam::ClusterResources>(std::move(resources));
    resources_changed_ = false;
  }
  ClusterView view;
  view.revision = revision_;
  view.resources = shared_resources_;
  view.blocks = blocks_;
  for (const auto& [_, problem] : unreadable_blocks_) view.problems.push_back(problem);
  view.problems.insert(view.problems.end(), unreadable_resources_.begin(), unreadable_resources_.end());
  return std::make_shared<const ClusterView>(std::move(view));
}

void ClusterWatcher::run() {
  std::unique_ptr<ipam::Watch> watch;
  while (!stopping_) {
    if (!watch) {
      auto w = store_.watch(ipam::kKeyRoot, revision_);
      if (!w) {
        spdlog::warn("watching {}: {}; retrying", store_.describe(), w.error().message);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      watch = std::move(*w);
    }
    auto batch = watch->next(std::chrono::milliseconds(200));
    if (!batch) {
      // Compacted history or a lost connection: relist, so no change is ever missed.
      spdlog::warn("watch on {} ended: {}; listing again", store_.describe(), batch.error().message);
      watch.reset();
      auto listing = store_.list(ipam::kKeyRoot);
      if (!listing) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      std::shared_ptr<const ClusterView> view;
      {
        std::lock_guard lock(mu_);
        reset(*listing);
        view_ = view = assemble();
      }
      on_change_(view);
      continue;
    }
    std::shared_ptr<const ClusterView> view;
    {
      std::lock_guard lock(mu_);
      bool changed = false;
      // Whatever else has already arrived goes into the same rebuild (next(0) waits for nothing).
      while (batch && !batch->events.empty()) {
        for (const auto& e : batch->events) changed = apply(e) || changed;
        revision_ = std::max(revision_, batch->revision);
        batch = watch->next(std::chrono::milliseconds(0));
      }
      if (batch) revision_ = std::max(revision_, batch->revision);
      // A failure while folding: what was applied is kept; the next round watches again from
      // the last revision applied (and relists if etcd compacted it).
      else watch.reset();
      if (changed) view_ = view = assemble();
    }
    if (view) on_change_(view);
  }
}

}  // namespace blockd::agent
