#!/usr/bin/env bash
# Runs the BGP message decoder fuzzer for 60 s, seeded with the captured BIRD/FRR/GoBGP
# messages (tests/unit/bgp/fixtures). A crash or a re-encoding mismatch fails the run.
set -euo pipefail
build=$(realpath "${1:-build-fuzz}")
here=$(cd "$(dirname "$0")" && pwd)
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp "$here"/../../unit/bgp/fixtures/*.bin "$corpus"/
ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32} "$build/tests/fuzz/bgp/bgp_message_fuzzer" -max_total_time="${BGP_FUZZ_SECONDS:-60}" -max_len=65535 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 | tail -n 20
