#!/usr/bin/env bash
# The reference tutorial as a lab (examples/rack-tutorial/rack-tutorial.clab.yml, deployed with
# tests/lab/clab-netns in network namespaces or, with --runtime docker, in containers from the
# lab image; the same assertions under both): a BIRD 2 router, an etcd node (the datastore),
# two racks of two blockd nodes, the tutorial's pools, labels and five workloads made through
# CNI (ptp + blockd-ipam). Asserts:
#   1. every workload address lies in its rack's pool (rack 0: 192.168.0.0/24, rack 1: .1.0/24);
#   2. the router's table holds exactly one route per affine block plus one /32 per borrowed
#      address, each with the owning (borrowing) node as next hop (two sibling blocks of one
#      node may go as their aggregate; expected routes derived from
#      the store's blocks and workloads): for the tutorial's five workloads, then after a
#      kube-node-3 workload had to borrow from kube-node-2's block (rack-1's pool filled);
#   3. a TCP connection from a rack-0 workload reaches a rack-1 workload and back;
#   4. a node's blockd killed with kill -9: the router keeps its block (graceful restart) and
#      traffic to it still flows; a new blockd brings the session and the same routes back;
#   5. the router restarted: all four sessions and every route come back, traffic flows;
#   6. rack-0's selector changed, kube-node-1 deleted, rack-1-ippool deleted with workloads in
#      it: blocks in use stay routed, emptied ones are withdrawn, ipam check clean at every step.
# This kernel has no ipip module: the lab's nodes set dataplane.ipipDevice to their uplink, so
# blockd's IPIP-mode routes (`via <node> dev eth1 onlink`) are real routes, unencapsulated; the
# router answers ARP for the other rack's nodes (proxy_arp) and installs its BGP routes in its
# kernel, so cross-rack pod traffic goes node -> router -> node as it would after decapsulation.
# Needs root. Usage: rack_tutorial.sh BUILD_DIR [--runtime netns|docker]
set -euo pipefail
build=$(cd "${1:?usage: rack_tutorial.sh BUILD_DIR [--runtime netns|docker]}" && pwd)
. "$(dirname "$0")/../lib.sh"
lab_test_start rack-tutorial tutorial.sh rt "$build" "${@:2}"

clab deploy --runtime "$lab_runtime"
wait_sessions 60 || fail "BGP sessions"
echo "ok: four BGP sessions Established at the router"
tutorial_steps

node_ip() { case $1 in kube-node-0) echo 10.0.0.10 ;; kube-node-1) echo 10.0.0.11 ;; kube-node-2) echo 10.0.1.10 ;; kube-node-3) echo 10.0.1.11 ;; esac; }

# 1. Addresses by rack.
expect_addresses_by_rack

# 2. The router's table against the store: one route per affine block, one /32 per borrowed
# address, next hop the node. Expected routes come from the store (blocks and their affinity,
# workloads and their block); actual ones from BIRD's table.
expected_routes() {
  blockctl get workloads -o json | python3 -c '
import json, sys
nodes = {"kube-node-0": "10.0.0.10", "kube-node-1": "10.0.0.11", "kube-node-2": "10.0.1.10", "kube-node-3": "10.0.1.11"}
import ipaddress
routes, blocks = set(), {}
for w in json.load(sys.stdin):
    if w["borrowed"]:
        routes.add(w["address"] + "/32 " + nodes[w["node"]])
    else:
        blocks.setdefault(w["node"], set()).add(ipaddress.ip_network(w["block"]))
# Adjacent blocks of one node may be advertised as their aggregate.
for node, nets in blocks.items():
    routes.update(f"{n} {nodes[node]}" for n in ipaddress.collapse_addresses(nets))
print("\n".join(sorted(routes)))'
}
router_routes() {
  birdc show route all 2>/dev/null | awk '/^[0-9]/{pfx=$1} /BGP.next_hop/{print pfx, $2}' | grep '^192\.168\.' | sort || true
}
tor_route() { birdc show route all "$1" 2>/dev/null | awk '/BGP.next_hop/{print $2}'; }
# settle: BGP updates reach the router shortly after the store changes
wait_routes() {
  local deadline=$((SECONDS + 15))
  until [ "$(router_routes)" = "$(expected_routes)" ] || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
}
wait_routes
expect_eq "$(router_routes)" "$(expected_routes)" "router table: one route per affine block, next hop its node"
expect_eq "$(router_routes | wc -l)" 4 "four blocks for five workloads (two on kube-node-2 share one)"

# 2b. A borrowed address: fill kube-node-3's block and the rest of rack-1's pool with its own
# allocations, so its next workload must borrow from kube-node-2's block: one /32 more. Its
# block already holds a workload, its pods' gateway and its IPIP tunnel address: 61 + 128 free.
on kube-node-3 sh -c 'for k in $(seq 1 189); do
  blockctl --config /etc/blockd/blockd.yaml ipam allocate --node kube-node-3 --handle "filler-$k" >/dev/null || exit 1
done' || fail "189 allocations on kube-node-3"
borrowed=$(on kube-node-3 bash /etc/blockd/pod.sh add borrower)
echo "borrower (kube-node-3) got $borrowed"
expect_eq "$(pool_of "$borrowed" 192.168.1.0/26)" 192.168.1.0/26 "the borrower's address comes from kube-node-2's block"
wait_routes
expect_eq "$(router_routes)" "$(expected_routes)" "router table: blocks plus the borrowed /32, next hop the borrowing node"
expect_eq "$(router_routes | grep -c '/32 ')" 1 "one /32 at the router"
expect_eq "$(tor_route "$borrowed/32")" 10.0.1.11 "the borrowed /32's next hop is kube-node-3"

