// One configured peer on Boost.Asio: its FSM (fsm.hpp) driven by real sockets and timers, its
// TCP connection(s) (a second one while a collision is resolved, RFC 4271 §6.8), TCP-MD5
// (RFC 2385) and GTSM (RFC 5082) socket options, its Adj-RIB-In and graceful restart. What it
// sends is built by its OutboundRib (outbound_rib.hpp); the peer only sends it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <mutex>

#include "bgp/fsm.hpp"
#include "bgp/graceful_restart.hpp"
#include "bgp/outbound_rib.hpp"
#include "bgp/rib.hpp"
#include "bgp/speaker.hpp"

namespace blockd::bgp {

// What every peer shares with the speaker. Handlers lock `mutex` before touching any state.
struct SessionEnv : std::enable_shared_from_this<SessionEnv> {
  SessionEnv(boost::asio::io_context& i, SpeakerConfig c, const Clock& k) : io(i), config(std::move(c)), clock(k) {}
  boost::asio::io_context& io;
  SpeakerConfig config;
  const Clock& clock;
  mutable std::mutex mutex;
  std::vector<AdvertisedRoute> advertised;
  std::function<void()> on_received_change;
  bool change_posted = false;
  void received_changed();
  // Connections still sending their last NOTIFICATION, and who waits for them to be done.
  std::size_t draining = 0;
  std::vector<std::function<void()>> on_drained;
  void draining_started() { ++draining; }
  void draining_ended();
};

boost::asio::ip::address to_asio(const Address& a);
Address from_asio(const boost::asio::ip::address& a);

// TCP-MD5 key for `peer` on socket fd (an empty password deletes the key).
bool set_md5_key(int fd, bool socket_v6, const Address& peer, const std::string& password);

class Connection;

class Peer : public std::enable_shared_from_this<Peer> {
 public:
  Peer(std::shared_ptr<SessionEnv> env, PeerConfig config);
  ~Peer();

  const PeerConfig& config() const { return config_; }
  void start();
  // graceful: leave without NOTIFICATION (graceful restart); otherwise Cease with subcode.
  void stop(bool graceful, std::uint8_t cease_subcode);
  // BFD says the path is down (RFC 5882): the session ends with a Cease, and routes kept as
  // stale by an earlier graceful-restart loss are flushed too.
  void path_down();
  void incoming(boost::asio::ip::tcp::socket socket);
  void advertise_changed();
  PeerStatus status() const;
  void append_received(std::vector<ReceivedRoute>& out) const;

 private:
  using ConnectionPtr = std::shared_ptr<Connection>;
  void execute(Actions actions);
  void arm_timer();
  void on_timer();
  void connect();
  // Closes `c` (and resets the pointer); a NOTIFICATION queued on it still goes out first.
  void close(ConnectionPtr& c);
  void notify_and_close(ConnectionPtr& c, const NotificationMessage& n);
  void send_notification(const ConnectionPtr& c, const NotificationMessage& n);
  void drain(const ConnectionPtr& c);
  void shutdown_send(const ConnectionPtr& c);
  void finish(const ConnectionPtr& c);
  void send(const ConnectionPtr& c, const Bytes& message);
  void send_all(const ConnectionPtr& c, const std::vector<Bytes>& messages);
  void flush(const ConnectionPtr& c);
  void read(const ConnectionPtr& c);
  void on_read(const ConnectionPtr& c, std::size_t n);
  void on_connection_lost(const ConnectionPtr& c);
  void process(const ConnectionPtr& c, const Message& m);
  void process_candidate(const Message& m);  // a message on candidate_
  void on_update(const UpdateMessage& u);
  void session_up();
  void session_down(const action::SessionDown& down);
  // Sends what moves the peer to the advertised routes (refresh: all of them again).
  void send_updates(bool refresh);
  // The export terms of the session on conn_ (our address on it, the negotiated families).
  ExportContext export_context() const;
  void sweep(std::optional<AddressFamily> family);
  void apply_socket_options(boost::asio::ip::tcp::socket& s, bool before_connect);
  Capabilities our_capabilities() const;
  OpenExpectation expectation() const;
  std::uint32_t local_as() const;
  std::string name() const;

  std::shared_ptr<SessionEnv> env_;
  PeerConfig config_;
  Fsm fsm_;
  State logged_state_ = State::Idle;
  ConnectionPtr conn_;
  ConnectionPtr candidate_;  // the peer's connection during a collision
  boost::asio::steady_timer timer_;
  bool stopped_ = true;
  bool sent_open_since_start_ = false;
  std::optional<TimePoint> established_at_;
  OutboundRib out_;
  AdjRibIn rib_in_;
  GracefulRestartHelper gr_;
};

}  // namespace blockd::bgp
