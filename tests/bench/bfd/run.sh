#!/usr/bin/env bash
# BFD failover and CPU benchmark (about 3 minutes; needs root): see failover_bench.sh.
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/failover_bench.sh" "$build"
