// For tests: time moves only when told to.
#pragma once

#include "ipam/net/clock.hpp"

namespace blockd {

class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(Duration d) { now_ += d; }

 private:
  TimePoint now_{std::chrono::hours(1)};
};

}  // namespace blockd
