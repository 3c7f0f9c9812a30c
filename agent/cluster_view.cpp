#include "agent/cluster_view.hpp"

#include <spdlog/spdlog.h>

namespace blockd::agent {

ClusterWatcher::ClusterWatcher(ipam::Datastore& store, Callback on_change)
    : store_(store), on_change_(std::move(on_change)) {}

ClusterWatcher::~ClusterWatcher() { stop(); }

Status ClusterWatcher::start() {
  auto listing = store_.list(ipam::kKeyRoot);
  if (!listing) return listing.error().within("reading the cluster from " + store_.describe());
  {
    std::lock_guard lock(mu_);
    kvs_.clear();
    for (auto& kv : listing->kvs) kvs_.emplace(kv.key, kv);
    revision_ = listing->revision;
    view_ = std::make_shared<const ClusterView>(build_view(*listing));
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
        kvs_.clear();
        for (auto& kv : listing->kvs) kvs_.emplace(kv.key, kv);
        revision_ = listing->revision;
        view_ = view = std::make_shared<const ClusterView>(build_view(*listing));
      }
      on_change_(view);
      continue;
    }
    if (batch->events.empty()) {
      std::lock_guard lock(mu_);
      revision_ = std::max(revision_, batch->revision);
      continue;
    }
    std::shared_ptr<const ClusterView> view;
    {
      std::lock_guard lock(mu_);
      for (const auto& e : batch->events) {
        if (e.kind == ipam::WatchEvent::Kind::Delete) {
          kvs_.erase(e.kv.key);
        } else {
          kvs_[e.kv.key] = e.kv;
        }
      }
      revision_ = std::max(revision_, batch->revision);
      ipam::ListResult all;
      all.revision = revision_;
      for (const auto& [_, kv] : kvs_) all.kvs.push_back(kv);
      view_ = view = std::make_shared<const ClusterView>(build_view(all));
    }
    on_change_(view);
  }
}

}  // namespace blockd::agent
