#include "agent/node_agent.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <sstream>

#include "agent/bgp_policy.hpp"
#include "agent/ipam_requests.hpp"
#include "agent/ipam_sweep.hpp"
#include "agent/ipip_tunnel.hpp"
#include "agent/peer_selection.hpp"
#include "agent/printable.hpp"
#include "agent/route_interfaces.hpp"
#include "ipam/pool_selection.hpp"
#include "ipam/resource_store.hpp"
#include "netlink/libnl_kernel.hpp"

namespace blockd::agent {
namespace {

using nlohmann::json;

constexpr auto kPeriodicReconcile = std::chrono::seconds(30);

// A kernel route's gateway, or its multipath next hops joined by commas (`blockctl routes kernel`).
std::string via_text(const netlink::Route& r) {
  if (r.gateway) return r.gateway->str();
  std::string out;
  for (const auto& h : r.next_hops) out += (out.empty() ? "" : ",") + h.str();
  return out;
}

}  // namespace

NodeAgent::NodeAgent(boost::asio::io_context& io, AgentConfig config)
    : io_(io), config_(std::move(config)), periodic_(io) {}

NodeAgent::~NodeAgent() {
  stop();
  if (bfd_) bfd_->stop();  // when_stopped() may not have run
}

Status NodeAgent::start() {
  started_ = std::chrono::steady_clock::now();
  auto store = ipam::open_datastore(config_.datastore);
  if (!store) return store.error().within("datastore");
  store_ = std::move(*store);
  for (const auto& w : store_->warnings()) spdlog::warn("datastore: {}", w);
  allocator_ = std::make_unique<ipam::Allocator>(*store_);
  gateways_ = std::make_unique<PodGateways>(*allocator_, *store_, config_.node.name,
                                            ipam::ReleaseOptions{config_.ipam.release_empty_blocks});
  vxlan_ = std::make_unique<VxlanTunnel>(*store_, config_.node, config_.dataplane);
  ipip_ = std::make_unique<IpipTunnel>(*store_, config_.node, config_.dataplane);
  if (auto ok = register_node(); !ok) return ok;

  // RFC 4724 §4.1: the Restart State bit says "I restarted and kept forwarding state". Routes
  // with blockd's protocol still in the kernel are that state (a SIGTERM leaves them); a first
  // start, or one after --cleanup, finds none and must not claim a restart.
  bool kept_forwarding_state = false;
  if (config_.dataplane.program_kernel) {
    auto kernel = netlink::LibnlKernel::open();
    if (!kernel) return kernel.error().within("netlink");
    kernel_ = std::move(*kernel);
    auto left = kernel_->dump_routes(config_.dataplane.route_protocol);
    if (!left) return left.error().within("netlink: reading routes left by an earlier blockd");
    kept_forwarding_state = !left->empty();
    netlink::ProgrammerConfig pc;
    pc.protocol = config_.dataplane.route_protocol;
    pc.owned_devices = {config_.dataplane.vxlan_device};
    programmer_ = std::make_unique<netlink::Programmer>(*kernel_, pc);
    auto nat = netlink::NatTable::open();
    if (!nat) return nat.error().within("nftables (natOutgoing)");
    nat_ = std::move(*nat);
    auto watch = netlink::RouteWatch::open();
    if (!watch) return watch.error().within("netlink route events");
    route_watch_ = std::move(*watch);
    route_watch_fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, ::dup(route_watch_->fd()));
    watch_kernel_routes();
  }

  watcher_ = std::make_unique<ClusterWatcher>(*store_, [this](std::shared_ptr<const ClusterView>) {
    boost::asio::post(io_, [this] { schedule_replan(); });
  });
  if (auto ok = watcher_->start(); !ok) return ok;
  // The first listing gives the BGPConfiguration the speaker starts with (AS, listenPort).
  apply_bgp_configuration(*watcher_->current());
  listening_port_ = config_.bgp.listen_port.value_or(bgp_config_.listen_port);

