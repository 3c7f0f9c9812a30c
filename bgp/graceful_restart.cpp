#include "bgp/graceful_restart.hpp"

#include <algorithm>

namespace blockd::bgp {

bool GracefulRestartHelper::session_lost(const std::optional<GracefulRestartCapability>& peer_capability,
                                         bool notification, TimePoint now) {
  // RFC 4724 §4.2: only a dropped connection (no NOTIFICATION) starts the restart; a peer
  // that restarts while already restarting keeps its deadline.
  if (!peer_capability || notification) {
    deadline_.reset();
    waiting_.clear();
    return false;
  }
  restart_time_ = std::chrono::seconds(peer_capability->restart_time);
  if (!deadline_) deadline_ = now + restart_time_;
  return restart_time_.count() > 0;
}

std::vector<AddressFamily> GracefulRestartHelper::session_up(
    const std::optional<GracefulRestartCapability>& peer_capability, const std::vector<AddressFamily>& stale_families,
    TimePoint now) {
  std::vector<AddressFamily> flush;
  if (!deadline_) return flush;
  waiting_.clear();
  for (const auto& f : stale_families) {
    bool preserved = false;
    if (peer_capability) {
      preserved = std::ranges::any_of(peer_capability->families, [&](const auto& g) {
        return g.family == f && g.forwarding_preserved;
      });
    }
    if (preserved) waiting_.push_back(f);
    else flush.push_back(f);
  }
  if (waiting_.empty()) deadline_.reset();
  else deadline_ = now + restart_time_;  // the stale routes wait at most this long for End-of-RIB
  return flush;
}

bool GracefulRestartHelper::end_of_rib(AddressFamily family) {
  std::erase(waiting_, family);
  if (waiting_.empty()) deadline_.reset();
  return !waiting_.empty();
}

bool GracefulRestartHelper::abandon() {
  const bool was = deadline_.has_value();
  deadline_.reset();
  waiting_.clear();
  return was;
}

bool GracefulRestartHelper::expired(TimePoint now) {
  if (deadline_ && *deadline_ <= now) {
    deadline_.reset();
    waiting_.clear();
    return true;
  }
  return false;
}

}  // namespace blockd::bgp
