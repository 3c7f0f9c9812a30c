#!/usr/bin/env bash
# The route-reflector lab (examples/route-reflector/route-reflector.clab.yml, deployed with
# tests/lab/clab-netns in network namespaces): an FRR route reflector (AS 64512, also the racks'
# gateway), two racks of two blockd nodes whose files name no AS and no peer, an etcd node, and
# Calico's route-reflector recipe pasted unchanged (resources.yaml: no mesh, a Node for the
# reflector with routeReflectorClusterID, a BGPPeer by peerSelector). Asserts:
#   1. each node has exactly one BGP peer, rr at the rr Node's address, from the BGPPeer, in the
#      BGPConfiguration's AS; rr has its four clients Established;
#   2. rr's table holds every node's block, next hop the node; each node received the other
#      nodes' blocks from rr with their owner as next hop (reflected, RFC 4456);
#   3. TCP from a rack-0 workload reaches a rack-1 workload and back, through rr;
#   4. a node given a route-reflector label leaves rr's client set: the BGPPeer's nodeSelector
#      (!has(route-reflector)) no longer selects it and its session closes.
# Needs root. Usage: route_reflector.sh BUILD_DIR
set -euo pipefail
export PATH=/usr/bin:/usr/sbin:$PATH
build=$(cd "${1:?usage: route_reflector.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../lib.sh"
lab_test_start route-reflector steps.sh rr "$build" "${@:2}"

clab deploy --runtime "$lab_runtime"
reflector_steps
wait_sessions 90 || fail "BGP sessions"
echo "ok: rr has its four clients Established"

# 1. The peers come from the BGPPeer's peerSelector, the AS from the BGPConfiguration.
for n in 0 1 2 3; do
  expect_eq "$(on "kube-node-$n" blockctl node status --socket /run/blockd/blockd.sock | awk -F'|' '/10\./ {gsub(/ /, ""); print $2, $3, $6}')" \
    "10.0.0.1 nodespecific Established" "kube-node-$n peers with rr only, node specific (BGPPeer)"
done
tutorial_steps

# 2. Every block at rr, next hop its node; each node received the three others' from rr.
expected_blocks() {  # "PREFIX NODE_ADDRESS" per affine block, from the store
  blockctl get workloads -o json | /usr/bin/python3 -c '
import json, sys
addr = {"kube-node-0": "10.0.0.10", "kube-node-1": "10.0.0.11", "kube-node-2": "10.0.1.10", "kube-node-3": "10.0.1.11"}
print("\n".join(sorted({w["block"] + " " + addr[w["node"]] for w in json.load(sys.stdin) if not w["borrowed"]})))'
}
deadline=$((SECONDS + 30))
until [ "$(rr_routes)" = "$(expected_blocks)" ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
expect_eq "$(rr_routes)" "$(expected_blocks)" "rr holds every block, next hop its node"
expect_eq "$(expected_blocks | wc -l)" 4 "one block per node"
received() {  # received NODE: "PREFIX NEXTHOP PEER" it received, sorted
  on "$1" blockctl routes received --socket /run/blockd/blockd.sock -o json |
    /usr/bin/python3 -c 'import json,sys; print("\n".join(sorted(" ".join((r["prefix"], r["nextHop"], r["peer"])) for r in json.load(sys.stdin))))'
}
for n in 0 1 2 3; do
  me=$(on "kube-node-$n" sh -c "ip -4 -o addr show dev eth1 | awk '{print \$4}' | cut -d/ -f1")
  want=$(expected_blocks | awk -v me="$me" '$2 != me {print $0, "10.0.0.1"}')
  deadline=$((SECONDS + 15))
  until [ "$(received "kube-node-$n")" = "$want" ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
  expect_eq "$(received "kube-node-$n")" "$want" "kube-node-$n received the other blocks from rr, next hop their owner"
done

# 3. Across the racks, through rr.
a=kube-node-0/nginx-5c7588df-prx4z b=kube-node-2/nginx-5c7588df-w7r7g
a_ip=$(pod_ip kube-node-0 nginx-5c7588df-prx4z) b_ip=$(pod_ip kube-node-2 nginx-5c7588df-w7r7g)
tcp_check "$a" "$b" "$b_ip" "$a_ip"
tcp_check "$b" "$a" "$a_ip" "$b_ip"

# 4. Labels decide the sessions: the BGPPeer selects !has(route-reflector), so kube-node-3
#    with that label (whatever its value) is no longer a client.
blockctl label nodes kube-node-3 route-reflector=no >/dev/null
deadline=$((SECONDS + 30))
until [ "$(clients_established)" = 3 ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
expect_eq "$(clients_established)" 3 "rr has 3 clients once kube-node-3 has a route-reflector label"
echo "PASS route_reflector"
