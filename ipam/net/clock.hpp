// Time for the pure parts (BGP FSM, graceful restart, the route programmer's back-off): injected,
// never read from the system there, so tests move it by hand (tests/support/fake_clock.hpp).
#pragma once

#include <chrono>

namespace blockd {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// The process's one steady clock, for callers that do not inject their own.
inline const Clock& steady_clock() {
  static const SteadyClock clock;
  return clock;
}

}  // namespace blockd
