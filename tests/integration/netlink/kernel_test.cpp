// The programmer on the real kernel (LibnlKernel) inside a network namespace of its own:
// every route kind in IPv4 and IPv6, neighbour and FDB entries, reconciliation after changes
// by hand, foreign routes untouched, and no flap on restart.
//
// IPIP: this kernel has no ipip module, so IPIP-mode routes are tested on a veth named
// "tunl0" standing in for the IPIP device: the route (via the remote node address, onlink,
// on the configured device) is the same whatever the device's kind.
#include <gtest/gtest.h>

#include <algorithm>

#include "netlink/device.hpp"
#include "netlink/libnl_kernel.hpp"
#include "netlink/programmer.hpp"
#include "netlink/route_watch.hpp"
#include "netns.hpp"
#include "tests/support/fake_clock.hpp"

namespace blockd::netlink {
namespace {

using test::lines;
using test::must;
using test::Netns;

Prefix pfx(const char* s) { return Prefix::parse(s).value(); }
Address addr(const char* s) { return Address::parse(s).value(); }
Mac mac(const char* s) { return Mac::parse(s).value(); }

constexpr const char* kVxlan = "vxlan.blockd";
constexpr const char* kIpip = "tunl0";  // a veth standing in for the IPIP device (see above)

DesiredState every_kind() {
  DesiredState s;
  s.routes = {
      Route::blackhole(pfx("10.0.0.0/26")),
      Route::direct(pfx("10.0.1.0/26"), addr("192.168.50.2")),
      Route::ipip(pfx("10.0.2.0/26"), addr("192.168.60.3"), kIpip),
      Route::vxlan(pfx("10.0.3.0/26"), addr("10.0.3.0"), kVxlan),
      Route::workload(pfx("10.0.0.5/32"), "cali1"),
      Route::blackhole(pfx("fd00::/122")),
      Route::direct(pfx("fd00:0:0:1::/122"), addr("fd50::2")),
      Route::ipip(pfx("fd00:0:0:2::/122"), addr("fd60::3"), kIpip),
      Route::vxlan(pfx("fd00:0:0:3::/122"), addr("fd00:0:0:3::"), kVxlan),
      Route::workload(pfx("fd00::5/128"), "cali1"),
  };
  s.neighbours = {{addr("10.0.3.0"), mac("66:00:00:00:00:03"), kVxlan},
                  {addr("fd00:0:0:3::"), mac("66:00:00:00:00:03"), kVxlan}};
  s.fdb = {{mac("66:00:00:00:00:03"), addr("192.168.50.4"), kVxlan}};
  return s;
}

// What `ip route show proto 200` prints for every_kind().
const std::set<std::string> kExpectedV4 = {
    "blackhole 10.0.0.0/26",
    "10.0.0.5 dev cali1 scope link",
    "10.0.1.0/26 via 192.168.50.2 dev up0",
    "10.0.2.0/26 via 192.168.60.3 dev tunl0 onlink",
    "10.0.3.0/26 via 10.0.3.0 dev vxlan.blockd onlink",
};
const std::set<std::string> kExpectedV6 = {
    "blackhole fd00::/122 dev lo metric 1024 pref medium",
    "fd00::5 dev cali1 metric 1024 pref medium",
    "fd00:0:0:1::/122 via fd50::2 dev up0 metric 1024 pref medium",
    "fd00:0:0:2::/122 via fd60::3 dev tunl0 metric 1024 onlink pref medium",
    "fd00:0:0:3::/122 via fd00:0:0:3:: dev vxlan.blockd metric 1024 onlink pref medium",
};

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The node's uplink (up0, its subnet 192.168.50.0/24), a workload veth, the IPIP stand-in.
    must(ns.ip("link add name up0 type veth peer name up0p"));
    must(ns.ip("link add name cali1 type veth peer name cali1p"));
    must(ns.ip("link add name tunl0 type veth peer name tunl0p"));
    for (const char* d : {"up0", "up0p", "cali1", "cali1p", "tunl0", "tunl0p"})
      must(ns.ip(std::string("link set ") + d + " up"));
    must(ns.ip("addr add 192.168.50.1/24 dev up0"));
    must(ns.ip("addr add fd50::1/64 dev up0 nodad"));
    VxlanDeviceConfig vx;
    vx.name = kVxlan;
    vx.uplink = "up0";
    vx.local = addr("192.168.50.1");
    vx.mac = mac("66:00:00:00:00:01");
    auto s = ns.enter([&] { return ensure_vxlan_device(vx); });
    ASSERT_TRUE(s.ok()) << s.error().message;
    kernel = open_kernel();
    programmer = std::make_unique<Programmer>(*kernel, config());
  }

