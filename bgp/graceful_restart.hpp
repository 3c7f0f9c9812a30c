// Graceful restart, receiving side ("helper", RFC 4724 §4.2), as pure logic: when a peer that
// advertised the capability drops the connection without a NOTIFICATION, its routes stay
// (marked stale) for its Restart Time; once it is back they stay until its End-of-RIB for
// each family, or until the same time passes again. The restarting side is in speaker.cpp:
// it leaves without a NOTIFICATION and sets the R and F bits when it returns.
#pragma once

#include <optional>
#include <vector>

#include "bgp/codec/capabilities.hpp"
#include "ipam/net/clock.hpp"

namespace blockd::bgp {

class GracefulRestartHelper {
 public:
  // The session went down. Returns true if the routes are to be kept as stale; false: flush now.
  bool session_lost(const std::optional<GracefulRestartCapability>& peer_capability, bool notification,
                    TimePoint now);
  // The session is back: returns the families whose stale routes must go now (the peer no
  // longer preserves forwarding for them, RFC 4724 §4.2).
  std::vector<AddressFamily> session_up(const std::optional<GracefulRestartCapability>& peer_capability,
                                        const std::vector<AddressFamily>& stale_families, TimePoint now);
  // End-of-RIB for a family: its stale routes go. Returns whether any family is still waiting.
  bool end_of_rib(AddressFamily family);
  // True when the timer ran out: every stale route goes.
  bool expired(TimePoint now);
  // The path to the peer failed (BFD Down): a BFD-detected failure gets no graceful-restart
  // retention (RFC 5882 §4.3.1), so stop helping. Returns whether routes were being kept.
  bool abandon();
  bool restarting() const { return deadline_.has_value(); }
  std::optional<TimePoint> deadline() const { return deadline_; }

 private:
  std::optional<TimePoint> deadline_;
  std::vector<AddressFamily> waiting_;  // families whose End-of-RIB we wait for
  Duration restart_time_{};
};

}  // namespace blockd::bgp
