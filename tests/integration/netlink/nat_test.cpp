// natOutgoing on the real kernel's nftables, with real TCP traffic through namespaces the test
// builds:
//
//   workload (10.10.0.5, fd10::5; pool A)  --wl0--+
//                                                 node (NatTable inside) --up0-- outside
//   other pool (10.20.0.7, fd20::7; pool B) --wl1--+   192.168.77.1          192.168.77.2
//                                                       fd77::1               fd77::2
//
// The workloads hang off the node as Calico's do: a /32 (/128) on the workload side, a route to
// it on the node, the node's side of the veth answering as gateway 169.254.1.1 (fe80::1).
// The outside namespace routes both pools back through the node, as the ToR would after BGP, so
// a connection works with and without NAT; a TCP server there records the peer address.
#include <arpa/inet.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "netlink/nat_table.hpp"
#include "netns.hpp"

namespace blockd::netlink {
namespace {

using test::must;
using test::Netns;

Prefix pfx(const char* s) { return Prefix::parse(s).value(); }

const Prefix kPoolA4 = pfx("10.10.0.0/16"), kPoolA6 = pfx("fd10::/48");
const Prefix kPoolB4 = pfx("10.20.0.0/16"), kPoolB6 = pfx("fd20::/48");

NatDesired pools(bool nat_a) {
  NatDesired d;
  d.all_pools = {kPoolA4, kPoolA6, kPoolB4, kPoolB6};
  if (nat_a) d.nat_pools = {kPoolA4, kPoolA6};
  return d;
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

sockaddr_storage sockaddr_of(const std::string& address, std::uint16_t port) {
  sockaddr_storage ss{};
  if (address.find(':') == std::string::npos) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, address.c_str(), &sin->sin_addr);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr);
  }
  return ss;
}

std::string address_text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

class NatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const Netns* ns : {&node, &workload, &pool_b, &outside}) {
      // No duplicate address detection: addresses are usable at once.
      must(ns->exec("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0"));
    }
    must(node.exec("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"));
    attach(workload, "wl0", "10.10.0.5", "fd10::5");
    attach(pool_b, "wl1", "10.20.0.7", "fd20::7");
    must(node.ip("link add up0 type veth peer name eth0 netns " + outside.name()));
    must(node.ip("link set up0 up"));
    must(node.ip("addr add 192.168.77.1/24 dev up0"));
    must(node.ip("addr add fd77::1/64 dev up0 nodad"));
    must(outside.ip("link set eth0 up"));
    must(outside.ip("addr add 192.168.77.2/24 dev eth0"));
    must(outside.ip("addr add fd77::2/64 dev eth0 nodad"));
    for (const char* p : {"10.10.0.0/16", "10.20.0.0/16"})
      must(outside.ip(std::string("route add ") + p + " via 192.168.77.1"));
    for (const char* p : {"fd10::/48", "fd20::/48"})
      must(outside.ip(std::string("-6 route add ") + p + " via fd77::1"));

    auto t = node.enter([] { return NatTable::open(); });
    if (!t) throw std::runtime_error(t.error().message);
    table = std::move(*t);
  }

  // A workload namespace behind the node on veth `node_side`.
  void attach(const Netns& ns, const std::string& node_side, const std::string& v4, const std::string& v6) {
    must(node.ip("link add " + node_side + " type veth peer name eth0 netns " + ns.name()));
    must(node.ip("link set " + node_side + " up"));
    must(node.ip("addr add 169.254.1.1/32 dev " + node_side));
    must(node.ip("addr add fe80::1/64 dev " + node_side + " nodad"));
    must(node.ip("route add " + v4 + "/32 dev " + node_side));
    must(node.ip("-6 route add " + v6 + "/128 dev " + node_side));
    must(ns.ip("link set eth0 up"));
    must(ns.ip("addr add " + v4 + "/32 dev eth0"));
    must(ns.ip("addr add " + v6 + "/128 dev eth0 nodad"));
    must(ns.ip("route add 169.254.1.1 dev eth0 scope link"));
    must(ns.ip("route add default via 169.254.1.1 dev eth0"));
    must(ns.ip("-6 route add default via fe80::1 dev eth0"));
  }

  NatReport reconcile(const NatDesired& d) {
    auto r = node.enter([&] { return table->reconcile(d); });
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }
  void cleanup() {
    auto s = node.enter([&] { return table->cleanup(); });
    if (!s) throw std::runtime_error(s.error().message);
  }
  std::string nft(const std::string& args) const { return must(node.exec("nft " + args)); }

  // Connects from `from` to `to_address` (a TCP server in namespace `to`) and returns the peer
  // address the server saw, or what went wrong.
  static std::string seen_by(const Netns& from, const Netns& to, const std::string& to_address) {
    const bool v6 = to_address.find(':') != std::string::npos;
    const int family = v6 ? AF_INET6 : AF_INET;
    Fd server(to.enter([&] {
      int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_storage any = sockaddr_of(v6 ? "::" : "0.0.0.0", 0);
      const socklen_t len = v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&any), len) != 0 || ::listen(fd, 4) != 0)
        return -1;
      return fd;
    }));
    if (server.fd < 0) return "server failed: " + std::string(std::strerror(errno));
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    ::getsockname(server.fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
    const std::uint16_t port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    std::string connect_error;
    Fd client(from.enter([&] {
      int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      // Bounds a broken path (SYN retries take minutes); not a timing assertion.
      timeval tv{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      sockaddr_storage dst = sockaddr_of(to_address, port);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in)) != 0)
        connect_error = std::strerror(errno);
      return fd;
    }));
    if (!connect_error.empty()) return "connect failed: " + connect_error;
    pollfd p{server.fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return "no connection arrived";
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    Fd accepted(::accept(server.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len));
    if (accepted.fd < 0) return "accept failed: " + std::string(std::strerror(errno));
    return address_text(peer);
  }

  // What the outside server sees of the workload, IPv4 and IPv6.
  std::string outside_sees_v4() const { return seen_by(workload, outside, "192.168.77.2"); }
  std::string outside_sees_v6() const { return seen_by(workload, outside, "fd77::2"); }

  // The rule handles of the chain, to tell an element update from a rule flush.
  std::string rule_handles() const {
    std::string out;
    for (const auto& l : test::lines(nft("-a list chain inet blockd postrouting")))
      if (l.find("masquerade") != std::string::npos) out += l.substr(l.find("# handle")) + ";";
    return out;
  }

  Netns node{"node"}, workload{"wl"}, pool_b{"poolb"}, outside{"out"};
  std::unique_ptr<NatTable> table;
};

TEST_F(NatTest, NatOutgoingPoolIsMasqueradedToTheOutside) {
  EXPECT_EQ(reconcile(pools(true)).kind, NatPlan::Kind::Create);
  EXPECT_EQ(outside_sees_v4(), "192.168.77.1");
  EXPECT_EQ(outside_sees_v6(), "fd77::1");
}

TEST_F(NatTest, PoolWithoutNatOutgoingKeepsItsAddress) {
  (void)reconcile(pools(false));
  EXPECT_EQ(outside_sees_v4(), "10.10.0.5");
  EXPECT_EQ(outside_sees_v6(), "fd10::5");
  // Pool B never had natOutgoing.
  EXPECT_EQ(seen_by(pool_b, outside, "192.168.77.2"), "10.20.0.7");
  EXPECT_EQ(seen_by(pool_b, outside, "fd77::2"), "fd20::7");
}