  std::unique_ptr<LibnlKernel> open_kernel() {
    auto k = ns.enter([] { return LibnlKernel::open(); });
    if (!k) throw std::runtime_error(k.error().message);
    return std::move(*k);
  }
  static ProgrammerConfig config() {
    ProgrammerConfig c;
    c.protocol = 200;
    c.owned_devices = {kVxlan};
    return c;
  }
  ReconcileReport reconcile(Programmer& p, const DesiredState& s) {
    auto r = p.reconcile(s);
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }
  std::set<std::string> routes_v4() { return lines(must(ns.ip("route show proto 200"))); }
  std::set<std::string> routes_v6() { return lines(must(ns.ip("-6 route show proto 200"))); }

  Netns ns{"kernel"};
  std::unique_ptr<LibnlKernel> kernel;
  std::unique_ptr<Programmer> programmer;
};

TEST_F(KernelTest, InstallsEveryRouteKindInIpv4AndIpv6) {
  const auto report = reconcile(*programmer, every_kind());
  EXPECT_TRUE(report.converged()) << report.summary()
                                  << (report.failed.empty() ? "" : " " + report.failed[0].item + ": " +
                                                                        report.failed[0].error.message);
  EXPECT_EQ(report.routes.added, 10u);
  EXPECT_EQ(routes_v4(), kExpectedV4);
  EXPECT_EQ(routes_v6(), kExpectedV6);
}

TEST_F(KernelTest, InstallsPermanentNeighbourAndFdbEntries) {
  const auto report = reconcile(*programmer, every_kind());
  EXPECT_EQ(report.neighbours.added, 2u);
  EXPECT_EQ(report.fdb.added, 1u);
  EXPECT_EQ(lines(must(ns.ip("neigh show dev vxlan.blockd"))),
            (std::set<std::string>{"10.0.3.0 lladdr 66:00:00:00:00:03 PERMANENT",
                                   "fd00:0:0:3:: lladdr 66:00:00:00:00:03 PERMANENT"}));
  EXPECT_EQ(lines(must(ns.exec("bridge fdb show dev vxlan.blockd"))),
            (std::set<std::string>{"66:00:00:00:00:03 dst 192.168.50.4 self permanent"}));
}

TEST_F(KernelTest, ReadsBackWhatItWroteAsUnchanged) {
  (void)reconcile(*programmer, every_kind());
  const auto report = reconcile(*programmer, every_kind());
  EXPECT_EQ(report.routes, (ChangeCounts{.unchanged = 10}));
  EXPECT_EQ(report.neighbours, (ChangeCounts{.unchanged = 2}));
  EXPECT_EQ(report.fdb, (ChangeCounts{.unchanged = 1}));
}

TEST_F(KernelTest, RestoresARouteDeletedByHand) {
  (void)reconcile(*programmer, every_kind());
  must(ns.ip("route del 10.0.3.0/26"));
  must(ns.ip("-6 route del fd00::/122"));
  const auto report = reconcile(*programmer, every_kind());
  EXPECT_EQ(report.routes.added, 2u);
  EXPECT_EQ(report.routes.unchanged, 8u);
  EXPECT_EQ(routes_v4(), kExpectedV4);
  EXPECT_EQ(routes_v6(), kExpectedV6);
}