  bgp::SpeakerConfig sc;
  sc.local_as = local_as_;
  sc.router_id = config_.node.router_id;
  sc.listen_address = config_.bgp.listen_address;
  // Calico's bindMode NodeIP: BIRD listens on the node's IP, not the wildcard. The config
  // file's listenAddress, when set, wins.
  bound_node_ip_ = !config_.bgp.listen_address && bgp_config_.bind_node_ip;
  if (bound_node_ip_) sc.listen_address = config_.node.address.address;
  sc.listen_port = listening_port_;
  sc.hold_time = config_.bgp.hold_time;
  sc.peer_families = {ipam::Family::V4};
  if (config_.node.address_v6) sc.peer_families.push_back(ipam::Family::V6);
  sc.graceful_restart = {config_.bgp.graceful_restart, config_.bgp.restart_time,
                         config_.bgp.graceful_restart && kept_forwarding_state};
  if (sc.graceful_restart.restarting) spdlog::info("bgp: restarting with the routes an earlier blockd left in the kernel");
  speaker_ = std::make_unique<bgp::Speaker>(io_, sc);
  speaker_->on_received_change([this] { schedule_replan(); });
  if (auto ok = speaker_->start(); !ok) return ok.error().within("bgp");

  store_worker_ = std::make_unique<StoreWorker>();
  control_ = std::make_unique<ControlServer>(io_, *this, config_.control.socket);
  if (auto ok = control_->start(); !ok) return ok.error().within("control.socket");
  if (!config_.control.metrics.empty()) {
    metrics_server_ = std::make_unique<MetricsServer>(io_, *this, config_.control.metrics);
    if (auto ok = metrics_server_->start(); !ok) return ok.error().within("control.metrics");
  }
  replan();
  arm_periodic();
  sweep_ipam();
  spdlog::info("blockd started: node {} ({}), AS {}, datastore {}", config_.node.name, config_.node.address.str(),
               local_as_, store_->describe());
  return {};
}

void NodeAgent::stop() {
  if (watcher_) watcher_->stop();
  if (control_) control_->stop();
  if (metrics_server_) metrics_server_->stop();
  periodic_.cancel();
  if (route_watch_fd_) route_watch_fd_->close();
  // Graceful: peers keep our routes as stale until we are back (RFC 4724); the kernel keeps its
  // routes too, so workloads keep talking through a restart.
  if (speaker_) speaker_->stop(config_.bgp.graceful_restart);
  else if (bfd_) bfd_->stop();
  // Last: a store call in progress (up to SQLite's busy timeout) must not delay closing BGP.
  // It finishes; queued ones are dropped.
  if (store_worker_) store_worker_->stop();
}

void NodeAgent::when_stopped(std::function<void()> done) {
  // BFD says AdminDown only once each peer has closed its side of the BGP connection (seen our
  // graceful close): RFC 5882 §3.2 says AdminDown is no path failure, but FRR 8.4 ends the
  // session on it, and if that came first it would drop the routes graceful restart keeps.
  auto last = [this, done = std::move(done)] {
    if (bfd_) bfd_->stop();
    done();
  };
  if (speaker_) speaker_->when_drained(std::move(last));
  else boost::asio::post(io_, std::move(last));
}

Status NodeAgent::reload(AgentConfig config) {
  if (config.node.name != config_.node.name || config.datastore != config_.datastore ||
      config.node.as_number != config_.node.as_number) {
    return invalid("reload: node.name, node.asNumber and datastore can only change with a restart");
  }
  config_.bgp.peers = config.bgp.peers;
  {
    std::lock_guard lock(labels_mu_);
    config_.node.labels = config.node.labels;
  }
  config_.log_level = config.log_level;
  spdlog::set_level(spdlog::level::from_str(config_.log_level.value_or(bgp_config_.log_level.value_or("info"))));
  // The Node's labels in the store: on the store worker, so a locked store cannot stall BGP.
  store_worker_->post(StoreWorker::Clock::time_point::max(), [this](bool) {
    if (auto ok = register_node(); !ok) spdlog::error("SIGHUP: {}", ok.error().message);
    boost::asio::post(io_, [this] { schedule_replan(); });
  });
  schedule_replan();
  return {};
}

Status NodeAgent::register_node() {
  ipam::ResourceStore resources(*store_);
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto existing = resources.get("Node", config_.node.name);
    if (!existing) return existing.error().within("registering node " + config_.node.name);
    ipam::Node node;
    if (existing->has_value()) node = std::get<ipam::Node>(**existing);
    node.name = config_.node.name;
    // Labels set with `blockctl label nodes` stay; the config's labels win for their keys.
    {
      std::lock_guard lock(labels_mu_);
      for (const auto& [k, v] : config_.node.labels) node.labels[k] = v;
    }
    node.ipv4_address = config_.node.address;
    node.ipv6_address = config_.node.address_v6;
    if (config_.node.as_number) node.as_number = config_.node.as_number;  // else as blockctl set it, or none
    if (vxlan_->address()) {
      node.ipv4_vxlan_tunnel_addr = vxlan_->address();
      node.vxlan_tunnel_mac = vxlan_->mac();
    }
    node.ipv4_ipip_tunnel_addr = ipip_->address();
    if (existing->has_value() && std::get<ipam::Node>(**existing) == node) return {};
    auto ok = resources.write(node, ipam::WriteMode::Apply);
    if (ok) return {};
    if (ok.error().code != ErrorCode::Conflict) return ok.error().within("registering node " + config_.node.name);
  }
  return unavailable("registering node " + config_.node.name + ": the Node kept changing");
}

