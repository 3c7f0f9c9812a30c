#include "bgp/session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>


// g++ 12 reports a false -Wmaybe-uninitialized when moving std::variant<..., std::string>.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73  // linux/in6.h
#endif

namespace blockd::bgp {

namespace asio = boost::asio;
using asio::ip::tcp;

void SessionEnv::received_changed() {
  // Called with the mutex held: the callback runs later, on the io_context, without it.
  if (!on_received_change || change_posted) return;
  change_posted = true;
  asio::post(io, [weak = weak_from_this()] {
    auto env = weak.lock();
    if (!env) return;  // the speaker is gone
    std::function<void()> cb;
    {
      std::lock_guard lock(env->mutex);
      env->change_posted = false;
      cb = env->on_received_change;
    }
    if (cb) cb();
  });
}

void SessionEnv::draining_ended() {
  // Called with the mutex held, like received_changed.
  if (--draining > 0) return;
  for (auto& cb : on_drained) asio::post(io, std::move(cb));
  on_drained.clear();
}

asio::ip::address to_asio(const Address& a) {
  if (a.is_v4()) return asio::ip::address_v4(a.v4_value());
  asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
  return asio::ip::address_v6(b);
}

Address from_asio(const asio::ip::address& a) {
  if (a.is_v4()) return Address::v4(a.to_v4().to_uint());
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return Address::v4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_uint());
  const auto b = v6.to_bytes();
  return Address::from_bytes(ipam::Family::V6, b);
}

bool set_md5_key(int fd, bool socket_v6, const Address& peer, const std::string& password) {
  // RFC 2385 through Linux's TCP_MD5SIG; on an IPv6 socket an IPv4 peer is given v4-mapped.
  struct tcp_md5sig sig;
  std::memset(&sig, 0, sizeof sig);
  if (!socket_v6 && peer.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
    sin->sin_family = AF_INET;
    const auto b = peer.bytes();
    std::memcpy(&sin->sin_addr, b.data(), 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
    sin6->sin6_family = AF_INET6;
    if (peer.is_v4()) {
      sin6->sin6_addr.s6_addr[10] = 0xff;
      sin6->sin6_addr.s6_addr[11] = 0xff;
      std::memcpy(&sin6->sin6_addr.s6_addr[12], peer.bytes().data(), 4);
    } else {
      std::memcpy(&sin6->sin6_addr, peer.bytes().data(), 16);
    }
  }
  sig.tcpm_keylen = static_cast<std::uint16_t>(std::min<std::size_t>(password.size(), TCP_MD5SIG_MAXKEYLEN));
  std::memcpy(sig.tcpm_key, password.data(), sig.tcpm_keylen);
  return ::setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) == 0;
}

// Closing with a NOTIFICATION (RFC 4271 §6): the write in flight finishes first (cutting a
// message in half would garble the stream), then the NOTIFICATION; then our side sends its FIN
// and waits for the peer's, reading and dropping what still arrives, so that closing on unread
// data never turns into a reset that could discard the NOTIFICATION from the peer's receive
// queue. All of it within this deadline: a peer that stopped reading cannot hold the socket.
constexpr auto kCloseFlushDeadline = std::chrono::seconds(5);
// Octets handed to one write, in whole messages: a NOTIFICATION queued during a table dump
// waits behind at most this much.
constexpr std::size_t kWriteChunk = 64 * 1024;

class Connection {
 public:
  Connection(tcp::socket s, bool out)
      : socket(std::move(s)), outgoing(out), inbox(2 * kMaxExtendedMessageSize), flush_deadline(socket.get_executor()) {}
  tcp::socket socket;
  bool outgoing;
  Bytes inbox;
  std::size_t have = 0;
  Bytes dropped;             // draining: where the peer's last bytes are read, never parsed
  Bytes outbox;              // whole messages not yet handed to a write, from outbox_start
  std::size_t outbox_start = 0;
  Bytes sending;             // the write in flight
  bool writing = false;
  bool reading = false;
  bool closed = false;       // the session is done with it: nothing more is processed or queued
  bool notification = false; // a NOTIFICATION is queued or in flight: it goes out before the close
  bool linger = false;       // a graceful stop: the close waits for the peer's FIN (bounded)
  bool draining = false;     // closed, its NOTIFICATION or our FIN still going out (kCloseFlushDeadline)
  bool peer_closed = false;  // the peer's FIN arrived while draining
  bool finished = false;     // the socket is closed
  bool extended = false;     // RFC 8654 negotiated on this connection
  asio::steady_timer flush_deadline;

