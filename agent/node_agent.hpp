// The blockd node agent: joins IPAM (the Datastore and its watch), BGP (the Speaker) and the
// kernel (the netlink Programmer) on one io_context, and serves the control API.
// Everything is level-triggered: any change (datastore event, BGP routes received, a route
// deleted by hand, a timer) recomputes the RoutePlan from scratch and hands each side its
// desired state.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "agent/bgp_configuration.hpp"
#include "agent/cluster_view.hpp"
#include "agent/config.hpp"
#include "agent/control_api.hpp"
#include "agent/pod_gateways.hpp"
#include "agent/route_plan.hpp"
#include "agent/store_worker.hpp"
#include "agent/ipip_tunnel.hpp"
#include "agent/vxlan_tunnel.hpp"
#include "bfd/transport.hpp"
#include "bgp/speaker.hpp"
#include "ipam/allocator.hpp"
#include "netlink/nat_table.hpp"
#include "netlink/programmer.hpp"
#include "netlink/route_watch.hpp"

namespace blockd::agent {

class NodeAgent : public ControlHandler {
 public:
  NodeAgent(boost::asio::io_context& io, AgentConfig config);
  ~NodeAgent() override;

  // Opens the store, registers this Node, sets up devices, starts BGP, the watch and the API.
  Status start();
  // SIGTERM: stop serving; kernel routes stay and, with graceful restart, the ToR keeps ours.
  void stop();
  // After stop(): once the BGP sessions' last NOTIFICATIONs are out and gracefully closed ones
  // closed by the peer too (bounded), BFD says AdminDown and `done` runs.
  void when_stopped(std::function<void()> done);
  // SIGHUP: re-read what can change at run time (peers, labels, log level).
  Status reload(AgentConfig config);

  // ControlHandler. allocate, release and handle run on the store worker's thread.
  nlohmann::json status() override;
  nlohmann::json peers() override;
  nlohmann::json routes(const std::string& which) override;
  Result<nlohmann::json> allocate(const nlohmann::json& request) override;
  std::vector<Result<nlohmann::json>> allocate_many(const std::vector<nlohmann::json>& requests) override;
  Result<nlohmann::json> release(const nlohmann::json& request) override;
  std::string metrics() override;
  Result<nlohmann::json> handle(const std::string& handle_id) override;
  StoreWorker* store_worker() override { return store_worker_.get(); }
  void allocation_undelivered(const nlohmann::json& answer) override;

 private:
  Status register_node();
  ipam::Labels labels_of_this_node(const ClusterView& view) const;
  // The peers this node has now (peer_selection.hpp); remembers where each came from.
  struct DesiredPeers {
    std::vector<bgp::PeerConfig> bgp;
    std::vector<bfd::PeerSession> bfd;  // the peers among them that ask for BFD
    // BGPFilter import rules per peer address: what the kernel may get from that peer.
    std::vector<std::pair<ipam::Address, ipam::FilterRules>> import_filters;
    // BGPPeer reachableBy: a /32 (/128) to the peer via the gateway it names.
    std::vector<netlink::Route> routes;
    bool filters_use_interfaces = false;  // some rule has `interface` (agent/route_interfaces.hpp)
  };
  DesiredPeers desired_peers(const ClusterView& view);
  // Reads the BGPConfiguration resources (bgp_configuration.hpp) into bgp_config_ and local_as_,
  // and applies what can change at run time: the log level (when the config file sets none),
  // the AS number (sessions restart with it), the mesh (desired_peers). listenPort needs a restart.
  void apply_bgp_configuration(const ClusterView& view);
  // BFD sessions for the peers that ask for it (RFC 5882): opened on first use, so a node
  // without BFD peers binds no port 3784.
  void set_bfd_peers(const std::vector<bfd::PeerSession>& peers);
  void on_bfd_change(const bfd::SessionStatus& session);
  void schedule_replan();
  void replan();
  void watch_kernel_routes();
  // This node's IPAM garbage (ipam_sweep.hpp), on the store worker: at start and periodically.
  void sweep_ipam();
  void arm_periodic();

  boost::asio::io_context& io_;
  AgentConfig config_;
  std::unique_ptr<ipam::Datastore> store_;
  std::unique_ptr<ipam::Allocator> allocator_;
  std::unique_ptr<PodGateways> gateways_;  // on the allocator's (the store worker's) thread
  std::unique_ptr<VxlanTunnel> vxlan_;
  std::unique_ptr<IpipTunnel> ipip_;
  std::unique_ptr<ClusterWatcher> watcher_;
  std::unique_ptr<bgp::Speaker> speaker_;
  std::unique_ptr<bfd::Transport> bfd_;
  std::unique_ptr<netlink::Kernel> kernel_;
  std::unique_ptr<netlink::Programmer> programmer_;
  std::unique_ptr<netlink::NatTable> nat_;  // natOutgoing (nftables table `blockd`)
  std::unique_ptr<netlink::RouteWatch> route_watch_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> route_watch_fd_;
  // Runs every datastore call the control API makes, off the event loop that BGP shares.
  std::unique_ptr<StoreWorker> store_worker_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_server_;
  boost::asio::steady_timer periodic_;
  bool replan_pending_ = false;
  // natOutgoing pools as last written to nftables: a replan with the same ones skips the
  // table's listing (most replans are a workload's block changing, not a pool); the periodic
  // replan lists it anyway, to repair a table someone edited by hand.
  std::optional<netlink::NatDesired> nat_written_;
  bool nat_check_due_ = true;
  std::chrono::steady_clock::time_point started_;
  EffectiveBgpConfiguration bgp_config_;  // as last read from the store
  std::uint32_t local_as_ = 0;            // this node's AS: the config file's, else as_number_of
  std::uint16_t listening_port_ = 179;    // the port the speaker listens on since start
  bool bound_node_ip_ = false;            // bindMode NodeIP at start: the listener is on the node's address
  std::string bgp_config_note_;           // what apply_bgp_configuration could not apply (status)

  // What the last replan decided (for the API), and counters for /metrics.
  RoutePlan last_plan_;
  std::optional<netlink::ReconcileReport> last_report_;
  struct PeerSource {
    std::string address, source, type;  // source "config" | "BGPPeer/x"; type as calicoctl shows it
  };
  std::vector<PeerSource> peer_sources_;
  // The config's labels, read on the store worker's thread too (reload() changes them).
  mutable std::mutex labels_mu_;
  PeerSource source_of(const ipam::Address& peer) const;
  std::string last_peer_error_;  // the last set_peers error logged
  struct Counters {
    std::atomic<std::uint64_t> replans = 0, allocations = 0, allocation_errors = 0, releases = 0, reconcile_errors = 0,
                               bfd_state_changes = 0;
    double last_reconcile_seconds = 0, total_reconcile_seconds = 0;
  } counters_;
};

}  // namespace blockd::agent
