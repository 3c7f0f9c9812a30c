#!/usr/bin/env bash
# The agent as a user feels it (needs root: network namespaces; about 1.5 minutes): an idle
# agent's CPU beside BIRD's (idle_cpu.sh, 20 s), and in the rack tutorial's topology the time from
# a CNI ADD that claims a block to its route in the ToR's kernel, and from the DEL that empties it
# to the route's removal (convergence.sh, 200 samples).
# Usage: tests/bench/agent/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "agent bench: needs root (network namespaces)" >&2; exit 1; }
bash "$here/idle_cpu.sh" "$build" 20 | grep '^BENCH'
bash "$here/convergence.sh" "$build" 200 | grep '^BENCH'
