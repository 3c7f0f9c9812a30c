#include "netlink/programmer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/netlink/fake_kernel.hpp"
#include "tests/support/fake_clock.hpp"

namespace blockd::netlink {
namespace {

using namespace std::chrono_literals;

Prefix pfx(const char* s) { return Prefix::parse(s).value(); }
Address addr(const char* s) { return Address::parse(s).value(); }
Mac mac(const char* s) { return Mac::parse(s).value(); }

constexpr std::uint8_t kOurs = 200;
constexpr std::uint8_t kBoot = 3;  // RTPROT_BOOT: what `ip route add` writes

Route with_proto(Route r, std::uint8_t p) {
  r.protocol = p;
  return r;
}

// Every kind, both families.
DesiredState every_kind() {
  DesiredState s;
  s.routes = {
      Route::blackhole(pfx("10.0.0.0/26")),
      Route::direct(pfx("10.0.1.0/26"), addr("192.168.0.2")),
      Route::ipip(pfx("10.0.2.0/26"), addr("192.168.1.3"), "tunl0"),
      Route::vxlan(pfx("10.0.3.0/26"), addr("10.0.3.0"), "vxlan.blockd"),
      Route::workload(pfx("10.0.0.5/32"), "cali1"),
      Route::blackhole(pfx("fd00::/122")),
      Route::vxlan(pfx("fd00:0:0:1::/122"), addr("fd00:0:0:1::"), "vxlan.blockd"),
      Route::workload(pfx("fd00::5/128"), "cali1"),
  };
  s.neighbours = {{addr("10.0.3.0"), mac("66:00:00:00:00:03"), "vxlan.blockd"}};
  s.fdb = {{mac("66:00:00:00:00:03"), addr("192.168.2.4"), "vxlan.blockd"}};
  return s;
}

class ProgrammerTest : public ::testing::Test {
 protected:
  ProgrammerConfig config() {
    ProgrammerConfig c;
    c.protocol = kOurs;
    c.owned_devices = {"vxlan.blockd"};
    c.initial_backoff = 1s;
    c.max_backoff = 4s;
    return c;
  }
  ReconcileReport reconcile(Programmer& p, const DesiredState& s) {
    auto r = p.reconcile(s);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : ReconcileReport{};
  }
  std::vector<Route> ours() { return kernel.dump_routes(kOurs).value(); }

  FakeKernel kernel;
  FakeClock clock;
  Programmer programmer{kernel, config(), clock};
};

TEST_F(ProgrammerTest, InstallsEveryKindWithItsProtocol) {
  const auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.added, 8u);
  EXPECT_EQ(report.neighbours.added, 1u);
  EXPECT_EQ(report.fdb.added, 1u);
  EXPECT_TRUE(report.converged()) << report.summary();
  const auto routes = ours();
  ASSERT_EQ(routes.size(), 8u);
  for (const auto& r : routes) EXPECT_EQ(r.protocol, kOurs) << r.str();
  EXPECT_EQ(kernel.dump_neighbours("vxlan.blockd").value(), every_kind().neighbours);
  EXPECT_EQ(kernel.dump_fdb("vxlan.blockd").value(), every_kind().fdb);
}

TEST_F(ProgrammerTest, SecondReconcileChangesNothing) {
  (void)reconcile(programmer, every_kind());
  kernel.reset_counts();
  const auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes, (ChangeCounts{.unchanged = 8}));
  EXPECT_EQ(report.neighbours, (ChangeCounts{.unchanged = 1}));
  EXPECT_EQ(report.fdb, (ChangeCounts{.unchanged = 1}));
  EXPECT_EQ(kernel.counts().batches, 0u) << "a no-change reconcile sends nothing";
}

TEST_F(ProgrammerTest, RestartedProgrammerKeepsExistingRoutes) {
  (void)reconcile(programmer, every_kind());
  kernel.reset_counts();
  Programmer restarted(kernel, config(), clock);
  const auto report = reconcile(restarted, every_kind());
  EXPECT_EQ(report.routes.removed, 0u);
  EXPECT_EQ(report.routes.unchanged, 8u);
  EXPECT_EQ(kernel.counts().deletes + kernel.counts().adds + kernel.counts().replaces, 0u);
}

