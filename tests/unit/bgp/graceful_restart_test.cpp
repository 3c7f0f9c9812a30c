// RFC 4724 §4.2, receiving speaker: when stale routes stay and when they go.
#include <gtest/gtest.h>

#include "bgp/graceful_restart.hpp"
#include "tests/support/fake_clock.hpp"

namespace blockd::bgp {
namespace {

using namespace std::chrono_literals;

const AddressFamily kV4{1, 1};
const AddressFamily kV6{2, 1};

GracefulRestartCapability cap(std::uint16_t time, bool forwarding = true) {
  return {false, time, {{kV4, forwarding}, {kV6, forwarding}}};
}

TEST(GracefulRestartHelper, DroppedConnectionKeepsRoutes) {
  FakeClock clock;
  GracefulRestartHelper gr;
  EXPECT_TRUE(gr.session_lost(cap(120), false, clock.now()));
  EXPECT_TRUE(gr.restarting());
}

// RFC 5882 §4.3.1: BFD Down after a connection loss kept the routes: they go at once.
TEST(GracefulRestartHelper, BfdDownAbandonsRoutesKeptForARestart) {
  FakeClock clock;
  GracefulRestartHelper gr;
  ASSERT_TRUE(gr.session_lost(cap(120), false, clock.now()));
  EXPECT_TRUE(gr.abandon());
  EXPECT_FALSE(gr.restarting());
  EXPECT_FALSE(gr.deadline());
  EXPECT_FALSE(gr.abandon());  // nothing kept any more
}

TEST(GracefulRestartHelper, NotificationFlushesRoutes) {
  FakeClock clock;
  GracefulRestartHelper gr;
  EXPECT_FALSE(gr.session_lost(cap(120), true, clock.now()));
}

TEST(GracefulRestartHelper, PeerWithoutCapabilityFlushesRoutes) {
  FakeClock clock;
  GracefulRestartHelper gr;
  EXPECT_FALSE(gr.session_lost(std::nullopt, false, clock.now()));
}

TEST(GracefulRestartHelper, RestartTimeRunningOutFlushes) {
  FakeClock clock;
  GracefulRestartHelper gr;
  gr.session_lost(cap(120), false, clock.now());
  clock.advance(119s);
  EXPECT_FALSE(gr.expired(clock.now()));
  clock.advance(1s);
  EXPECT_TRUE(gr.expired(clock.now()));
  EXPECT_FALSE(gr.restarting());
}

TEST(GracefulRestartHelper, BackWithForwardingPreservedWaitsForEndOfRib) {
  FakeClock clock;
  GracefulRestartHelper gr;
  gr.session_lost(cap(120), false, clock.now());
  clock.advance(30s);
  EXPECT_TRUE(gr.session_up(cap(120), {kV4, kV6}, clock.now()).empty());
  EXPECT_TRUE(gr.end_of_rib(kV4));   // IPv6 still waiting
  EXPECT_FALSE(gr.end_of_rib(kV6));
  EXPECT_FALSE(gr.restarting());
}

TEST(GracefulRestartHelper, BackWithoutForwardingBitFlushesThatFamily) {
  FakeClock clock;
  GracefulRestartHelper gr;
  gr.session_lost(cap(120), false, clock.now());
  GracefulRestartCapability back{true, 120, {{kV4, true}, {kV6, false}}};
  EXPECT_EQ(gr.session_up(back, {kV4, kV6}, clock.now()), (std::vector<AddressFamily>{kV6}));
}

TEST(GracefulRestartHelper, NoEndOfRibInTimeFlushesTheRest) {
  FakeClock clock;
  GracefulRestartHelper gr;
  gr.session_lost(cap(60), false, clock.now());
  gr.session_up(cap(60), {kV4}, clock.now());
  clock.advance(60s);
  EXPECT_TRUE(gr.expired(clock.now()));
}

}  // namespace
}  // namespace blockd::bgp
