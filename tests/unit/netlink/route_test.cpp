#include "netlink/route.hpp"

#include <gtest/gtest.h>

namespace blockd::netlink {
namespace {

Prefix pfx(const char* s) { return Prefix::parse(s).value(); }
Address addr(const char* s) { return Address::parse(s).value(); }

TEST(Route, FactoriesGiveTheShapeOfEachKind) {
  EXPECT_EQ(Route::blackhole(pfx("10.0.0.0/26")).str(), "blackhole 10.0.0.0/26");
  EXPECT_EQ(Route::direct(pfx("10.0.1.0/26"), addr("192.168.0.2")).str(),
            "10.0.1.0/26 via 192.168.0.2");
  EXPECT_EQ(Route::ipip(pfx("10.0.1.0/26"), addr("192.168.0.2"), "tunl0").str(),
            "10.0.1.0/26 via 192.168.0.2 dev tunl0 onlink");
  EXPECT_EQ(Route::vxlan(pfx("fd00:1::/122"), addr("fd00:9::2"), "vxlan.blockd").str(),
            "fd00:1::/122 via fd00:9::2 dev vxlan.blockd onlink");
  EXPECT_EQ(Route::workload(pfx("10.0.0.5/32"), "cali1").str(), "10.0.0.5/32 dev cali1 scope link");
}

TEST(Route, ValidationNamesWhatIsWrong) {
  Route r = Route::ipip(pfx("10.0.1.0/26"), addr("192.168.0.2"), "");
  EXPECT_EQ(r.validate().error().message, "route 10.0.1.0/26: a ipip route needs a device");
  r = Route::vxlan(pfx("10.0.1.0/26"), addr("fd00::1"), "vx");
  EXPECT_EQ(r.validate().error().message, "route 10.0.1.0/26: gateway fd00::1 is not IPv4");
  r = Route::workload(pfx("10.0.0.0/26"), "cali1");
  EXPECT_EQ(r.validate().error().message, "route 10.0.0.0/26: a workload route must be a /32 or /128");
  r = Route::direct(pfx("10.0.1.0/26"), addr("10.9.9.9"));
  r.gateway.reset();
  EXPECT_FALSE(r.validate().ok());
  r = Route::workload(pfx("10.0.0.5/32"), "a-name-longer-than-15");
  EXPECT_FALSE(r.validate().ok());
  EXPECT_TRUE(Route::blackhole(pfx("fd00::/122")).validate().ok());
}

TEST(Route, Ipv6MetricZeroIsTheKernelDefault) {
  Route desired = Route::blackhole(pfx("fd00::/122"));
  Route dumped = desired;
  dumped.metric = 1024;
  dumped.device = "lo";  // the kernel reports IPv6 blackholes on lo
  EXPECT_TRUE(satisfies(dumped, desired));
  dumped.metric = 100;
  EXPECT_FALSE(satisfies(dumped, desired));
}

TEST(Route, SatisfiesComparesGatewayDeviceAndOnlink) {
  const Route want = Route::vxlan(pfx("10.0.1.0/26"), addr("10.0.1.0"), "vx");
  Route got = want;
  EXPECT_TRUE(satisfies(got, want));
  got.gateway = addr("10.0.1.1");
  EXPECT_FALSE(satisfies(got, want));
  got = want;
  got.device = "eth0";
  EXPECT_FALSE(satisfies(got, want));
  got = want;
  got.onlink = false;
  EXPECT_FALSE(satisfies(got, want));
  // A direct route without a device accepts whatever device the kernel chose.
  const Route direct = Route::direct(pfx("10.0.1.0/26"), addr("192.168.0.2"));
  got = direct;
  got.device = "eth0";
  EXPECT_TRUE(satisfies(got, direct));
}

TEST(Route, MultipathSortsAndDropsDuplicateNextHopsAndFallsBackToDirectForOne) {
  const Route two = Route::multipath(pfx("10.0.1.0/26"), {addr("10.2.0.1"), addr("10.1.0.1"), addr("10.2.0.1")});
  EXPECT_TRUE(two.is_multipath());
  EXPECT_FALSE(two.gateway);
  EXPECT_EQ(two.str(), "10.0.1.0/26 nexthop via 10.1.0.1 nexthop via 10.2.0.1");
  EXPECT_TRUE(two.validate().ok());
  const Route one = Route::multipath(pfx("10.0.1.0/26"), {addr("10.1.0.1"), addr("10.1.0.1")});
  EXPECT_FALSE(one.is_multipath());
  EXPECT_EQ(one, Route::direct(pfx("10.0.1.0/26"), addr("10.1.0.1")));
}

TEST(Route, MultipathValidationNamesWhatIsWrong) {
  Route r = Route::multipath(pfx("10.0.1.0/26"), {addr("10.1.0.1"), addr("fd00::1")});
  EXPECT_EQ(r.validate().error().message, "route 10.0.1.0/26: next hop fd00::1 is not IPv4");
  r = Route::multipath(pfx("10.0.1.0/26"), {addr("10.1.0.1"), addr("10.2.0.1")});
  r.device = "eth0";
  EXPECT_EQ(r.validate().error().message, "route 10.0.1.0/26: a multipath route names no device and is not onlink");
  r = Route::multipath(pfx("10.0.1.0/26"), {addr("10.1.0.1"), addr("10.2.0.1")});
  std::swap(r.next_hops[0], r.next_hops[1]);
  EXPECT_EQ(r.validate().error().message,
            "route 10.0.1.0/26: next hops must be sorted and unique (Route::multipath)");
  std::vector<Address> many;
  for (std::uint32_t i = 0; i <= kMaxNextHops; ++i) many.push_back(Address::from_value(Family::V4, 0x0a000001 + i));
  EXPECT_EQ(Route::multipath(pfx("10.0.1.0/26"), many).validate().error().message,
            "route 10.0.1.0/26: 33 next hops; at most 32");
}

TEST(Route, SatisfiesComparesTheSetOfNextHops) {
  const Route both = Route::multipath(pfx("10.0.1.0/26"), {addr("10.1.0.1"), addr("10.2.0.1")});
  EXPECT_TRUE(satisfies(both, both));
  EXPECT_FALSE(satisfies(Route::direct(pfx("10.0.1.0/26"), addr("10.1.0.1")), both));
  EXPECT_FALSE(satisfies(both, Route::direct(pfx("10.0.1.0/26"), addr("10.1.0.1"))));
  EXPECT_FALSE(satisfies(Route::multipath(pfx("10.0.1.0/26"), {addr("10.1.0.1"), addr("10.3.0.1")}), both));
}

TEST(Mac, ParsesAndPrints) {
  EXPECT_EQ(Mac::parse("AA:bb:0c:dd:ee:0F").value().str(), "aa:bb:0c:dd:ee:0f");
  EXPECT_FALSE(Mac::parse("aa:bb:cc:dd:ee").ok());
  EXPECT_FALSE(Mac::parse("aa-bb-cc-dd-ee-ff").ok());
  EXPECT_FALSE(Mac::parse("aa:bb:cc:dd:ee:fg").ok());
}

}  // namespace
}  // namespace blockd::netlink
