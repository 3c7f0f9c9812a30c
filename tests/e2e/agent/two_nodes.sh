#!/usr/bin/env bash
# One ToR (BIRD 2) and two nodes in one subnet, each running blockd on a shared SQLite store;
# pods attached with Debian's real CNI ptp plugin and blockd-ipam. Asserts, in order:
#   1. the ToR's table holds exactly one /26 per affine block, next hop the owning node;
#   2. each node's kernel has its blackhole and a direct route to the other node's block;
#   3. a TCP connection from a pod on node 1 reaches a pod on node 2;
#   4. a borrowed address (pool full) is advertised as a /32 by the borrowing node;
#   5. blockd restarted with SIGTERM: the ToR keeps the routes (graceful restart) and the
#      pod-to-pod connection keeps working; the session comes back;
#   6. releasing the workloads (CNI DEL) withdraws the routes at the ToR and in the kernels.
# Needs root. Usage: two_nodes.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: two_nodes.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../lib.sh"

p=bd$$
# Underlay: a bridge in the ToR namespace, each node's eth0 on it.
agent_test_setup $p tor n1 n2 p1 p2 p3
agent_bridge tor n1 n2
ip -n "$p-tor" addr add 10.0.0.1/24 dev br0

cat >"$work/bird.conf" <<BIRD
router id 10.0.0.1;
protocol device {}
template bgp node {
  local 10.0.0.1 as 65001;
  graceful restart on;
  ipv4 { import all; export none; };
}
protocol bgp n1 from node { neighbor 10.0.0.11 as 65002; }
protocol bgp n2 from node { neighbor 10.0.0.12 as 65002; }
BIRD
ip netns exec "$p-tor" bird -c "$work/bird.conf" -s "$work/bird.ctl" -P "$work/bird.pid"
pids+=("$(cat "$work/bird.pid")")
birdc() { command birdc -s "$work/bird.ctl" "$@"; }

store="sqlite://$work/store.db"
"$build/agent/blockctl" --datastore "$store" create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: rack-0-ippool
spec:
  cidr: 192.168.0.0/25
  natOutgoing: true
  nodeSelector: rack == "0"
YAML

start_blockd() {
  local n=$1 addr=$2
  cat >"$work/$n.yaml" <<CONF
node: {name: $n, labels: {rack: "0"}, address: $addr/24, asNumber: 65002}
datastore: $store
bgp:
  listenPort: 179
  peers: [{address: 10.0.0.1, asNumber: 65001}]
  gracefulRestart: {restartTime: 120}
dataplane: {uplink: eth0, routeProtocol: 200}
control: {socket: $work/$n.sock, metrics: 127.0.0.1:9095}
log: {level: debug}
CONF
  agent_start_blockd "$n"
}
start_blockd n1 10.0.0.11
start_blockd n2 10.0.0.12
wait_for 20 "BGP n1 and n2 Established at the ToR" \
  bash -c "command birdc -s $work/bird.ctl show protocols | grep -E '^n1 .*Established' && command birdc -s $work/bird.ctl show protocols | grep -E '^n2 .*Established'"

cni_add() {  # cni_add NODE POD: ADD, failing with the plugin's error JSON
  local out
  out=$(agent_cni "$1" "$2" ADD) || fail "CNI ADD of $2 on $1: $out"
  echo "$out" >"$work/$2.json"
}

cni_add n1 p1
cni_add n2 p2
ip1=$(agent_pod_ip p1); ip2=$(agent_pod_ip p2)
echo "pods: p1=$ip1 (n1) p2=$ip2 (n2)"
# The first address of each node's block; the second is the node's pod gateway (ptp needs one
# on-link: blockd reserves an address per node and pool and reports pods with the pool's length).
[ "$ip1" = 192.168.0.0 ] || fail "p1 got $ip1, expected the first address of the first block"
[ "$ip2" = 192.168.0.64 ] || fail "p2 got $ip2, expected the first address of the second block"
# The agent reports the pool's length (its pods' gateway lies in the pool) and blockd-ipam keeps it.
expect_eq "$(ip -n "$p-p1" -4 -o addr show dev eth0 | awk '{print $4}')" "192.168.0.0/25" "p1's address carries its pool's length"
expect_eq "$(ip -n "$p-p1" route show default)" "default via 192.168.0.1 dev eth0 " "p1's default route via its node's gateway"