  std::size_t queued() const { return outbox.size() - outbox_start; }
  void append(const Bytes& m) { outbox.insert(outbox.end(), m.begin(), m.end()); }
  // Hands up to `limit` octets of whole messages (at least one) to `sending`; all of them when
  // `limit` is 0.
  void take(std::size_t limit) {
    std::size_t end = outbox.size();
    if (limit > 0) {
      end = outbox_start;
      while (end + kHeaderSize <= outbox.size()) {
        const std::size_t length = (std::size_t{outbox[end + 16]} << 8) | outbox[end + 17];
        if (length < kHeaderSize || (end > outbox_start && end + length - outbox_start > limit)) break;
        end += length;
      }
      if (end == outbox_start) end = outbox.size();  // cannot happen: we queue only whole messages
    }
    sending.assign(outbox.begin() + static_cast<std::ptrdiff_t>(outbox_start),
                   outbox.begin() + static_cast<std::ptrdiff_t>(end));
    outbox_start = end;
    if (outbox_start == outbox.size()) {
      outbox.clear();
      outbox_start = 0;
    } else if (outbox_start > outbox.size() / 2) {
      outbox.erase(outbox.begin(), outbox.begin() + static_cast<std::ptrdiff_t>(outbox_start));
      outbox_start = 0;
    }
  }
  void drop_queued() {
    outbox.clear();
    outbox_start = 0;
  }
};

Peer::Peer(std::shared_ptr<SessionEnv> env, PeerConfig config)
    : env_(std::move(env)),
      config_(std::move(config)),
      fsm_(FsmConfig{config_.passive, config_.hold_time.value_or(env_->config.hold_time), env_->config.connect_retry,
                     std::chrono::seconds(60), env_->config.idle_hold, std::chrono::minutes(4)}),
      timer_(env_->io) {}

Peer::~Peer() = default;

std::uint32_t Peer::local_as() const { return config_.local_as.value_or(env_->config.local_as); }

std::string Peer::name() const { return config_.address.str() + " AS" + std::to_string(config_.peer_as); }

Capabilities Peer::our_capabilities() const {
  Capabilities c;
  c.multiprotocol = {{1, kSafiUnicast}, {2, kSafiUnicast}};
  c.route_refresh = true;
  c.extended_message = true;
  c.four_octet_as = local_as();
  const auto& gr = env_->config.graceful_restart;
  if (gr.enabled) {
    // RFC 4724 §3: F set, as the kernel keeps forwarding while we restart.
    c.graceful_restart = GracefulRestartCapability{gr.restarting && !sent_open_since_start_,
                                                   config_.restart_time.value_or(gr.restart_time),
                                                   {{{1, kSafiUnicast}, true}, {{2, kSafiUnicast}, true}}};
  }
  return c;
}

OpenExpectation Peer::expectation() const {
  return {config_.peer_as, local_as(), env_->config.router_id.v4_value(), fsm_.config().hold_time};
}

void Peer::start() {
  stopped_ = false;
  execute(fsm_.start(env_->clock.now()));
}

void Peer::stop(bool graceful, std::uint8_t cease_subcode) {
  stopped_ = true;
  // Graceful: the close lingers until the peer closed its side, so it has seen the session end
  // before anything that follows the drain (the agent's BFD AdminDown) reaches it.
  if (graceful && conn_) conn_->linger = true;
  execute(graceful ? fsm_.drop(env_->clock.now()) : fsm_.stop(env_->clock.now(), cease_subcode));
  close(conn_);
  close(candidate_);
  timer_.cancel();
}

void Peer::path_down() {
  stop(false, err::kCeaseAdminReset);
  if (gr_.abandon()) {
    spdlog::warn("bgp peer {}: BFD says the path is down: stale routes kept for graceful restart removed", name());
    sweep(std::nullopt);
  }
}

