#!/usr/bin/env bash
# Runs the BFD Control packet fuzzer for 30 s, seeded with one packet per state (seeds/).
set -euo pipefail
build=$(realpath "${1:-build-fuzz}")
here=$(cd "$(dirname "$0")" && pwd)
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp "$here"/seeds/*.bin "$corpus"/
"$build/tests/fuzz/bfd/bfd_packet_fuzzer" -max_total_time="${BFD_FUZZ_SECONDS:-30}" -max_len=64 \
  -timeout=10 -print_final_stats=1 "$corpus" 2>&1 | tail -n 20