void NodeAgent::apply_bgp_configuration(const ClusterView& view) {
  const auto self = view.resources->nodes.find(config_.node.name);
  const ipam::Node* node = self != view.resources->nodes.end() ? &self->second : nullptr;
  auto next = effective_bgp_configuration(view.resources->bgp_configurations, config_.node.name);
  const auto as = config_.node.as_number.value_or(as_number_of(node, next));
  if (local_as_ != 0 && as != local_as_) spdlog::info("bgp: this node's AS is now {} (was {}): sessions restart", as, local_as_);
  local_as_ = as;
  if (!config_.log_level && next.log_level != bgp_config_.log_level) {
    spdlog::set_level(spdlog::level::from_str(next.log_level.value_or("info")));
  }
  std::string note;
  const auto port = config_.bgp.listen_port.value_or(next.listen_port);
  if (speaker_ && port != listening_port_) {
    note = "BGPConfiguration listenPort is " + std::to_string(port) + " but blockd listens on " +
           std::to_string(listening_port_) + " since it started: restart blockd to change it";
  }
  if (speaker_ && !config_.bgp.listen_address && next.bind_node_ip != bound_node_ip_) {
    note += std::string(note.empty() ? "" : "; ") + "BGPConfiguration bindMode is " +
            (next.bind_node_ip ? "NodeIP" : "None") + " but blockd listens on " +
            (bound_node_ip_ ? config_.node.address.address.str() : std::string("every address")) +
            " since it started: restart blockd to change it";
  }
  // Calico runs BIRD as a reflector on such a node; blockd reflects nothing (README).
  if (node && !node->route_reflector_cluster_id.empty()) {
    note += std::string(note.empty() ? "" : "; ") + "this Node has spec.bgp.routeReflectorClusterID " +
            node->route_reflector_cluster_id + " but blockd is not a route reflector: run FRR or BIRD as the reflector";
  }
  if (note != bgp_config_note_ && !note.empty()) spdlog::warn("{}", note);
  bgp_config_note_ = std::move(note);
  bgp_config_ = std::move(next);
}

NodeAgent::DesiredPeers NodeAgent::desired_peers(const ClusterView& view) {
  DesiredPeers out;
  peer_sources_.clear();
  std::vector<ipam::Address> node_addresses{config_.node.address.address};
  if (config_.node.address_v6) node_addresses.push_back(config_.node.address_v6->address);
  const auto labels = labels_of_this_node(view);
  const auto& resources = *view.resources;
  for (auto& p : select_peers({config_.bgp.peers, resources.bgp_peers, resources.nodes, config_.node.name, labels,
                               bgp_config_.node_to_node_mesh, bgp_config_.as_number, bgp_config_.listen_port,
                               bgp_config_.mesh_restart_time, &resources.bgp_filters, &node_addresses})) {
    p.config.local_as = local_as_;
    if (p.reachable_by) out.routes.push_back(netlink::Route::direct(ipam::Prefix::host(p.config.address), *p.reachable_by));
    out.filters_use_interfaces = out.filters_use_interfaces || ipam::uses_interfaces(p.config.export_filter) ||
                                 ipam::uses_interfaces(p.import_filter);
    if (p.bfd) out.bfd.push_back({p.config.address, bfd::timers_from(*p.bfd)});
    for (const auto& name : p.missing_filters) {
      spdlog::debug("{}: BGPFilter {} does not exist: not applied", p.source, name);
    }
    if (!p.import_filter.empty()) out.import_filters.emplace_back(p.config.address, std::move(p.import_filter));
    peer_sources_.push_back({p.config.address.str(), std::move(p.source), std::move(p.type)});
    out.bgp.push_back(std::move(p.config));
  }
  return out;
}

