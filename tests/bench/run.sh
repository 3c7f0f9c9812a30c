#!/usr/bin/env bash
# Runs every module's benchmarks (tests/bench/<module>/run.sh BUILD_DIR) and prints their
# `BENCH name ours=... ref=... ratio=...` lines (latencies: `BENCH name p50_ms=... p99_ms=...`
# with the reference's beside them). A benchmark that fails is reported, and fails the run: a
# broken benchmark is a broken tool.
# With --report DIR (on demand; CI prints the lines only) it also keeps the lines and the raw
# latency samples in DIR and writes DIR/README.md with plots (report.py, python3-matplotlib).
# Usage: tests/bench/run.sh [--report DIR] [BUILD_DIR]
set -uo pipefail
report=
if [ "${1:-}" = --report ]; then
  report=${2:?usage: run.sh [--report DIR] [BUILD_DIR]}
  shift 2
  mkdir -p "$report/samples" || exit 1
  report=$(cd "$report" && pwd)
  export BLOCKD_BENCH_SAMPLES="$report/samples"
  : >"$report/bench.txt"
fi
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*/run.sh; do
  [ -e "$script" ] || continue
  echo "== benchmarks: $(basename "$(dirname "$script")") (at $SECONDS s)"
  if [ -n "$report" ]; then
    bash "$script" "$build" | tee -a "$report/bench.txt"
    rc=${PIPESTATUS[0]}
  else
    bash "$script" "$build"
    rc=$?
  fi
  if [ "$rc" != 0 ]; then
    echo "benchmark script failed: $script" >&2
    status=1
  fi
done
if [ -n "$report" ]; then
  /usr/bin/python3 "$here/report.py" "$report" || status=1
fi
exit $status