TEST_F(ProgrammerTest, ForeignRoutesAreNeverTouched) {
  const Route foreign = with_proto(Route::direct(pfx("172.16.0.0/16"), addr("192.168.0.1")), kBoot);
  const Route other_daemon = with_proto(Route::blackhole(pfx("10.9.0.0/26")), 186);  // BGP
  kernel.put_route(foreign);
  kernel.put_route(other_daemon);
  (void)reconcile(programmer, every_kind());
  (void)programmer.cleanup();
  const auto all = kernel.all_routes();
  EXPECT_EQ(all.size(), 2u);
  EXPECT_NE(std::find(all.begin(), all.end(), foreign), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), other_daemon), all.end());
}

TEST_F(ProgrammerTest, RemovesOwnRoutesNoLongerWanted) {
  (void)reconcile(programmer, every_kind());
  auto less = every_kind();
  less.routes.erase(less.routes.begin());  // the 10.0.0.0/26 blackhole
  const auto report = reconcile(programmer, less);
  EXPECT_EQ(report.routes.removed, 1u);
  EXPECT_EQ(report.routes.unchanged, 7u);
  EXPECT_EQ(ours().size(), 7u);
}

TEST_F(ProgrammerTest, ReplacesARouteWhoseGatewayChanged) {
  (void)reconcile(programmer, every_kind());
  auto moved = every_kind();
  moved.routes[1] = Route::direct(pfx("10.0.1.0/26"), addr("192.168.0.99"));
  const auto report = reconcile(programmer, moved);
  EXPECT_EQ(report.routes.replaced, 1u);
  EXPECT_EQ(report.routes.removed, 0u);
  EXPECT_EQ(report.routes.added, 0u);
  const auto routes = ours();
  EXPECT_NE(std::find(routes.begin(), routes.end(), with_proto(moved.routes[1], kOurs)), routes.end());
}

TEST_F(ProgrammerTest, RestoresARouteDeletedByHand) {
  (void)reconcile(programmer, every_kind());
  kernel.erase_route(with_proto(every_kind().routes[3], kOurs));
  const auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.added, 1u);
  EXPECT_EQ(ours().size(), 8u);
}

TEST_F(ProgrammerTest, RewritesARouteOverwrittenByAConflictingForeignRoute) {
  (void)reconcile(programmer, every_kind());
  // `ip route replace 10.0.1.0/26 via 192.168.0.77`: same key, protocol boot.
  kernel.put_route(with_proto(Route::direct(pfx("10.0.1.0/26"), addr("192.168.0.77")), kBoot));
  const auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.added, 1u);
  const auto routes = ours();
  EXPECT_NE(std::find(routes.begin(), routes.end(), with_proto(every_kind().routes[1], kOurs)),
            routes.end());
}

TEST_F(ProgrammerTest, RestoresARouteChangedByHand) {
  (void)reconcile(programmer, every_kind());
  // `ip route replace 10.0.3.0/26 via 10.0.3.0 dev eth0 proto 200`.
  Route changed = with_proto(every_kind().routes[3], kOurs);
  changed.device = "eth0";
  kernel.put_route(changed);
  const auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.replaced, 1u);
  EXPECT_EQ(ours().size(), 8u);
}

TEST_F(ProgrammerTest, RemovesAnOwnDuplicateWithAnotherMetric) {
  (void)reconcile(programmer, every_kind());
  Route dup = with_proto(every_kind().routes[0], kOurs);
  dup.metric = 50;
  kernel.put_route(dup);
  const auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.removed, 1u);
  EXPECT_EQ(report.routes.unchanged, 8u);
  EXPECT_EQ(ours().size(), 8u);
}

