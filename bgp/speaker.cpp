#include "bgp/speaker.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstring>
#include <map>
#include <set>

#include "bgp/session.hpp"
#include "ipam/net/bgp_peer_rules.hpp"

namespace blockd::bgp {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Speaker::Core : SessionEnv {
  using SessionEnv::SessionEnv;
  std::map<Address, std::shared_ptr<Peer>> peers;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::vector<RefusedPeer> refused;
  std::set<Address> paths_up;  // BFD Up (set_path_up)
  bool started = false;

  // RFC 5882 §4.3: a BFD-watched session is not brought up while BFD says Down.
  bool may_run(const PeerConfig& peer) const { return !peer.bfd || paths_up.contains(peer.address); }

  void accept(const std::shared_ptr<tcp::acceptor>& acceptor);
  void set_md5_keys(const PeerConfig& peer, bool remove);
};

Status validate(const SpeakerConfig& config) {
  if (auto why = as_number_problem(config.local_as); !why.empty()) return invalid("bgp: local AS: " + why);
  if (!config.router_id.is_v4() || config.router_id.v4_value() == 0) {
    return invalid("bgp: router ID must be a non-zero IPv4 address, got " + config.router_id.str());
  }
  if (config.hold_time == 1 || config.hold_time == 2) return invalid("bgp: hold time must be 0 or at least 3 seconds");
  if (config.graceful_restart.restart_time > 4095) return invalid("bgp: graceful restart time must be at most 4095 seconds");
  return {};
}

Status validate(const PeerConfig& p, const SpeakerConfig& config) {
  const std::string who = "bgp peer " + p.address.str();
  if (p.peer_as == 0) return invalid(who + ": AS number must be set");
  if (auto why = as_number_problem(p.peer_as); !why.empty()) return invalid(who + ": peer AS: " + why);
  if (p.local_as) {
    if (auto why = as_number_problem(*p.local_as); !why.empty()) return invalid(who + ": local AS: " + why);
  }
  if (auto why = tcp_md5_password_problem(p.password); !why.empty()) return invalid(who + ": password: " + why);
  if (p.ttl_security_hops && (*p.ttl_security_hops < 1 || *p.ttl_security_hops > 254)) {
    return invalid(who + ": ttl security hops must be 1..254");
  }
  if (p.hold_time && (*p.hold_time == 1 || *p.hold_time == 2)) return invalid(who + ": hold time must be 0 or >= 3");
  if (p.restart_time && *p.restart_time > 4095) return invalid(who + ": graceful restart time must be at most 4095 seconds");
  if (p.port == 0) return invalid(who + ": port must not be 0");
  if (p.max_prefixes == 0) return invalid(who + ": max prefixes must be at least 1");
  if (p.local_address && p.local_address->family() != p.address.family()) {
    return invalid(who + ": local address " + p.local_address->str() + " is " + ipam::family_name(p.local_address->family()) +
                   ", the peer " + ipam::family_name(p.address.family()));
  }
  const auto& families = config.peer_families;
  if (!families.empty() && std::find(families.begin(), families.end(), p.address.family()) == families.end()) {
    return invalid(who + ": an " + ipam::family_name(p.address.family()) + " peer, but this node has no " +
                   ipam::family_name(p.address.family()) + " address to peer from");
  }
  return {};
}

Status validate(const std::vector<PeerConfig>& peers, const SpeakerConfig& config) {
  std::set<Address> seen;
  for (const auto& p : peers) {
    if (!seen.insert(p.address).second) return invalid("bgp peer " + p.address.str() + ": configured twice");
    if (auto s = validate(p, config); !s) return s;
  }
  return {};
}

Speaker::Speaker(asio::io_context& io, SpeakerConfig config, const Clock& clock)
    : core_(std::make_shared<Core>(io, std::move(config), clock)) {}

Speaker::Speaker(asio::io_context& io, SpeakerConfig config) : Speaker(io, std::move(config), steady_clock()) {}

Speaker::~Speaker() {
  stop(false);
  std::lock_guard lock(core_->mutex);
  core_->peers.clear();
  core_->on_received_change = nullptr;
}

void Speaker::Core::set_md5_keys(const PeerConfig& peer, bool remove) {
  if (peer.password.empty()) return;
  for (const auto& a : acceptors) {
    const bool v6 = a->local_endpoint().address().is_v6();
    if (!v6 && !peer.address.is_v4()) continue;
    if (!set_md5_key(a->native_handle(), v6, peer.address, remove ? std::string() : peer.password)) {
      spdlog::error("bgp: cannot {} TCP-MD5 key for {} on the listening socket: {}", remove ? "remove" : "set",
                    peer.address.str(), std::strerror(errno));
    }
  }
}

void Speaker::Core::accept(const std::shared_ptr<tcp::acceptor>& acceptor) {
  acceptor->async_accept([this, acceptor](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    std::lock_guard lock(mutex);
    if (!started) return;
    if (!ec) {
      boost::system::error_code e2;
      const auto remote = socket.remote_endpoint(e2);
      if (!e2) {
        const Address from = from_asio(remote.address());
        auto it = peers.find(from);
        if (it == peers.end()) {
          spdlog::warn("bgp: refused connection from unconfigured address {}", from.str());
          socket.close(e2);
        } else {
          it->second->incoming(std::move(socket));
        }
      }
    }
    accept(acceptor);
  });
}

Status Speaker::start() {
  if (auto s = validate(core_->config); !s) return s;
  std::lock_guard lock(core_->mutex);
  if (core_->started) return {};
  const auto& cfg = core_->config;
  if (cfg.listen_port != 0) {
    std::vector<tcp::endpoint> endpoints;
    if (cfg.listen_address) {
      endpoints.emplace_back(to_asio(*cfg.listen_address), cfg.listen_port);
    } else {
      endpoints.emplace_back(tcp::v4(), cfg.listen_port);
      endpoints.emplace_back(tcp::v6(), cfg.listen_port);
    }
    for (const auto& ep : endpoints) {
      auto acceptor = std::make_shared<tcp::acceptor>(core_->io);
      boost::system::error_code ec;
      acceptor->open(ep.protocol(), ec);
      if (!ec && ep.protocol() == tcp::v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
      if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) acceptor->bind(ep, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        // Without an explicit address, a host without IPv6 still listens on IPv4.
        if (!cfg.listen_address && ep.protocol() == tcp::v6()) continue;
        core_->acceptors.clear();
        return unavailable("bgp: cannot listen on " + ep.address().to_string() + " port " +
                           std::to_string(ep.port()) + ": " + ec.message());
      }
      core_->acceptors.push_back(acceptor);
    }
  }
  core_->started = true;
  for (const auto& a : core_->acceptors) core_->accept(a);
  for (auto& [addr, peer] : core_->peers) {
    core_->set_md5_keys(peer->config(), false);
    if (core_->may_run(peer->config())) peer->start();
  }
  return {};
}

void Speaker::stop(bool graceful) {
  std::lock_guard lock(core_->mutex);
  const bool gr = graceful && core_->config.graceful_restart.enabled;
  for (auto& [addr, peer] : core_->peers) peer->stop(gr, err::kCeaseShutdown);
  for (auto& a : core_->acceptors) {
    boost::system::error_code ec;
    a->close(ec);
  }
  core_->acceptors.clear();
  core_->started = false;
}

Status Speaker::set_peers(std::vector<PeerConfig> peers) {
  std::lock_guard lock(core_->mutex);
  std::map<Address, PeerConfig> wanted;
  std::vector<RefusedPeer> refused;
  for (auto& p : peers) {
    if (auto s = validate(p, core_->config); !s) {
      refused.push_back({p.address, p.peer_as, s.error().message});
    } else if (wanted.count(p.address)) {
      refused.push_back({p.address, p.peer_as, "bgp peer " + p.address.str() + ": configured twice"});
    } else {
      const Address a = p.address;
      wanted.emplace(a, std::move(p));
    }
  }
  for (auto it = core_->peers.begin(); it != core_->peers.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || !(w->second == it->second->config())) {
      // RFC 4486: Cease 3 (Peer De-configured) or 6 (Other Configuration Change).
      it->second->stop(false, w == wanted.end() ? err::kCeasePeerDeconfigured : err::kCeaseConfigChange);
      core_->set_md5_keys(it->second->config(), true);
      it = core_->peers.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [addr, cfg] : wanted) {
    if (core_->peers.count(addr)) continue;
    auto peer = std::make_shared<Peer>(core_, cfg);
    core_->peers.emplace(addr, peer);
    if (core_->started) {
      core_->set_md5_keys(cfg, false);
      if (core_->may_run(cfg)) peer->start();
    }
  }
  core_->refused = refused;
  if (refused.empty()) return {};
  std::string why;
  for (const auto& r : refused) why += (why.empty() ? "" : "; ") + r.reason;
  return invalid(why + " (refused; the other peers are configured)");
}

std::vector<RefusedPeer> Speaker::refused() const {
  std::lock_guard lock(core_->mutex);
  return core_->refused;
}

void Speaker::when_drained(std::function<void()> done) {
  std::lock_guard lock(core_->mutex);
  if (core_->draining == 0) asio::post(core_->io, std::move(done));
  else core_->on_drained.push_back(std::move(done));
}

void Speaker::set_advertise(std::vector<AdvertisedRoute> routes) {
  std::lock_guard lock(core_->mutex);
  core_->advertised = std::move(routes);
  for (auto& [addr, peer] : core_->peers) peer->advertise_changed();
}

void Speaker::set_path_up(const Address& address, bool up) {
  std::lock_guard lock(core_->mutex);
  if (up == core_->paths_up.contains(address)) return;
  if (up) core_->paths_up.insert(address);
  else core_->paths_up.erase(address);
  auto it = core_->peers.find(address);
  if (it == core_->peers.end() || !it->second->config().bfd) return;
  // Stopped: stop() already ended every session as it chose (a graceful restart keeps the
  // routes at the peer); a Cease now would undo that.
  if (!core_->started) return;
  if (!up) {
    spdlog::warn("bgp peer {}: BFD says the path is down: ending the session", address.str());
    // A Cease NOTIFICATION (not a silent close): neither side keeps the routes as stale.
    it->second->path_down();
  } else {
    spdlog::info("bgp peer {}: BFD says the path is up: starting the session", address.str());
    it->second->start();
  }
}

std::vector<PeerStatus> Speaker::peers() const {
  std::lock_guard lock(core_->mutex);
  std::vector<PeerStatus> out;
  for (const auto& [addr, peer] : core_->peers) out.push_back(peer->status());
  return out;
}

std::vector<ReceivedRoute> Speaker::received() const {
  std::lock_guard lock(core_->mutex);
  std::vector<ReceivedRoute> out;
  for (const auto& [addr, peer] : core_->peers) peer->append_received(out);
  return out;
}

void Speaker::on_received_change(std::function<void()> callback) {
  std::lock_guard lock(core_->mutex);
  core_->on_received_change = std::move(callback);
}

}  // namespace blockd::bgp
