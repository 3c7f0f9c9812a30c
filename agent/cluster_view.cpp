#include "agent/cluster_view.hpp"

#include <spdlog/spdlog.h>

#include "ipam/keys.hpp"
#include "ipam/resources/resource_codec.hpp"

namespace blockd::agent {

ClusterView build_view(const ipam::ListResult& listing) {
  ClusterView view;
  view.revision = listing.revision;
  for (const auto& kv : listing.kvs) {
    if (kv.key.starts_with(ipam::keys::kBlocks)) {
      auto b = ipam::AllocationBlock::from_json(kv.value);
      if (b) {
        view.blocks.push_back(std::move(*b));
      } else {
        view.problems.push_back(kv.key + ": " + b.error().message);
      }
    } else if (kv.key.starts_with(ipam::keys::kResources)) {
      auto doc = nlohmann::json::parse(kv.value, nullptr, false);
      auto r = doc.is_discarded() ? Result<ipam::Resource>(internal("not JSON")) : ipam::resource_from_json(doc);
      if (!r) {
        view.problems.push_back(kv.key + ": " + r.error().message);
        continue;
      }
      std::visit(
          [&](auto&& res) {
            using T = std::decay_t<decltype(res)>;
            if constexpr (std::is_same_v<T, ipam::IPPool>) view.pools.push_back(res);
            if constexpr (std::is_same_v<T, ipam::Node>) view.nodes.emplace(res.name, res);
            if constexpr (std::is_same_v<T, ipam::BGPPeer>) view.bgp_peers.push_back(res);
            if constexpr (std::is_same_v<T, ipam::BGPConfiguration>) view.bgp_configurations.push_back(res);
          },
          *r);
    }
  }
  return view;
}

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
