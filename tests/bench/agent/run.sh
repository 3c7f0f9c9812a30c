#!/usr/bin/env bash
# The agent as a user feels it (needs root: network namespaces; about 2 minutes): an idle
# agent's CPU beside BIRD's (idle_cpu.sh, 20 s); in the rack tutorial's topology the time from a
# CNI ADD that claims a block to its route in the ToR's kernel, and from the DEL that empties it
# to the route's removal (convergence.sh, 200 samples); blockd-ipam's ADD/DEL latency beside
# host-local's (cni_add.sh, 200 of each plus 100 ADDs in a row and 8 at a time).
# BLOCKD_BENCH_FULL=1 takes the issue's sample counts instead (60 s idle, 1,000 CNI ADDs and
# DELs; about 6 minutes more); CI keeps the counts above.
# Usage: tests/bench/agent/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "agent bench: needs root (network namespaces)" >&2; exit 1; }
idle_s=20 cni_samples=200
if [ "${BLOCKD_BENCH_FULL:-0}" = 1 ]; then idle_s=60 cni_samples=1000; fi
bash "$here/idle_cpu.sh" "$build" "$idle_s" | grep '^BENCH'
bash "$here/convergence.sh" "$build" 200 | grep '^BENCH'
bash "$here/cni_add.sh" "$build" "$cni_samples" | grep '^BENCH'