TEST_F(KernelTest, RewritesARouteReplacedByHandWithAConflictingOne) {
  (void)reconcile(*programmer, every_kind());
  // A foreign route over blockd's destination (protocol boot), and one of blockd's changed.
  must(ns.ip("route replace 10.0.1.0/26 via 192.168.50.77"));
  must(ns.ip("route replace 10.0.0.5/32 dev up0 proto 200 scope link"));
  const auto report = reconcile(*programmer, every_kind());
  EXPECT_EQ(report.routes.added, 1u);
  EXPECT_EQ(report.routes.replaced, 1u);
  EXPECT_EQ(routes_v4(), kExpectedV4);
  EXPECT_EQ(lines(must(ns.ip("route show 10.0.1.0/26"))),
            (std::set<std::string>{"10.0.1.0/26 via 192.168.50.2 dev up0 proto 200"}));
}

TEST_F(KernelTest, NeverTouchesForeignRoutes) {
  must(ns.ip("route add 172.16.0.0/16 via 192.168.50.9"));
  must(ns.ip("route add blackhole 10.9.0.0/26 proto 186"));  // another daemon's (BGP)
  must(ns.ip("-6 route add fd99::/64 via fd50::9 proto 186"));
  const auto before_v4 = lines(must(ns.ip("route show")));
  (void)reconcile(*programmer, every_kind());
  (void)programmer->cleanup();
  EXPECT_EQ(lines(must(ns.ip("route show"))), before_v4);
  EXPECT_EQ(lines(must(ns.ip("-6 route show proto 186"))),
            (std::set<std::string>{"fd99::/64 via fd50::9 dev up0 metric 1024 pref medium"}));
}

TEST_F(KernelTest, RemovesItsOwnRoutesNoLongerWanted) {
  (void)reconcile(*programmer, every_kind());
  must(ns.ip("route add blackhole 10.7.0.0/26 proto 200"));  // stale, e.g. from an older run
  auto s = every_kind();
  s.routes.erase(s.routes.begin());  // 10.0.0.0/26
  const auto report = reconcile(*programmer, s);
  EXPECT_EQ(report.routes.removed, 2u);
  auto want = kExpectedV4;
  want.erase("blackhole 10.0.0.0/26");
  EXPECT_EQ(routes_v4(), want);
}

TEST_F(KernelTest, RestartedProgrammerChangesNothing) {
  (void)reconcile(*programmer, every_kind());
  programmer.reset();
  kernel.reset();
  // A new process: new socket, new programmer. Watch the kernel's route events meanwhile:
  // no flap means not a single route event.
  auto watch = ns.enter([] { return RouteWatch::open(); });
  ASSERT_TRUE(watch.ok());
  kernel = open_kernel();
  Programmer restarted(*kernel, config());
  const auto report = reconcile(restarted, every_kind());
  EXPECT_EQ(report.routes, (ChangeCounts{.unchanged = 10}));
  EXPECT_EQ(report.neighbours.unchanged + report.fdb.unchanged, 3u);
  EXPECT_TRUE((*watch)->read().empty());
  EXPECT_EQ(routes_v4(), kExpectedV4);
}

TEST_F(KernelTest, OneRefusedRouteNeverStopsTheRestAndTheKernelsReasonIsKept) {
  auto s = every_kind();
  s.routes.push_back(Route::workload(pfx("10.0.0.9/32"), "nodev0"));
  s.routes.push_back(Route::direct(pfx("10.0.8.0/26"), addr("10.77.0.1")));  // gateway unreachable
  const auto report = reconcile(*programmer, s);
  EXPECT_EQ(report.routes.added, 10u);
  ASSERT_EQ(report.failed.size(), 2u);
  EXPECT_EQ(report.failed[0].item, "add route 10.0.0.9/32 dev nodev0 scope link proto 200");
  EXPECT_EQ(report.failed[0].error.message, "Cannot find device \"nodev0\"");
  EXPECT_EQ(report.failed[1].item, "add route 10.0.8.0/26 via 10.77.0.1 proto 200");
  EXPECT_NE(report.failed[1].error.message.find("ENETUNREACH"), std::string::npos)
      << report.failed[1].error.message;
  EXPECT_EQ(routes_v4(), kExpectedV4);
  EXPECT_TRUE(programmer->next_retry().has_value());
}

