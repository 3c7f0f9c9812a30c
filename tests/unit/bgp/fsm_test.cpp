// RFC 4271 §8 transitions with a fake clock: each test is one event in one state.
#include <gtest/gtest.h>

#include <algorithm>

#include "bgp/fsm.hpp"
#include "tests/support/fake_clock.hpp"

namespace blockd::bgp {
namespace {

using namespace std::chrono_literals;

template <class T>
bool has(const Actions& a) {
  return std::ranges::any_of(a, [](const Action& x) { return std::holds_alternative<T>(x); });
}

std::optional<NotificationMessage> sent(const Actions& a) {
  for (const auto& x : a) {
    if (auto* n = std::get_if<action::SendNotification>(&x)) return n->message;
  }
  return std::nullopt;
}

Negotiated terms(std::uint16_t hold = 90) {
  Negotiated n;
  n.peer_as = 65001;
  n.local_as = 65002;
  n.peer_id = 1;
  n.hold_time = hold;
  n.keepalive_time = hold / 3;
  n.families = {{1, 1}};
  return n;
}

class FsmTest : public ::testing::Test {
 protected:
  FakeClock clock;
  Fsm fsm{FsmConfig{}};

  void to_established(std::uint16_t hold = 90) {
    fsm.start(clock.now());
    fsm.connected(clock.now());
    fsm.open_received(terms(hold), clock.now());
    fsm.keepalive_received(clock.now());
    ASSERT_EQ(fsm.state(), State::Established);
  }
  Actions advance(Duration d) {
    clock.advance(d);
    return fsm.tick(clock.now());
  }
};

TEST_F(FsmTest, StartsInIdle) { EXPECT_EQ(fsm.state(), State::Idle); }

TEST_F(FsmTest, ActiveStartConnects) {
  const Actions a = fsm.start(clock.now());
  EXPECT_EQ(fsm.state(), State::Connect);
  EXPECT_TRUE(has<action::Connect>(a));
}

TEST_F(FsmTest, PassiveStartWaitsInActiveWithoutConnecting) {
  Fsm passive{FsmConfig{.passive = true}};
  const Actions a = passive.start(clock.now());
  EXPECT_EQ(passive.state(), State::Active);
  EXPECT_FALSE(has<action::Connect>(a));
  clock.advance(10min);
  EXPECT_FALSE(has<action::Connect>(passive.tick(clock.now())));
}

TEST_F(FsmTest, ConnectedSendsOpen) {
  fsm.start(clock.now());
  const Actions a = fsm.connected(clock.now());
  EXPECT_EQ(fsm.state(), State::OpenSent);
  EXPECT_TRUE(has<action::SendOpen>(a));
}

TEST_F(FsmTest, OpenInOpenSentSendsKeepaliveAndGoesToOpenConfirm) {
  fsm.start(clock.now());
  fsm.connected(clock.now());
  const Actions a = fsm.open_received(terms(), clock.now());
  EXPECT_EQ(fsm.state(), State::OpenConfirm);
  EXPECT_TRUE(has<action::SendKeepalive>(a));
}

TEST_F(FsmTest, KeepaliveInOpenConfirmEstablishes) {
  fsm.start(clock.now());
  fsm.connected(clock.now());
  fsm.open_received(terms(), clock.now());
  const Actions a = fsm.keepalive_received(clock.now());
  EXPECT_EQ(fsm.state(), State::Established);
  EXPECT_TRUE(has<action::SessionUp>(a));
}

TEST_F(FsmTest, ConnectFailureGoesActiveAndRetriesAfterConnectRetry) {
  fsm.start(clock.now());
  fsm.connection_failed(clock.now());
  EXPECT_EQ(fsm.state(), State::Active);
  EXPECT_FALSE(has<action::Connect>(advance(4s)));
  const Actions a = advance(1s);
  EXPECT_TRUE(has<action::Connect>(a));
  EXPECT_EQ(fsm.state(), State::Connect);
}

TEST_F(FsmTest, ConnectRetryBacksOffExponentiallyUpToTheMaximum) {
  fsm.start(clock.now());
  // Attempts hang: each ConnectRetry expiry in Connect retries, waiting twice as long.
  EXPECT_TRUE(has<action::Connect>(advance(5s)));
  EXPECT_FALSE(has<action::Connect>(advance(9s)));
  EXPECT_TRUE(has<action::Connect>(advance(1s)));   // 10 s
  EXPECT_TRUE(has<action::Connect>(advance(20s)));  // 20 s
  EXPECT_TRUE(has<action::Connect>(advance(40s)));  // 40 s
  EXPECT_TRUE(has<action::Connect>(advance(60s)));  // capped at 60 s
  EXPECT_TRUE(has<action::Connect>(advance(60s)));
}

TEST_F(FsmTest, HoldTimerExpirySendsNotification4AndGoesIdle) {
  to_established(9);
  EXPECT_TRUE(advance(8s).empty() || fsm.state() == State::Established);
  const Actions a = advance(1s);
  EXPECT_EQ(fsm.state(), State::Idle);
  ASSERT_TRUE(sent(a).has_value());
  EXPECT_EQ(sent(a)->code, 4);
  EXPECT_TRUE(has<action::SessionDown>(a));
  EXPECT_TRUE(has<action::Disconnect>(a));
}

TEST_F(FsmTest, KeepaliveOrUpdateRestartsTheHoldTimer) {
  to_established(9);
  advance(6s);
  fsm.keepalive_received(clock.now());
  advance(6s);
  fsm.update_received(clock.now());
  advance(6s);
  EXPECT_EQ(fsm.state(), State::Established);
}

TEST_F(FsmTest, KeepalivesAreSentEveryThirdOfTheHoldTime) {
  to_established(9);
  EXPECT_TRUE(has<action::SendKeepalive>(advance(3s)));
  fsm.keepalive_received(clock.now());
  EXPECT_FALSE(has<action::SendKeepalive>(advance(2s)));
  EXPECT_TRUE(has<action::SendKeepalive>(advance(1s)));
}

TEST_F(FsmTest, HoldTimeZeroRunsNoTimers) {
  to_established(0);
  EXPECT_FALSE(fsm.next_deadline().has_value());
  advance(24h);
  EXPECT_EQ(fsm.state(), State::Established);
}

TEST_F(FsmTest, OpenSentHoldTimerIsFourMinutes) {
  fsm.start(clock.now());
  fsm.connected(clock.now());
  advance(239s);
  EXPECT_EQ(fsm.state(), State::OpenSent);
  const Actions a = advance(1s);
  EXPECT_EQ(fsm.state(), State::Idle);
  EXPECT_EQ(sent(a)->code, 4);
}

TEST_F(FsmTest, OpenInEstablishedIsFsmErrorSubcode3) {
  to_established();
  const Actions a = fsm.open_received(terms(), clock.now());
  EXPECT_EQ(fsm.state(), State::Idle);
  EXPECT_EQ(sent(a)->code, 5);
  EXPECT_EQ(sent(a)->subcode, 3);  // RFC 6608
}

TEST_F(FsmTest, UpdateInOpenConfirmIsFsmErrorSubcode2) {
  fsm.start(clock.now());
  fsm.connected(clock.now());
  fsm.open_received(terms(), clock.now());
  const Actions a = fsm.update_received(clock.now());
  EXPECT_EQ(sent(a)->code, 5);
  EXPECT_EQ(sent(a)->subcode, 2);
}

TEST_F(FsmTest, RouteRefreshInOpenConfirmIsFsmErrorSubcode2) {
  fsm.start(clock.now());
  fsm.connected(clock.now());
  fsm.open_received(terms(), clock.now());
  const Actions a = fsm.route_refresh_received(clock.now());
  EXPECT_EQ(fsm.state(), State::Idle);
  ASSERT_TRUE(sent(a).has_value());
  EXPECT_EQ(sent(a)->code, 5);
  EXPECT_EQ(sent(a)->subcode, 2);  // RFC 6608; BIRD answers the same
  EXPECT_TRUE(has<action::Disconnect>(a));
}

TEST_F(FsmTest, KeepaliveInOpenSentIsFsmErrorSubcode1) {
  fsm.start(clock.now());
  fsm.connected(clock.now());
  const Actions a = fsm.keepalive_received(clock.now());
  EXPECT_EQ(sent(a)->code, 5);
  EXPECT_EQ(sent(a)->subcode, 1);
}

TEST_F(FsmTest, NotificationReceivedGoesIdleWithoutAnswering) {
  to_established();
  const Actions a = fsm.notification_received({6, 2, {}}, clock.now());
  EXPECT_EQ(fsm.state(), State::Idle);
  EXPECT_FALSE(sent(a).has_value());
  EXPECT_TRUE(has<action::SessionDown>(a));
}

TEST_F(FsmTest, MessageErrorSendsItsNotification) {
  to_established();
  const Actions a = fsm.message_error(wire_error(3, 1, "bad"), clock.now());
  EXPECT_EQ(sent(a)->code, 3);
  EXPECT_EQ(sent(a)->subcode, 1);
  EXPECT_EQ(fsm.last_error(), "bad");
}

TEST_F(FsmTest, AfterAnErrorRestartsAutomaticallyWithDampedBackoff) {
  to_established();
  fsm.notification_received({6, 4, {}}, clock.now());
  EXPECT_TRUE(has<action::Connect>(advance(1s)));
  fsm.connected(clock.now());
  fsm.notification_received({6, 4, {}}, clock.now());
  EXPECT_FALSE(has<action::Connect>(advance(1s)));
  EXPECT_TRUE(has<action::Connect>(advance(1s)));  // second failure: 2 s
}

TEST_F(FsmTest, ManualStopSendsCeaseAndStaysIdle) {
  to_established();
  const Actions a = fsm.stop(clock.now());
  EXPECT_EQ(sent(a)->code, 6);
  EXPECT_EQ(sent(a)->subcode, 2);
  EXPECT_TRUE(has<action::SessionDown>(a));
  EXPECT_FALSE(has<action::Connect>(advance(10min)));
  EXPECT_EQ(fsm.state(), State::Idle);
}

TEST_F(FsmTest, DropLeavesWithoutNotificationForGracefulRestart) {
  to_established();
  const Actions a = fsm.drop(clock.now());
  EXPECT_FALSE(sent(a).has_value());
  EXPECT_TRUE(has<action::Disconnect>(a));
  ASSERT_TRUE(has<action::SessionDown>(a));
  for (const auto& x : a) {
    if (auto* d = std::get_if<action::SessionDown>(&x)) {
      EXPECT_FALSE(d->notification);
    }
  }
}

TEST_F(FsmTest, ConnectionLostInEstablishedIsNotANotification) {
  to_established();
  const Actions a = fsm.connection_failed(clock.now());
  EXPECT_EQ(fsm.state(), State::Idle);
  for (const auto& x : a) {
    if (auto* d = std::get_if<action::SessionDown>(&x)) {
      EXPECT_FALSE(d->notification);
    }
  }
}

TEST_F(FsmTest, ReplaceConnectionAfterCollisionContinuesInOpenConfirm) {
  fsm.start(clock.now());
  fsm.connected(clock.now());
  fsm.open_received(terms(), clock.now());
  const Actions a = fsm.replace_connection(terms(), clock.now());
  EXPECT_EQ(fsm.state(), State::OpenConfirm);
  EXPECT_TRUE(has<action::SendKeepalive>(a));
}

TEST(Collision, LowerLocalIdentifierKeepsTheRemoteConnection) {
  EXPECT_TRUE(keep_remote_initiated(0x0a000001, 0x0a000002));
  EXPECT_FALSE(keep_remote_initiated(0x0a000002, 0x0a000001));
}

}  // namespace
}  // namespace blockd::bgp
