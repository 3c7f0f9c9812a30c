// One BFD session's state machine (RFC 5880, asynchronous mode): Down/Init/Up/AdminDown, timer
// negotiation, the poll sequence, detection and periodic transmission with jitter. Pure: packets
// and the time come in as values, packets to send and state changes go out; the transport
// (bfd/transport.hpp) owns the sockets and the timer.
#pragma once

#include <cstdint>
#include <optional>
#include <random>

#include "bfd/control_packet.hpp"
#include "ipam/net/bfd_profile.hpp"
#include "ipam/net/clock.hpp"

namespace blockd::bfd {

// §6.8.1: bfd.DesiredMinTxInterval, bfd.RequiredMinRxInterval, bfd.DetectMult as configured.
struct Timers {
  Micros desired_min_tx{300'000};
  Micros required_min_rx{300'000};
  std::uint8_t detect_mult = 3;
  friend bool operator==(const Timers&, const Timers&) = default;
};

// The operator's milliseconds as the protocol's microseconds (validated by bfd_profile_problem).
Timers timers_from(const BfdProfile& profile);

// §6.8.3: the transmit interval while the session is not Up.
inline constexpr Micros kSlowTxInterval{1'000'000};

// What one input asks of the caller.
struct Actions {
  std::optional<ControlPacket> send;   // transmit now
  std::optional<State> state_changed;  // the session's new state, when it moved
};

class Session {
 public:
  // `local_discriminator`: not 0, unique on this system (§6.8.1). `jitter_seed` seeds the
  // transmit jitter (§6.8.7), so tests can repeat a run.
  Session(std::uint32_t local_discriminator, Timers timers, std::uint32_t jitter_seed, TimePoint now);

  // §6.8.6 for a packet decode() accepted and the transport matched to this session.
  Actions receive(const ControlPacket& packet, TimePoint now);
  // Time passed: detection (§6.8.4) and periodic transmission (§6.8.7). Call at next_event().
  Actions on_timer(TimePoint now);
  TimePoint next_event() const;

  // New configured timers: a poll sequence carries them to the peer (§6.8.3).
  void set_timers(Timers timers);
  // §6.8.16: AdminDown stops the session (and tells the peer); leaving it starts from Down.
  Actions set_admin_down(bool down);

  State state() const { return state_; }
  State remote_state() const { return remote_state_; }
  Diagnostic local_diagnostic() const { return local_diag_; }
  std::uint32_t local_discriminator() const { return local_discr_; }
  std::uint32_t remote_discriminator() const { return remote_discr_; }
  bool polling() const { return polling_; }
  // The negotiated values: max(our desired min TX, the peer's required min RX), and the
  // peer's Detect Mult x max(our required min RX, the peer's desired min TX) (§6.8.4, §6.8.7).
  Micros tx_interval() const;
  Micros detection_time() const;
  // The Desired Min TX Interval we advertise: the configured one when Up, at least 1 s otherwise.
  Micros advertised_min_tx() const { return advertised_tx_; }
  Micros advertised_min_rx() const { return advertised_rx_; }

  // The packet the session sends now: Poll set during a poll sequence, Final when answering one.
  ControlPacket packet(bool final) const;

 private:
  void apply_local_timers();
  bool periodic_allowed() const;
  Duration jittered(Micros interval);
  void set_state(State s, Diagnostic diag);
  Actions finish(State before, Micros tx_before, TimePoint now, std::optional<ControlPacket> send);

  std::uint32_t local_discr_;
  Timers configured_;
  State state_ = State::Down;
  State remote_state_ = State::Down;
  Diagnostic local_diag_ = Diagnostic::None;
  std::uint32_t remote_discr_ = 0;
  bool remote_demand_ = false;
  Micros remote_min_rx_{1};  // §6.8.1: initialised to 1
  Micros remote_desired_tx_{0};
  std::uint8_t remote_detect_mult_ = 0;
  // Advertised: what our packets say. Active: what our own timing uses; a slower transmit
  // rate or a faster required receive rate takes effect only once the poll ends (§6.8.3).
  Micros advertised_tx_{kSlowTxInterval};
  Micros advertised_rx_{0};
  Micros active_tx_{kSlowTxInterval};
  Micros active_rx_{0};
  bool polling_ = false;
  TimePoint last_tx_;
  TimePoint next_tx_;
  std::optional<TimePoint> detect_deadline_;
  std::minstd_rand jitter_;
};

}  // namespace blockd::bfd