TEST_F(KernelTest, RouteEventsTriggerAResyncOnlyForChangesByHand) {
  auto watch = ns.enter([] { return RouteWatch::open(); });
  ASSERT_TRUE(watch.ok()) << watch.error().message;
  (void)reconcile(*programmer, every_kind());
  // blockd's own writes come back as events that need no resync.
  auto events = (*watch)->read();
  EXPECT_FALSE(events.empty());
  for (const auto& e : events) EXPECT_FALSE(programmer->needs_resync(e)) << e.route.str();
  events.clear();

  must(ns.ip("route del 10.0.2.0/26"));
  events = (*watch)->wait(std::chrono::seconds(5));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, RouteEvent::Type::Deleted);
  EXPECT_EQ(events[0].route.str(), "10.0.2.0/26 via 192.168.60.3 dev tunl0 onlink proto 200");
  EXPECT_TRUE(programmer->needs_resync(events[0]));

  must(ns.ip("-6 route replace fd00:0:0:1::/122 via fd50::3 proto 200"));
  events = (*watch)->wait(std::chrono::seconds(5));
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(programmer->needs_resync(events.back()));

  const auto report = reconcile(*programmer, every_kind());
  EXPECT_EQ(report.routes.added + report.routes.replaced, 2u);
  EXPECT_EQ(routes_v6(), kExpectedV6);
}

TEST_F(KernelTest, AWorkloadDeviceThatComesBackGetsItsRoutesBack) {
  auto watch = ns.enter([] { return RouteWatch::open(); });
  ASSERT_TRUE(watch.ok()) << watch.error().message;
  FakeClock clock;
  Programmer p(*kernel, config(), clock);
  (void)reconcile(p, every_kind());
  (void)(*watch)->read();
  // The workload's veth goes away: the kernel flushes its routes (IPv4 without RTM_DELROUTE).
  must(ns.ip("link del cali1"));
  auto events = (*watch)->wait(std::chrono::seconds(5));
  auto resync = [&] {
    return std::any_of(events.begin(), events.end(),
                       [&](const RouteEvent& e) { return p.needs_resync(e); });
  };
  EXPECT_TRUE(resync());
  auto report = reconcile(p, every_kind());
  EXPECT_EQ(report.failed.size(), 2u) << "the workload routes wait for their device";
  // The device is back (a restarted workload): the link event asks for a resync that restores them.
  must(ns.ip("link add name cali1 type veth peer name cali1p"));
  must(ns.ip("link set cali1 up"));
  must(ns.ip("link set cali1p up"));
  events = (*watch)->wait(std::chrono::seconds(5));
  EXPECT_TRUE(resync());
  clock.advance(std::chrono::hours(1));  // past the back-off of the refused routes
  report = reconcile(p, every_kind());
  EXPECT_TRUE(report.converged()) << report.summary();
  EXPECT_EQ(routes_v4(), kExpectedV4);
  EXPECT_EQ(routes_v6(), kExpectedV6);
}

TEST_F(KernelTest, CleanupRemovesEverythingBlockdOwns) {
  must(ns.ip("route add 172.16.0.0/16 via 192.168.50.9"));
  (void)reconcile(*programmer, every_kind());
  auto report = programmer->cleanup();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->routes.removed, 10u);
  EXPECT_EQ(report->neighbours.removed, 2u);
  EXPECT_EQ(report->fdb.removed, 1u);
  EXPECT_TRUE(routes_v4().empty());
  EXPECT_TRUE(routes_v6().empty());
  EXPECT_TRUE(lines(must(ns.exec("bridge fdb show dev vxlan.blockd"))).empty());
  EXPECT_EQ(lines(must(ns.ip("route show 172.16.0.0/16"))),
            (std::set<std::string>{"172.16.0.0/16 via 192.168.50.9 dev up0"}));
  auto del = ns.enter([] { return delete_device(kVxlan, "vxlan"); });
  EXPECT_TRUE(del.ok());
  EXPECT_NE(test::run(ns.ip("link show vxlan.blockd")).status, 0);
}

