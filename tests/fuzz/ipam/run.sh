#!/usr/bin/env bash
# Runs the ipam fuzz targets for a bounded time each (60 s in all), starting from the seeds.
# Usage: tests/fuzz/ipam/run.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts   # crashing inputs are kept here, to reproduce them
mkdir -p "$artifacts"
for target in selector_fuzz resources_yaml_fuzz; do
  seeds=$here/seeds/${target%_fuzz}
  mkdir -p "$work/$target"
  echo "== fuzz: $target (30 s)"
  "$build/tests/fuzz/ipam/$target" -max_total_time=30 -max_len=4096 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/ipam-" "$work/$target" "$seeds" 2>&1 | tail -n 12
done
