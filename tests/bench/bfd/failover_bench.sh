#!/usr/bin/env bash
# Failover time (issue 18): from the moment a node's uplink starts dropping everything (nftables
# in the node's namespace, link left up) to the moment the ToR's kernel no longer routes the
# node's block to it. The ToR is FRR 8.4 (zebra, bfdd, bgpd), the node blockd; one lab per
# setting, each failed BFD_BENCH_ROUNDS times (default 10):
#   bfd 100 ms x 3 and bfd 300 ms x 3 (hold time 30 s), against
#   no BFD with the most aggressive hold time FRR accepts (3 s; keepalive 1 s), the reference.
# Also BFD's own cost: blockd's CPU time over BFD_BENCH_CPU_SECONDS (default 20) with its session
# at 100 ms x 3, against the same without BFD (1 peer; user + system time from /proc).
# Prints `BENCH failover_<setting>_vs_hold3s ours=MEDIAN ref=MEDIAN ratio=... ours_max=... ref_max=...`.
# Timing on a shared machine is noisy; the route is polled every few milliseconds.
# Usage: failover_bench.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: failover_bench.sh BUILD_DIR}")
blockd_bin="$build/agent/blockd"
blockctl_bin="$build/agent/blockctl"
rounds=${BFD_BENCH_ROUNDS:-10}
. "$(dirname "$0")/../../integration/bfd/lib.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
tor_routes_block() { ip -n "$TOR" route show "$1" | grep -q "via 10.78.0.2"; }
# The node's block as the ToR's kernel has it from BGP (the allocator picks which /26).
node_block() { ip -n "$TOR" route show proto bgp | awk '/^192\.168\.0\..* via 10\.78\.0\.2/ {print $1; exit}'; }
# cpu_ms PID SECONDS: the CPU time (user + system, ms) PID uses over SECONDS.
cpu_ms() {
  local tick before after
  tick=$(getconf CLK_TCK)
  before=$(awk '{print $14 + $15}' "/proc/$1/stat")
  sleep "$2"
  after=$(awk '{print $14 + $15}' "/proc/$1/stat")
  echo $(((after - before) * 1000 / tick))
}
has_node_block() { [ -n "$(node_block)" ]; }
results=$(mktemp -d "/tmp/${BASE_P}results.XXXX")
trap 'rm -rf "$results"; on_exit' EXIT INT TERM

# measure SETTING: fails the node `rounds` times; the failover times (ms) go to $results/SETTING.
measure() {
  local setting=$1 frr_peer blockd_peer hold
  case $setting in
    bfd100) frr_peer=" neighbor 10.78.0.2 timers 10 30
 neighbor 10.78.0.2 bfd
 neighbor 10.78.0.2 bfd profile bench"
            blockd_peer="bfd: {receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3}"; hold=30 ;;
    bfd300) frr_peer=" neighbor 10.78.0.2 timers 10 30
 neighbor 10.78.0.2 bfd
 neighbor 10.78.0.2 bfd profile bench"
            blockd_peer="bfd: {receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3}"; hold=30 ;;
    hold3) frr_peer=" neighbor 10.78.0.2 timers 1 3"; blockd_peer="port: 179"; hold=3 ;;
  esac
  local interval=${setting#bfd}
  [ "$setting" = hold3 ] && interval=300
  next_lab_names
  lab_links
  start_frr "frr defaults datacenter
hostname ${P}tor
bfd
 profile bench
  receive-interval $interval
  transmit-interval $interval
  detect-multiplier 3
 !
!
router bgp 65001
 bgp router-id 10.78.0.1
 no bgp ebgp-requires-policy
 neighbor 10.78.0.2 remote-as 65002
$frr_peer
!" >&2
  "$blockctl_bin" --datastore "$STORE" create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: bench}
spec: {cidr: 192.168.0.0/24, nodeSelector: all()}
YAML
  start_blockd "$blockd_bin" "node: {name: ${P}-node, address: 10.78.0.2/24, asNumber: 65002}
datastore: $STORE
bgp:
  holdTime: $hold
  peers: [{address: 10.78.0.1, asNumber: 65001, $blockd_peer}]
dataplane: {programKernel: false}
control: {socket: $WORK/blockd.sock, metrics: \"\"}
log: {level: warning}" >&2
  BLOCKD_PID=${PIDS[-1]}
  wait_for 20 "the node registered" "$blockctl_bin" --datastore "$STORE" get node "${P}-node" >&2
  "$blockctl_bin" --datastore "$STORE" ipam allocate --node "${P}-node" --handle bench-1 >/dev/null
  wait_for "${BFD_BENCH_WAIT:-120}" "$setting: the ToR has the node's block" has_node_block >&2
  local block
  block=$(node_block)
  sleep 3  # past start-up (registration, first replans)
  cpu_ms "$BLOCKD_PID" "${BFD_BENCH_CPU_SECONDS:-20}" >"$results/$setting.cpu"
  for i in $(seq 1 "$rounds"); do
    wait_for "${BFD_BENCH_WAIT:-120}" "$setting round $i: the ToR routes $block to the node" tor_routes_block "$block" >&2
    sleep 1  # BFD past its poll sequence, at its negotiated rate
    local t0 t1
    t0=$(now_ms)
    silence "$NODE" "${P}b"
    while tor_routes_block "$block"; do
      [ $(($(now_ms) - t0)) -gt 60000 ] && fail "$setting round $i: the ToR still routes $block after 60 s"
    done
    t1=$(now_ms)
    echo $((t1 - t0)) >>"$results/$setting"
    unsilence "$NODE"
  done
  lab_teardown
}

stats() {  # numbers on stdin: "median max"
  sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m / 1000, v[NR] / 1000}'
}

declare -A median max
for setting in hold3 bfd300 bfd100; do
  measure "$setting"
  echo "failover $setting (ms): $(echo $(cat "$results/$setting"))"
  read -r median[$setting] max[$setting] < <(stats <"$results/$setting")
done
for setting in bfd300 bfd100; do
  name=${setting/bfd/bfd_}x3
  awk -v n="$name" -v o="${median[$setting]}" -v r="${median[hold3]}" -v om="${max[$setting]}" -v rm="${max[hold3]}" -v k="$rounds" \
    'BEGIN {printf "BENCH failover_%s_vs_hold3s ours=%.3fs ref=%.3fs ratio=%.2f ours_max=%.3fs ref_max=%.3fs rounds=%d\n", n, o, r, o / r, om, rm, k}'
done
ours_cpu=$(cat "$results/bfd100.cpu")
ref_cpu=$(cat "$results/hold3.cpu")
echo "BENCH bfd_cpu_100x3_vs_no_bfd ours=${ours_cpu}ms ref=${ref_cpu}ms over=${BFD_BENCH_CPU_SECONDS:-20}s"