TEST_F(KernelTest, EachRefusalInALargeBatchMapsBackToItsOwnRoute) {
  // 3,000 routes span several sendmsg chunks; every 997th has a gateway the kernel refuses.
  DesiredState s;
  std::set<std::string> refused;
  for (std::uint32_t i = 0; i < 3000; ++i) {
    const auto dst = Prefix::make(Address::v4(0x0A800000u + i * 64), 26);  // 10.128.0.0 onwards
    if (i % 997 == 0) {
      s.routes.push_back(Route::direct(dst, addr("10.77.0.1")));
      refused.insert(dst.str());
    } else {
      s.routes.push_back(Route::direct(dst, addr("192.168.50.2")));
    }
  }
  const auto report = reconcile(*programmer, s);
  EXPECT_EQ(report.routes.added, 3000u - refused.size());
  std::set<std::string> failed;
  for (const auto& f : report.failed) {
    EXPECT_NE(f.error.message.find("ENETUNREACH"), std::string::npos) << f.item << ": " << f.error.message;
    failed.insert(f.item.substr(std::string("add route ").size(), f.item.find(' ', 10) - 10));
  }
  EXPECT_EQ(failed, refused);
  EXPECT_EQ(lines(must(ns.ip("route show proto 200"))).size(), 3000u - refused.size());
}

TEST_F(KernelTest, ReplacesNeighbourAndFdbEntriesInPlace) {
  (void)reconcile(*programmer, every_kind());
  auto s = every_kind();
  s.neighbours[0].mac = mac("66:00:00:00:00:33");
  s.fdb[0].destination = addr("192.168.50.44");
  const auto report = reconcile(*programmer, s);
  EXPECT_EQ(report.neighbours, (ChangeCounts{.replaced = 1, .unchanged = 1}));
  EXPECT_EQ(report.fdb, (ChangeCounts{.replaced = 1}));
  EXPECT_EQ(lines(must(ns.ip("-4 neigh show dev vxlan.blockd"))),
            (std::set<std::string>{"10.0.3.0 lladdr 66:00:00:00:00:33 PERMANENT"}));
  EXPECT_EQ(lines(must(ns.exec("bridge fdb show dev vxlan.blockd"))),
            (std::set<std::string>{"66:00:00:00:00:03 dst 192.168.50.44 self permanent"}));
}

TEST_F(KernelTest, AMissingOwnedDeviceHoldsNothingAndItsEntriesFailUntilItExists) {
  auto c = config();
  c.owned_devices.push_back("vxlan.later");
  FakeClock clock;
  Programmer p(*kernel, c, clock);
  auto s = every_kind();
  s.neighbours.push_back({addr("10.0.4.0"), mac("66:00:00:00:00:04"), "vxlan.later"});
  auto report = reconcile(p, s);
  EXPECT_EQ(report.routes.added, 10u);
  ASSERT_EQ(report.failed.size(), 1u);
  EXPECT_EQ(report.failed[0].item, "add neighbour 10.0.4.0 lladdr 66:00:00:00:00:04 dev vxlan.later");
  EXPECT_EQ(report.failed[0].error.message, "Cannot find device \"vxlan.later\"");

  // The device appears; after the back-off the entry is written.
  must(ns.ip("link add name vxlan.later type vxlan id 7 dstport 4789 nolearning"));
  clock.advance(std::chrono::hours(1));
  report = reconcile(p, s);
  EXPECT_TRUE(report.converged()) << report.summary();
  EXPECT_EQ(report.neighbours.added, 1u);
  EXPECT_EQ(lines(must(ns.ip("neigh show dev vxlan.later"))),
            (std::set<std::string>{"10.0.4.0 lladdr 66:00:00:00:00:04 PERMANENT"}));
}


