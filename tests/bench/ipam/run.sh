#!/usr/bin/env bash
# ipam benchmarks: allocations/s (memory, SQLite) and selector matches/s, as BENCH lines.
# There is no reference tool for these in the same run: the issue's targets are printed beside
# them (>= 20,000 allocations/s in memory, >= 2,000/s on SQLite).
set -euo pipefail
build=${1:-build}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$build/tests/bench/ipam/ipam_allocator_bench" --benchmark_format=json >"$out"
python3 - "$out" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for b in data["benchmarks"]:
    name = b["name"].replace("BM_", "").replace("/", "_").replace("_min_time:1.000", "").replace("_min_time:0.500", "")
    if b.get("error_occurred"):
        print(f"BENCH ipam_{name} error={b.get('error_message')}")
        sys.exit(1)
    rate = b.get("items_per_second", 0)
    target = ""
    if name.startswith("AllocateMemory"): target = " target=20000/s" + (" met" if rate >= 20000 else " MISSED")
    if name.startswith("AllocateSqlite"): target = " target=2000/s" + (" met" if rate >= 2000 else " MISSED")
    print(f"BENCH ipam_{name} ours={rate:.0f}/s{target}")
PY
# etcd: a real member on loopback, raw HTTP puts (etcd_put_ref.py) as the reference.
"$build/tests/bench/ipam/ipam_etcd_bench" "$(dirname "$0")/etcd_put_ref.py"
# Many nodes' cluster views and allocators on one etcd (etcd_nodes_sim.cpp): CI runs its default
# scale; BLOCKD_BENCH_FULL=1 the issue's 1,000 nodes and 10,000 workloads at 20/s (BLOCKD_SIM_* to
# choose; its header says what that run measured and where it stops).
if [ "${BLOCKD_BENCH_FULL:-0}" = 1 ]; then
  export BLOCKD_SIM_NODES=${BLOCKD_SIM_NODES:-1000} BLOCKD_SIM_WORKLOADS=${BLOCKD_SIM_WORKLOADS:-10000}
  export BLOCKD_SIM_RATE=${BLOCKD_SIM_RATE:-20}
fi
"$build/tests/bench/ipam/ipam_etcd_nodes_sim" "$(dirname "$0")/etcd_put_ref.py"
