#!/usr/bin/env bash
# The agent as a user feels it (needs root: network namespaces): an idle agent's CPU beside
# BIRD's. Usage: tests/bench/agent/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "agent bench: needs root (network namespaces)" >&2; exit 1; }
bash "$here/idle_cpu.sh" "$build" 20