void Peer::execute(Actions actions) {
  const TimePoint now = env_->clock.now();
  for (auto& a : actions) {
    std::visit(
        [&](auto& act) {
          using T = std::decay_t<decltype(act)>;
          if constexpr (std::is_same_v<T, action::Connect>) {
            connect();
          } else if constexpr (std::is_same_v<T, action::Disconnect>) {
            close(conn_);
          } else if constexpr (std::is_same_v<T, action::SendOpen>) {
            if (conn_) send(conn_, encode(make_open(local_as(), fsm_.config().hold_time,
                                                    env_->config.router_id.v4_value(), our_capabilities())));
          } else if constexpr (std::is_same_v<T, action::SendKeepalive>) {
            if (conn_) send(conn_, encode(KeepaliveMessage{}));
          } else if constexpr (std::is_same_v<T, action::SendNotification>) {
            spdlog::warn("bgp peer {}: sending NOTIFICATION {}", name(), describe(act.message));
            send_notification(conn_, act.message);
          } else if constexpr (std::is_same_v<T, action::SessionUp>) {
            session_up();
          } else if constexpr (std::is_same_v<T, action::SessionDown>) {
            session_down(act);
          }
        },
        a);
  }
  (void)now;
  if (fsm_.state() != logged_state_) {
    const std::string why = fsm_.state() == State::Idle && !fsm_.last_error().empty() ? " (" + fsm_.last_error() + ")" : "";
    spdlog::info("bgp peer {}: {} -> {}{}", name(), state_name(logged_state_), state_name(fsm_.state()), why);
    logged_state_ = fsm_.state();
  }
  arm_timer();
}

void Peer::arm_timer() {
  if (stopped_ && !gr_.restarting()) return;
  std::optional<TimePoint> at = fsm_.next_deadline();
  if (auto g = gr_.deadline(); g && (!at || *g < *at)) at = g;
  if (!at) return;
  const Duration wait = std::max(Duration::zero(), *at - env_->clock.now());
  timer_.expires_after(wait);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    std::lock_guard lock(self->env_->mutex);
    self->on_timer();
  });
}

void Peer::on_timer() {
  const TimePoint now = env_->clock.now();
  if (gr_.expired(now)) {
    spdlog::info("bgp peer {}: graceful restart time over, stale routes removed", name());
    sweep(std::nullopt);
  }
  execute(fsm_.tick(now));
}

void Peer::apply_socket_options(tcp::socket& s, bool before_connect) {
  const int fd = s.native_handle();
  const bool v6 = !config_.address.is_v4();
  if (before_connect && !config_.password.empty()) {
    if (!set_md5_key(fd, v6, config_.address, config_.password)) {
      spdlog::error("bgp peer {}: cannot set TCP-MD5 key: {}", name(), std::strerror(errno));
    }
  }
  if (config_.ttl_security_hops) {
    // RFC 5082 §3: send with TTL 255, accept only TTL >= 256 - hops.
    const int ttl = 255;
    const int min_ttl = 256 - *config_.ttl_security_hops;
    if (v6) {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min_ttl, sizeof min_ttl);
    } else {
      ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
      ::setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min_ttl, sizeof min_ttl);
    }
  }
}

void Peer::connect() {
  close(conn_);
  tcp::socket s(env_->io);
  boost::system::error_code ec;
  const tcp::endpoint remote(to_asio(config_.address), config_.port);
  s.open(remote.protocol(), ec);
  if (ec) {
    spdlog::error("bgp peer {}: cannot open socket: {}", name(), ec.message());
    return;
  }
  apply_socket_options(s, true);
  if (config_.local_address) {
    s.bind(tcp::endpoint(to_asio(*config_.local_address), 0), ec);
    if (ec) {
      // Not (yet) an address of this node: the connect-retry timer tries again.
      spdlog::error("bgp peer {}: cannot connect from {}: {}", name(), config_.local_address->str(), ec.message());
      return;
    }
  } else if (env_->config.listen_address && env_->config.listen_address->is_v4() == config_.address.is_v4()) {
    s.bind(tcp::endpoint(to_asio(*env_->config.listen_address), 0), ec);
  }
  conn_ = std::make_shared<Connection>(std::move(s), true);
  auto c = conn_;
  c->socket.async_connect(remote, [self = shared_from_this(), c](const boost::system::error_code& error) {
    std::lock_guard lock(self->env_->mutex);
    if (c != self->conn_ || c->closed) return;
    if (error) {
      self->execute(self->fsm_.connection_failed(self->env_->clock.now()));
      return;
    }
    boost::system::error_code ignored;
    c->socket.set_option(tcp::no_delay(true), ignored);
    self->read(c);
    self->execute(self->fsm_.connected(self->env_->clock.now()));
  });
}