# 3. Pod to pod TCP across racks, both ways.
a=kube-node-0/nginx-5c7588df-prx4z b=kube-node-2/nginx-5c7588df-w7r7g
a_ip=$(pod_ip kube-node-0 nginx-5c7588df-prx4z) b_ip=$(pod_ip kube-node-2 nginx-5c7588df-w7r7g)
tcp_check "$a" "$b" "$b_ip" "$a_ip"
tcp_check "$b" "$a" "$a_ip" "$b_ip"

# 4. kill -9 of kube-node-3's blockd: its block stays at the router through graceful restart
# (BIRD keeps the routes as stale while the session is down), and comes back fresh after a new
# blockd reconnects.
session_down() { ! birdc show protocols kube_node_3 | grep -q Established; }
node_kill kube-node-3 9 blockd
wait_for 10 "the router sees kube-node-3's session go down" session_down
expect_eq "$(tor_route 192.168.1.64/26)" 10.0.1.11 "router keeps kube-node-3's block while its blockd is gone"
tcp_check "$a" kube-node-3/nginx-5c7588df-62lnf "$(pod_ip kube-node-3 nginx-5c7588df-62lnf)" "$a_ip"
on kube-node-3 sh /etc/blockd/start.sh
wait_sessions 30 || fail "kube-node-3 did not come back"
wait_routes
expect_eq "$(router_routes)" "$(expected_routes)" "router table after kube-node-3's blockd restarted"

# 5. The router restarts: all sessions re-establish and every route comes back.
node_kill router TERM bird
router_empty() { ! node_runs router bird; }
wait_for 10 "BIRD stopped" router_empty
on router bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl
wait_sessions 60 || fail "sessions after the router restart"
wait_routes
expect_eq "$(router_routes)" "$(expected_routes)" "router table after the router restarted"
tcp_check "$a" "$b" "$b_ip" "$a_ip"

route_summary
expect_eq "$(blockctl routes -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["routes"])')" \
  "$(router_routes | wc -l)" "blockctl routes counts the routes the router holds"

# 6. Pools and nodes change under running workloads (Calico's lifecycle), ipam check clean after
# each step, the router's table following the store.
check_clean() { blockctl ipam check >/tmp/ipam-check.$$ 2>&1 || { cat /tmp/ipam-check.$$; fail "ipam check: $1"; }; }
rack0_block=$(blockctl get workloads -o json | python3 -c 'import json,sys; print(next(w["block"] for w in json.load(sys.stdin) if w["node"] == "kube-node-1"))')
n1_ip=$(pod_ip kube-node-1 nginx-5c7588df-s7qw6)
# 6a. rack-0's selector no longer picks kube-node-1: its block holds a workload, so it stays
# (and stays routed); nothing is renumbered.
blockctl label nodes kube-node-1 drain=true
sed 's/nodeSelector: .*/nodeSelector: rack == "0" \&\& !has(drain)/' "$(dirname "$topo")/rack-0-ippool.yaml" |
  blockctl apply -f -
wait_routes
expect_eq "$(tor_route "$rack0_block")" 10.0.0.11 "a de-selected block in use stays at the router"
expect_eq "$(pod_ip kube-node-1 nginx-5c7588df-s7qw6)" "$n1_ip" "kube-node-1's workload keeps its address"
check_clean "after rack-0's selector changed"
# 6b. kube-node-1 deleted: refused while its workload holds an address, then --force releases
# it all; its block is withdrawn.
if blockctl delete node kube-node-1 >/tmp/ipam-check.$$ 2>&1; then fail "delete node with a workload was accepted"; fi
grep -q nginx-5c7588df-s7qw6 /tmp/ipam-check.$$ || fail "the refusal names the workload: $(cat /tmp/ipam-check.$$)"
blockctl delete node kube-node-1 --force
wait_routes
expect_eq "$(tor_route "$rack0_block")" "" "the deleted node's block is withdrawn from the router"
expect_eq "$(router_routes)" "$(expected_routes)" "router table after the node was deleted"
check_clean "after kube-node-1 was deleted"
# 6c. rack-1-ippool deleted while kube-node-2 and kube-node-3 run workloads in it: the blocks the
# fillers used are emptied first (kept affine, as Calico), then go with the pool; the blocks in
# use stay routed.
on kube-node-3 sh -c 'for k in $(seq 1 189); do
  blockctl --config /etc/blockd/blockd.yaml ipam release --handle "filler-$k" >/dev/null || exit 1
done' || fail "releasing the fillers"
blockctl delete ippool rack-1-ippool
wait_routes
expect_eq "$(router_routes)" "$(expected_routes)" "router table after rack-1-ippool was deleted: only blocks in use"
expect_eq "$(tor_route 192.168.1.0/26)" 10.0.1.10 "kube-node-2's block in use stays at the router"
expect_eq "$(tor_route 192.168.1.64/26)" 10.0.1.11 "kube-node-3's block in use stays at the router"
expect_eq "$(router_routes | grep -cE '^192\.168\.1\.(128|192)/')" 0 "the emptied blocks are withdrawn"
check_clean "after rack-1-ippool was deleted"
rm -f /tmp/ipam-check.$$
echo "PASS rack_tutorial ($lab_runtime)"