void NodeAgent::set_bfd_peers(const std::vector<bfd::PeerSession>& peers) {
  if (peers.empty() && !bfd_) return;
  if (!bfd_) {
    auto transport = std::make_unique<bfd::Transport>(io_, bfd::TransportConfig{});
    if (auto ok = transport->start(); !ok) {
      // The speaker holds BFD-gated sessions down meanwhile; the next replan retries.
      spdlog::error("{}", ok.error().message);
      return;
    }
    transport->on_state_change([this](const bfd::SessionStatus& s) { on_bfd_change(s); });
    bfd_ = std::move(transport);
  }
  bfd_->set_peers(peers);
}

// RFC 5882 §4.3: BFD Down ends the BGP session; Up lets it start. AdminDown on either side
// (a peer or this node stopping, or a session removed) is not a failed path (§3.2): the BGP
// session is left to what stopped it (here: a graceful restart must not become a Cease).
void NodeAgent::on_bfd_change(const bfd::SessionStatus& s) {
  ++counters_.bfd_state_changes;
  if (s.state == bfd::State::AdminDown) return;
  if (s.state == bfd::State::Down && s.remote_state == bfd::State::AdminDown) return;
  speaker_->set_path_up(s.address, s.state == bfd::State::Up);
}

void NodeAgent::schedule_replan() {
  if (replan_pending_) return;  // coalesce a burst of events into one recomputation
  replan_pending_ = true;
  boost::asio::post(io_, [this] {
    replan_pending_ = false;
    replan();
  });
}

void NodeAgent::replan() {
  auto view = watcher_ ? watcher_->current() : nullptr;
  if (!view) return;
  ++counters_.replans;
  if (auto up = vxlan_->ensure(*view, labels_of_this_node(*view)); !up) {
    spdlog::error("{}", up.error().message);
  } else if (*up) {
    if (auto ok = register_node(); !ok) spdlog::error("{}", ok.error().message);  // with the VTEP
  }
  if (auto up = ipip_->ensure(*view, labels_of_this_node(*view)); !up) {
    spdlog::error("{}", up.error().message);
  } else if (*up) {
    if (auto ok = register_node(); !ok) spdlog::error("{}", ok.error().message);  // with ipv4IPIPTunnelAddr
  }
  apply_bgp_configuration(*view);
  auto peers = desired_peers(*view);
  // A new BFD session starts Down: its BGP session waits for Up, whatever an earlier session
  // of the same address said.
  if (bfd_) {
    const auto known = bfd_->sessions();
    for (const auto& p : peers.bfd) {
      if (std::none_of(known.begin(), known.end(), [&](const auto& k) { return k.address == p.address; })) {
        speaker_->set_path_up(p.address, false);
      }
    }
  }
  set_bfd_peers(peers.bfd);
  const auto import_filters = std::move(peers.import_filters);
  // BGPFilter `interface` rules need each route's interface: read from the kernel only then.
  std::vector<netlink::Route> device_routes;
  if (kernel_ && peers.filters_use_interfaces) {
    for (auto protocol : kInterfaceRouteProtocols) {
      auto routes = kernel_->dump_routes(protocol);
      if (!routes) {
        spdlog::warn("BGPFilter interface rules: reading kernel routes: {}", routes.error().message);
        continue;
      }
      device_routes.insert(device_routes.end(), routes->begin(), routes->end());
    }
  }
  if (auto ok = speaker_->set_peers(std::move(peers.bgp)); !ok && ok.error().message != last_peer_error_) {
    // Logged once per change: the periodic replan would repeat it every 30 s.
    spdlog::error("bgp peers: {}", ok.error().message);
    last_peer_error_ = ok.error().message;
  } else if (ok) {
    last_peer_error_.clear();
  }

  std::vector<LearnedRoute> learned;
  for (const auto& r : speaker_->received()) {
    if (!r.next_hop) continue;
    // The peer's BGPFilter import rules: a rejected route never reaches the kernel.
    auto f = std::find_if(import_filters.begin(), import_filters.end(), [&](const auto& x) { return x.first == r.peer; });
    if (f != import_filters.end() &&
        !ipam::accepts(f->second, r.prefix, true, device_toward(ipam::Prefix::host(*r.next_hop), device_routes))) {
      continue;
    }
    learned.push_back({r.prefix, *r.next_hop, r.rank});
  }
  ThisNode self{config_.node.name, config_.node.address, config_.node.address_v6, config_.dataplane.ipip_device,
                config_.dataplane.vxlan_device, vxlan_->ready()};
  last_plan_ = plan_routes(*view, self, learned);
  apply_bgp_policy(last_plan_, bgp_config_);
  if (!device_routes.empty()) name_interfaces(last_plan_, device_routes);
  for (const auto& r : peers.routes) {
    const bool known = std::any_of(last_plan_.kernel.routes.begin(), last_plan_.kernel.routes.end(),
                                   [&](const netlink::Route& k) { return k.destination == r.destination; });
    if (!known) last_plan_.kernel.routes.push_back(r);
  }
  for (const auto& n : last_plan_.notes) spdlog::debug("route plan: {}", n);
  speaker_->set_advertise(to_advertised(last_plan_));

  if (programmer_) {
    const auto t0 = std::chrono::steady_clock::now();
    auto report = programmer_->reconcile(last_plan_.kernel);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    counters_.last_reconcile_seconds = seconds;
    counters_.total_reconcile_seconds += seconds;
    if (!report) {
      ++counters_.reconcile_errors;
      spdlog::error("kernel reconcile: {}", report.error().message);
    } else {
      for (const auto& f : report->failed) spdlog::warn("kernel refused {}: {}", f.item, f.error.message);
      counters_.reconcile_errors += report->failed.size();
      if (report->routes.added + report->routes.removed + report->routes.replaced > 0) {
        spdlog::info("kernel: {}", report->summary());
      }
      last_report_ = *report;
    }
  }
  if (nat_) {
    // Every pool, disabled ones too: their running workloads still need NAT. Written when the
    // pools change; the periodic replan lists the table anyway and repairs a hand-edited one.
    netlink::NatDesired nat;
    for (const auto& p : view->resources->pools) {
      nat.all_pools.push_back(p.cidr);
      if (p.nat_outgoing) nat.nat_pools.push_back(p.cidr);
    }
    if (nat_check_due_ || nat_written_ != nat) {
      auto report = nat_->reconcile(nat);
      if (!report) {
        ++counters_.reconcile_errors;
        spdlog::error("natOutgoing: {}", report.error().message);
        nat_written_.reset();
      } else {
        if (report->changed()) spdlog::info("natOutgoing: {}", report->summary());
        nat_written_ = std::move(nat);
        nat_check_due_ = false;
      }
    }
  }
}

