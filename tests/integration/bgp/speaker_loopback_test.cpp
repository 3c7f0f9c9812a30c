// Two Speakers in one process, peering over loopback (127.0.0.1 <-> 127.0.0.2) on one
// io_context: the public API end to end — desired peers and advertise set, received routes,
// status, the change callback, connection collisions (both sides connect) and graceful restart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>

#include "bgp/speaker.hpp"

namespace blockd::bgp {
namespace {

using namespace std::chrono_literals;

Address A(const char* s) { return *Address::parse(s); }
Prefix P(const char* s) { return *Prefix::parse(s); }

// Waits (up to a generous bound) for a condition; the assertion is on the condition, not on time.
template <class F>
bool eventually(F&& f) {
  for (int i = 0; i < 300; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

class SpeakerLoopback : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread runner;
  std::uint16_t port_a = static_cast<std::uint16_t>(20000 + (::getpid() % 20000));
  std::uint16_t port_b = static_cast<std::uint16_t>(port_a + 1);

  void SetUp() override { runner = std::thread([this] { io.run(); }); }
  void TearDown() override {
    work.reset();
    io.stop();
    runner.join();
  }

  SpeakerConfig config(std::uint32_t as, const char* addr, std::uint16_t port, bool gr = false, bool restarting = false) {
    SpeakerConfig c;
    c.local_as = as;
    c.router_id = A(addr);
    c.listen_address = A(addr);
    c.listen_port = port;
    c.hold_time = 9;
    c.idle_hold = 100ms;
    c.connect_retry = 500ms;
    c.graceful_restart = {gr, 60, restarting};
    return c;
  }
  PeerConfig peer(const char* addr, std::uint32_t as, std::uint16_t port) {
    PeerConfig p;
    p.address = A(addr);
    p.peer_as = as;
    p.port = port;
    return p;
  }
  // b peers with a, a with b; a advertises 10.1.0.0/26: true once b has it.
  bool a_advertises_to_b(Speaker& a, Speaker& b) {
    (void)b.set_peers({peer("127.0.0.1", 65001, port_a)});
    (void)a.set_peers({peer("127.0.0.2", 65002, port_b)});
    a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {}}});
    return b.start().ok() && a.start().ok() && eventually([&] { return received(b, "10.1.0.0/26"); });
  }
  static bool established(const Speaker& s) {
    auto p = s.peers();
    return p.size() == 1 && p[0].state == "Established";
  }
  static bool received(const Speaker& s, const char* prefix, bool stale = false) {
    for (const auto& r : s.received()) {
      if (r.prefix == P(prefix) && r.stale == stale) return true;
    }
    return false;
  }
};

TEST_F(SpeakerLoopback, SessionComesUpAndRoutesFlowWithTheirAttributes) {
  Speaker a(io, config(65001, "127.0.0.1", port_a));
  Speaker b(io, config(65002, "127.0.0.2", port_b));
  std::atomic<int> changes{0};
  b.on_received_change([&] { ++changes; });
  ASSERT_TRUE(a.set_peers({peer("127.0.0.2", 65002, port_b)}).ok());
  ASSERT_TRUE(b.set_peers({peer("127.0.0.1", 65001, port_a)}).ok());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());  // both connect: a collision, resolved to one session
  ASSERT_TRUE(eventually([&] { return established(a) && established(b); }));
  a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {(65001u << 16) | 7}}, {P("10.1.1.7/32"), std::nullopt, {}}});
  ASSERT_TRUE(eventually([&] { return b.received().size() == 2; }));
  const auto routes = b.received();
  EXPECT_EQ(routes[0].prefix, P("10.1.0.0/26"));
  EXPECT_EQ(routes[0].next_hop, A("127.0.0.1"));  // next hop self
  EXPECT_EQ(routes[0].as_path, "65001");
  EXPECT_EQ(routes[0].peer, A("127.0.0.1"));
  EXPECT_EQ(routes[0].communities, (std::vector<std::uint32_t>{(65001u << 16) | 7}));
  EXPECT_GT(changes.load(), 0);
  EXPECT_EQ(a.peers()[0].prefixes_sent, 2u);
  EXPECT_EQ(b.peers()[0].prefixes_received, 2u);
  EXPECT_TRUE(b.peers()[0].uptime.has_value());
}

