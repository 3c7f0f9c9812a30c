// A cluster of many nodes on one real etcd member (loopback), in one process: each node is the
// agent's real cluster view (agent::ClusterWatcher: list, then a watch of its own on its own
// connection, a new view on every change sharing what did not change) and the real allocator;
// no kernel, no BGP.
// Workloads are created at a steady rate, round robin over the nodes, so the first workload of
// each node claims a block. Measured:
//   - allocation latency (p50/p99/max) and etcd requests per allocation;
//   - from the start of the allocation that claims a node's block to the block in every view
//     (p50/p99/max over the blocks; a view that folds changes it already received counts);
//   - etcd's CPU (cores) and memory (RSS now and at peak), its watch events sent per second;
//   - this process's CPU for all the nodes' views together.
// Prints `BENCH etcd_<N>_nodes...` lines. Environment (defaults: what CI runs, about 30 s):
//   BLOCKD_SIM_NODES (100; the issue's: 1000), BLOCKD_SIM_WORKLOADS (300; the issue's: 10000),
//   BLOCKD_SIM_RATE (workloads per second, 50), BLOCKD_SIM_ALLOCATORS (concurrent, 16),
//   BLOCKD_BENCH_SAMPLES (a folder: raw latency samples, one file per figure, for the report).
// The run, on demand (about 10 minutes; tests/bench/ipam/run.sh with BLOCKD_BENCH_FULL=1):
//   BLOCKD_SIM_NODES=1000 BLOCKD_SIM_WORKLOADS=10000 BLOCKD_SIM_RATE=20
//     build/tests/bench/ipam/ipam_etcd_nodes_sim tests/bench/ipam/etcd_put_ref.py  (one line)
// A failed allocation stops the workloads; the figures are printed for those made (made=).
// Measured truths (2 cores; loaded, load average 25-48, where not said otherwise):
//   - A view change costs what changed: a new view shares the resources and every unchanged
//     block with the last (ipam/block_list.hpp). ClusterWatcher::assemble, which copied every
//     Node and block into each view (O(nodes^2) per allocation over 1,000 views, and 1,000 nodes
//     timed out 2.5 s into the workloads), is 0.4% of this process's samples now.
//   - The run (1,000 nodes, 10,000 workloads at 20/s) finishes on an idle machine (2
//     cores, nothing else running): all 10,000 made, 13/s achieved, allocation p50 1.24 s, p99
//     2.56 s, 1.30 requests each; claim to all views p50 54 s, p99 99 s; etcd 0.72 cores,
//     1.8 GB, 19k watch events/s; the views 1.11 cores. On a loaded machine (load 25-48) it did
//     not: a transaction timed out (5 s) after 3,020 allocations.
//   - What limits it: every view receives, parses and decodes every change itself (each
//     allocation is 2-3 watch events, tens of microseconds each per view here), 1,000 times over
//     in one process, so the views fall tens of seconds behind and etcd buffers for the slow
//     watches. perf: context switches of the 1,000 watch threads about 35%, malloc 20%, JSON 5%.
//   - Starting 1,000 views takes 50 s (22 CPU-s; idle: 26 s, 15.5 CPU-s): each lists and decodes
//     all 1,000 Nodes.
//   - The process holds every view's own decoded records: 2 GB at 1,000 nodes, growing with
//     nodes^2 (a thousand agents' memory in one process, not one agent's).
//   - 2,000 nodes (2,000 workloads at 20/s): the views start in 387 s (100 CPU-s, 4.5x 1,000's),
//     the process holds 6.4 GB, 1,403 allocations were made (2/s, p50 7.7 s, 6 requests each:
//     CAS retries while starved) before one timed out; etcd 0.7 cores, 690 MB, 10.7k events/s.
// At 100 nodes (CI) the views take 0.6 of a core (0.8 before the shared pieces).
// Usage: ipam_etcd_nodes_sim PATH/TO/etcd_put_ref.py
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/cluster_view.hpp"
#include "ipam/allocator.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/store/etcd_store.hpp"
#include "tests/integration/ipam/etcd_cluster.hpp"

