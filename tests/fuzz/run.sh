#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each module's fuzz script
# (tests/fuzz/<module>/run.sh BUILD_DIR) for its bounded time. The modules fuzz at the same time
# (each fuzzer is one process), so a run takes about the longest module's time on two cores;
# each module's output is printed whole when it ends, and any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ls tests/fuzz/*/run.sh >/dev/null 2>&1 || exit 0
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBLOCKD_FUZZ=ON -DBLOCKD_BENCH=OFF -DBLOCKD_WERROR=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzzers
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A pids
for script in tests/fuzz/*/run.sh; do
  module=$(basename "$(dirname "$script")")
  bash "$script" build-fuzz >"$out/$module" 2>&1 &
  pids[$module]=$!
done
status=0
for module in "${!pids[@]}"; do
  rc=0
  wait "${pids[$module]}" || rc=$?
  echo "== fuzz module $module (exit $rc)"
  cat "$out/$module"
  [ "$rc" = 0 ] || status=1
done
exit $status