void Peer::incoming(tcp::socket socket) {
  apply_socket_options(socket, false);
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto c = std::make_shared<Connection>(std::move(socket), false);
  const State s = fsm_.state();
  if (stopped_ || s == State::Idle) {
    spdlog::info("bgp peer {}: connection refused while {}", name(), stopped_ ? "stopped" : "Idle");
    close(c);
    return;
  }
  if (s == State::Connect || s == State::Active) {
    close(conn_);
    conn_ = c;
    read(c);
    execute(fsm_.connected(env_->clock.now()));
    return;
  }
  if (s == State::Established || candidate_) {
    // RFC 4271 §6.8: a connection colliding with an Established session is closed.
    notify_and_close(c, NotificationMessage{err::kCease, err::kCeaseCollision, {}});
    return;
  }
  // OpenSent/OpenConfirm: the peer's connection goes through OPEN beside ours; its OPEN
  // decides which one stays.
  candidate_ = c;
  read(c);
  send(c, encode(make_open(local_as(), fsm_.config().hold_time, env_->config.router_id.v4_value(), our_capabilities())));
}

void Peer::close(ConnectionPtr& c) {
  if (!c) return;
  if (!c->closed) {
    c->closed = true;
    if (c->notification || c->linger) drain(c);
    else finish(c);
  }
  c.reset();
}

void Peer::notify_and_close(ConnectionPtr& c, const NotificationMessage& n) {
  send_notification(c, n);
  close(c);
}

void Peer::send_notification(const ConnectionPtr& c, const NotificationMessage& n) {
  if (!c || c->closed) return;
  // What is queued but not yet started belongs to a session that is ending: the NOTIFICATION
  // replaces it, so it follows the write in flight (at most kWriteChunk octets) at once.
  c->drop_queued();
  c->append(encode(n));
  c->notification = true;
  flush(c);
}

void Peer::drain(const ConnectionPtr& c) {
  c->draining = true;
  env_->draining_started();
  c->flush_deadline.expires_after(kCloseFlushDeadline);
  c->flush_deadline.async_wait([self = shared_from_this(), c](const boost::system::error_code& ec) {
    if (ec) return;
    std::lock_guard lock(self->env_->mutex);
    if (!c->finished) spdlog::warn("bgp peer {}: closing before the peer closed its side", self->name());
    self->finish(c);
  });
  if (!c->writing && c->queued() > 0) {
    // One non-blocking write at once, so the NOTIFICATION is out even if the io_context ends
    // right after a stop; the rest, if any, goes the asynchronous way.
    boost::system::error_code ec;
    c->socket.non_blocking(true, ec);
    const std::size_t n = c->socket.write_some(asio::buffer(c->outbox.data() + c->outbox_start, c->queued()), ec);
    c->outbox_start += n;
    if (c->queued() == 0) c->drop_queued();
  }
  if (c->writing || c->queued() > 0) flush(c);
  else shutdown_send(c);
  read(c);  // wait for the peer's FIN
}

void Peer::shutdown_send(const ConnectionPtr& c) {
  boost::system::error_code ec;
  c->socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec || c->peer_closed) finish(c);
}

void Peer::finish(const ConnectionPtr& c) {
  if (c->finished) return;
  c->finished = true;
  boost::system::error_code ec;
  c->socket.shutdown(tcp::socket::shutdown_both, ec);
  c->socket.close(ec);
  c->flush_deadline.cancel();
  if (c->draining) {
    c->draining = false;
    env_->draining_ended();
  }
}

void Peer::send(const ConnectionPtr& c, const Bytes& message) {
  if (!c || c->closed) return;
  c->append(message);
  flush(c);
}

void Peer::send_all(const ConnectionPtr& c, const std::vector<Bytes>& messages) {
  if (!c || c->closed) return;
  for (const auto& m : messages) c->append(m);
  flush(c);
}