using namespace blockd;
using namespace blockd::ipam;
using Clock = std::chrono::steady_clock;

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  const int n = std::atoi(v);
  if (n <= 0) throw std::runtime_error(std::string(name) + ": must be a positive number, not \"" + v + "\"");
  return n;
}

double ms_since(Clock::time_point origin, Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(t - origin).count();
}

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};

Percentiles percentiles(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))]; };
  return {at(0.50), at(0.99), v.back()};
}

void write_samples(const std::string& name, const std::vector<double>& v) {
  const char* dir = std::getenv("BLOCKD_BENCH_SAMPLES");
  if (dir == nullptr || *dir == '\0') return;
  std::ofstream out(std::string(dir) + "/" + name + ".txt");
  for (double x : v) out << x << '\n';
}

// One of etcd's counters (or the requests it served), through the reference script.
double etcd_metric(const std::string& script, const std::string& args) {
  const std::string cmd = "python3 " + script + " " + args;
  FILE* p = ::popen(cmd.c_str(), "r");
  double n = -1;
  if (p == nullptr || std::fscanf(p, "%lf", &n) != 1) n = -1;
  if (p) ::pclose(p);
  if (n < 0) throw std::runtime_error("cannot read etcd's metrics: " + cmd);
  return n;
}

// CPU seconds a process has used (utime + stime, /proc/PID/stat).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  std::vector<std::string> fields;
  std::string field;
  for (std::size_t i = close + 2; i <= stat.size(); ++i) {
    if (i == stat.size() || stat[i] == ' ') {
      fields.push_back(field);
      field.clear();
    } else {
      field += stat[i];
    }
  }
  // Fields after the name, from the state (field 3): utime is field 14, stime 15.
  return (std::stod(fields.at(11)) + std::stod(fields.at(12))) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// VmRSS or VmHWM of a process, in MB.
double memory_mb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(field + ":")) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  throw std::runtime_error("no " + field + " in /proc/" + std::to_string(pid) + "/status");
}

double own_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string node_name(int n) { return "sim-" + std::to_string(n); }