void NodeAgent::watch_kernel_routes() {
  route_watch_fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;
    bool resync = false, link_changed = false;
    for (const auto& e : route_watch_->read()) {
      // A link back up: the routes the kernel refused while it was down (ENETDOWN) go back
      // now, not when their back-off ends (up to 30 s later).
      if (e.type == netlink::RouteEvent::Type::LinkChanged) link_changed = true;
      resync = resync || programmer_->needs_resync(e);
    }
    if (link_changed) programmer_->retry_refused_now();
    if (resync) {
      spdlog::info(link_changed ? "a device changed: reconciling"
                                : "a route of blockd's was changed by hand: reconciling");
      schedule_replan();
    }
    watch_kernel_routes();
  });
}

void NodeAgent::sweep_ipam() {
  // On the store worker (the allocator's thread); skipped when the worker is that far behind.
  store_worker_->post(StoreWorker::Clock::now() + kPeriodicReconcile, [this](bool in_time) {
    if (!in_time) return;
    auto view = watcher_->current();
    auto swept = sweep_node_ipam(*allocator_, *gateways_, *view, config_.node.name, labels_of_this_node(*view));
    if (!swept) {
      spdlog::warn("IPAM sweep: {}", swept.error().message);
    } else if (swept->gateways_released != 0) {
      spdlog::info("IPAM sweep: released {} unused pod gateway(s)", swept->gateways_released);
    }
  });
}

void NodeAgent::arm_periodic() {
  auto next = std::chrono::steady_clock::now() + kPeriodicReconcile;
  if (programmer_) {
    if (auto retry = programmer_->next_retry(); retry && *retry < next) next = *retry;
  }
  periodic_.expires_at(next);
  periodic_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    nat_check_due_ = true;
    schedule_replan();
    sweep_ipam();
    arm_periodic();
  });
}

