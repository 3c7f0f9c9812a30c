// Allocations per second (memory and SQLite stores) and selector evaluations per second, with
// 1, 100 and 10,000 nodes. The nodes' blocks are claimed before timing starts, so the figure
// is the steady state: an allocation into the node's affine block (one transaction), with the
// oldest addresses released (untimed) so each block stays 30 to 60 addresses full.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "ipam/allocator.hpp"
#include "ipam/keys.hpp"
#include "ipam/store/memory_store.hpp"
#include "ipam/resources/selector.hpp"
#include "ipam/store/sqlite_store.hpp"

namespace blockd::ipam {
namespace {

std::vector<IPPool> bench_pools() {
  IPPool p;
  p.name = "bench";
  p.cidr = Prefix::parse("10.0.0.0/8").value();
  p.block_size = 26;
  return {p};
}

// One affine block per node, written directly (claiming is not what is measured).
void seed_blocks(Datastore& store, int nodes) {
  auto blocks = bench_pools()[0].cidr.blocks(26);
  for (int n = 0; n < nodes; ++n) {
    const std::string node = "node-" + std::to_string(n);
    AllocationBlock b(blocks.at(static_cast<uint128>(n)), node);
    (void)store.commit({{}, {Operation::put(keys::block(b.cidr()), b.to_json()),
                             Operation::put(keys::affinity(node, b.cidr()), "{}")}});
  }
}

void run_allocations(benchmark::State& state, Datastore& store) {
  const int nodes = static_cast<int>(state.range(0));
  seed_blocks(store, nodes);
  Allocator allocator(store);
  const auto pools = bench_pools();
  // Handles i - nodes * 60 + k are the oldest allocations: their release keeps each node's
  // block between 30 and 60 addresses used. Releases run in batches of 30 per node with the
  // timer paused once per batch: a pause per allocation cost two clock syscalls each, part of
  // them inside the timed region, and that is not what an allocation costs.
  std::int64_t i = 0, released = 0;
  for (auto _ : state) {
    if (i - released == static_cast<std::int64_t>(nodes) * 60) {
      state.PauseTiming();
      for (std::int64_t k = 0; k < static_cast<std::int64_t>(nodes) * 30; ++k, ++released) {
        auto r = allocator.release_handle("h" + std::to_string(released));
        if (!r) state.SkipWithError(r.error().message.c_str());
      }
      state.ResumeTiming();
    }
    const int n = static_cast<int>(i % nodes);
    auto r = allocator.allocate({"node-" + std::to_string(n), {}, pools}, {"h" + std::to_string(i), Family::V4, {}});
    if (!r) state.SkipWithError(r.error().message.c_str());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AllocateMemory(benchmark::State& state) {
  MemoryStore store;
  run_allocations(state, store);
}

void BM_AllocateSqlite(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / ("blockd-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = SqliteStore::open((dir / "bench.db").string());
    if (!store) {
      state.SkipWithError(store.error().message.c_str());
      return;
    }
    run_allocations(state, **store);
  }
  std::filesystem::remove_all(dir);
}

void BM_SelectorMatchNodes(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  std::vector<Labels> labels;
  for (int n = 0; n < nodes; ++n) {
    labels.push_back({{"rack", std::to_string(n % 40)}, {"zone", n % 2 ? "west" : "east"},
                      {"kubernetes.io/hostname", "node-" + std::to_string(n)}});
  }
  auto selector = Selector::parse("rack in {'0', '1', '2'} && zone == 'west' && has(kubernetes.io/hostname)").value();
  std::int64_t matched = 0;
  for (auto _ : state) {
    for (const auto& l : labels) matched += selector.matches(l);
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(state.iterations() * nodes);
}

BENCHMARK(BM_AllocateMemory)->Arg(1)->Arg(100)->Arg(10000)->MinTime(1.0)->UseRealTime();
BENCHMARK(BM_AllocateSqlite)->Arg(1)->Arg(100)->Arg(10000)->MinTime(1.0)->UseRealTime();
BENCHMARK(BM_SelectorMatchNodes)->Arg(1)->Arg(100)->Arg(10000)->MinTime(0.5);

}  // namespace
}  // namespace blockd::ipam

BENCHMARK_MAIN();
