// Two nodes, each with a workload, joined only by an underlay veth: blockd's programmer on each
// node creates the VXLAN device and writes the routes, neighbour and FDB entries, and a TCP
// connection from one workload's address to the other's really crosses the VXLAN devices
// (IPv4 and IPv6, over an IPv4 underlay). Before programming the same connection fails.
//
//   wlA (10.200.1.5)          nodeA                        nodeB            wlB (10.200.2.5)
//     eth0 ---- caliA   vxlan.blockd  ua ==underlay== ub  vxlan.blockd  caliB ---- eth0
//                       192.168.77.1                  192.168.77.2
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "netlink/device.hpp"
#include "netlink/libnl_kernel.hpp"
#include "netlink/programmer.hpp"
#include "netns.hpp"

namespace blockd::netlink {
namespace {

using test::must;
using test::Netns;

Prefix pfx(const std::string& s) { return Prefix::parse(s).value(); }
Address addr(const std::string& s) { return Address::parse(s).value(); }
Mac mac(const std::string& s) { return Mac::parse(s).value(); }

struct Node {
  std::string uplink, underlay, vtep_mac, cali, block4, vtep4, workload4, block6, vtep6, workload6;
};
const Node kA{"ua", "192.168.77.1", "66:00:00:00:00:0a", "caliA", "10.200.1.0/26", "10.200.1.0",
              "10.200.1.5", "fd00:200:1::/122", "fd00:200:1::", "fd00:200:1::5"};
const Node kB{"ub", "192.168.77.2", "66:00:00:00:00:0b", "caliB", "10.200.2.0/26", "10.200.2.0",
              "10.200.2.5", "fd00:200:2::/122", "fd00:200:2::", "fd00:200:2::5"};
constexpr const char* kVxlan = "vxlan.blockd";

// What the agent's route plan gives a node: its own blocks blackholed, its workload, the peer's
// blocks over VXLAN with the peer's neighbour and FDB entries.
DesiredState plan(const Node& self, const Node& peer) {
  DesiredState s;
  s.routes = {
      Route::blackhole(pfx(self.block4)),
      Route::workload(pfx(self.workload4 + "/32"), self.cali),
      Route::vxlan(pfx(peer.block4), addr(peer.vtep4), kVxlan),
      Route::blackhole(pfx(self.block6)),
      Route::workload(pfx(self.workload6 + "/128"), self.cali),
      Route::vxlan(pfx(peer.block6), addr(peer.vtep6), kVxlan),
  };
  s.neighbours = {{addr(peer.vtep4), mac(peer.vtep_mac), kVxlan},
                  {addr(peer.vtep6), mac(peer.vtep_mac), kVxlan}};
  s.fdb = {{mac(peer.vtep_mac), addr(peer.underlay), kVxlan}};
  return s;
}

sockaddr_storage socket_address(const Address& a, std::uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes().data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, a.bytes().data(), 16);
    len = sizeof(sockaddr_in6);
  }
  return ss;
}

void set_timeouts(int fd) {
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A TCP echo across: listens in `server` on `to`, connects from `client`, sends a message and
// returns what came back ("" and the reason on failure).
std::string tcp_echo(const Netns& client, const Netns& server, const Address& to, std::string& why) {
  constexpr std::uint16_t kPort = 7007;
  const int family = to.is_v4() ? AF_INET : AF_INET6;
  const int listener = server.enter([&] {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = 0;
    auto sa = socket_address(to, kPort, len);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd, 4) != 0) {
      ::close(fd);
      return -1;
    }
    set_timeouts(fd);
    return fd;
  });
  if (listener < 0) {
    why = "cannot listen on " + to.str();
    return {};
  }
  const int conn = client.enter([&] {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    set_timeouts(fd);
    socklen_t len = 0;
    auto sa = socket_address(to, kPort, len);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
      ::close(fd);
      return -errno;
    }
    return fd;
  });
  std::string got;
  if (conn < 0) {
    why = std::string("connect: ") + std::strerror(-conn);
  } else {
    const int peer = ::accept(listener, nullptr, nullptr);
    const std::string msg = "hello across vxlan";
    char buf[64] = {};
    if (peer < 0) {
      why = "accept failed";
    } else if (::send(conn, msg.data(), msg.size(), 0) != static_cast<ssize_t>(msg.size())) {
      why = "send failed";
    } else {
      const ssize_t n = ::recv(peer, buf, sizeof buf, 0);
      if (n > 0 && ::send(peer, buf, static_cast<std::size_t>(n), 0) == n) {
        char back[64] = {};
        const ssize_t m = ::recv(conn, back, sizeof back, 0);
        if (m > 0) got.assign(back, static_cast<std::size_t>(m));
      }
      if (got.empty()) why = "no echo";
    }
    if (peer >= 0) ::close(peer);
    ::close(conn);
  }
  ::close(listener);
  return got;
}

class VxlanPacketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    must(node_a.ip("link add name ua type veth peer name ub netns " + node_b.name()));
    wire(node_a, kA, wl_a);
    wire(node_b, kB, wl_b);
  }

  // The node's underlay address, forwarding on, and its workload namespace on a veth (Calico
  // style: the workload's default route via a link-local gateway the node's veth answers).
  void wire(const Netns& node, const Node& n, const Netns& wl) {
    must(node.ip("link set " + n.uplink + " up"));
    must(node.ip("addr add " + n.underlay + "/24 dev " + n.uplink));
    must(node.exec("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"));
    must(node.ip("link add name " + n.cali + " address ee:ee:ee:ee:ee:ee type veth peer name eth0 netns " +
                 wl.name()));
    must(node.ip("link set " + n.cali + " up"));
    must(wl.ip("link set eth0 up"));
    must(wl.ip("addr add " + n.workload4 + "/32 dev eth0"));
    must(wl.ip("addr add " + n.workload6 + "/128 dev eth0 nodad"));
    must(wl.ip("neigh add 169.254.1.1 lladdr ee:ee:ee:ee:ee:ee dev eth0 nud permanent"));
    must(wl.ip("route add default via 169.254.1.1 dev eth0 onlink"));
    must(wl.ip("-6 neigh add fe80::1 lladdr ee:ee:ee:ee:ee:ee dev eth0 nud permanent"));
    must(wl.ip("-6 route add default via fe80::1 dev eth0"));
  }

  void program(const Netns& node, const Node& self, const Node& peer) {
    VxlanDeviceConfig vx;
    vx.name = kVxlan;
    vx.uplink = self.uplink;
    vx.local = addr(self.underlay);
    vx.mac = mac(self.vtep_mac);
    auto s = node.enter([&] { return ensure_vxlan_device(vx); });
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto kernel = node.enter([] { return LibnlKernel::open(); });
    ASSERT_TRUE(kernel.ok()) << kernel.error().message;
    ProgrammerConfig c;
    c.owned_devices = {kVxlan};
    Programmer programmer(**kernel, c);
    auto report = programmer.reconcile(plan(self, peer));
    ASSERT_TRUE(report.ok()) << report.error().message;
    ASSERT_TRUE(report->converged()) << report->summary() << ": " << report->failed[0].item << ": "
                                     << report->failed[0].error.message;
  }

  long tx_packets(const Netns& node) {
    return std::stol(must(node.exec("cat /sys/class/net/vxlan.blockd/statistics/tx_packets")));
  }

  Netns node_a{"nodeA"}, node_b{"nodeB"}, wl_a{"wlA"}, wl_b{"wlB"};
};

TEST_F(VxlanPacketTest, TcpCrossesTheVxlanDevicesInIpv4AndIpv6) {
  std::string why;
  // Nothing programmed yet: the workloads cannot reach each other.
  EXPECT_EQ(tcp_echo(wl_a, wl_b, addr(kB.workload4), why), "");
  EXPECT_NE(why.find("connect"), std::string::npos) << why;

  program(node_a, kA, kB);
  program(node_b, kB, kA);
  ASSERT_FALSE(HasFatalFailure());

  const long before = tx_packets(node_a);
  EXPECT_EQ(tcp_echo(wl_a, wl_b, addr(kB.workload4), why), "hello across vxlan") << why;
  EXPECT_EQ(tcp_echo(wl_b, wl_a, addr(kA.workload4), why), "hello across vxlan") << why;
  EXPECT_EQ(tcp_echo(wl_a, wl_b, addr(kB.workload6), why), "hello across vxlan") << why;
  EXPECT_GT(tx_packets(node_a), before) << "the traffic did not leave through the VXLAN device";
}

}  // namespace
}  // namespace blockd::netlink