void Peer::flush(const ConnectionPtr& c) {
  if (c->writing || c->queued() == 0 || c->finished || (c->closed && !c->draining)) return;
  c->writing = true;
  // Draining, the rest goes in one write (a non-blocking write may have left half a message).
  c->take(c->closed ? 0 : kWriteChunk);
  asio::async_write(c->socket, asio::buffer(c->sending),
                    [self = shared_from_this(), c](const boost::system::error_code& ec, std::size_t) {
                      std::lock_guard lock(self->env_->mutex);
                      c->writing = false;
                      c->sending.clear();
                      if (c->finished) return;
                      if (c->closed) {
                        if (ec) self->finish(c);
                        else if (c->queued() > 0) self->flush(c);
                        else self->shutdown_send(c);
                        return;
                      }
                      if (ec) {
                        self->on_connection_lost(c);
                        return;
                      }
                      self->flush(c);
                    });
}

void Peer::read(const ConnectionPtr& c) {
  if (c->finished || c->reading || (c->closed && !c->draining)) return;
  if (c->have == c->inbox.size()) c->inbox.resize(c->inbox.size() * 2);  // cannot happen: frames are bounded
  // Draining, what the peer still sends is read and dropped, into a buffer of its own: the read
  // may complete at once, while the message that closed the session is still being handled.
  if (c->closed) c->dropped.resize(16 * 1024);
  const auto buffer = c->closed ? asio::buffer(c->dropped) : asio::buffer(c->inbox.data() + c->have, c->inbox.size() - c->have);
  c->reading = true;
  c->socket.async_read_some(buffer,
                            [self = shared_from_this(), c](const boost::system::error_code& ec, std::size_t n) {
                              std::lock_guard lock(self->env_->mutex);
                              c->reading = false;
                              if (c->finished) return;
                              if (c->closed) {
                                if (!ec) {
                                  self->read(c);
                                } else {
                                  // The peer's FIN (or an error): done once our own bytes are out.
                                  c->peer_closed = true;
                                  if (!c->writing && c->queued() == 0) self->finish(c);
                                }
                                return;
                              }
                              if (ec) {
                                self->on_connection_lost(c);
                                return;
                              }
                              self->on_read(c, n);
                            });
}

void Peer::on_connection_lost(const ConnectionPtr& c) {
  if (c == candidate_) {
    close(candidate_);
    return;
  }
  if (c == conn_) {
    close(conn_);
    execute(fsm_.connection_failed(env_->clock.now()));
  }
}

void Peer::on_read(const ConnectionPtr& c, std::size_t n) {
  c->have += n;
  std::size_t pos = 0;
  while (!c->closed && c->have - pos >= kHeaderSize) {
    const ByteView rest(c->inbox.data() + pos, c->have - pos);
    auto length = frame_length(rest, {c->extended});
    if (!length) {
      if (c == conn_) execute(fsm_.message_error(length.error(), env_->clock.now()));
      else notify_and_close(candidate_, length.error().notification);
      return;
    }
    if (rest.size() < *length) break;
    auto m = decode(rest.subspan(0, *length), {c->extended});
    pos += *length;
    if (!m) {
      spdlog::warn("bgp peer {}: {}", name(), m.error().reason);
      if (c == conn_) execute(fsm_.message_error(m.error(), env_->clock.now()));
      else notify_and_close(candidate_, m.error().notification);
      return;
    }
    if (c == conn_) process(c, *m);
    else if (c == candidate_) process_candidate(*m);
    else return;
  }
  if (c->closed) return;
  std::memmove(c->inbox.data(), c->inbox.data() + pos, c->have - pos);
  c->have -= pos;
  read(c);
}

void Peer::process(const ConnectionPtr& c, const Message& m) {
  const TimePoint now = env_->clock.now();
  switch (type_of(m)) {
    case MessageType::Open: {
      auto n = negotiate(std::get<OpenMessage>(m), our_capabilities(), expectation());
      if (!n) {
        spdlog::warn("bgp peer {}: OPEN rejected: {}", name(), n.error().reason);
        execute(fsm_.message_error(n.error(), now));
        return;
      }
      sent_open_since_start_ = true;
      c->extended = n->extended_message;
      execute(fsm_.open_received(*n, now));
      return;
    }
    case MessageType::Update:
      if (fsm_.state() != State::Established) {
        execute(fsm_.update_received(now));
        return;
      }
      on_update(std::get<UpdateMessage>(m));
      return;
    case MessageType::Notification: {
      const auto& n = std::get<NotificationMessage>(m);
      spdlog::warn("bgp peer {}: received NOTIFICATION {}", name(), describe(n));
      execute(fsm_.notification_received(n, now));
      return;
    }
    case MessageType::Keepalive:
      execute(fsm_.keepalive_received(now));
      return;
    case MessageType::RouteRefresh:
      // RFC 2918 §4: answer with the whole Adj-RIB-Out.
      if (fsm_.state() == State::Established) send_updates(true);
      execute(fsm_.route_refresh_received(now));
      return;
  }
}

