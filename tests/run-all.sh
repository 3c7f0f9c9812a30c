#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine as root:
#   1. install dependencies from Debian's archive
#   2. build with ASan+UBSan and run the unit tests
#   3. build the programs as a packager would (Release, no tests)
#   4. build optimized and run every other test (integration with the Debian package, e2e; the
#      unit tests ran in step 2)
#   5. run the fuzz targets for their bounded time
#   6. run the benchmarks and print their BENCH lines
# Every build treats warnings as errors (BLOCKD_WERROR).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step prints how long it took, so a slow CI run shows where the time went.
started=$SECONDS
step() { echo "== run-all: $1 (at $((SECONDS - started)) s)"; }
step "install dependencies"
bash tests/install-deps.sh
jobs=$(nproc)
# Line tables only (-g1) in CI's builds: sanitizer reports and backtraces keep their file:line,
# and a compile takes about half the time of full -g (agent/control_api.cpp: 52 s against 112 s).
debug_info=-g1

step "ASan+UBSan build and unit tests"

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="$debug_info" -DBLOCKD_WERROR=ON -DBLOCKD_SANITIZE=ON -DBLOCKD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j "$jobs"

# A packager's build: Release, the programs alone (no GoogleTest). clang++, as it needs about a
# third less CPU than g++ at -O3 (ipam/allocator.cpp: 8.1 s against 11.7 s), and the other
# builds are g++ (and clang for the fuzz targets alone).
step "clang Release build"
CXX=clang++ cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBLOCKD_WERROR=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release -j "$jobs"

step "RelWithDebInfo build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $debug_info -DNDEBUG" -DBLOCKD_WERROR=ON -DBLOCKD_UNIT_TESTS=OFF >/dev/null
cmake --build build -j "$jobs"
step "fuzz targets"
bash tests/fuzz/run.sh
step "benchmarks"
# Benchmarks measure; they do not pass or fail the suite. A broken one is reported loudly.
# Fewer failover rounds and shorter CPU windows than the scripts' defaults keep CI short (the
# failover rounds wait for each session to come back); the report runs use the defaults.
BFD_BENCH_ROUNDS=5 BFD_BENCH_CPU_SECONDS=10 DUAL_TOR_CPU_SECONDS=10 \
  bash tests/bench/run.sh build || echo "WARNING: a benchmark script failed (see above)" >&2
step "every test"
# Two at a time; the labs and the tests that time a few hundred ms run alone (RUN_SERIAL).
ctest --test-dir build --output-on-failure -j "$jobs"
step "done"
