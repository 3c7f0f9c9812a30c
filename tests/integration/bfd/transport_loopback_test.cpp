// Two BFD transports over loopback, each the other's peer: the sessions come Up over IPv4 and
// IPv6, AdminDown on one side takes the other Down (RFC 5880 §6.8.6), and a packet that does
// not arrive with TTL 255 is dropped (RFC 5881 §5).
#include "bfd/transport.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>

namespace blockd::bfd {
namespace {

using namespace std::chrono_literals;

// Free UDP ports on loopback, chosen by the kernel.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

const Timers kFast{Micros(50'000), Micros(50'000), 3};

struct Pair {
  boost::asio::io_context io;
  std::uint16_t port_a = free_port(), port_b = free_port();
  Transport a{io, {port_a, port_b}};
  Transport b{io, {port_b, port_a}};

  // Runs the io_context until `done` holds or `limit` passes; true if it held.
  template <class F>
  bool run_until(F done, std::chrono::milliseconds limit = 10s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      io.run_for(10ms);
      if (done()) return true;
    }
    return false;
  }
  static State state_of(const Transport& t) {
    auto s = t.sessions();
    return s.empty() ? State::AdminDown : s.front().state;
  }
};

void comes_up_and_goes_down(const char* loopback) {
  Pair p;
  Address peer = *Address::parse(loopback);
  ASSERT_TRUE(p.a.start().ok());
  ASSERT_TRUE(p.b.start().ok());
  std::vector<std::pair<Address, State>> seen;
  p.a.on_state_change([&](const SessionStatus& s) { seen.emplace_back(s.address, s.state); });
  p.a.set_peers({{peer, kFast}});
  p.b.set_peers({{peer, kFast}});
  ASSERT_TRUE(p.run_until([&] { return Pair::state_of(p.a) == State::Up && Pair::state_of(p.b) == State::Up; }));
  // Up, then the poll sequence brings the 1 s start-up interval down to the configured one.
  ASSERT_TRUE(p.run_until([&] { return p.a.sessions().front().tx_interval == Micros(50'000); }));
  auto s = p.a.sessions().front();
  EXPECT_EQ(s.detection_time, Micros(150'000));
  EXPECT_NE(s.remote_discriminator, 0u);
  EXPECT_EQ(s.remote_discriminator, p.b.sessions().front().local_discriminator);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), std::make_pair(peer, State::Up));

  p.b.set_peers({});  // sends AdminDown (§6.8.16)
  ASSERT_TRUE(p.run_until([&] { return Pair::state_of(p.a) == State::Down; }));
  EXPECT_EQ(p.a.sessions().front().local_diagnostic, Diagnostic::NeighborSignaledDown);
  EXPECT_EQ(seen.back(), std::make_pair(peer, State::Down));
  EXPECT_EQ(p.a.drops().bad_ttl, 0u);
}

TEST(BfdTransport, ComesUpAndGoesDownOverIpv4) { comes_up_and_goes_down("127.0.0.1"); }
TEST(BfdTransport, ComesUpAndGoesDownOverIpv6) { comes_up_and_goes_down("::1"); }

// Silence, not AdminDown: a hand-driven peer (a plain UDP socket on the peer port) brings the
// session Up and then stops sending; the detection time ends the session (RFC 5880 §6.8.4).
TEST(BfdTransport, DetectsASilentPeer) {
  Pair p;
  ASSERT_TRUE(p.a.start().ok());
  p.a.set_peers({{*Address::parse("127.0.0.1"), kFast}});
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int ttl = 255;
  ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  sockaddr_in self{};
  self.sin_family = AF_INET;
  self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  self.sin_port = htons(p.port_b);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof self), 0);
  sockaddr_in to = self;
  to.sin_port = htons(p.port_a);
  ControlPacket pkt;
  pkt.detect_mult = 3;
  pkt.my_discriminator = 77;
  pkt.desired_min_tx = Micros(50'000);
  pkt.required_min_rx = Micros(50'000);
  auto send = [&](State s, std::uint32_t your) {
    pkt.state = s;
    pkt.your_discriminator = your;
    Bytes wire = encode(pkt);
    ::sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  };
  send(State::Down, 0);
  ASSERT_TRUE(p.run_until([&] { return Pair::state_of(p.a) == State::Init; }, 3s));
  send(State::Up, p.a.sessions().front().local_discriminator);
  ASSERT_TRUE(p.run_until([&] { return Pair::state_of(p.a) == State::Up; }, 3s));
  // a's packets reach the socket with a's source port in 49152..65535 (RFC 5881 §4).
  std::uint8_t buf[64];
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ASSERT_GE(::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len), 24);
  EXPECT_GE(ntohs(from.sin_port), kFirstSourcePort);
  ASSERT_TRUE(p.run_until([&] { return Pair::state_of(p.a) == State::Down; }, 3s));
  EXPECT_EQ(p.a.sessions().front().local_diagnostic, Diagnostic::DetectionTimeExpired);
  EXPECT_EQ(p.a.sessions().front().remote_discriminator, 0u);
  ::close(fd);
}

TEST(BfdTransport, DropsAPacketWithoutTtl255) {
  Pair p;
  ASSERT_TRUE(p.a.start().ok());
  p.a.set_peers({{*Address::parse("127.0.0.1"), kFast}});
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int ttl = 64;
  ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(p.port_a);
  ControlPacket pkt;
  pkt.state = State::Down;
  pkt.detect_mult = 3;
  pkt.my_discriminator = 77;
  pkt.desired_min_tx = Micros(1'000'000);
  pkt.required_min_rx = Micros(50'000);
  Bytes wire = encode(pkt);
  ::sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ASSERT_TRUE(p.run_until([&] { return p.a.drops().bad_ttl == 1; }, 3s));
  EXPECT_EQ(Pair::state_of(p.a), State::Down);  // not moved to Init by the dropped packet
  EXPECT_EQ(p.a.sessions().front().remote_discriminator, 0u);
  ttl = 255;  // the same packet with TTL 255 is taken
  ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  ::sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  EXPECT_TRUE(p.run_until([&] { return Pair::state_of(p.a) == State::Init; }, 3s));
  ::close(fd);
}

}  // namespace
}  // namespace blockd::bfd
