#!/usr/bin/env bash
# Runs every module's benchmarks (tests/bench/<module>/run.sh BUILD_DIR) and prints their
# `BENCH name ours=... ref=... ratio=...` lines (latencies: `BENCH name p50_ms=... p99_ms=...`
# with the reference's beside them). A benchmark that fails is reported, and fails the run: a
# broken benchmark is a broken tool.
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*/run.sh; do
  [ -e "$script" ] || continue
  echo "== benchmarks: $(basename "$(dirname "$script")")"
  if ! bash "$script" "$build"; then
    echo "benchmark script failed: $script" >&2
    status=1
  fi
done
exit $status
