#!/usr/bin/env bash
# BGP benchmarks (about a minute): UPDATE encode/decode rates and Adj-RIB-Out memory for
# 1,000,000 prefixes; then 100,000 prefixes to a BIRD 2 receiver from bgpspeak, BIRD 2 and
# GoBGP in one run (median of 3 rounds each; needs root for the namespaces).
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
"$build/tests/bench/bgp/bgp_codec_bench"
python3 "$here/announce_bench.py" "$build"
