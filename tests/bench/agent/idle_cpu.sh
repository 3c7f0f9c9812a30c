#!/usr/bin/env bash
# An idle agent's CPU: one blockd on an SQLite store nobody writes, with two established BGP
# sessions (a BIRD 2 ToR on each of two uplinks), measured from /proc/PID/stat (utime+stime) over
# SECONDS (default 20; the issue asks 60, 20 keeps CI short and still resolves 0.05% of a core).
# The two BIRDs' idle CPU over the same window is the reference. Needs root (namespaces).
# Usage: idle_cpu.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$(cd "${1:?usage: idle_cpu.sh BUILD_DIR [SECONDS]}" && pwd)
secs=${2:-20}
. "$(dirname "$0")/../../e2e/lib.sh"

p=bi$$
work=$(mktemp -d /tmp/blockd-idle.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || for ns in tor1 tor2 n1; do ip netns del "$p-$ns" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

for ns in tor1 tor2 n1; do ip netns add "$p-$ns"; ip -n "$p-$ns" link set lo up; done
bird_pids=()
for i in 1 2; do
  ip link add "$p-t$i" netns "$p-tor$i" type veth peer name "eth$((i - 1))" netns "$p-n1"
  ip -n "$p-tor$i" addr add "10.0.$i.1/24" dev "$p-t$i"
  ip -n "$p-tor$i" link set "$p-t$i" up
  ip -n "$p-n1" addr add "10.0.$i.11/24" dev "eth$((i - 1))"
  ip -n "$p-n1" link set "eth$((i - 1))" up
  cat >"$work/bird$i.conf" <<BIRD
router id 10.0.$i.1;
protocol device {}
protocol bgp node { local 10.0.$i.1 as 65001; neighbor 10.0.$i.11 as 65002; ipv4 { import all; export none; }; }
BIRD
  ip netns exec "$p-tor$i" bird -c "$work/bird$i.conf" -s "$work/bird$i.ctl" -P "$work/bird$i.pid"
  wait_for 5 "BIRD $i started" test -s "$work/bird$i.pid"
  bird_pids+=("$(cat "$work/bird$i.pid")")
  pids+=("${bird_pids[-1]}")
done
established() { for i in 1 2; do birdc -s "$work/bird$i.ctl" show protocols node | grep -q Established || return 1; done; }

store="sqlite://$work/store.db"
"$build/agent/blockctl" --datastore "$store" create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: idle-pool}
spec: {cidr: 192.168.0.0/24, nodeSelector: all()}
YAML
cat >"$work/n1.yaml" <<CONF
node: {name: n1, address: 10.0.1.11/24, asNumber: 65002}
datastore: $store
bgp:
  peers: [{address: 10.0.1.1, asNumber: 65001}, {address: 10.0.2.1, asNumber: 65001}]
dataplane: {uplink: eth0, routeProtocol: 200}
control: {socket: $work/n1.sock}
log: {level: info}
CONF
ip netns exec "$p-n1" "$build/agent/blockd" --config "$work/n1.yaml" >"$work/n1.log" 2>&1 &
blockd_pid=$!
pids+=("$blockd_pid")
wait_for 30 "both sessions Established" established
sleep 2  # start-up work done

ticks() { local t=0 pid; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo $t; }
b0=$(ticks "$blockd_pid"); r0=$(ticks "${bird_pids[@]}"); t0=$(date +%s.%N)
sleep "$secs"
b1=$(ticks "$blockd_pid"); r1=$(ticks "${bird_pids[@]}"); t1=$(date +%s.%N)
kill -0 "$blockd_pid" || fail "blockd died while idle: $(tail -5 "$work/n1.log")"
established || fail "a session dropped while idle"
hz=$(getconf CLK_TCK)
python3 - "$b0" "$b1" "$r0" "$r1" "$t0" "$t1" "$hz" <<'PY'
import sys
b0, b1, r0, r1 = map(int, sys.argv[1:5]); t0, t1 = map(float, sys.argv[5:7]); hz = int(sys.argv[7])
wall = t1 - t0
pct = lambda d: 100.0 * d / hz / wall
print(f"BENCH idle_cpu percent={pct(b1 - b0):.3f} ref_2_birds_percent={pct(r1 - r0):.3f} seconds={wall:.0f} "
      f"sessions=2 store=sqlite target=0.2% {'met' if pct(b1 - b0) < 0.2 else 'MISSED'}")
PY
