#include "bfd/transport.hpp"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

namespace blockd::bfd {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

udp::endpoint endpoint_of(const Address& a, std::uint16_t port) {
  if (a.is_v4()) return {asio::ip::address_v4(a.v4_value()), port};
  asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), a.bytes().data(), 16);
  return {asio::ip::address_v6(b), port};
}

struct Entry {
  Entry(asio::io_context& io, PeerSession p, std::uint32_t discr, std::uint32_t seed)
      : peer(std::move(p)), session(discr, peer.timers, seed, steady_clock().now()), timer(io) {}
  PeerSession peer;
  Session session;
  asio::steady_timer timer;
  std::uint64_t state_changes = 0;
};

// One family's pair of sockets: the listener on 3784 and the sender bound to a source port of
// 49152..65535 with TTL / hop limit 255.
struct FamilySockets {
  explicit FamilySockets(asio::io_context& io) : rx(io), tx(io) {}
  udp::socket rx;
  udp::socket tx;
};

SessionStatus status_of(const Entry& e) {
  const Session& s = e.session;
  return {e.peer.address, s.state(), s.remote_state(), s.local_diagnostic(), s.local_discriminator(),
          s.remote_discriminator(), s.tx_interval(), s.detection_time(), e.state_changes};
}

}  // namespace

struct Transport::Core : std::enable_shared_from_this<Transport::Core> {
  Core(asio::io_context& io, TransportConfig config) : io(io), config(config), v4(io), v6(io), rng(std::random_device{}()) {}

  asio::io_context& io;
  TransportConfig config;
  mutable std::mutex mu;
  FamilySockets v4;
  FamilySockets v6;
  std::map<Address, std::unique_ptr<Entry>> sessions;
  std::map<std::uint32_t, Address> by_discriminator;
  StateCallback callback;
  DropCounters drops;
  std::minstd_rand rng;
  bool running = false;

  Status open(FamilySockets& s, bool v6);
  void receive(FamilySockets& s, bool v6);
  void drain(FamilySockets& s, bool v6);
  void deliver(const Address& from, const ControlPacket& p);
  void arm(Entry& e);
  void on_timer(const Address& peer);
  void act(Entry& e, const Actions& a);
  void send(const Entry& e, const ControlPacket& p);
  std::uint32_t new_discriminator();
};

Status Transport::Core::open(FamilySockets& s, bool is_v6) {
  boost::system::error_code ec;
  const udp proto = is_v6 ? udp::v6() : udp::v4();
  const int level = is_v6 ? IPPROTO_IPV6 : IPPROTO_IP;
  const int one = 1, ttl = kRequiredTtl;
  const char* family = is_v6 ? "IPv6" : "IPv4";
  s.rx.open(proto, ec);
  if (ec) return unavailable(std::string("bfd: ") + family + " socket: " + ec.message());
  if (is_v6) s.rx.set_option(asio::ip::v6_only(true), ec);
  s.rx.set_option(udp::socket::reuse_address(true), ec);
  // RFC 5881 §5: the received TTL / hop limit is checked, so ask the kernel for it.
  if (::setsockopt(s.rx.native_handle(), level, is_v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL, &one, sizeof one) != 0) {
    return unavailable(std::string("bfd: ") + family + " IP_RECVTTL/IPV6_RECVHOPLIMIT: " + std::strerror(errno));
  }
  s.rx.bind(udp::endpoint(proto, config.port), ec);
  if (ec) return unavailable(std::string("bfd: ") + family + " bind port " + std::to_string(config.port) + ": " + ec.message());
  s.rx.non_blocking(true, ec);
  s.tx.open(proto, ec);
  if (ec) return unavailable(std::string("bfd: ") + family + " socket: " + ec.message());
  if (is_v6) s.tx.set_option(asio::ip::v6_only(true), ec);
  // RFC 5881 §5: sent with TTL / hop limit 255, so the peer knows we are one hop away.
  if (::setsockopt(s.tx.native_handle(), level, is_v6 ? IPV6_UNICAST_HOPS : IP_TTL, &ttl, sizeof ttl) != 0) {
    return unavailable(std::string("bfd: ") + family + " TTL 255: " + std::strerror(errno));
  }
  // RFC 5881 §4: one source port in 49152..65535 for all of a session's packets; start at a
  // random one so two agents on a host rarely try the same first.
  const int span = 65536 - kFirstSourcePort;
  const int start = std::uniform_int_distribution<int>(0, span - 1)(rng);
  for (int i = 0; i < span; ++i) {
    auto port = static_cast<std::uint16_t>(kFirstSourcePort + (start + i) % span);
    s.tx.bind(udp::endpoint(proto, port), ec);
    if (!ec) return {};
  }
  return unavailable(std::string("bfd: ") + family + ": no free source port in 49152..65535");
}

