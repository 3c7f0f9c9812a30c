#!/usr/bin/env bash
# BFD failover and CPU benchmarks (needs root): failover_bench.sh (about 3 minutes) and
# dual_tor_bench.sh (the dual-ToR lab: loss of a 1,000 pps stream, CPU; about 1.5 minutes).
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/failover_bench.sh" "$build"
bash "$here/dual_tor_bench.sh" "$build"
