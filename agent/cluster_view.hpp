// The agent's view of the cluster: pools, nodes, blocks and BGP peers, read from the Datastore
// in one snapshot and kept current by a watch (ARCHITECTURE.md, Data flow).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ipam/cluster_listing.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::agent {

// The pools, nodes, blocks and BGP resources the agent routes and peers from (one decoded
// listing, ipam/cluster_listing.hpp).
using ClusterView = ipam::ClusterListing;

// Decodes every key under /blockd/v1/ of a listing into a view.
inline ClusterView build_view(const ipam::ListResult& listing) { return ipam::decode_listing(listing); }

// Lists, then watches from the listed revision in its own thread; on every change (and after a
// compaction or a dropped watch: a relist) it rebuilds the view and calls on_change with it.
class ClusterWatcher {
 public:
  using Callback = std::function<void(std::shared_ptr<const ClusterView>)>;
  ClusterWatcher(ipam::Datastore& store, Callback on_change);
  ~ClusterWatcher();
  // The first listing, synchronously: start-up fails clearly when the store is unreachable.
  Status start();
  void stop();
  std::shared_ptr<const ClusterView> current() const;

 private:
  void run();
  ipam::Datastore& store_;
  Callback on_change_;
  mutable std::mutex mu_;
  std::map<std::string, ipam::KeyValue> kvs_;  // everything under /blockd/v1/
  std::shared_ptr<const ClusterView> view_;
  std::int64_t revision_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace blockd::agent