TEST_F(ProgrammerTest, OneRefusedRouteNeverStopsTheRest) {
  kernel.refuse(pfx("10.0.2.0/26"), not_found("Cannot find device \"tunl0\" (ENODEV)"));
  const auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.added, 7u);
  ASSERT_EQ(report.failed.size(), 1u);
  EXPECT_EQ(report.failed[0].item, "add route 10.0.2.0/26 via 192.168.1.3 dev tunl0 onlink proto 200");
  EXPECT_EQ(report.failed[0].error.message, "Cannot find device \"tunl0\" (ENODEV)");
  EXPECT_FALSE(report.converged());
}

TEST_F(ProgrammerTest, RetriesARefusedRouteWithBackoff) {
  kernel.refuse(pfx("10.0.2.0/26"), unavailable("Network is down"));
  (void)reconcile(programmer, every_kind());
  ASSERT_TRUE(programmer.next_retry().has_value());
  EXPECT_EQ(*programmer.next_retry(), clock.now() + 1s);

  // Before the back-off ends the route is not tried again.
  clock.advance(500ms);
  auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.deferred, 1u);
  EXPECT_TRUE(report.failed.empty());

  // After it, it is tried and fails again: the back-off doubles.
  clock.advance(600ms);
  report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.failed.size(), 1u);
  EXPECT_EQ(*programmer.next_retry(), clock.now() + 2s);

  // The kernel accepts it now.
  kernel.accept(pfx("10.0.2.0/26"));
  clock.advance(2s);
  report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.added, 1u);
  EXPECT_TRUE(report.converged());
  EXPECT_FALSE(programmer.next_retry().has_value());
}

TEST_F(ProgrammerTest, RetriesRefusedRoutesAtOnceAfterALinkChange) {
  // The uplink was down (ENETDOWN) long enough for the back-off to reach its cap.
  kernel.refuse(pfx("10.0.2.0/26"), unavailable("Nexthop device is not up (ENETDOWN)"));
  for (int i = 0; i < 4; ++i) {
    (void)reconcile(programmer, every_kind());
    clock.advance(10s);
  }
  // It is up again: still deferred until the link change is told.
  kernel.accept(pfx("10.0.2.0/26"));
  clock.advance(-9s);
  auto report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.deferred, 1u);
  programmer.retry_refused_now();
  report = reconcile(programmer, every_kind());
  EXPECT_EQ(report.routes.added, 1u);
  EXPECT_TRUE(report.converged()) << report.summary();
  EXPECT_FALSE(programmer.next_retry().has_value());
}

TEST_F(ProgrammerTest, ARouteRefusedAgainAfterALinkChangeKeepsDoublingItsBackoff) {
  kernel.refuse(pfx("10.0.2.0/26"), unavailable("Network is down"));
  (void)reconcile(programmer, every_kind());
  programmer.retry_refused_now();
  (void)reconcile(programmer, every_kind());
  EXPECT_EQ(*programmer.next_retry(), clock.now() + 2s);
}

TEST_F(ProgrammerTest, BackoffIsCapped) {
  kernel.refuse(pfx("10.0.2.0/26"), unavailable("Network is down"));
  for (int i = 0; i < 6; ++i) {
    (void)reconcile(programmer, every_kind());
    clock.advance(10s);
  }
  clock.advance(-10s);
  EXPECT_EQ(*programmer.next_retry(), clock.now() + 4s);
}

TEST_F(ProgrammerTest, ForgetsTheBackoffOfARouteNoLongerWanted) {
  kernel.refuse(pfx("10.0.2.0/26"), unavailable("Network is down"));
  (void)reconcile(programmer, every_kind());
  auto without = every_kind();
  without.routes.erase(without.routes.begin() + 2);
  (void)reconcile(programmer, without);
  EXPECT_FALSE(programmer.next_retry().has_value());
}

