// Install, no-change reconcile and removal of N routes by blockd's programmer, against
// `ip -batch` with the same routes in the same namespace and run; medians over several runs.
// Prints the `BENCH name ours=... ref=... ratio=...` lines.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "netlink/libnl_kernel.hpp"
#include "netlink/programmer.hpp"
#include "netns.hpp"

using namespace blockd;
using namespace blockd::netlink;
using Stopwatch = std::chrono::steady_clock;

namespace {

double seconds_since(Stopwatch::time_point t) {
  return std::chrono::duration<double>(Stopwatch::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// N remote /26 blocks via a node on the uplink's subnet, as a rack's worth of routes.
std::vector<Route> remote_blocks(std::size_t n) {
  std::vector<Route> out;
  out.reserve(n);
  const auto gw = ipam::Address::parse("192.168.50.2").value();
  const auto base = ipam::Address::parse("10.0.0.0").value().v4_value();
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(Route::direct(ipam::Prefix::make(ipam::Address::v4(base + static_cast<std::uint32_t>(i) * 64), 26),
                                gw, "up0"));
  return out;
}

void fail(const std::string& what) {
  std::cerr << "netlink bench: " << what << "\n";
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 100'000;
  int runs = 5;
  int profile_noop = 0;  // --profile-noop K: install once, then K timed no-change reconciles
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--routes") n = std::stoul(argv[i + 1]);
    else if (a == "--runs") runs = std::stoi(argv[i + 1]);
    else if (a == "--profile-noop") profile_noop = std::stoi(argv[i + 1]);
  }
  spdlog::set_level(spdlog::level::err);
  try {
    test::Netns ns("bench");
    test::must(ns.ip("link add name up0 type veth peer name up0p"));
    test::must(ns.ip("link set up0 up"));
    test::must(ns.ip("link set up0p up"));
    test::must(ns.ip("addr add 192.168.50.1/24 dev up0"));

    const auto routes = remote_blocks(n);
    const std::string add_file = "/tmp/blockd-nl-bench-add-" + std::to_string(getpid());
    const std::string del_file = "/tmp/blockd-nl-bench-del-" + std::to_string(getpid());
    {
      std::ofstream add(add_file), del(del_file);
      for (const auto& r : routes) {
        add << "route add " << r.destination.str() << " via 192.168.50.2 dev up0 proto 200\n";
        del << "route del " << r.destination.str() << " proto 200\n";
      }
    }
    auto kernel = ns.enter([] { return LibnlKernel::open(); });
    if (!kernel) fail(kernel.error().message);
    Programmer programmer(**kernel, ProgrammerConfig{});
    const DesiredState desired{routes, {}, {}};
    const auto count_ours = [&] { return (*kernel)->dump_routes(kDefaultRouteProtocol).value().size(); };

    if (profile_noop) {
      (void)programmer.reconcile(desired);
      for (int i = 0; i < profile_noop; ++i) {
        const auto t = Stopwatch::now();
        (void)programmer.reconcile(desired);
        const double total = seconds_since(t) * 1000;
        auto t2 = Stopwatch::now();
        auto actual = (*kernel)->dump_routes(kDefaultRouteProtocol).value();
        const double dump = seconds_since(t2) * 1000;
        std::vector<Route> stamped = routes;
        for (auto& r : stamped) r.protocol = kDefaultRouteProtocol;
        t2 = Stopwatch::now();
        auto diff = diff_routes(stamped, actual);
        const double d = seconds_since(t2) * 1000;
        std::printf("noop %.1fms (dump %.1fms, diff %.1fms)\n", total, dump, d);
      }
      return 0;
    }
    std::vector<double> ours_add, ref_add, ours_del, ref_del, ours_noop;
    for (int run = 0; run < runs; ++run) {
      auto t = Stopwatch::now();
      test::must(ns.ip("-batch " + add_file));
      ref_add.push_back(seconds_since(t));
      if (count_ours() != n) fail("ip -batch did not install every route");
      t = Stopwatch::now();
      test::must(ns.ip("-batch " + del_file));
      ref_del.push_back(seconds_since(t));
      if (count_ours() != 0) fail("ip -batch did not remove every route");

      t = Stopwatch::now();
      auto installed = programmer.reconcile(desired);
      ours_add.push_back(seconds_since(t));
      if (!installed || installed->routes.added != n || count_ours() != n)
        fail("the programmer did not install every route");
      t = Stopwatch::now();
      auto noop = programmer.reconcile(desired);
      ours_noop.push_back(seconds_since(t));
      if (!noop || noop->routes.unchanged != n) fail("the no-change reconcile changed something");
      t = Stopwatch::now();
      auto removed = programmer.cleanup();
      ours_del.push_back(seconds_since(t));
      if (!removed || removed->routes.removed != n || count_ours() != 0)
        fail("the programmer did not remove every route");
    }
    std::remove(add_file.c_str());
    std::remove(del_file.c_str());

    const std::string k = std::to_string(n / 1000) + "k";
    std::printf("BENCH netlink_install_%s ours=%.3fs ref=%.3fs ratio=%.2f\n", k.c_str(),
                median(ours_add), median(ref_add), median(ours_add) / median(ref_add));
    std::printf("BENCH netlink_remove_%s ours=%.3fs ref=%.3fs ratio=%.2f\n", k.c_str(),
                median(ours_del), median(ref_del), median(ours_del) / median(ref_del));
    std::printf("BENCH netlink_noop_reconcile_%s ours=%.1fms\n", k.c_str(), median(ours_noop) * 1000);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  return 0;
}