json NodeAgent::status() {
  json warnings = json::array();
  for (const auto& n : last_plan_.notes) warnings.push_back(n);
  auto view = watcher_->current();
  if (view) {
    const auto gaps = ipam::selection_gaps(view->resources->nodes, view->resources->pools);
    if (std::count(gaps.unselected_nodes.begin(), gaps.unselected_nodes.end(), config_.node.name) ||
        !view->resources->nodes.count(config_.node.name)) {
      warnings.push_back("no enabled IP pool selects this node: its workloads will get no address");
    }
    for (const auto& p : view->resources->pools) {
      if (std::count(gaps.idle_pools.begin(), gaps.idle_pools.end(), p.name)) {
        warnings.push_back("IP pool " + p.name + " (" + p.node_selector + ") selects no node");
      }
    }
    for (const auto& p : view->problems) warnings.push_back(p);
  }
  for (const auto& w : store_->warnings()) warnings.push_back(w);
  if (!bgp_config_note_.empty()) warnings.push_back(bgp_config_note_);
  for (const auto& r : speaker_->refused()) warnings.push_back(r.reason + " (" + source_of(r.address).source + "): not peered");
  return {{"node", config_.node.name},
          {"address", config_.node.address.str()},
          {"asNumber", local_as_},
          {"version", "0.1.0"},
          {"uptimeSeconds",
           std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count()},
          {"datastore", store_->describe()},
          {"warnings", warnings}};
}

NodeAgent::PeerSource NodeAgent::source_of(const ipam::Address& peer) const {
  for (const auto& s : peer_sources_) {
    if (s.address == peer.str()) return s;
  }
  return {peer.str(), "config", "config"};
}

json NodeAgent::peers() {
  json out = json::array();
  const auto sessions = bfd_ ? bfd_->sessions() : std::vector<bfd::SessionStatus>{};
  // null: no BFD on this peer; otherwise the session's state (RFC 5880 §4.1 names).
  auto bfd_state_of = [&](const ipam::Address& peer) -> json {
    for (const auto& s : sessions) {
      if (s.address == peer) return std::string(bfd::to_string(s.state));
    }
    return nullptr;
  };
  for (const auto& p : speaker_->peers()) {
    const PeerSource from = source_of(p.address);
    json since = nullptr;
    if (p.uptime) since = std::chrono::duration_cast<std::chrono::seconds>(*p.uptime).count();
    out.push_back({{"address", p.address.str()},
                   {"asNumber", p.peer_as},
                   {"localAs", p.local_as},
                   {"state", p.state},
                   {"since", since},
                   {"prefixesSent", p.prefixes_sent},
                   {"prefixesReceived", p.prefixes_received},
                   {"lastError", p.last_error},
                   {"source", from.source},
                   {"peerType", from.type},
                   {"bfd", bfd_state_of(p.address)}});
  }
  // A peer the speaker refused (a rule it breaks) is listed with the reason, not left out.
  for (const auto& r : speaker_->refused()) {
    const PeerSource from = source_of(r.address);
    out.push_back({{"address", r.address.str()}, {"asNumber", r.peer_as}, {"state", "Refused"}, {"since", nullptr},
                   {"prefixesSent", 0}, {"prefixesReceived", 0}, {"lastError", r.reason}, {"source", from.source},
                   {"peerType", from.type}});
  }
  return out;
}

json NodeAgent::routes(const std::string& which) {
  json out = json::array();
  if (which == "advertised") {
    for (const auto& a : last_plan_.advertise) {
      json communities = json::array();
      for (auto c : a.communities.standard) communities.push_back(std::to_string(c >> 16) + ":" + std::to_string(c & 0xffff));
      for (const auto& [g, l1, l2] : a.communities.large) {
        communities.push_back(std::to_string(g) + ":" + std::to_string(l1) + ":" + std::to_string(l2));
      }
      const char* kind = a.kind == Advertisement::Kind::Block      ? "block"
                         : a.kind == Advertisement::Kind::Borrowed ? "borrowed"
                                                                   : "service";
      out.push_back({{"prefix", a.prefix.str()}, {"nextHop", "self"}, {"kind", kind}, {"communities", communities}});
    }
    return {{"routes", out}, {"workloads", last_plan_.local_workloads}};
  }
  if (which == "received") {
    for (const auto& r : speaker_->received()) {
      out.push_back({{"prefix", r.prefix.str()},
                     {"nextHop", r.next_hop ? r.next_hop->str() : ""},
                     {"peer", r.peer.str()},
                     {"asPath", r.as_path},
                     {"stale", r.stale}});
    }
    return out;
  }
  for (const auto& r : last_plan_.kernel.routes) {
    out.push_back({{"prefix", r.destination.str()},
                   {"kind", netlink::kind_name(r.kind)},
                   {"via", via_text(r)},
                   {"device", r.device},
                   {"onlink", r.onlink},
                   {"protocol", config_.dataplane.route_protocol}});
  }
  return out;
}