void Transport::Core::receive(FamilySockets& s, bool is_v6) {
  s.rx.async_wait(udp::socket::wait_read, [weak = weak_from_this(), &s, is_v6](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    {
      std::lock_guard lock(self->mu);
      if (!self->running) return;
      self->drain(s, is_v6);
    }
    self->receive(s, is_v6);
  });
}

// Reads every queued datagram. Each is bounded: a datagram larger than any Control packet is
// truncated by the kernel (MSG_TRUNC) and dropped.
void Transport::Core::drain(FamilySockets& s, bool is_v6) {
  for (int budget = 256; budget > 0; --budget) {
    std::uint8_t buf[kMaxControlPacketSize + 1];
    sockaddr_storage from{};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) * 4];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(s.rx.native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) return;  // EAGAIN: drained
    int ttl = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      bool is_ttl = is_v6 ? (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
                          : (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL);
      if (is_ttl) std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
    }
    if (ttl != kRequiredTtl) {
      ++drops.bad_ttl;
      continue;
    }
    if ((msg.msg_flags & MSG_TRUNC) || static_cast<std::size_t>(n) > kMaxControlPacketSize) {
      ++drops.malformed;
      continue;
    }
    Address source;
    if (is_v6) {
      const auto* sa = reinterpret_cast<const sockaddr_in6*>(&from);
      source = Address::from_bytes(ipam::Family::V6, {reinterpret_cast<const std::uint8_t*>(&sa->sin6_addr), 16});
    } else {
      const auto* sa = reinterpret_cast<const sockaddr_in*>(&from);
      source = Address::from_bytes(ipam::Family::V4, {reinterpret_cast<const std::uint8_t*>(&sa->sin_addr), 4});
    }
    auto packet = decode({buf, static_cast<std::size_t>(n)});
    if (!packet) {
      ++drops.malformed;
      spdlog::debug("bfd: from {}: dropped: {}", source.str(), packet.error());
      continue;
    }
    deliver(source, *packet);
  }
}

// §6.8.6: Your Discriminator picks the session; 0 (the peer has not heard us yet) picks it by
// source address. Single hop: the source must also be the session's peer.
void Transport::Core::deliver(const Address& from, const ControlPacket& p) {
  auto it = sessions.end();
  if (p.your_discriminator != 0) {
    auto d = by_discriminator.find(p.your_discriminator);
    if (d != by_discriminator.end() && d->second == from) it = sessions.find(from);
  } else {
    it = sessions.find(from);
  }
  if (it == sessions.end()) {
    ++drops.no_session;
    return;
  }
  Entry& e = *it->second;
  act(e, e.session.receive(p, steady_clock().now()));
  arm(e);
}

void Transport::Core::act(Entry& e, const Actions& a) {
  if (a.send) send(e, *a.send);
  if (a.state_changed) {
    ++e.state_changes;
    spdlog::info("bfd: peer {}: {} ({})", e.peer.address.str(), to_string(*a.state_changed),
                 to_string(e.session.local_diagnostic()));
    if (callback) asio::post(io, [cb = callback, status = status_of(e)] { cb(status); });
  }
}

void Transport::Core::send(const Entry& e, const ControlPacket& p) {
  FamilySockets& s = e.peer.address.is_v4() ? v4 : v6;
  if (!s.tx.is_open()) return;
  Bytes wire = encode(p);
  boost::system::error_code ec;
  // Non-blocking: a full socket buffer loses one packet, which BFD tolerates by design.
  s.tx.send_to(asio::buffer(wire), endpoint_of(e.peer.address, config.peer_port), 0, ec);
  if (ec) spdlog::debug("bfd: send to {}: {}", e.peer.address.str(), ec.message());
}

