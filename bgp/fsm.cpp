#include "bgp/fsm.hpp"

#include "ipam/net/backoff.hpp"

// g++ 12 reports a false -Wmaybe-uninitialized when moving std::variant<..., std::string> (GCC bug 105593 family).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>

namespace blockd::bgp {

namespace {
// Built by push_back: an initializer list of variants trips a false -Wmaybe-uninitialized in g++ 12.
Actions one(Action a) {
  Actions v;
  v.push_back(std::move(a));
  return v;
}
}  // namespace

const char* state_name(State s) {
  switch (s) {
    case State::Idle: return "Idle";
    case State::Connect: return "Connect";
    case State::Active: return "Active";
    case State::OpenSent: return "OpenSent";
    case State::OpenConfirm: return "OpenConfirm";
    case State::Established: return "Established";
  }
  return "?";
}

std::optional<TimePoint> Fsm::next_deadline() const {
  std::optional<TimePoint> at;
  for (const auto& t : {connect_retry_at_, hold_at_, keepalive_at_, idle_hold_at_}) {
    if (t && (!at || *t < *at)) at = t;
  }
  return at;
}

void Fsm::enter(State s) { state_ = s; }

void Fsm::arm_hold(TimePoint now) {
  if (negotiated_ && negotiated_->hold_time > 0) hold_at_ = now + std::chrono::seconds(negotiated_->hold_time);
}

Actions Fsm::start(TimePoint now) {
  if (enabled_ && state_ != State::Idle) return {};
  enabled_ = true;
  idle_hold_at_.reset();
  negotiated_.reset();
  if (config_.passive) {
    // RFC 4271 §8.2.2: a passive peer waits in Active for the peer to connect.
    enter(State::Active);
    return {};
  }
  enter(State::Connect);
  connect_retry_at_ = now + retry_;
  return one(action::Connect{});
}

Actions Fsm::stop(TimePoint now, std::uint8_t cease_subcode) {
  (void)now;
  enabled_ = false;
  Actions out;
  if (state_ == State::OpenSent || state_ == State::OpenConfirm || state_ == State::Established) {
    out.push_back(action::SendNotification{{err::kCease, cease_subcode, {}}});
  }
  if (state_ != State::Idle && state_ != State::Active) out.push_back(action::Disconnect{});
  if (state_ == State::Established) out.push_back(action::SessionDown{"stopped", true});
  enter(State::Idle);
  connect_retry_at_.reset();
  hold_at_.reset();
  keepalive_at_.reset();
  idle_hold_at_.reset();
  retry_ = config_.connect_retry;
  failures_ = 0;
  return out;
}

Actions Fsm::drop(TimePoint now) {
  (void)now;
  enabled_ = false;
  Actions out;
  if (state_ != State::Idle && state_ != State::Active) out.push_back(action::Disconnect{});
  if (state_ == State::Established) out.push_back(action::SessionDown{"stopped for graceful restart", false});
  enter(State::Idle);
  connect_retry_at_.reset();
  hold_at_.reset();
  keepalive_at_.reset();
  idle_hold_at_.reset();
  return out;
}

Actions Fsm::to_idle(TimePoint now, std::string reason, std::optional<NotificationMessage> send,
                     bool notification, bool restart) {
  Actions out;
  const bool open = state_ == State::OpenSent || state_ == State::OpenConfirm || state_ == State::Established;
  if (send && open) out.push_back(action::SendNotification{*send});
  if (state_ != State::Idle && state_ != State::Active) out.push_back(action::Disconnect{});
  if (state_ == State::Established) {
    out.push_back(action::SessionDown{reason, notification || (send.has_value() && open)});
  }
  last_error_ = std::move(reason);
  enter(State::Idle);
  connect_retry_at_.reset();
  hold_at_.reset();
  keepalive_at_.reset();
  if (enabled_ && restart) {
    // DampPeerOscillations: each consecutive failure doubles the wait before the restart.
    ++failures_;
    idle_hold_at_ = now + doubling_backoff(config_.idle_hold, failures_, config_.max_connect_retry);
  }
  return out;
}

Actions Fsm::fsm_error(TimePoint now, const char* what) {
  // RFC 6608 §4: the subcode says which state the unexpected message arrived in.
  std::uint8_t subcode = 0;
  if (state_ == State::OpenSent) subcode = err::kFsmInOpenSent;
  if (state_ == State::OpenConfirm) subcode = err::kFsmInOpenConfirm;
  if (state_ == State::Established) subcode = err::kFsmInEstablished;
  return to_idle(now, std::string("FSM error: ") + what + " in " + state_name(state_),
                 NotificationMessage{err::kFsm, subcode, {}}, true);
}

Actions Fsm::tick(TimePoint now) {
  Actions out;
  auto due = [&](std::optional<TimePoint>& t) {
    if (t && *t <= now) {
      t.reset();
      return true;
    }
    return false;
  };
  if (due(idle_hold_at_) && enabled_ && state_ == State::Idle) {
    enabled_ = false;  // start() re-enables
    auto a = start(now);
    out.insert(out.end(), a.begin(), a.end());
  }
  if (due(connect_retry_at_)) {
    retry_ = std::min(retry_ * 2, config_.max_connect_retry);
    if (state_ == State::Connect) {
      // RFC 4271 §8.2.2 Connect, event 9: drop the attempt and try again.
      out.push_back(action::Disconnect{});
      out.push_back(action::Connect{});
      connect_retry_at_ = now + retry_;
    } else if (state_ == State::Active && !config_.passive) {
      enter(State::Connect);
      out.push_back(action::Connect{});
      connect_retry_at_ = now + retry_;
    }
  }
  if (due(hold_at_) && (state_ == State::OpenSent || state_ == State::OpenConfirm || state_ == State::Established)) {
    auto a = to_idle(now, "hold timer expired", NotificationMessage{err::kHoldTimer, 0, {}}, true);
    out.insert(out.end(), a.begin(), a.end());
  }
  if (due(keepalive_at_) && (state_ == State::OpenConfirm || state_ == State::Established)) {
    out.push_back(action::SendKeepalive{});
    keepalive_at_ = now + std::chrono::seconds(std::max<std::uint16_t>(1, negotiated_->keepalive_time));
  }
  return out;
}

Actions Fsm::connected(TimePoint now) {
  if (state_ != State::Connect && state_ != State::Active) return {};
  connect_retry_at_.reset();
  enter(State::OpenSent);
  hold_at_ = now + config_.open_hold;
  return one(action::SendOpen{});
}

Actions Fsm::connection_failed(TimePoint now) {
  switch (state_) {
    case State::Connect:
    case State::OpenSent:
      // RFC 4271 §8.2.2: back to Active, to retry when the ConnectRetryTimer fires.
      enter(State::Active);
      hold_at_.reset();
      last_error_ = "connection failed";
      if (config_.passive) return one(action::Disconnect{});
      connect_retry_at_ = now + retry_;
      return one(action::Disconnect{});
    case State::OpenConfirm:
    case State::Established:
      return to_idle(now, "connection closed by peer", std::nullopt, false);
    default:
      return {};
  }
}

Actions Fsm::open_received(const Negotiated& negotiated, TimePoint now) {
  if (state_ != State::OpenSent) return fsm_error(now, "OPEN");
  negotiated_ = negotiated;
  enter(State::OpenConfirm);
  hold_at_.reset();
  arm_hold(now);
  if (negotiated.hold_time > 0) {
    keepalive_at_ = now + std::chrono::seconds(std::max<std::uint16_t>(1, negotiated.keepalive_time));
  }
  return one(action::SendKeepalive{});
}

Actions Fsm::message_error(const WireError& error, TimePoint now) {
  return to_idle(now, error.reason, error.notification, true);
}

Actions Fsm::notification_received(const NotificationMessage& n, TimePoint now) {
  return to_idle(now, "peer sent NOTIFICATION " + describe(n), std::nullopt, true);
}

Actions Fsm::keepalive_received(TimePoint now) {
  if (state_ == State::OpenConfirm) {
    enter(State::Established);
    arm_hold(now);
    failures_ = 0;
    retry_ = config_.connect_retry;
    last_error_.clear();
    return one(action::SessionUp{});
  }
  if (state_ == State::Established) {
    arm_hold(now);
    return {};
  }
  if (state_ == State::OpenSent) return fsm_error(now, "KEEPALIVE");
  return {};
}

Actions Fsm::update_received(TimePoint now) {
  if (state_ == State::Established) {
    arm_hold(now);
    return {};
  }
  if (state_ == State::OpenSent || state_ == State::OpenConfirm) return fsm_error(now, "UPDATE");
  return {};
}

Actions Fsm::replace_connection(const Negotiated& negotiated, TimePoint now) {
  enter(State::OpenSent);
  return open_received(negotiated, now);
}

Actions Fsm::route_refresh_received(TimePoint now) {
  // Only an Established session has routes to refresh; before it, as BIRD does, an FSM error.
  if (state_ == State::OpenSent || state_ == State::OpenConfirm) return fsm_error(now, "ROUTE-REFRESH");
  return {};
}

}  // namespace blockd::bgp
