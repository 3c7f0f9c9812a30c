#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each module's fuzz script
# (tests/fuzz/<module>/run.sh BUILD_DIR) for its bounded time.
set -euo pipefail
cd "$(dirname "$0")/../.."
ls tests/fuzz/*/run.sh >/dev/null 2>&1 || exit 0
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBLOCKD_FUZZ=ON -DBLOCKD_BENCH=OFF -DBLOCKD_WERROR=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzzers
for script in tests/fuzz/*/run.sh; do
  bash "$script" build-fuzz
done