TEST_F(ProgrammerTest, InvalidAndDuplicateDesiredRoutesAreReportedAndTheRestApplied) {
  auto s = every_kind();
  s.routes.push_back(Route::ipip(pfx("10.0.9.0/26"), addr("192.168.0.9"), ""));
  s.routes.push_back(Route::blackhole(pfx("10.0.1.0/26")));  // 10.0.1.0/26 is also direct
  const auto report = reconcile(programmer, s);
  EXPECT_EQ(report.routes.added, 8u);
  ASSERT_EQ(report.failed.size(), 2u);
  EXPECT_NE(report.failed[0].error.message.find("needs a device"), std::string::npos);
  EXPECT_NE(report.failed[1].error.message.find("wanted twice"), std::string::npos);
}

TEST_F(ProgrammerTest, DumpFailureChangesNothing) {
  kernel.fail_dumps(true);
  auto r = programmer.reconcile(every_kind());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_TRUE(kernel.all_routes().empty());
}

TEST_F(ProgrammerTest, NeighbourAndFdbEntriesFollowTheDesiredState) {
  (void)reconcile(programmer, every_kind());
  auto s = every_kind();
  s.neighbours[0].mac = mac("66:00:00:00:00:99");
  s.fdb[0].destination = addr("192.168.2.40");
  s.neighbours.push_back({addr("10.0.4.0"), mac("66:00:00:00:00:04"), "vxlan.blockd"});
  auto report = reconcile(programmer, s);
  EXPECT_EQ(report.neighbours, (ChangeCounts{.added = 1, .replaced = 1}));
  EXPECT_EQ(report.fdb, (ChangeCounts{.replaced = 1}));
  EXPECT_EQ(kernel.dump_neighbours("vxlan.blockd").value().size(), 2u);

  s.neighbours.pop_back();
  s.fdb.clear();
  report = reconcile(programmer, s);
  EXPECT_EQ(report.neighbours, (ChangeCounts{.removed = 1, .unchanged = 1}));
  EXPECT_EQ(report.fdb, (ChangeCounts{.removed = 1}));
}

TEST_F(ProgrammerTest, EntriesOnDevicesBlockdDoesNotOwnAreRefusedAndLeftAlone) {
  std::vector<NeighbourChange> foreign = {
      {Op::Add, {addr("192.168.0.1"), mac("02:00:00:00:00:01"), "eth0"}}};
  (void)kernel.apply_neighbours(foreign);
  auto s = every_kind();
  s.neighbours.push_back({addr("192.168.0.2"), mac("02:00:00:00:00:02"), "eth0"});
  const auto report = reconcile(programmer, s);
  ASSERT_EQ(report.failed.size(), 1u);
  EXPECT_EQ(report.failed[0].error.message, "device eth0 is not one of blockd's devices");
  (void)programmer.cleanup();
  EXPECT_EQ(kernel.dump_neighbours("eth0").value().size(), 1u);
}

TEST_F(ProgrammerTest, CleanupRemovesEverythingBlockdOwns) {
  (void)reconcile(programmer, every_kind());
  const auto report = programmer.cleanup();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->routes.removed, 8u);
  EXPECT_EQ(report->neighbours.removed, 1u);
  EXPECT_EQ(report->fdb.removed, 1u);
  EXPECT_TRUE(ours().empty());
  EXPECT_TRUE(kernel.dump_fdb("vxlan.blockd").value().empty());
}

TEST_F(ProgrammerTest, ProtocolIsConfigurable) {
  auto c = config();
  c.protocol = 42;
  Programmer p42(kernel, c, clock);
  (void)reconcile(p42, every_kind());
  EXPECT_EQ(kernel.dump_routes(42).value().size(), 8u);
  // The default programmer (protocol 200) sees none of them as its own.
  (void)reconcile(programmer, {});
  EXPECT_EQ(kernel.dump_routes(42).value().size(), 8u);
}