TEST_F(SpeakerLoopback, ANewAdvertiseSetReplacesTheOld) {
  Speaker a(io, config(65001, "127.0.0.1", port_a));
  Speaker b(io, config(65002, "127.0.0.2", port_b));
  (void)a.set_peers({peer("127.0.0.2", 65002, port_b)});
  (void)b.set_peers({peer("127.0.0.1", 65001, port_a)});
  a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {}}, {P("10.1.0.64/26"), std::nullopt, {}}});
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] { return b.received().size() == 2; }));
  a.set_advertise({{P("10.1.0.64/26"), std::nullopt, {}}, {P("10.1.0.128/26"), A("127.0.0.9"), {}}});
  ASSERT_TRUE(eventually([&] { return !received(b, "10.1.0.0/26") && received(b, "10.1.0.128/26"); }));
  EXPECT_EQ(b.received().size(), 2u);
  EXPECT_EQ(b.received()[1].next_hop, A("127.0.0.9"));
  EXPECT_TRUE(established(b));  // changes never reset the session
}

TEST_F(SpeakerLoopback, RemovingThePeerEndsTheSessionAndItsRoutes) {
  Speaker a(io, config(65001, "127.0.0.1", port_a));
  Speaker b(io, config(65002, "127.0.0.2", port_b));
  (void)a.set_peers({peer("127.0.0.2", 65002, port_b)});
  (void)b.set_peers({peer("127.0.0.1", 65001, port_a)});
  a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {}}});
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] { return received(b, "10.1.0.0/26"); }));
  ASSERT_TRUE(a.set_peers({}).ok());
  EXPECT_TRUE(a.peers().empty());
  ASSERT_TRUE(eventually([&] { return b.received().empty() && !established(b); }));
  EXPECT_NE(b.peers()[0].last_error.find("6/3"), std::string::npos) << b.peers()[0].last_error;
}

TEST_F(SpeakerLoopback, IbgpPeerWithPerPeerLocalAs) {
  Speaker a(io, config(65001, "127.0.0.1", port_a));
  Speaker b(io, config(65002, "127.0.0.2", port_b));
  PeerConfig to_b = peer("127.0.0.2", 65002, port_b);
  to_b.local_as = 65002;  // per-peer local AS: iBGP with b
  (void)a.set_peers({to_b});
  (void)b.set_peers({peer("127.0.0.1", 65002, port_a)});
  a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {}}});
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] { return received(b, "10.1.0.0/26"); }));
  EXPECT_EQ(b.received()[0].as_path, "");  // iBGP: empty AS_PATH
  EXPECT_EQ(a.peers()[0].local_as, 65002u);
}

TEST_F(SpeakerLoopback, GracefulStopLeavesRoutesStaleUntilTheRestartedSpeakerSendsEndOfRib) {
  Speaker b(io, config(65002, "127.0.0.2", port_b, true));
  (void)b.set_peers({peer("127.0.0.1", 65001, port_a)});
  ASSERT_TRUE(b.start().ok());
  {
    Speaker a(io, config(65001, "127.0.0.1", port_a, true));
    (void)a.set_peers({peer("127.0.0.2", 65002, port_b)});
    a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {}}, {P("10.1.0.64/26"), std::nullopt, {}}});
    ASSERT_TRUE(a.start().ok());
    ASSERT_TRUE(eventually([&] { return b.received().size() == 2; }));
    a.stop(true);
  }
  ASSERT_TRUE(eventually([&] { return received(b, "10.1.0.0/26", true) && received(b, "10.1.0.64/26", true); }));
  Speaker a2(io, config(65001, "127.0.0.1", port_a, true, true));
  (void)a2.set_peers({peer("127.0.0.2", 65002, port_b)});
  a2.set_advertise({{P("10.1.0.64/26"), std::nullopt, {}}});
  ASSERT_TRUE(a2.start().ok());
  ASSERT_TRUE(eventually([&] { return received(b, "10.1.0.64/26", false) && !received(b, "10.1.0.0/26", true); }));
  EXPECT_EQ(b.received().size(), 1u);
}

TEST_F(SpeakerLoopback, CeaseOnStopFlushesRoutesAtOnce) {
  Speaker b(io, config(65002, "127.0.0.2", port_b, true));
  Speaker a(io, config(65001, "127.0.0.1", port_a, true));
  ASSERT_TRUE(a_advertises_to_b(a, b));
  a.stop(false);
  ASSERT_TRUE(eventually([&] { return b.received().empty(); }));
}