// ECMP toward two ToRs: one multipath route (RTA_MULTIPATH) via a next hop on each uplink. When
// one ToR goes, its next hop is removed by replacing the route in place (NLM_F_REPLACE): the
// destination is never without a route, and nothing is withdrawn.
class MultipathKernelTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    must(ns.ip("link add name up1 type veth peer name up1p"));
    must(ns.ip("link set up1 up"));
    must(ns.ip("link set up1p up"));
    must(ns.ip("addr add 192.168.51.1/24 dev up1"));
    must(ns.ip("addr add fd51::1/64 dev up1 nodad"));
  }
  static DesiredState via(const std::vector<const char*>& v4, const std::vector<const char*>& v6) {
    DesiredState s;
    std::vector<Address> a4, a6;
    for (const char* a : v4) a4.push_back(addr(a));
    for (const char* a : v6) a6.push_back(addr(a));
    s.routes = {Route::multipath(pfx("10.0.9.0/26"), a4), Route::multipath(pfx("fd00:0:0:9::/122"), a6)};
    return s;
  }
  std::set<std::string> show(const char* family, const char* dst) {
    return lines(must(ns.ip(std::string(family) + " route show " + dst + " proto 200")));
  }
};

TEST_F(MultipathKernelTest, InstallsOneMultipathRouteAndReadsItBackAsUnchanged) {
  const auto both = via({"192.168.50.2", "192.168.51.2"}, {"fd50::2", "fd51::2"});
  auto report = reconcile(*programmer, both);
  ASSERT_TRUE(report.converged()) << report.summary()
                                  << (report.failed.empty() ? "" : " " + report.failed[0].error.message);
  EXPECT_EQ(report.routes.added, 2u);
  EXPECT_EQ(show("-4", "10.0.9.0/26"), (std::set<std::string>{"10.0.9.0/26",
                                                              "\tnexthop via 192.168.50.2 dev up0 weight 1",
                                                              "\tnexthop via 192.168.51.2 dev up1 weight 1"}));
  EXPECT_EQ(show("-6", "fd00:0:0:9::/122"),
            (std::set<std::string>{"fd00:0:0:9::/122 metric 1024 pref medium",
                                   "\tnexthop via fd50::2 dev up0 weight 1",
                                   "\tnexthop via fd51::2 dev up1 weight 1"}));
  report = reconcile(*programmer, both);
  EXPECT_EQ(report.routes, (ChangeCounts{.unchanged = 2}));
}

TEST_F(MultipathKernelTest, ADeadNextHopIsRemovedInPlaceAndComesBack) {
  (void)reconcile(*programmer, via({"192.168.50.2", "192.168.51.2"}, {"fd50::2", "fd51::2"}));
  auto watch = ns.enter([] { return RouteWatch::open(); });
  ASSERT_TRUE(watch.ok());
  // The ToR behind up0 is gone: the route keeps the other next hop, replaced, never deleted.
  auto report = reconcile(*programmer, via({"192.168.51.2"}, {"fd51::2"}));
  EXPECT_EQ(report.routes, (ChangeCounts{.replaced = 2}));
  EXPECT_EQ(show("-4", "10.0.9.0/26"), (std::set<std::string>{"10.0.9.0/26 via 192.168.51.2 dev up1"}));
  EXPECT_EQ(show("-6", "fd00:0:0:9::/122"),
            (std::set<std::string>{"fd00:0:0:9::/122 via fd51::2 dev up1 metric 1024 pref medium"}));
  report = reconcile(*programmer, via({"192.168.51.2"}, {"fd51::2"}));
  EXPECT_EQ(report.routes, (ChangeCounts{.unchanged = 2}));
  // It comes back: multipath again, in place.
  report = reconcile(*programmer, via({"192.168.50.2", "192.168.51.2"}, {"fd50::2", "fd51::2"}));
  EXPECT_EQ(report.routes, (ChangeCounts{.replaced = 2}));
  EXPECT_EQ(show("-4", "10.0.9.0/26").size(), 3u);
  EXPECT_EQ(show("-6", "fd00:0:0:9::/122").size(), 3u);
  // No RTM_DELROUTE for either destination went out meanwhile.
  for (const auto& e : (*watch)->read()) EXPECT_NE(e.type, RouteEvent::Type::Deleted) << e.route.str();
}

}  // namespace
}  // namespace blockd::netlink
