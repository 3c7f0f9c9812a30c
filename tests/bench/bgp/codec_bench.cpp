// UPDATE encode/decode rates and the memory of a 1,000,000-prefix Adj-RIB-Out.
// Prints BENCH lines (ARCHITECTURE.md, Interfaces) (no reference tool runs here: ours only).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include "bgp/rib.hpp"
#include "bgp/update_packer.hpp"

using namespace blockd::bgp;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU time this thread has used: what "on one core" means on a shared machine, where wall time
// also counts the time the core spent on other processes.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main() {
  constexpr std::uint32_t kPrefixes = 1'000'000;
  const long rss_before = rss_kb();

  // Adj-RIB-Out of 1,000,000 /26 blocks sharing one attribute set, as a node with many blocks.
  AttributeSets sets;
  PathAttributes attrs;
  attrs.origin = Origin::Igp;
  attrs.as_path = AsPath{{SegmentType::Sequence, {65002}}};
  attrs.next_hop = *Address::parse("10.0.0.2");
  attrs.communities = {(65002u << 16) | 100};
  const auto id = sets.intern(attrs);
  std::vector<OutRoute> desired;
  desired.reserve(kPrefixes);
  for (std::uint32_t i = 0; i < kPrefixes; ++i) {
    desired.push_back({Prefix::make(Address::v4(0x0a000000u + (i << 6)), 26), id});
  }
  AdjRibOut rib;
  auto t = Clock::now();
  RibDiff diff = rib.diff(desired);
  rib.apply(diff);
  const double diff_s = seconds_since(t);
  desired.clear();
  desired.shrink_to_fit();

  t = Clock::now();
  const auto messages = pack_updates(diff, sets, {});
  const double encode_s = seconds_since(t);
  std::size_t bytes = 0;
  for (const auto& m : messages) bytes += m.size();
  diff = RibDiff{};
  const long rss_rib = rss_kb() - rss_before;

  std::size_t decoded = 0;
  t = Clock::now();
  const double cpu_start = thread_cpu_seconds();
  constexpr int kRounds = 5;
  for (int r = 0; r < kRounds; ++r) {
    for (const auto& m : messages) {
      auto msg = decode(m, {});
      const ParsedUpdate p = parse_update(std::get<UpdateMessage>(*msg), {true, true});
      decoded += p.announced.size();
    }
  }
  const double decode_s = seconds_since(t) / kRounds;
  const double decode_cpu_s = (thread_cpu_seconds() - cpu_start) / kRounds;
  decoded /= kRounds;
  if (decoded != kPrefixes || rib.size() != kPrefixes) {
    std::fprintf(stderr, "bench: decoded %zu of %u prefixes\n", decoded, kPrefixes);
    return 1;
  }
  std::printf("BENCH bgp_adj_rib_out_diff_1M ours=%.3fs\n", diff_s);
  std::printf("BENCH bgp_update_encode ours=%.2fMprefix/s\n", kPrefixes / encode_s / 1e6);
  std::printf("BENCH bgp_update_encode_bytes ours=%.2fGbit/s\n", bytes * 8 / encode_s / 1e9);
  std::printf("BENCH bgp_update_decode ours=%.2fMprefix/s\n", kPrefixes / decode_s / 1e6);
  // Target (issue 20's name for it): decode at the line rate of a 10 Gbit/s link, on one core,
  // judged on the thread's CPU time (cpu_gbit_s); gbit_s is wall time, lower on a loaded host.
  const double gbit_s = bytes * 8 / decode_s / 1e9;
  const double cpu_gbit_s = bytes * 8 / decode_cpu_s / 1e9;
  std::printf("BENCH update_decode gbit_s=%.2f cpu_gbit_s=%.2f target=10 %s\n", gbit_s, cpu_gbit_s,
              cpu_gbit_s >= 10 ? "met" : "MISSED");
  std::printf("BENCH bgp_adj_rib_out_rss_1M ours=%.1fMB\n", rss_rib / 1024.0);
  std::printf("# %zu UPDATE messages, %zu octets, for %u prefixes\n", messages.size(), bytes, kPrefixes);
  return 0;
}