// RFC 5882 §4.3: a BFD-watched peer is not started while its path is Down; Down ends the
// session at once and flushes its routes although both sides run graceful restart.
TEST_F(SpeakerLoopback, BfdPathDownHoldsAndEndsTheSessionWithoutStaleRoutes) {
  Speaker b(io, config(65002, "127.0.0.2", port_b, true));
  PeerConfig watched = peer("127.0.0.1", 65001, port_a);
  watched.bfd = true;
  (void)b.set_peers({watched});
  ASSERT_TRUE(b.start().ok());
  Speaker a(io, config(65001, "127.0.0.1", port_a, true));
  (void)a.set_peers({peer("127.0.0.2", 65002, port_b)});
  a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {}}});
  ASSERT_TRUE(a.start().ok());
  // a keeps trying (connect retry 500 ms) but b refuses while its path is Down.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(b.peers().at(0).state, "Idle");
  EXPECT_FALSE(established(a));
  b.set_path_up(A("127.0.0.1"), true);
  ASSERT_TRUE(eventually([&] { return received(b, "10.1.0.0/26"); }));
  b.set_path_up(A("127.0.0.1"), false);
  EXPECT_TRUE(b.received().empty()) << "flushed at once, not kept as stale";
  EXPECT_EQ(b.peers().at(0).state, "Idle");
  // a got the Cease and flushes too; it is not let back in until the path is Up again.
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(established(b));
  b.set_path_up(A("127.0.0.1"), true);
  ASSERT_TRUE(eventually([&] { return received(b, "10.1.0.0/26"); }));
}

TEST_F(SpeakerLoopback, TooManyPrefixesFromAPeerEndTheSessionWithCease1) {
  Speaker a(io, config(65001, "127.0.0.1", port_a));
  Speaker b(io, config(65002, "127.0.0.2", port_b));
  (void)a.set_peers({peer("127.0.0.2", 65002, port_b)});
  PeerConfig limited = peer("127.0.0.1", 65001, port_a);
  limited.max_prefixes = 2;
  (void)b.set_peers({limited});
  a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {}}, {P("10.1.0.64/26"), std::nullopt, {}},
                   {P("10.1.0.128/26"), std::nullopt, {}}});
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] { return a.peers()[0].last_error.find("6/1") != std::string::npos; }))
      << a.peers()[0].last_error;
  EXPECT_TRUE(b.received().empty());
}

TEST_F(SpeakerLoopback, ABadPeerIsRefusedAloneAndTheValidOnesAreAdded) {
  SpeakerConfig ca = config(65001, "127.0.0.1", port_a);
  ca.peer_families = {ipam::Family::V4};  // a node without an IPv6 address
  Speaker a(io, ca);
  Speaker b(io, config(65002, "127.0.0.2", port_b));
  PeerConfig long_password = peer("127.0.0.3", 65003, port_b);
  long_password.password = std::string(81, 'x');
  PeerConfig v6 = peer("fd00::1", 65004, port_b);
  PeerConfig as_trans = peer("127.0.0.4", 23456, port_b);
  // The bad peers come first and last: neither order nor company stops the valid one.
  auto s = a.set_peers({long_password, v6, peer("127.0.0.2", 65002, port_b), as_trans});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("127.0.0.3: password: 81 octets"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("fd00::1: an IPv6 peer"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("127.0.0.4: peer AS: 23456 is AS_TRANS"), std::string::npos) << s.error().message;
  const auto refused = a.refused();
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_EQ(refused[0].address, A("127.0.0.3"));
  EXPECT_EQ(refused[1].address, A("fd00::1"));
  EXPECT_EQ(refused[2].address, A("127.0.0.4"));
  (void)b.set_peers({peer("127.0.0.1", 65001, port_a)});
  a.set_advertise({{P("10.1.0.0/26"), std::nullopt, {}}});
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] { return established(a) && received(b, "10.1.0.0/26"); }));
  // Fixed: the refusal goes away with the rule it broke.
  long_password.password = "short";
  EXPECT_TRUE(a.set_peers({long_password, peer("127.0.0.2", 65002, port_b)}).ok());
  EXPECT_TRUE(a.refused().empty());
  EXPECT_EQ(a.peers().size(), 2u);
  EXPECT_TRUE(eventually([&] { return received(b, "10.1.0.0/26"); }));  // the running session was kept
}

