// The agent's view of the cluster: pools, nodes, blocks and BGP peers, read from the Datastore
// in one snapshot and kept current by a watch (ARCHITECTURE.md, Data flow).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
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
// compaction or a dropped watch: a relist) it makes a new view and calls on_change with it.
// With a thousand nodes each allocation changes one block and every agent sees it
// (tests/bench/ipam/etcd_nodes_sim.cpp), so a change costs what changed, not the cluster: the
// watcher keeps only what the view is built from (resources and blocks, not handles or the
// affinity index), decodes a record once when it changes, folds the changes already received
// into one new view, and a new view shares with the last every piece that did not change (the
// resources unless one changed, every block but the changed ones: ipam/block_list.hpp).
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
  // A resource as decoded when it last changed, or why it could not be.
  struct DecodedResource {
    std::optional<ipam::Resource> value;
    std::string problem;
  };
  void run();
  // Replaces what is kept with a listing (under mu_).
  void reset(const ipam::ListResult& listing);
  // Applies one change (under mu_); false when the view does not read that key.
  bool apply(const ipam::WatchEvent& event);
  // The view from what is kept (under mu_).
  std::shared_ptr<const ClusterView> assemble();
  ipam::Datastore& store_;
  Callback on_change_;
  mutable std::mutex mu_;
  std::map<std::string, DecodedResource> resources_;  // /blockd/v1/resources/...
  bool resources_changed_ = true;                     // since shared_resources_ was made
  std::shared_ptr<const ipam::ClusterResources> shared_resources_;
  std::vector<std::string> unreadable_resources_;
  ipam::BlockList blocks_;                                // /blockd/v1/ipam/blocks/...
  std::map<std::string, std::string> unreadable_blocks_;  // key -> why
  std::shared_ptr<const ClusterView> view_;
  std::int64_t revision_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace blockd::agent
