// The agent's view of the cluster: pools, nodes, blocks and BGP peers, read from the Datastore
// in one snapshot and kept current by a watch (DESIGN.md, Data flow).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ipam/block.hpp"
#include "ipam/store/datastore.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::agent {

struct ClusterView {
  std::vector<ipam::IPPool> pools;
  std::map<std::string, ipam::Node> nodes;
  std::vector<ipam::AllocationBlock> blocks;
  std::vector<ipam::BGPPeer> bgp_peers;
  std::vector<ipam::BGPConfiguration> bgp_configurations;
  std::int64_t revision = 0;
  std::vector<std::string> problems;  // records that could not be read (named, skipped)
};

// Decodes every key under /blockd/v1/ of a listing into a view.
ClusterView build_view(const ipam::ListResult& listing);

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
