#include "bfd/session.hpp"

#include <algorithm>

namespace blockd::bfd {

Timers timers_from(const BfdProfile& profile) {
  return Timers{Micros(std::int64_t{profile.transmit_interval_ms} * 1000),
                Micros(std::int64_t{profile.receive_interval_ms} * 1000),
                static_cast<std::uint8_t>(std::clamp<std::uint32_t>(profile.detect_multiplier, 1, 255))};
}

Session::Session(std::uint32_t local_discriminator, Timers timers, std::uint32_t jitter_seed, TimePoint now)
    : local_discr_(local_discriminator), configured_(timers), jitter_(jitter_seed == 0 ? 1 : jitter_seed) {
  advertised_tx_ = active_tx_ = std::max(kSlowTxInterval, configured_.desired_min_tx);
  advertised_rx_ = active_rx_ = configured_.required_min_rx;
  last_tx_ = now;
  next_tx_ = now;  // the first packet goes out at once
}

Micros Session::tx_interval() const { return std::max(active_tx_, remote_min_rx_); }

Micros Session::detection_time() const {
  return remote_detect_mult_ * std::max(active_rx_, remote_desired_tx_);
}

TimePoint Session::next_event() const {
  if (detect_deadline_ && (state_ == State::Init || state_ == State::Up)) return std::min(next_tx_, *detect_deadline_);
  return next_tx_;
}

// §6.8.7: 75 to 100 % of the interval; at most 90 % when Detect Mult is 1, so that one late
// packet does not end the session.
Duration Session::jittered(Micros interval) {
  int top = configured_.detect_mult == 1 ? 90 : 100;
  int percent = std::uniform_int_distribution<int>(75 * 10, top * 10)(jitter_);
  return std::chrono::duration_cast<Duration>(interval * percent / 1000);
}

// §6.8.7: no periodic packets while the peer asks for none (Required Min RX 0) or runs Demand
// mode with both ends Up.
bool Session::periodic_allowed() const {
  if (remote_min_rx_.count() == 0) return false;
  return !(remote_demand_ && state_ == State::Up && remote_state_ == State::Up);
}

void Session::set_state(State s, Diagnostic diag) {
  state_ = s;
  local_diag_ = diag;
  apply_local_timers();
}

// §6.8.3: a change of either advertised interval starts a poll sequence. The advertised
// transmit interval is at least 1 s while not Up.
void Session::apply_local_timers() {
  Micros want_tx = state_ == State::Up ? configured_.desired_min_tx : std::max(kSlowTxInterval, configured_.desired_min_tx);
  Micros want_rx = configured_.required_min_rx;
  if (want_tx == advertised_tx_ && want_rx == advertised_rx_) return;
  bool up = state_ == State::Up;
  // While Up, sending slower or demanding faster waits for the peer's Final; the other
  // directions are safe at once.
  if (!(up && want_tx > active_tx_)) active_tx_ = want_tx;
  if (!(up && want_rx < active_rx_)) active_rx_ = want_rx;
  advertised_tx_ = want_tx;
  advertised_rx_ = want_rx;
  polling_ = true;
}

void Session::set_timers(Timers timers) {
  configured_ = timers;
  apply_local_timers();
}

ControlPacket Session::packet(bool final) const {
  ControlPacket p;
  p.diagnostic = local_diag_;
  p.state = state_;
  p.final = final;
  p.poll = polling_ && !final;  // §6.8.7: never both
  p.detect_mult = configured_.detect_mult;
  p.my_discriminator = local_discr_;
  p.your_discriminator = remote_discr_;
  p.desired_min_tx = advertised_tx_;
  p.required_min_rx = advertised_rx_;
  p.required_min_echo_rx = Micros(0);  // no Echo function
  return p;
}

Actions Session::finish(State before, Micros tx_before, TimePoint now, std::optional<ControlPacket> send) {
  // A shorter transmit interval applies to the next packet, not after the old, longer wait.
  if (tx_interval() < tx_before) next_tx_ = std::min(next_tx_, last_tx_ + jittered(tx_interval()));
  if (next_tx_ < now) next_tx_ = now;
  Actions a;
  a.send = std::move(send);
  if (state_ != before) a.state_changed = state_;
  return a;
}

Actions Session::receive(const ControlPacket& p, TimePoint now) {
  State before = state_;
  Micros tx_before = tx_interval();
  // §6.8.6: a packet for another session (the transport matched it by address) is discarded.
  if (p.your_discriminator != 0 && p.your_discriminator != local_discr_) return {};
  remote_discr_ = p.my_discriminator;
  remote_state_ = p.state;
  remote_demand_ = p.demand;
  remote_min_rx_ = p.required_min_rx;
  remote_desired_tx_ = p.desired_min_tx;
  remote_detect_mult_ = p.detect_mult;
  if (p.final && polling_) {  // the peer has our new intervals: use them
    polling_ = false;
    active_tx_ = advertised_tx_;
    active_rx_ = advertised_rx_;
  }
  if (state_ == State::AdminDown) return finish(before, tx_before, now, std::nullopt);
  detect_deadline_ = now + detection_time();
  if (p.state == State::AdminDown) {
    if (state_ != State::Down) set_state(State::Down, Diagnostic::NeighborSignaledDown);
  } else if (state_ == State::Down) {
    if (p.state == State::Down) set_state(State::Init, Diagnostic::None);
    else if (p.state == State::Init) set_state(State::Up, Diagnostic::None);
  } else if (state_ == State::Init) {
    if (p.state == State::Init || p.state == State::Up) set_state(State::Up, Diagnostic::None);
  } else if (p.state == State::Down) {  // Up
    set_state(State::Down, Diagnostic::NeighborSignaledDown);
  }
  std::optional<ControlPacket> reply;
  if (p.poll) reply = packet(true);  // §6.8.7: answer a Poll at once, whatever the timer
  return finish(before, tx_before, now, std::move(reply));
}

Actions Session::on_timer(TimePoint now) {
  State before = state_;
  Micros tx_before = tx_interval();
  if (detect_deadline_ && now >= *detect_deadline_ && (state_ == State::Init || state_ == State::Up)) {
    // §6.8.4; §6.8.1: bfd.RemoteDiscr is zeroed when the Detection Time expires.
    remote_discr_ = 0;
    remote_state_ = State::Down;
    detect_deadline_.reset();
    set_state(State::Down, Diagnostic::DetectionTimeExpired);
  }
  std::optional<ControlPacket> send;
  if (now >= next_tx_) {
    if (periodic_allowed()) send = packet(false);
    last_tx_ = now;
    next_tx_ = now + jittered(tx_interval());
  }
  Actions a = finish(before, tx_before, now, std::move(send));
  return a;
}

Actions Session::set_admin_down(bool down) {
  State before = state_;
  if (down && state_ != State::AdminDown) {
    detect_deadline_.reset();
    set_state(State::AdminDown, Diagnostic::AdministrativelyDown);
  } else if (!down && state_ == State::AdminDown) {
    set_state(State::Down, Diagnostic::None);
  }
  Actions a;
  if (state_ != before) a.state_changed = state_;
  return a;
}

}  // namespace blockd::bfd
