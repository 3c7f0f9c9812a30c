// Exponential back-off, the one rule for every retry that waits longer after each failure: the
// route programmer's refused changes, the BGP idle hold (RFC 4271 §8.1.1 DampPeerOscillations)
// and the etcd client's passes over its members.
#pragma once

#include <algorithm>
#include <chrono>

namespace blockd {

// The wait before retry number `attempt` (1 = the first retry): `initial`, doubled per further
// attempt, never more than `max` (no overflow: doubling stops once max is reached).
template <class Rep, class Period>
std::chrono::duration<Rep, Period> doubling_backoff(std::chrono::duration<Rep, Period> initial, unsigned attempt,
                                                    std::chrono::duration<Rep, Period> max) {
  auto wait = initial;
  for (unsigned i = 1; i < attempt && wait < max; ++i) wait *= 2;
  return std::min(wait, max);
}

}  // namespace blockd
