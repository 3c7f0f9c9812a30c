#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine as root:
#   1. install dependencies from Debian's archive
#   2. build with ASan+UBSan (clang++) and run the unit tests
#   3. build optimized (g++) and run every other test (integration with the Debian package, e2e;
#      the unit tests ran in step 2)
#   4. run the fuzz targets (clang++) for their bounded time
#   5. run the benchmarks and print their BENCH lines
# Every build treats warnings as errors (BLOCKD_WERROR), so the whole tree, tests included, is
# checked by both compilers.
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
# clang++: its debug build needs less CPU than g++'s, and it puts the tree through the second
# compiler's warnings (a separate clang Release build used to, for about 4 more minutes).
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="$debug_info" -DBLOCKD_WERROR=ON -DBLOCKD_SANITIZE=ON -DBLOCKD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j "$jobs"

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