ipam::Labels NodeAgent::labels_of_this_node(const ClusterView& view) const {
  auto self = view.resources->nodes.find(config_.node.name);
  if (self != view.resources->nodes.end()) return self->second.labels;
  std::lock_guard lock(labels_mu_);
  return config_.node.labels;
}

Result<json> NodeAgent::allocate(const json& request) { return std::move(allocate_many({request}).front()); }

std::vector<Result<json>> NodeAgent::allocate_many(const std::vector<json>& requests) {
  auto view = watcher_->current();
  const auto& pools = view->resources->pools;
  const ipam::AllocationContext ctx{config_.node.name, labels_of_this_node(*view), pools};
  struct Answer {
    std::optional<AllocateBody> body;
    std::optional<Error> failed;
    json ips = json::array();
    std::vector<ipam::Address> taken;  // by this request, given back if a later family fails
  };
  std::vector<Answer> answers(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto body = parse_allocate_body(requests[i]);
    if (body) answers[i].body = std::move(*body);
    else answers[i].failed = body.error();
  }
  // One family at a time, every request wanting it in one batch (Allocator::allocate_batch: one
  // transaction for the addresses the node's blocks have room for).
  for (auto family : {ipam::Family::V4, ipam::Family::V6}) {
    std::vector<std::size_t> asking;
    std::vector<ipam::AllocationRequest> batch;
    for (std::size_t i = 0; i < answers.size(); ++i) {
      const Answer& a = answers[i];
      if (a.failed || !(family == ipam::Family::V4 ? a.body->ipv4 : a.body->ipv6)) continue;
      asking.push_back(i);
      batch.push_back({a.body->handle, family, a.body->pools});
    }
    if (batch.empty()) continue;
    auto got = allocator_->allocate_batch(ctx, batch);
    for (std::size_t k = 0; k < asking.size(); ++k) {
      Answer& answer = answers[asking[k]];
      auto& a = got[k];
      if (!a) {
        answer.failed = a.error();
        continue;
      }
      if (!a->reused) answer.taken.push_back(a->address);
      auto pool = std::find_if(pools.begin(), pools.end(), [&](const ipam::IPPool& p) { return p.name == a->pool; });
      if (pool == pools.end()) {
        answer.failed = unavailable("the pool of " + a->address.str() + " is gone; try again");
        continue;
      }
      auto gateway = gateways_->gateway(*pool, ctx);
      if (!gateway) {
        answer.failed = gateway.error();
        continue;
      }
      if (!a->reused) ++counters_.allocations;
      answer.ips.push_back({{"address", a->address.str()},
                            {"prefixLength", pool->cidr.length()},
                            {"block", a->block.str()},
                            {"pool", a->pool},
                            {"borrowed", a->borrowed},
                            {"reused", a->reused},
                            {"gateway", gateway->str()}});
      spdlog::info("{} {} to {} (block {}{}, gateway {})", a->reused ? "handle already holds" : "allocated",
                   a->address.str(), printable(answer.body->handle), a->block.str(), a->borrowed ? ", borrowed" : "",
                   gateway->str());
    }
  }
  std::vector<Result<json>> out;
  for (auto& answer : answers) {
    if (answer.failed) {
      ++counters_.allocation_errors;
      for (const auto& a : answer.taken) (void)allocator_->release_address(a, pools, {config_.ipam.release_empty_blocks});
    }
    out.emplace_back(answer.failed ? Result<json>(*answer.failed) : Result<json>(json{{"ips", std::move(answer.ips)}}));
  }
  // A borrowed address is advertised at once, not at the next watch event.
  boost::asio::post(io_, [this] { schedule_replan(); });
  return out;
}

void NodeAgent::allocation_undelivered(const json& answer) {
  auto view = watcher_->current();
  if (!answer.is_object() || !answer.contains("ips") || !answer["ips"].is_array() || !view) return;
  std::vector<ipam::Address> released;
  for (const auto& ip : answer["ips"]) {
    if (!ip.is_object() || ip.value("reused", false) || !ip.contains("address") || !ip["address"].is_string()) continue;
    auto address = ipam::Address::parse(ip["address"].get<std::string>());
    if (!address) continue;
    auto r = allocator_->release_address(*address, view->resources->pools, {config_.ipam.release_empty_blocks});
    if (!r) {
      spdlog::warn("giving back {} (its caller hung up before the answer): {}", address->str(), r.error().message);
      continue;
    }
    spdlog::info("gave back {}: its caller hung up before receiving it", address->str());
    released.push_back(*address);
  }
  counters_.releases += released.size();
  if (released.empty()) return;
  gateways_->release_unused(released, view->resources->pools);
  boost::asio::post(io_, [this] { schedule_replan(); });
}

