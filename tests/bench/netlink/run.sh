#!/usr/bin/env bash
# Benchmarks of the kernel route programmer against `ip -batch`, in a network namespace the
# program creates (needs root). Usage: tests/bench/netlink/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
bin="$build/tests/bench/netlink/netlink_bench"
[ -x "$bin" ] || { echo "netlink bench: $bin not built" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "netlink bench: needs root (network namespaces)" >&2; exit 1; }
exec "$bin" --routes 100000 --runs 5
