// The RFC 5880 state machine, timers and poll sequence, with time moved by hand.
#include "bfd/session.hpp"

#include <gtest/gtest.h>

namespace blockd::bfd {
namespace {

using std::chrono::milliseconds;
constexpr std::uint32_t kLocal = 0x1111, kRemote = 0x2222;

const Timers k300x3{Micros(300'000), Micros(300'000), 3};

// A packet the peer sends: its discriminator, state and timers.
ControlPacket from_peer(State state, std::uint32_t your = kLocal, Micros tx = Micros(300'000),
                        Micros rx = Micros(300'000), std::uint8_t mult = 3) {
  ControlPacket p;
  p.state = state;
  p.my_discriminator = kRemote;
  p.your_discriminator = your;
  p.detect_mult = mult;
  p.desired_min_tx = tx;
  p.required_min_rx = rx;
  return p;
}

struct Fixture {
  TimePoint now{std::chrono::hours(1)};
  Session session{kLocal, k300x3, 42, now};
  Actions receive(const ControlPacket& p) { return session.receive(p, now); }
  // Into `state` by the three-way handshake (§6.2).
  void reach(State state) {
    if (state == State::Init) receive(from_peer(State::Down, 0));
    if (state == State::Up) receive(from_peer(State::Init));
    ASSERT_EQ(session.state(), state);
  }
};

struct Transition {
  State from;
  State received;
  State to;
  Diagnostic diagnostic;
};

class BfdSessionTransition : public testing::TestWithParam<Transition> {};

// §6.8.6, the table at its end (and §6.2's diagram).
TEST_P(BfdSessionTransition, FollowsRfc5880) {
  const Transition& t = GetParam();
  Fixture f;
  f.reach(t.from);
  Actions a = f.receive(from_peer(t.received, t.received == State::Down || t.received == State::AdminDown ? 0 : kLocal));
  EXPECT_EQ(f.session.state(), t.to);
  EXPECT_EQ(f.session.local_diagnostic(), t.diagnostic);
  EXPECT_EQ(a.state_changed.has_value(), t.from != t.to);
  EXPECT_EQ(f.session.remote_discriminator(), kRemote);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc5880Section686, BfdSessionTransition,
    testing::Values(Transition{State::Down, State::AdminDown, State::Down, Diagnostic::None},
                    Transition{State::Down, State::Down, State::Init, Diagnostic::None},
                    Transition{State::Down, State::Init, State::Up, Diagnostic::None},
                    Transition{State::Down, State::Up, State::Down, Diagnostic::None},
                    Transition{State::Init, State::AdminDown, State::Down, Diagnostic::NeighborSignaledDown},
                    Transition{State::Init, State::Down, State::Init, Diagnostic::None},
                    Transition{State::Init, State::Init, State::Up, Diagnostic::None},
                    Transition{State::Init, State::Up, State::Up, Diagnostic::None},
                    Transition{State::Up, State::AdminDown, State::Down, Diagnostic::NeighborSignaledDown},
                    Transition{State::Up, State::Down, State::Down, Diagnostic::NeighborSignaledDown},
                    Transition{State::Up, State::Init, State::Up, Diagnostic::None},
                    Transition{State::Up, State::Up, State::Up, Diagnostic::None}),
    [](const testing::TestParamInfo<Transition>& info) {
      const Transition& t = info.param;
      return std::string(to_string(t.from)) + "Receives" + std::string(to_string(t.received));
    });

TEST(BfdSession, DiscardsAPacketForAnotherDiscriminator) {
  Fixture f;
  Actions a = f.receive(from_peer(State::Init, 0x9999));
  EXPECT_FALSE(a.state_changed);
  EXPECT_EQ(f.session.state(), State::Down);
  EXPECT_EQ(f.session.remote_discriminator(), 0u);
}

TEST(BfdSession, AdminDownIgnoresThePeerAndLeavesToDown) {
  Fixture f;
  f.reach(State::Up);
  Actions a = f.session.set_admin_down(true);
  EXPECT_EQ(a.state_changed, State::AdminDown);
  EXPECT_EQ(f.session.local_diagnostic(), Diagnostic::AdministrativelyDown);
  EXPECT_EQ(f.session.packet(false).state, State::AdminDown);
  f.receive(from_peer(State::Init));
  EXPECT_EQ(f.session.state(), State::AdminDown);
  EXPECT_EQ(f.session.set_admin_down(false).state_changed, State::Down);
}

// §6.8.3: at least 1 s while not Up, the configured interval once Up.
TEST(BfdSession, TransmitsSlowlyUntilUp) {
  Fixture f;
  EXPECT_EQ(f.session.packet(false).desired_min_tx, kSlowTxInterval);
  EXPECT_EQ(f.session.packet(false).required_min_rx, Micros(300'000));
  f.reach(State::Init);
  EXPECT_EQ(f.session.packet(false).desired_min_tx, kSlowTxInterval);
  EXPECT_EQ(f.session.tx_interval(), kSlowTxInterval);
  f.reach(State::Up);
  EXPECT_EQ(f.session.packet(false).desired_min_tx, Micros(300'000));
  EXPECT_EQ(f.session.tx_interval(), Micros(300'000));
}

struct Negotiation {
  const char* name;
  Timers local;
  Micros remote_tx, remote_rx;
  std::uint8_t remote_mult;
  Micros tx_interval, detection_time;
};

class BfdSessionNegotiation : public testing::TestWithParam<Negotiation> {};

// §6.8.7: tx = max(our desired min tx, their required min rx); §6.8.4: detection = their
// Detect Mult x max(our required min rx, their desired min tx).
TEST_P(BfdSessionNegotiation, UsesTheLargerOfEachPair) {
  const Negotiation& n = GetParam();
  TimePoint now{std::chrono::hours(1)};
  Session s(kLocal, n.local, 1, now);
  s.receive(from_peer(State::Init, kLocal, n.remote_tx, n.remote_rx, n.remote_mult), now);
  ASSERT_EQ(s.state(), State::Up);
  s.receive(from_peer(State::Up, kLocal, n.remote_tx, n.remote_rx, n.remote_mult), now);
  EXPECT_EQ(s.tx_interval(), n.tx_interval);
  EXPECT_EQ(s.detection_time(), n.detection_time);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc5880, BfdSessionNegotiation,
    testing::Values(
        Negotiation{"Equal", k300x3, Micros(300'000), Micros(300'000), 3, Micros(300'000), Micros(900'000)},
        Negotiation{"PeerReceivesSlower", k300x3, Micros(300'000), Micros(500'000), 3, Micros(500'000), Micros(900'000)},
        Negotiation{"PeerSendsSlower", k300x3, Micros(1'000'000), Micros(100'000), 5, Micros(300'000), Micros(5'000'000)},
        Negotiation{"WeReceiveSlower", Timers{Micros(100'000), Micros(700'000), 3}, Micros(200'000), Micros(50'000), 2,
                    Micros(100'000), Micros(1'400'000)}),
    [](const testing::TestParamInfo<Negotiation>& info) { return info.param.name; });

// §6.5: a change of the intervals is announced with Poll and takes effect on the peer's Final.
TEST(BfdSession, PollSequenceCarriesNewTimers) {
  Fixture f;
  f.reach(State::Up);  // going Up lowered the advertised tx from 1 s: a poll is running
  EXPECT_TRUE(f.session.polling());
  EXPECT_TRUE(f.session.packet(false).poll);
  ControlPacket fin = from_peer(State::Up);
  fin.final = true;
  f.receive(fin);
  EXPECT_FALSE(f.session.polling());
  EXPECT_FALSE(f.session.packet(false).poll);

  // Sending slower while Up: the old, faster rate stays until the Final.
  f.session.set_timers(Timers{Micros(600'000), Micros(300'000), 3});
  EXPECT_TRUE(f.session.packet(false).poll);
  EXPECT_EQ(f.session.packet(false).desired_min_tx, Micros(600'000));
  EXPECT_EQ(f.session.tx_interval(), Micros(300'000));
  f.receive(fin);
  EXPECT_EQ(f.session.tx_interval(), Micros(600'000));

  // Demanding faster reception while Up: the detection time keeps the old value until the Final.
  f.session.set_timers(Timers{Micros(600'000), Micros(100'000), 3});
  EXPECT_EQ(f.session.packet(false).required_min_rx, Micros(100'000));
  EXPECT_EQ(f.session.detection_time(), Micros(900'000));
  f.receive(fin);
  EXPECT_EQ(f.session.detection_time(), Micros(900'000));  // the peer still sends at 300 ms
  f.receive(from_peer(State::Up, kLocal, Micros(100'000)));
  EXPECT_EQ(f.session.detection_time(), Micros(300'000));
}

TEST(BfdSession, AnswersAPollAtOnceWithFinal) {
  Fixture f;
  f.reach(State::Up);
  ControlPacket poll = from_peer(State::Up);
  poll.poll = true;
  Actions a = f.receive(poll);
  ASSERT_TRUE(a.send);
  EXPECT_TRUE(a.send->final);
  EXPECT_FALSE(a.send->poll);
  EXPECT_EQ(a.send->your_discriminator, kRemote);
}

// §6.8.4: Init or Up, and no packet for the detection time: Down, diagnostic 1.
TEST(BfdSession, DetectionTimeExpiryTakesTheSessionDown) {
  Fixture f;
  f.reach(State::Up);
  f.receive(from_peer(State::Up));
  EXPECT_EQ(f.session.detection_time(), Micros(900'000));
  TimePoint deadline = f.now + milliseconds(900);
  EXPECT_LE(f.session.next_event(), deadline);
  EXPECT_FALSE(f.session.on_timer(deadline - milliseconds(1)).state_changed && f.session.state() != State::Up);
  EXPECT_EQ(f.session.state(), State::Up);
  Actions a = f.session.on_timer(deadline);
  EXPECT_EQ(a.state_changed, State::Down);
  EXPECT_EQ(f.session.local_diagnostic(), Diagnostic::DetectionTimeExpired);
  EXPECT_EQ(f.session.remote_discriminator(), 0u);
  EXPECT_EQ(f.session.packet(false).desired_min_tx, kSlowTxInterval);
}

TEST(BfdSession, NoDetectionWhileDown) {
  Fixture f;
  f.receive(from_peer(State::Up));  // Down ignores Up: stays Down
  Actions a = f.session.on_timer(f.now + std::chrono::seconds(60));
  EXPECT_FALSE(a.state_changed);
  EXPECT_EQ(f.session.local_diagnostic(), Diagnostic::None);
}

// §6.8.7: each interval is 75..100 % of the negotiated one (75..90 % with Detect Mult 1).
TEST(BfdSession, JittersEachInterval) {
  for (std::uint8_t mult : {std::uint8_t{3}, std::uint8_t{1}}) {
    TimePoint now{std::chrono::hours(1)};
    Session s(kLocal, Timers{Micros(100'000), Micros(100'000), mult}, 7, now);
    s.receive(from_peer(State::Init, kLocal, Micros(100'000), Micros(100'000)), now);
    ASSERT_EQ(s.state(), State::Up);
    Duration shortest = std::chrono::hours(1), longest{0};
    for (int i = 0; i < 400; ++i) {
      s.receive(from_peer(State::Up, kLocal, Micros(100'000), Micros(100'000)), now);  // keep it Up
      Actions a = s.on_timer(now);
      TimePoint next = s.next_event();
      if (a.send) {
        shortest = std::min(shortest, next - now);
        longest = std::max(longest, next - now);
      }
      now = next;
    }
    EXPECT_GE(shortest, milliseconds(75)) << int{mult};
    EXPECT_LE(longest, milliseconds(mult == 1 ? 90 : 100)) << int{mult};
    EXPECT_LT(shortest, milliseconds(80)) << "jitter spans the range";
    EXPECT_GT(longest, milliseconds(mult == 1 ? 85 : 95)) << "jitter spans the range";
  }
}

TEST(BfdSession, SendsNoPeriodicPacketsWhenThePeerAsksForNone) {
  Fixture f;
  f.receive(from_peer(State::Down, 0, Micros(300'000), Micros(0)));
  Actions a = f.session.on_timer(f.session.next_event());
  EXPECT_FALSE(a.send);
}

TEST(BfdSession, FirstPacketGoesOutAtOnce) {
  Fixture f;
  EXPECT_EQ(f.session.next_event(), f.now);
  Actions a = f.session.on_timer(f.now);
  ASSERT_TRUE(a.send);
  EXPECT_EQ(a.send->state, State::Down);
  EXPECT_EQ(a.send->your_discriminator, 0u);
  EXPECT_EQ(a.send->my_discriminator, kLocal);
  EXPECT_EQ(a.send->detect_mult, 3);
}

TEST(BfdSession, TimersFromProfileAreMicroseconds) {
  Timers t = timers_from(BfdProfile{100, 250, 5});
  EXPECT_EQ(t.required_min_rx, Micros(100'000));
  EXPECT_EQ(t.desired_min_tx, Micros(250'000));
  EXPECT_EQ(t.detect_mult, 5);
}

}  // namespace
}  // namespace blockd::bfd