TEST_F(SpeakerLoopback, ACeaseQueuedAtStopIsOutBeforeWhenDrainedFires) {
  SpeakerConfig cb = config(65002, "127.0.0.2", port_b);
  cb.idle_hold = 30s;  // b stays Idle with the reason it was given
  Speaker b(io, cb);
  (void)b.set_peers({peer("127.0.0.1", 65001, port_a)});
  ASSERT_TRUE(b.start().ok());
  Speaker a(io, config(65001, "127.0.0.1", port_a));
  (void)a.set_peers({peer("127.0.0.2", 65002, port_b)});
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(eventually([&] { return established(a) && established(b); }));
  std::atomic<bool> drained{false};
  a.stop(false);
  a.when_drained([&] { drained = true; });
  ASSERT_TRUE(eventually([&] { return drained.load(); }));
  ASSERT_TRUE(eventually([&] { return b.peers()[0].last_error.find("6/2") != std::string::npos; }))
      << b.peers()[0].last_error;
}

// What follows a graceful stop's drain (the agent's BFD AdminDown) reaches a peer that has
// already seen the session end: FRR 8.4 takes AdminDown as Down, and first it would flush what
// graceful restart keeps.
TEST_F(SpeakerLoopback, AGracefulStopDrainsOnlyOnceThePeerHasSeenTheClose) {
  Speaker b(io, config(65002, "127.0.0.2", port_b, true));
  Speaker a(io, config(65001, "127.0.0.1", port_a, true));
  ASSERT_TRUE(a_advertises_to_b(a, b));
  std::atomic<bool> drained{false};
  std::atomic<bool> stale_when_drained{false};
  a.stop(true);
  a.when_drained([&] {
    stale_when_drained = received(b, "10.1.0.0/26", true);
    drained = true;
  });
  ASSERT_TRUE(eventually([&] { return drained.load(); }));
  EXPECT_TRUE(stale_when_drained.load()) << "the drain ended before the peer took the close as a graceful restart";
}

TEST(SpeakerConfigCheck, BadPeersAreNamed) {
  PeerConfig p;
  p.address = A("10.0.0.1");
  auto s = validate(std::vector<PeerConfig>{p});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("10.0.0.1"), std::string::npos);
  p.peer_as = 65001;
  EXPECT_FALSE(validate(std::vector<PeerConfig>{p, p}).ok());
  p.ttl_security_hops = 0;
  EXPECT_FALSE(validate(std::vector<PeerConfig>{p}).ok());
  SpeakerConfig c;
  c.local_as = 65001;
  EXPECT_FALSE(validate(c).ok());  // router ID 0.0.0.0
  c.router_id = A("10.0.0.1");
  EXPECT_TRUE(validate(c).ok());
  c.local_as = 23456;  // AS_TRANS (RFC 6793)
  EXPECT_FALSE(validate(c).ok());
}

TEST(SpeakerConfigCheck, PeerRulesNameThePeerAndTheRule) {
  SpeakerConfig v4_only;
  v4_only.peer_families = {ipam::Family::V4};
  PeerConfig p;
  p.address = A("fd00::1");
  p.peer_as = 65001;
  EXPECT_TRUE(validate(p, SpeakerConfig{}).ok());  // no families given: any
  EXPECT_EQ(validate(p, v4_only).error().message,
            "bgp peer fd00::1: an IPv6 peer, but this node has no IPv6 address to peer from");
  p.address = A("10.0.0.1");
  p.password = std::string(80, 'x');
  EXPECT_TRUE(validate(p, v4_only).ok());  // 80 octets: the kernel's limit, still accepted
  p.password += "x";
  EXPECT_EQ(validate(p, v4_only).error().message, "bgp peer 10.0.0.1: password: 81 octets; a TCP-MD5 key holds at most 80 (Linux TCP_MD5SIG_MAXKEYLEN)");
  p.password.clear();
  p.local_as = 0;
  EXPECT_NE(validate(p, v4_only).error().message.find("local AS: 0 is reserved"), std::string::npos);
}

}  // namespace
}  // namespace blockd::bgp