Result<json> NodeAgent::handle(const std::string& handle_id) {
  if (auto ok = check_name("handle", handle_id); !ok) return ok.error();
  auto held = allocator_->addresses_of(handle_id);
  if (!held) return held.error();
  json ips = json::array();
  for (const auto& a : *held) ips.push_back(a.str());
  return json{{"handle", handle_id}, {"ips", ips}};
}

Result<json> NodeAgent::release(const json& request) {
  auto body = parse_release_body(request);
  if (!body) return body.error();
  json released = json::array();
  const auto view = watcher_->current();
  const auto& pools = view->resources->pools;
  if (body->handle) {
    // The workload's addresses with the gateways they leave unused, in one transaction.
    auto r = gateways_->release_workload(*body->handle, pools);
    if (!r) return r.error();
    for (const auto& a : *r) released.push_back(a.address.str());
  } else {
    auto addr = ipam::Address::parse(*body->address);
    if (!addr) return addr.error().within("release: address");
    auto r = allocator_->release_address(*addr, pools, {config_.ipam.release_empty_blocks});
    if (!r) return r.error();
    released.push_back(r->address.str());
    gateways_->release_unused({*addr}, pools);
  }
  counters_.releases += released.size();
  boost::asio::post(io_, [this] { schedule_replan(); });
  return json{{"released", released}};
}

std::string NodeAgent::metrics() {
  std::ostringstream m;
  // Prometheus exposition format: what only grows is a counter (its name ends in _total).
  auto metric = [&](const char* type, const char* name, const char* help, auto value) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << value << '\n';
  };
  auto gauge = [&](const char* name, const char* help, auto value) { metric("gauge", name, help, value); };
  auto counter = [&](const char* name, const char* help, auto value) { metric("counter", name, help, value); };
  std::size_t established = 0, sent = 0, received = 0;
  const auto peers = speaker_->peers();
  for (const auto& p : peers) {
    established += p.state == "Established";
    sent += p.prefixes_sent;
    received += p.prefixes_received;
  }
  gauge("blockd_bgp_peers", "Configured BGP peers.", peers.size());
  gauge("blockd_bgp_peers_established", "BGP sessions in Established.", established);
  gauge("blockd_bgp_prefixes_sent", "Prefixes in the Adj-RIBs-Out of all peers.", sent);
  gauge("blockd_bgp_prefixes_received", "Prefixes in the Adj-RIBs-In of all peers.", received);
  std::size_t bfd_up = 0, bfd_sessions = 0;
  if (bfd_) {
    for (const auto& s : bfd_->sessions()) {
      ++bfd_sessions;
      bfd_up += s.state == bfd::State::Up;
    }
  }
  gauge("blockd_bfd_sessions", "BFD sessions (peers with bfd configured).", bfd_sessions);
  gauge("blockd_bfd_sessions_up", "BFD sessions in Up.", bfd_up);
  counter("blockd_bfd_state_changes_total", "BFD session state changes.", counters_.bfd_state_changes.load());
  gauge("blockd_routes_advertised", "Prefixes in the advertise set.", last_plan_.advertise.size());
  gauge("blockd_kernel_routes_desired", "Kernel routes the route plan wants.", last_plan_.kernel.routes.size());
  gauge("blockd_workloads_local", "Workload addresses allocated on this node.", last_plan_.local_workloads);
  counter("blockd_ipam_allocations_total", "Addresses allocated through this agent.", counters_.allocations.load());
  counter("blockd_ipam_allocation_errors_total", "Allocations that failed.", counters_.allocation_errors.load());
  counter("blockd_ipam_releases_total", "Addresses released through this agent.", counters_.releases.load());
  counter("blockd_replans_total", "Route plan recomputations.", counters_.replans.load());
  counter("blockd_reconcile_errors_total", "Kernel changes refused or reconciles failed.", counters_.reconcile_errors.load());
  gauge("blockd_reconcile_last_seconds", "Duration of the last kernel reconcile.", counters_.last_reconcile_seconds);
  counter("blockd_reconcile_seconds_total", "Time spent reconciling the kernel.", counters_.total_reconcile_seconds);
  return m.str();
}

}  // namespace blockd::agent
