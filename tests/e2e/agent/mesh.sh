#!/usr/bin/env bash
# Node-to-node mesh, no ToR: four nodes on one bridge, each running blockd on a shared SQLite
# store, configured only by a BGPConfiguration (nodeToNodeMeshEnabled, asNumber, listenPort;
# the agents' files name no AS, port or peer). Pods attached with the real CNI ptp plugin and
# blockd-ipam. Asserts, in order:
#   1. three nodes mesh (2 iBGP sessions each, on the BGPConfiguration's port and AS); a fourth
#      joining gets a session with each of them;
#   2. each node receives the other three blocks over BGP and routes them in its kernel; a pod on
#      every node reaches the pods on all the others;
#   3. a change of the BGPConfiguration's asNumber restarts the sessions with the new AS;
#   4. a node leaving (agent stopped, `blockctl delete node --force`): the others close their
#      session with it and withdraw its block from their kernels; the rest still route.
# Needs root. Usage: mesh.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: mesh.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../lib.sh"

p=bm$$
nodes=(n1 n2 n3 n4)
agent_test_setup $p hub n1 n2 n3 n4 p1 p2 p3 p4
agent_bridge hub "${nodes[@]}"

store="sqlite://$work/store.db"
blockctl() { "$build/agent/blockctl" --datastore "$store" "$@"; }
mesh_config() {  # mesh_config ASN
  blockctl apply -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  nodeToNodeMeshEnabled: true
  asNumber: $1
  listenPort: 1790
  logSeverityScreen: Info
YAML
}
mesh_config 64600
blockctl create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pods
spec:
  cidr: 192.168.0.0/24
YAML

start_blockd() {  # start_blockd NODE: no asNumber, listenPort or peers: the BGPConfiguration's
  local n=$1 i=${1#n}
  cat >"$work/$n.yaml" <<CONF
node: {name: $n, address: 10.0.0.1$i/24}
datastore: $store
dataplane: {uplink: eth0, routeProtocol: 200}
control: {socket: $work/$n.sock, metrics: ""}
CONF
  agent_start_blockd "$n"
}
api() { curl -sf --unix-socket "$work/$1.sock" "http://blockd$2"; }
# mesh_peers NODE: its Established node-to-node mesh peers and their AS, one per line, sorted.
mesh_peers() {
  api "$1" /v1/peers | jq -r '.[] | select(.peerType == "node-to-node mesh" and .state == "Established")
    | "\(.address) \(.asNumber) \(.localAs)"' | sort
}
# meshed ASN NODE...: each NODE has an Established mesh session with each other NODE, in AS ASN.
meshed() {
  local as=$1 n m want; shift
  for n in "$@"; do
    want=""
    for m in "$@"; do [ "$m" = "$n" ] || want+="10.0.0.1${m#n} $as $as"$'\n'; done
    [ "$(mesh_peers "$n")" = "$(printf %s "$want" | sed '/^$/d')" ] || return 1
  done
}
expect_mesh() { wait_for 30 "${*:2} mesh with each other in AS $1" meshed "$@"; }

start_blockd n1; start_blockd n2; start_blockd n3
expect_mesh 64600 n1 n2 n3
listeners() { ip netns exec "$p-n1" ss -Hltn | awk '{print $4}' | grep -v '/' | sed 's/.*://' | sort -u | tr '\n' ' '; }
expect_eq "$(listeners)" "1790 " "n1 listens for BGP on the BGPConfiguration's port 1790 only"
expect_eq "$(api n1 /v1/status | jq -r .asNumber)" 64600 "n1's AS is the BGPConfiguration's"
start_blockd n4
expect_mesh 64600 n1 n2 n3 n4

declare -A ip_of
for n in "${nodes[@]}"; do
  pod=p${n#n}
  out=$(agent_cni "$n" "$pod" ADD) || fail "CNI ADD of $pod on $n: $out"
  ip_of[$pod]=$(agent_pod_ip "$pod")
done
echo "pods: ${ip_of[*]}"

# received NODE: the /26 blocks it received over BGP and their next hops, sorted.
received() { api "$1" /v1/routes/received | jq -r '.[] | select(.prefix | endswith("/26")) | "\(.prefix) \(.nextHop)"' | sort; }
kernel_via() { ip -n "$p-$1" route show proto 200 | grep -v blackhole | sed 's/ *$//' | sort; }
received_blocks() { [ "$(received "$1" | wc -l)" = "$2" ]; }
kernel_remote_routes() { [ "$(kernel_via "$1" | wc -l)" = "$2" ]; }
for n in "${nodes[@]}"; do
  wait_for 15 "$n received the 3 other nodes' blocks over BGP" received_blocks "$n" 3
  wait_for 15 "$n routes the 3 other blocks in its kernel" kernel_remote_routes "$n" 3
done
# Each block received from its owner (iBGP: next hop unchanged) is the block the kernel routes there.
for n in "${nodes[@]}"; do
  expect_eq "$(received "$n" | sed 's/$/ dev eth0/;s/ / via /')" "$(kernel_via "$n")" "$n's kernel routes are the blocks its mesh peers sent"
done

ping_all() {  # ping_all POD...: every pod reaches every other one
  local a b
  for a in "$@"; do
    for b in "$@"; do
      [ "$a" = "$b" ] && continue
      ip netns exec "$p-$a" ping -c1 -W3 -q "${ip_of[$b]}" >/dev/null || fail "$a cannot reach $b (${ip_of[$b]})"
    done
  done
  echo "ok: pods $* reach each other"
}
ping_all p1 p2 p3 p4

# The cluster's AS changes: every session restarts with it, on both sides.
mesh_config 64700
expect_mesh 64700 n1 n2 n3 n4
ping_all p1 p4

# n4 leaves: its agent stops and the operator removes its Node (and IPAM state).
n4_block=$(received n1 | awk '$2 == "10.0.0.14" {print $1}')
[ -n "$n4_block" ] || fail "n1 received no block from n4"
kill -TERM "$pid_n4"; wait "$pid_n4" || true
blockctl delete node n4 --force >/dev/null
expect_mesh 64700 n1 n2 n3
for n in n1 n2 n3; do
  wait_for 15 "$n no longer routes n4's block $n4_block" kernel_remote_routes "$n" 2
  expect_eq "$(kernel_via "$n" | grep -c "^$n4_block" || true)" 0 "$n has no route to n4's block"
  expect_eq "$(received "$n" | wc -l)" 2 "$n received 2 blocks after n4 left"
done
ping_all p1 p2 p3
echo "PASS mesh"