void Transport::Core::arm(Entry& e) {
  e.timer.expires_at(e.session.next_event());
  e.timer.async_wait([weak = weak_from_this(), peer = e.peer.address](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_timer(peer);
  });
}

void Transport::Core::on_timer(const Address& peer) {
  std::lock_guard lock(mu);
  auto it = sessions.find(peer);
  if (!running || it == sessions.end()) return;
  Entry& e = *it->second;
  auto now = steady_clock().now();
  if (now < e.session.next_event()) {  // rearmed meanwhile
    arm(e);
    return;
  }
  act(e, e.session.on_timer(now));
  arm(e);
}

std::uint32_t Transport::Core::new_discriminator() {
  for (;;) {
    std::uint32_t d = static_cast<std::uint32_t>(rng());
    if (d != 0 && !by_discriminator.contains(d)) return d;
  }
}

Transport::Transport(asio::io_context& io, TransportConfig config) : core_(std::make_shared<Core>(io, config)) {}

Transport::~Transport() { stop(); }

Status Transport::start() {
  std::lock_guard lock(core_->mu);
  if (core_->running) return {};
  if (auto s = core_->open(core_->v4, false); !s) return s;
  if (auto s = core_->open(core_->v6, true); !s) {
    spdlog::warn("{}; BFD runs over IPv4 alone", s.error().message);
    boost::system::error_code ec;
    core_->v6.rx.close(ec);
    core_->v6.tx.close(ec);
  }
  core_->running = true;
  core_->receive(core_->v4, false);
  if (core_->v6.rx.is_open()) core_->receive(core_->v6, true);
  for (auto& [address, e] : core_->sessions) core_->arm(*e);
  return {};
}

void Transport::stop() {
  std::lock_guard lock(core_->mu);
  if (!core_->running) return;
  core_->running = false;
  for (auto& [address, e] : core_->sessions) {
    core_->act(*e, e->session.set_admin_down(true));
    core_->send(*e, e->session.packet(false));  // §6.8.16: tell the peer, so it does not wait
    e->timer.cancel();
  }
  boost::system::error_code ec;
  for (FamilySockets* s : {&core_->v4, &core_->v6}) {
    s->rx.close(ec);
    s->tx.close(ec);
  }
}

void Transport::set_peers(std::vector<PeerSession> peers) {
  std::lock_guard lock(core_->mu);
  std::map<Address, PeerSession> wanted;
  for (auto& p : peers) wanted.emplace(p.address, p);
  for (auto it = core_->sessions.begin(); it != core_->sessions.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    Entry& e = *it->second;
    e.session.set_admin_down(true);
    if (core_->running) core_->send(e, e.session.packet(false));  // §6.8.16
    e.timer.cancel();
    core_->by_discriminator.erase(e.session.local_discriminator());
    it = core_->sessions.erase(it);
  }
  for (auto& [address, p] : wanted) {
    auto it = core_->sessions.find(address);
    if (it != core_->sessions.end()) {
      if (it->second->peer.timers != p.timers) {
        it->second->peer.timers = p.timers;
        it->second->session.set_timers(p.timers);
      }
      continue;
    }
    std::uint32_t discr = core_->new_discriminator();
    auto e = std::make_unique<Entry>(core_->io, p, discr, static_cast<std::uint32_t>(core_->rng()));
    core_->by_discriminator.emplace(discr, address);
    if (core_->running) core_->arm(*e);
    core_->sessions.emplace(address, std::move(e));
  }
}

std::vector<SessionStatus> Transport::sessions() const {
  std::lock_guard lock(core_->mu);
  std::vector<SessionStatus> out;
  for (const auto& [address, e] : core_->sessions) out.push_back(status_of(*e));
  return out;
}

DropCounters Transport::drops() const {
  std::lock_guard lock(core_->mu);
  return core_->drops;
}

void Transport::on_state_change(StateCallback callback) {
  std::lock_guard lock(core_->mu);
  core_->callback = std::move(callback);
}

}  // namespace blockd::bfd