TEST_F(NatTest, TrafficToAnotherPoolIsNotMasqueraded) {
  (void)reconcile(pools(true));
  EXPECT_EQ(seen_by(workload, pool_b, "10.20.0.7"), "10.10.0.5");
  EXPECT_EQ(seen_by(workload, pool_b, "fd20::7"), "fd10::5");
  // ... while the same workload's traffic to the outside is.
  EXPECT_EQ(outside_sees_v4(), "192.168.77.1");
}

TEST_F(NatTest, TogglingNatOutgoingOnALiveTableIsAnElementUpdate) {
  (void)reconcile(pools(true));
  const std::string handles = rule_handles();
  ASSERT_EQ(handles.size() > 0, true);
  EXPECT_EQ(outside_sees_v4(), "192.168.77.1");

  NatReport off = reconcile(pools(false));
  EXPECT_EQ(off.kind, NatPlan::Kind::Update);
  EXPECT_EQ(off.elements_removed, 2u);
  EXPECT_EQ(off.rules_added + off.rules_removed, 0u);
  EXPECT_EQ(outside_sees_v4(), "10.10.0.5");
  EXPECT_EQ(outside_sees_v6(), "fd10::5");

  NatReport on = reconcile(pools(true));
  EXPECT_EQ(on.kind, NatPlan::Kind::Update);
  EXPECT_EQ(on.elements_added, 2u);
  EXPECT_EQ(outside_sees_v4(), "192.168.77.1");
  EXPECT_EQ(outside_sees_v6(), "fd77::1");
  // The rules were never replaced: same handles.
  EXPECT_EQ(rule_handles(), handles);
  EXPECT_FALSE(reconcile(pools(true)).changed());
}

TEST_F(NatTest, AHandDeletedTableIsRestored) {
  (void)reconcile(pools(true));
  nft("delete table inet blockd");
  EXPECT_EQ(outside_sees_v4(), "10.10.0.5");  // NAT gone: the check below can fail
  NatReport r = reconcile(pools(true));
  EXPECT_EQ(r.kind, NatPlan::Kind::Create);
  EXPECT_EQ(outside_sees_v4(), "192.168.77.1");
  EXPECT_EQ(outside_sees_v6(), "fd77::1");
}

TEST_F(NatTest, HandEditsAreRepaired) {
  (void)reconcile(pools(true));
  // Someone deletes the IPv4 rule and an element, and adds an element of their own.
  const std::string listing = nft("-a list chain inet blockd postrouting");
  const auto at = listing.find("# handle", listing.find("ip saddr"));
  ASSERT_NE(at, std::string::npos) << listing;
  nft("delete rule inet blockd postrouting handle " + std::to_string(std::stoul(listing.substr(at + 9))));
  nft("delete element inet blockd nat_pools_v6 { fd10::/48 }");
  nft("add element inet blockd all_pools_v4 { 192.168.77.0/24 }");
  EXPECT_EQ(outside_sees_v4(), "10.10.0.5");
  EXPECT_EQ(outside_sees_v6(), "fd10::5");

  NatReport r = reconcile(pools(true));
  EXPECT_EQ(r.kind, NatPlan::Kind::Update);
  EXPECT_EQ(r.rules_added, 1u);
  EXPECT_EQ(r.elements_added, 1u);
  EXPECT_EQ(r.elements_removed, 1u);
  EXPECT_EQ(outside_sees_v4(), "192.168.77.1");
  EXPECT_EQ(outside_sees_v6(), "fd77::1");
  EXPECT_FALSE(reconcile(pools(true)).changed());
}

TEST_F(NatTest, AForeignChainInTheTableIsRemovedByARebuild) {
  (void)reconcile(pools(true));
  nft("add chain inet blockd extra '{ type filter hook forward priority 0; policy accept; }'");
  nft("add rule inet blockd extra ip saddr 10.20.0.7 counter");
  NatReport r = reconcile(pools(true));
  EXPECT_EQ(r.kind, NatPlan::Kind::Rebuild);
  EXPECT_EQ(nft("list table inet blockd").find("extra"), std::string::npos);
  EXPECT_EQ(outside_sees_v4(), "192.168.77.1");
  EXPECT_FALSE(reconcile(pools(true)).changed());
}