// "sim-N" -> N, or -1.
int node_index(const std::string& name) {
  if (!name.starts_with("sim-")) return -1;
  return std::atoi(name.c_str() + 4);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s etcd_put_ref.py\n", argv[0]);
    return 1;
  }
  const std::string script = argv[1];
  try {
    const int nodes = env_int("BLOCKD_SIM_NODES", 100);
    const int workloads = env_int("BLOCKD_SIM_WORKLOADS", 300);
    const int rate = env_int("BLOCKD_SIM_RATE", 50);
    const int allocators = env_int("BLOCKD_SIM_ALLOCATORS", 16);
    const std::string name = "etcd_" + std::to_string(nodes) + "_nodes";
    // A watch per node, each on its own connection: more descriptors than the default 1024.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < static_cast<rlim_t>(nodes) + 256) {
      throw std::runtime_error("needs " + std::to_string(nodes + 256) + " file descriptors, the limit is " +
                               std::to_string(files.rlim_cur));
    }

    testing::EtcdCluster etcd(1);
    const std::string endpoint = etcd.endpoint(0);
    auto store = EtcdStore::open(etcd.url()).value();

    IPPool pool;
    pool.name = "sim";
    pool.cidr = Prefix::parse("10.128.0.0/12").value();  // 16,384 blocks of /26
    pool.block_size = 26;
    ResourceStore resources(*store);
    if (!resources.write(pool, WriteMode::Create)) throw std::runtime_error("cannot create the pool");
    {
      // The nodes, written 8 at a time.
      std::atomic<int> next{0};
      std::atomic<bool> failed{false};
      std::vector<std::thread> writers;
      for (int w = 0; w < 8; ++w) {
        writers.emplace_back([&] {
          ResourceStore mine(*store);
          for (int n = next++; n < nodes; n = next++) {
            Node node;
            node.name = node_name(n);
            if (!mine.write(node, WriteMode::Create)) failed = true;
          }
        });
      }
      for (auto& t : writers) t.join();
      if (failed) throw std::runtime_error("cannot create the nodes");
    }

    // arrival[block's node][view]: ms after `origin` when that view first held the node's block.
    const auto origin = Clock::now();
    // (Written by each view's thread, read here while they run.) seen[view] is its thread's alone.
    std::vector<std::atomic<float>> arrival(static_cast<std::size_t>(nodes) * nodes);
    for (auto& a : arrival) a = -1;
    auto arrived = [&](int block, int view) -> std::atomic<float>& { return arrival[static_cast<std::size_t>(block) * nodes + view]; };
    std::vector<std::vector<char>> seen(nodes, std::vector<char>(nodes, 0));
    // The view each view's thread saw last: a new one is searched only where it differs (the
    // blocks put since), so measuring costs what changed, as the view itself does.
    std::vector<std::shared_ptr<const agent::ClusterView>> last(nodes);
    const BlockList none;
    std::atomic<long> rebuilds{0};
    std::vector<std::unique_ptr<agent::ClusterWatcher>> views;
    const double sim_cpu_start = own_cpu_seconds();
    const auto views_start = Clock::now();
    for (int v = 0; v < nodes; ++v) {
      views.push_back(std::make_unique<agent::ClusterWatcher>(*store, [&, v](std::shared_ptr<const agent::ClusterView> view) {
        ++rebuilds;
        const float now = static_cast<float>(ms_since(origin, Clock::now()));
        view->blocks.for_each_put_since(last[v] ? last[v]->blocks : none, [&](const AllocationBlock& b) {
          const int owner = node_index(b.affinity());
          if (owner < 0 || owner >= nodes || seen[v][owner]) return;
          seen[v][owner] = 1;
          arrived(owner, v) = now;
        });
        last[v] = std::move(view);
      }));
      if (auto started = views.back()->start(); !started) throw std::runtime_error("view " + std::to_string(v) + ": " + started.error().message);
    }
    const double views_start_s = std::chrono::duration<double>(Clock::now() - views_start).count();

    // The workloads, at a steady rate (open loop: workload i is due at start + i/rate).
    std::vector<std::unique_ptr<Allocator>> per_node;
    std::vector<std::unique_ptr<std::mutex>> node_locks;
    for (int n = 0; n < nodes; ++n) {
      per_node.push_back(std::make_unique<Allocator>(*store));
      node_locks.push_back(std::make_unique<std::mutex>());
    }
    std::vector<double> latency(workloads, -1);  // -1: not made (the run stopped at a failure)
    std::vector<double> claim_start(nodes, -1);  // ms after origin
    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    const double served_before = etcd_metric(script, "--served " + endpoint);
    const double events_before = etcd_metric(script, "--metric etcd_debugging_mvcc_events_total " + endpoint);
    const double etcd_cpu_before = cpu_seconds(etcd.pid(0));
    const double sim_cpu_before = own_cpu_seconds();
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int a = 0; a < allocators; ++a) {
      threads.emplace_back([&] {
        for (int i = next++; i < workloads && !failed; i = next++) {
          std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long long>(i * 1e6 / rate)));
          const int n = i % nodes;
          std::lock_guard lock(*node_locks[n]);
          const AllocationContext ctx{node_name(n), {}, {pool}};
          const auto t = Clock::now();
          auto r = per_node[n]->allocate(ctx, {"w" + std::to_string(i), Family::V4, {}});
          const double took = ms_since(t, Clock::now());
          if (!r) {
            std::fprintf(stderr, "allocation %d failed after %.0f ms: %s\n", i, took, r.error().message.c_str());
            failed = true;
            continue;
          }
          latency[i] = took;
          if (i < nodes) claim_start[n] = ms_since(origin, t);
        }
      });
    }
    for (auto& t : threads) t.join();
    // After a failure the figures are still printed, for what was made until then.
    std::erase_if(latency, [](double ms) { return ms < 0; });
    const int made = static_cast<int>(latency.size());
    const double alloc_s = std::chrono::duration<double>(Clock::now() - start).count();
    const double served = etcd_metric(script, "--served " + endpoint) - served_before;

    // Every claimed block into every view (at most 60 s more).
    const int claimed = std::min(nodes, workloads);  // (a block whose claim failed is not awaited)
    const auto all_deadline = Clock::now() + std::chrono::seconds(60);
    int missing = 0;
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      missing = 0;
      for (int b = 0; b < claimed; ++b) {
        for (int v = 0; v < nodes && claim_start[b] >= 0; ++v) missing += arrived(b, v) < 0;
      }
    } while (missing > 0 && Clock::now() < all_deadline);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double etcd_cores = (cpu_seconds(etcd.pid(0)) - etcd_cpu_before) / elapsed;
    const double sim_cores = (own_cpu_seconds() - sim_cpu_before) / elapsed;
    const double events = etcd_metric(script, "--metric etcd_debugging_mvcc_events_total " + endpoint) - events_before;
    const double rss = memory_mb(etcd.pid(0), "VmRSS"), peak = memory_mb(etcd.pid(0), "VmHWM");
    {
      // Each stop waits for its watch's next poll (up to 200 ms): 32 at a time, not all in turn.
      std::vector<std::thread> stoppers;
      for (int t = 0; t < 32; ++t) {
        stoppers.emplace_back([&, t] {
          for (std::size_t v = t; v < views.size(); v += 32) views[v]->stop();
        });
      }
      for (auto& t : stoppers) t.join();
    }

    std::vector<double> to_all, to_each;
    for (int b = 0; b < claimed; ++b) {
      if (claim_start[b] < 0) continue;
      double last = 0;
      for (int v = 0; v < nodes; ++v) {
        const float at = arrived(b, v);
        if (at < 0) continue;
        const double d = std::max(0.0, at - claim_start[b]);
        to_each.push_back(d);
        last = std::max(last, d);
      }
      to_all.push_back(last);
    }
    const auto al = percentiles(latency), all = percentiles(to_all), each = percentiles(to_each);
    write_samples(name + "_allocate", latency);
    write_samples(name + "_claim_to_all_views", to_all);
    std::printf("BENCH %s nodes=%d workloads=%d made=%d rate=%d/s achieved=%.0f/s allocators=%d views_started_s=%.1f\n",
                name.c_str(), nodes, workloads, made, rate, made / alloc_s, allocators, views_start_s);
    std::printf("BENCH %s_allocate p50_ms=%.1f p99_ms=%.1f max_ms=%.1f round_trips=%.2f\n", name.c_str(), al.p50, al.p99,
                al.max, served / std::max(made, 1));
    std::printf("BENCH %s_claim_to_all_views p50_ms=%.1f p99_ms=%.1f max_ms=%.1f blocks=%d missing_arrivals=%d\n",
                name.c_str(), all.p50, all.p99, all.max, claimed, missing);
    std::printf("BENCH %s_claim_to_one_view p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", name.c_str(), each.p50, each.p99,
                each.max);
    std::printf("BENCH %s_etcd cpu_cores=%.2f rss_mb=%.0f peak_rss_mb=%.0f watch_events_per_s=%.0f\n", name.c_str(),
                etcd_cores, rss, peak, events / elapsed);
    std::printf("BENCH %s_views cpu_cores=%.2f rebuilds=%ld start_cpu_s=%.1f\n", name.c_str(), sim_cores, rebuilds.load(),
                sim_cpu_before - sim_cpu_start);
    std::fflush(stdout);
    if (failed) {
      std::fprintf(stderr, "etcd nodes simulation: %d of %d allocations made, then one failed\n", made, workloads);
      return 1;
    }
    if (missing > 0) {
      std::fprintf(stderr, "etcd nodes simulation: %d block arrivals never came within 60 s\n", missing);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "etcd nodes simulation: %s\n", e.what());
    return 1;
  }
  return 0;
}