void Peer::process_candidate(const Message& m) {
  if (type_of(m) != MessageType::Open) {
    if (type_of(m) == MessageType::Notification) close(candidate_);
    return;  // anything before its OPEN waits for the collision to be decided
  }
  auto n = negotiate(std::get<OpenMessage>(m), our_capabilities(), expectation());
  if (!n) {
    notify_and_close(candidate_, n.error().notification);
    return;
  }
  if (fsm_.state() == State::Established) {
    // RFC 4271 §6.8: the session already up wins over any newer connection.
    notify_and_close(candidate_, NotificationMessage{err::kCease, err::kCeaseCollision, {}});
    return;
  }
  const std::uint32_t local_id = env_->config.router_id.v4_value();
  if (keep_remote_initiated(local_id, n->peer_id)) {
    spdlog::info("bgp peer {}: connection collision, keeping the peer's connection", name());
    notify_and_close(conn_, NotificationMessage{err::kCease, err::kCeaseCollision, {}});
    conn_ = candidate_;
    candidate_.reset();
    conn_->extended = n->extended_message;
    sent_open_since_start_ = true;
    execute(fsm_.replace_connection(*n, env_->clock.now()));
  } else {
    spdlog::info("bgp peer {}: connection collision, keeping ours", name());
    notify_and_close(candidate_, NotificationMessage{err::kCease, err::kCeaseCollision, {}});
  }
}

namespace {
ipam::Family family_of(AddressFamily f) { return f.afi == 1 ? ipam::Family::V4 : ipam::Family::V6; }
}  // namespace

void Peer::on_update(const UpdateMessage& u) {
  const auto& n = *fsm_.negotiated();
  ParsedUpdate p = parse_update(u, {n.four_octet_as, !n.ibgp()});
  for (const auto& problem : p.problems) spdlog::warn("bgp peer {}: UPDATE: {}", name(), problem);
  if (p.action == UpdateAction::SessionReset) {
    execute(fsm_.message_error(*p.reset, env_->clock.now()));
    return;
  }
  execute(fsm_.update_received(env_->clock.now()));
  // RFC 4271 §9.1.2: a route whose AS_PATH holds our AS is a loop; it is not used.
  // numAllowedLocalASNumbers relaxes it to "more than that many times". Likewise (RFC 4456 §8)
  // one a route reflector sends back to its originator, ORIGINATOR_ID ours.
  const bool reflected_back = p.attributes.originator_id == env_->config.router_id.v4_value();
  if (!p.announced.empty() &&
      (reflected_back ||
       (p.attributes.as_path && count_as(*p.attributes.as_path, local_as()) > config_.allowed_own_as))) {
    p.withdrawn.insert(p.withdrawn.end(), p.announced.begin(), p.announced.end());
    p.announced.clear();
  }
  bool changed = rib_in_.apply(p);
  if (rib_in_.size() > config_.max_prefixes) {
    // RFC 4486 §4: Cease 1, Maximum Number of Prefixes Reached; a peer cannot fill our memory.
    const std::uint32_t limit = static_cast<std::uint32_t>(std::min<std::size_t>(config_.max_prefixes, 0xffffffffu));
    Bytes data{1, 0, 1, 0, 0, 0, 0};  // AFI, SAFI, then the limit (RFC 4486 §4)
    patch_u16(data, 3, limit >> 16);
    patch_u16(data, 5, limit & 0xffff);
    execute(fsm_.message_error(wire_error(err::kCease, err::kCeaseMaxPrefixes,
                                          "more than " + std::to_string(config_.max_prefixes) + " prefixes received",
                                          std::move(data)),
                               env_->clock.now()));
    return;
  }
  if (p.end_of_rib && gr_.restarting()) {
    gr_.end_of_rib(*p.end_of_rib);
    changed |= rib_in_.sweep_stale(family_of(*p.end_of_rib)) > 0;
  }
  if (changed) env_->received_changed();
}