tor_routes() { birdc show route all 2>/dev/null | awk '/^[0-9]/{pfx=$1} /BGP.next_hop/{print pfx, $2}' | sort; }
wait_for 10 "ToR has one /26 per node's block" bash -c "
  [ \"\$(command birdc -s $work/bird.ctl show route | grep -c '/26')\" = 2 ]"
expect_eq "$(tor_routes)" "192.168.0.0/26 10.0.0.11
192.168.0.64/26 10.0.0.12" "ToR BGP table"

kernel_routes() { ip -n "$p-$1" route show proto 200 | sed 's/ *$//' | sort; }
expect_eq "$(kernel_routes n1)" "192.168.0.64/26 via 10.0.0.12 dev eth0
blackhole 192.168.0.0/26" "n1 kernel routes (proto 200)"
expect_eq "$(kernel_routes n2)" "192.168.0.0/26 via 10.0.0.11 dev eth0
blackhole 192.168.0.64/26" "n2 kernel routes (proto 200)"

tcp_check() {  # tcp_check FROM_POD TO_IP: a TCP connection and a greeting across nodes
  local port=$((20000 + RANDOM % 20000))
  ip netns exec "$p-p2" python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $port)); s.listen(1); s.settimeout(10)
c, a = s.accept(); c.sendall(('hello ' + a[0]).encode()); c.close()" &
  local server=$!
  sleep 0.3
  local got
  got=$(ip netns exec "$p-$1" python3 -c "
import socket
s = socket.create_connection(('$2', $port), timeout=5); print(s.recv(100).decode())") || true
  wait $server || true
  expect_eq "$got" "hello $ip1" "TCP from $1 to $2"
}
tcp_check p1 "$ip2"

# natOutgoing: the pool is in both sets of n1's nftables table.
nat_sets=$(ip netns exec "$p-n1" nft list table inet blockd)
grep -A3 'set nat_pools_v4' <<<"$nat_sets" | grep -q '192.168.0.0/25' || fail "n1's nat_pools_v4 lacks the pool: $nat_sets"
grep -A3 'set all_pools_v4' <<<"$nat_sets" | grep -q '192.168.0.0/25' || fail "n1's all_pools_v4 lacks the pool: $nat_sets"
echo "ok: natOutgoing table holds the pool"

# Fill the pool (2 blocks of 64) so a third node-2 workload must borrow from node 1's block
# (n2's block holds p2 and n2's gateway: 62 more fill it).
for k in $(seq 1 62); do "$build/agent/blockctl" --datastore "$store" ipam allocate --node n2 --handle "filler-$k" >/dev/null; done
cni_add n2 p3
ip3=$(agent_pod_ip p3)
echo "p3 (n2) borrowed $ip3 from n1's block"
wait_for 10 "ToR has the borrowed /32 from n2" bash -c "command birdc -s $work/bird.ctl show route all $ip3/32 | grep -q 'next_hop: 10.0.0.12'"
wait_for 10 "n1 routes the address it lent to n2" bash -c "ip -n $p-n1 route show proto 200 | grep -q '^$ip3 via 10.0.0.12'"

# Restart node 1's agent: routes stay in its kernel and, through graceful restart, at the ToR.
kill -TERM "$pid_n1"
wait "$pid_n1" || true
sleep 1
expect_eq "$(birdc show route 192.168.0.0/26 | grep -c 'via 10.0.0.11')" 1 "ToR keeps n1's block while n1 restarts"
tcp_check p1 "$ip2"
start_blockd n1 10.0.0.11
wait_for 20 "n1 Established again" bash -c "command birdc -s $work/bird.ctl show protocols | grep -E '^n1 .*Established'"
sleep 1
expect_eq "$(tor_routes | grep -c '/26')" 2 "ToR blocks after the restart"
tcp_check p1 "$ip2"

# Release everything: blocks go back to the pool and their routes are withdrawn.
for k in $(seq 1 62); do "$build/agent/blockctl" --datastore "$store" ipam release --handle "filler-$k" --release-empty-blocks >/dev/null; done
for pod in p1:n1 p2:n2 p3:n2; do agent_cni "${pod#*:}" "${pod%:*}" DEL; agent_cni "${pod#*:}" "${pod%:*}" DEL; done
wait_for 10 "ToR table empty" bash -c "[ -z \"\$(command birdc -s $work/bird.ctl show route | grep -E '^192|^ +via|/26|/32' || true)\" ]"
wait_for 10 "n1 kernel has no blockd route" bash -c "[ -z \"\$(ip -n $p-n1 route show proto 200)\" ]"
wait_for 10 "n2 kernel has no blockd route" bash -c "[ -z \"\$(ip -n $p-n2 route show proto 200)\" ]"
"$build/agent/blockctl" --datastore "$store" ipam check

# blockd --cleanup removes what blockd owns in the kernel: here its nftables table.
kill -TERM "$pid_n1"; wait "$pid_n1" || true
ip netns exec "$p-n1" "$build/agent/blockd" --config "$work/n1.yaml" --cleanup
if ip netns exec "$p-n1" nft list table inet blockd >/dev/null 2>&1; then fail "--cleanup left table inet blockd"; fi
echo "ok: --cleanup removed the natOutgoing table"
echo "PASS two_nodes"
