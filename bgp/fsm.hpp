// The BGP finite-state machine of RFC 4271 §8 for one peer, as pure code: events in (with the
// time they happen), actions out. Timers are deadlines the caller waits for and reports back
// with tick(); the session layer (session.cpp) does the I/O the actions ask for.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bgp/codec/capabilities.hpp"
#include "ipam/net/clock.hpp"
#include "bgp/codec/message.hpp"

namespace blockd::bgp {

enum class State { Idle, Connect, Active, OpenSent, OpenConfirm, Established };
const char* state_name(State s);

struct FsmConfig {
  bool passive = false;           // never initiate the TCP connection (RFC 4271 §8.1.1 PassiveTcpEstablishment)
  std::uint16_t hold_time = 90;   // ours, offered in OPEN
  // Connect retry with back-off: the first retry after `connect_retry`, each further failure
  // doubles it up to `max_connect_retry`; an Established session resets it.
  Duration connect_retry = std::chrono::seconds(5);
  Duration max_connect_retry = std::chrono::seconds(60);
  // After an error, Idle lasts this long before an automatic restart, doubled per
  // consecutive failure up to max_connect_retry (RFC 4271 §8.1.1 DampPeerOscillations).
  Duration idle_hold = std::chrono::seconds(1);
  // RFC 4271 §8.2.2: the hold timer in OpenSent is "a large value", 4 minutes suggested.
  Duration open_hold = std::chrono::minutes(4);
};

namespace action {
struct Connect {};      // open a TCP connection to the peer
struct Disconnect {};   // close the TCP connection (after any NOTIFICATION queued before)
struct SendOpen {};
struct SendKeepalive {};
struct SendNotification {
  NotificationMessage message;
};
struct SessionUp {};    // entered Established: Adj-RIB-Out may be sent
struct SessionDown {    // left Established
  std::string reason;
  bool notification = false;  // ended by a NOTIFICATION (sent or received), not a dropped connection
};
}  // namespace action

using Action = std::variant<action::Connect, action::Disconnect, action::SendOpen, action::SendKeepalive,
                            action::SendNotification, action::SessionUp, action::SessionDown>;
using Actions = std::vector<Action>;

// RFC 4271 §6.8: on a collision, keep the connection the remote side initiated only when our
// BGP Identifier is the lower one.
inline bool keep_remote_initiated(std::uint32_t local_id, std::uint32_t remote_id) { return local_id < remote_id; }

class Fsm {
 public:
  explicit Fsm(FsmConfig config) : config_(config), retry_(config.connect_retry) {}

  State state() const { return state_; }
  const std::string& last_error() const { return last_error_; }
  const std::optional<Negotiated>& negotiated() const { return negotiated_; }
  const FsmConfig& config() const { return config_; }
  // The earliest timer deadline, if any timer runs; call tick() then.
  std::optional<TimePoint> next_deadline() const;

  // Administrative events (RFC 4271 §8.1.2).
  Actions start(TimePoint now);                                   // ManualStart
  Actions stop(TimePoint now, std::uint8_t cease_subcode = err::kCeaseShutdown);  // ManualStop
  // Leaves Established without a NOTIFICATION, as a restarting speaker does (RFC 4724 §4.1).
  Actions drop(TimePoint now);

  // Timers: fires every deadline that has passed.
  Actions tick(TimePoint now);

  // Transport events (RFC 4271 §8.1.3).
  Actions connected(TimePoint now);          // Tcp_CR_Acked / TcpConnectionConfirmed
  Actions connection_failed(TimePoint now);  // TcpConnectionFails

  // Message events (RFC 4271 §8.1.4).
  Actions open_received(const Negotiated& negotiated, TimePoint now);  // BGPOpen, checks passed
  Actions message_error(const WireError& error, TimePoint now);         // header/OPEN/UPDATE errors
  Actions notification_received(const NotificationMessage& n, TimePoint now);
  Actions keepalive_received(TimePoint now);
  Actions update_received(TimePoint now);
  Actions route_refresh_received(TimePoint now);
  // Connection collision (RFC 4271 §6.8) resolved for the peer's connection: its OPEN is
  // `negotiated` and our OPEN went out on it; the FSM continues on it from OpenSent.
  Actions replace_connection(const Negotiated& negotiated, TimePoint now);

 private:
  Actions to_idle(TimePoint now, std::string reason, std::optional<NotificationMessage> send,
                  bool notification, bool restart = true);
  Actions fsm_error(TimePoint now, const char* what);
  void arm_hold(TimePoint now);
  void enter(State s);

  FsmConfig config_;
  State state_ = State::Idle;
  bool enabled_ = false;  // started and not stopped
  std::string last_error_;
  std::optional<Negotiated> negotiated_;
  Duration retry_;
  unsigned failures_ = 0;
  std::optional<TimePoint> connect_retry_at_;
  std::optional<TimePoint> hold_at_;
  std::optional<TimePoint> keepalive_at_;
  std::optional<TimePoint> idle_hold_at_;
};

}  // namespace blockd::bgp