TEST_F(ProgrammerTest, ResyncOnlyWhenAnEventContradictsTheDesiredState) {
  (void)reconcile(programmer, every_kind());
  const Route mine = with_proto(every_kind().routes[3], kOurs);
  using T = RouteEvent::Type;
  // blockd's own writes: no resync.
  EXPECT_FALSE(programmer.needs_resync({T::New, mine}));
  EXPECT_FALSE(programmer.needs_resync(
      {T::Deleted, with_proto(Route::blackhole(pfx("10.7.0.0/26")), kOurs)}));
  // `ip route del` of a desired route.
  EXPECT_TRUE(programmer.needs_resync({T::Deleted, mine}));
  // Changed by hand.
  Route changed = mine;
  changed.gateway = addr("10.0.3.9");
  EXPECT_TRUE(programmer.needs_resync({T::New, changed}));
  // An unwanted route with blockd's protocol.
  EXPECT_TRUE(programmer.needs_resync(
      {T::New, with_proto(Route::blackhole(pfx("10.7.0.0/26")), kOurs)}));
  // A foreign route over a desired destination; elsewhere: none of blockd's business.
  EXPECT_TRUE(programmer.needs_resync(
      {T::New, with_proto(Route::direct(pfx("10.0.3.0/26"), addr("192.168.0.1")), kBoot)}));
  EXPECT_FALSE(programmer.needs_resync(
      {T::New, with_proto(Route::direct(pfx("172.16.0.0/16"), addr("192.168.0.1")), kBoot)}));
  EXPECT_FALSE(programmer.needs_resync(
      {T::Deleted, with_proto(Route::direct(pfx("10.0.3.0/26"), addr("192.168.0.1")), kBoot)}));
  EXPECT_TRUE(programmer.needs_resync({T::Overrun, {}}));
  EXPECT_TRUE(programmer.needs_resync({T::LinkChanged, {}}));
}

TEST(ProgrammerConfig, RejectsKernelProtocolsNamingTheField) {
  ProgrammerConfig c;
  EXPECT_TRUE(c.validate().ok());
  c.protocol = 3;
  EXPECT_EQ(c.validate().error().message,
            "routeProtocol 3 is reserved (0-4: unspec, redirect, kernel, boot, static); use 5-255, default 200");
  c.protocol = 200;
  c.owned_devices = {"a-name-longer-than-15"};
  EXPECT_FALSE(c.validate().ok());
}

TEST(DiffRoutes, AddsAndReplacesComeBeforeDeletes) {
  const Route keep = with_proto(Route::blackhole(pfx("10.0.0.0/26")), kOurs);
  const Route gone = with_proto(Route::blackhole(pfx("10.0.9.0/26")), kOurs);
  const Route old_gw = with_proto(Route::direct(pfx("10.0.1.0/26"), addr("192.168.0.2")), kOurs);
  const Route new_gw = with_proto(Route::direct(pfx("10.0.1.0/26"), addr("192.168.0.3")), kOurs);
  const Route fresh = with_proto(Route::blackhole(pfx("10.0.2.0/26")), kOurs);
  const auto diff = diff_routes({keep, new_gw, fresh}, {gone, keep, old_gw});
  EXPECT_EQ(diff.unchanged, 1u);
  ASSERT_EQ(diff.changes.size(), 3u);
  EXPECT_EQ(diff.changes[0].op, Op::Add);
  EXPECT_EQ(diff.changes[0].value, fresh);
  EXPECT_EQ(diff.changes[1].op, Op::Replace);
  EXPECT_EQ(diff.changes[1].value, new_gw);
  EXPECT_EQ(diff.changes[2].op, Op::Delete);
  EXPECT_EQ(diff.changes[2].value, gone);
}

TEST(DiffRoutes, AMetricChangeAddsTheNewRouteThenDeletesTheOld) {
  Route old_metric = with_proto(Route::blackhole(pfx("10.0.0.0/26")), kOurs);
  old_metric.metric = 10;
  Route new_metric = old_metric;
  new_metric.metric = 20;
  const auto diff = diff_routes({new_metric}, {old_metric});
  ASSERT_EQ(diff.changes.size(), 2u);
  EXPECT_EQ(diff.changes[0].op, Op::Add);
  EXPECT_EQ(diff.changes[1].op, Op::Delete);
  EXPECT_EQ(diff.changes[1].value, old_metric);
}

}  // namespace
}  // namespace blockd::netlink