TEST_F(NatTest, APoolCidrChangeToAnOverlappingOneConverges) {
  (void)reconcile(pools(true));
  NatDesired wider = pools(true);
  wider.all_pools[0] = wider.nat_pools[0] = pfx("10.10.0.0/15");
  EXPECT_EQ(reconcile(wider).kind, NatPlan::Kind::Rebuild);
  EXPECT_NE(nft("list set inet blockd nat_pools_v4").find("10.10.0.0/15"), std::string::npos);
  EXPECT_EQ(outside_sees_v4(), "192.168.77.1");
  EXPECT_FALSE(reconcile(wider).changed());
}

TEST_F(NatTest, OtherTablesAreNeverTouched) {
  // Foreign tables, one of them with blockd's name in another family.
  const std::string file = "/tmp/" + node.name() + "-foreign.nft";
  {
    std::ofstream out(file);
    out << "table ip blockd {\n"
           "  chain c {\n"
           "    type nat hook postrouting priority 50;\n"
           "    ip saddr 10.99.0.0/16 masquerade\n"
           "  }\n"
           "}\n"
           "table inet filter {\n"
           "  set s { type ipv4_addr; flags interval; elements = { 10.10.0.0/16 }; }\n"
           "  chain passthrough {\n"
           "    type filter hook forward priority 0; policy accept;\n"
           "    ip saddr @s accept\n"
           "  }\n"
           "}\n"
           "table ip6 other {\n"
           "  chain out { type filter hook output priority 0; }\n"
           "}\n";
  }
  const auto applied = test::run(node.exec("nft -f " + file));
  std::remove(file.c_str());
  ASSERT_EQ(applied.status, 0) << applied.output;
  const std::string before_ip = nft("-j list table ip blockd");
  const std::string before_filter = nft("-j list table inet filter");
  const std::string before_other = nft("-j list table ip6 other");

  (void)reconcile(pools(true));
  nft("delete table inet blockd");
  (void)reconcile(pools(false));
  nft("add element inet blockd nat_pools_v4 { 10.20.0.0/16 }");
  (void)reconcile(pools(true));
  cleanup();

  EXPECT_EQ(nft("-j list table ip blockd"), before_ip);
  EXPECT_EQ(nft("-j list table inet filter"), before_filter);
  EXPECT_EQ(nft("-j list table ip6 other"), before_other);
  // And nothing of blockd's is left.
  const std::string ruleset = nft("list tables");
  EXPECT_EQ(test::lines(ruleset),
            (std::set<std::string>{"table ip blockd", "table inet filter", "table ip6 other"}));
}

TEST_F(NatTest, CleanupRemovesTheTableAndIsIdempotent) {
  (void)reconcile(pools(true));
  cleanup();
  EXPECT_EQ(nft("list tables"), "");
  EXPECT_EQ(outside_sees_v4(), "10.10.0.5");
  cleanup();
}

TEST_F(NatTest, ARefusalIsAnErrorNamingTheCommand) {
  // Without CAP_NET_ADMIN (dropped for this thread only) nfnetlink refuses every request.
  auto r = node.enter([&]() -> Result<NatReport> {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) return internal("capget failed");
    data[0].effective &= ~(1u << CAP_NET_ADMIN);
    if (syscall(SYS_capset, &header, data) != 0) return internal("capset failed");
    return table->reconcile(pools(true));
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find("nftables refused `list tables inet`"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("Operation not permitted"), std::string::npos) << r.error().message;
  // Nothing was created, and with the capability back it converges.
  EXPECT_EQ(nft("list tables"), "");
  EXPECT_EQ(reconcile(pools(true)).kind, NatPlan::Kind::Create);
}

}  // namespace
}  // namespace blockd::netlink