void Peer::sweep(std::optional<AddressFamily> family) {
  const std::size_t n = family ? rib_in_.sweep_stale(family_of(*family)) : rib_in_.sweep_stale();
  if (n > 0) env_->received_changed();
}

void Peer::session_up() {
  const TimePoint now = env_->clock.now();
  established_at_ = now;
  const auto& n = *fsm_.negotiated();
  spdlog::info("bgp peer {}: session up (hold {}s, {}, 4-octet AS {})", name(), n.hold_time,
               n.ibgp() ? "iBGP" : "eBGP", n.four_octet_as ? "yes" : "no");
  std::vector<AddressFamily> stale;
  for (const auto& f : std::vector<AddressFamily>{{1, kSafiUnicast}, {2, kSafiUnicast}}) {
    for (const auto& [p, e] : rib_in_.routes()) {
      if (e.stale && p.family() == family_of(f)) {
        stale.push_back(f);
        break;
      }
    }
  }
  for (const auto& f : gr_.session_up(n.peer_graceful_restart, stale, now)) sweep(f);
  if (candidate_) {
    // A connection still waiting for its OPEN lost the collision (RFC 4271 §6.8).
    notify_and_close(candidate_, NotificationMessage{err::kCease, err::kCeaseCollision, {}});
  }
  const PackOptions options{n.four_octet_as, n.extended_message ? kMaxExtendedMessageSize : kMaxMessageSize};
  send_all(conn_, out_.start(export_context(), options, env_->advertised));
}

void Peer::session_down(const action::SessionDown& down) {
  established_at_.reset();
  out_.stop();
  const auto& n = fsm_.negotiated();
  const bool keep = n && gr_.session_lost(n->peer_graceful_restart, down.notification, env_->clock.now());
  spdlog::info("bgp peer {}: session down: {}{}", name(), down.reason, keep ? " (routes kept as stale: graceful restart)" : "");
  if (keep) {
    rib_in_.mark_stale();
    if (rib_in_.size() > 0) env_->received_changed();  // staleness is part of what callers see
  } else if (rib_in_.size() > 0) {
    rib_in_.clear();
    env_->received_changed();
  }
}

ExportContext Peer::export_context() const {
  const auto& n = *fsm_.negotiated();
  ExportContext ctx;
  ctx.local_as = local_as();
  ctx.ebgp = !n.ibgp();
  ctx.families = n.families;
  ctx.export_filter = config_.export_filter;
  boost::system::error_code ec;
  const auto local = conn_->socket.local_endpoint(ec);
  if (!ec) {
    const Address self = from_asio(local.address());
    (self.is_v4() ? ctx.self_v4 : ctx.self_v6) = self;
  }
  return ctx;
}

void Peer::send_updates(bool refresh) {
  if (fsm_.state() != State::Established || !conn_) return;
  send_all(conn_, out_.update(env_->advertised, refresh));
}

void Peer::advertise_changed() { send_updates(false); }

PeerStatus Peer::status() const {
  PeerStatus s;
  s.address = config_.address;
  s.peer_as = config_.peer_as;
  s.local_as = local_as();
  s.state = state_name(fsm_.state());
  if (established_at_) s.uptime = env_->clock.now() - *established_at_;
  s.prefixes_sent = out_.size();
  s.prefixes_received = rib_in_.size();
  s.last_error = fsm_.last_error();
  return s;
}

void Peer::append_received(std::vector<ReceivedRoute>& out) const {
  for (const auto& [prefix, e] : rib_in_.routes()) {
    ReceivedRoute r;
    r.prefix = prefix;
    r.next_hop = prefix.is_v4() ? e.attributes->next_hop : e.attributes->mp_next_hop;
    r.peer = config_.address;
    if (e.attributes->as_path) r.as_path = to_string(*e.attributes->as_path);
    r.communities = e.attributes->communities;
    r.rank = rank_of(*e.attributes, config_.peer_as != local_as());
    r.stale = e.stale;
    out.push_back(std::move(r));
  }
}

}  // namespace blockd::bgp
