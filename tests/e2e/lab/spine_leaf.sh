#!/usr/bin/env bash
# The spine-leaf lab (examples/spine-leaf/spine-leaf.clab.yml, deployed with tests/lab/clab-netns
# in network namespaces or, with --runtime docker, in containers): a BIRD 2 spine (AS 65000), one FRR ToR per rack (tor-0 AS 65010, tor-1 AS 65011) with
# `aggregate-address <rack pool> summary-only` toward the spine, two racks of two blockd nodes
# (AS 65002, 65003), an etcd node as their datastore, the tutorial's pools without encapsulation (ipipMode/vxlanMode Never) and
# five workloads made through CNI (ptp + blockd-ipam). Asserts:
#   1. every workload address lies in its rack's pool;
#   2. each ToR's table (routes FRR installed in its kernel) holds exactly one route per affine
#      block of its rack (adjacent blocks of one node may merge), next hop
#      the node, its own rack's aggregate (a blackhole: FRR installs what it originates) and the
#      other rack's aggregate via the spine;
#   3. the spine's table holds exactly one route per rack, the rack pool's aggregate with that
#      rack's ToR as next hop, and no /26 or /32 of workloads;
#   4. TCP from a rack-0 workload reaches a rack-1 workload and back, through the spine: the
#      nodes only know their rack's subnet and route the other rack's blocks via the aggregate
#      their ToR sent them (blockd's "other subnet, no encapsulation" path, agent/route_plan.hpp);
#   5. a workload that makes kube-node-1 claim a second block changes tor-0's table, while the
#      spine's table stays the same, route for route and timestamp for timestamp;
#   6. a workload that must borrow from kube-node-0's block gets a /32 at tor-0 (next hop its
#      node) and nothing new at the spine; a rack-1 workload reaches it over TCP.
# Expected routes are derived from the store (workloads, nodes with their rack label, pools).
# Needs root. Usage: spine_leaf.sh BUILD_DIR [--runtime netns|docker]
set -euo pipefail
# Debian's python3 first: a pyenv shim in front costs seconds per call on a loaded machine.
export PATH=/usr/bin:/usr/sbin:$PATH
build=$(cd "${1:?usage: spine_leaf.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../lib.sh"
lab_test_start spine-leaf steps.sh sl "$build" "${@:2}"

clab deploy --runtime "$lab_runtime"
wait_sessions 90 || fail "BGP sessions"
echo "ok: the spine's two sessions and each ToR's three are Established"
tutorial_steps

# 1. Addresses by rack.
expect_addresses_by_rack

# expected: "TABLE PREFIX NEXTHOP" lines that each table (tor-0, tor-1, spine) must hold, from
# one read of the store. Topology facts (spine-leaf.clab.yml): ToR r and the spine share
# 10.1.0.2r/31, the spine at 10.1.0.2r, the ToR at 10.1.0.2r+1; a node's rack is its label.
expected() {
  local t=/tmp/spine-leaf-store.$$
  blockctl get workloads -o json >"$t.w"
  blockctl get nodes -o json >"$t.n"
  blockctl get ippool -o json >"$t.p"
  /usr/bin/python3 - "$t.w" "$t.n" "$t.p" <<'PY'
import ipaddress, json, sys
wl = json.load(open(sys.argv[1]))
nodes = json.load(open(sys.argv[2]))["items"]
pools = [ipaddress.ip_network(p["spec"]["cidr"]) for p in json.load(open(sys.argv[3]))["items"]]
addr = {n["metadata"]["name"]: n["spec"]["bgp"]["ipv4Address"].split("/")[0] for n in nodes}
rack = {n["metadata"]["name"]: int(n["metadata"]["labels"]["rack"]) for n in nodes}
blocks, borrowed, pool_racks = {}, set(), {}
for w in wl:
    a = ipaddress.ip_address(w["address"])
    pool = next(p for p in pools if a in p)
    pool_racks.setdefault(pool, set()).add(rack[w["node"]])
    if w["borrowed"]:
        borrowed.add((rack[w["node"]], f"{a}/32 {addr[w['node']]}"))
    else:
        blocks.setdefault(w["node"], set()).add(ipaddress.ip_network(w["block"]))
for pool, racks in pool_racks.items():
    assert len(racks) == 1, f"pool {pool} has workloads in racks {sorted(racks)}"
pool_rack = {p: r.pop() for p, r in pool_racks.items()}
routes = {f"spine {p} 10.1.0.{2 * r + 1}" for p, r in pool_rack.items()}
for me in sorted(set(rack.values())):
    tor = f"tor-{me}"
    for node, nets in blocks.items():
        if rack[node] == me:  # adjacent blocks of one node go as their aggregate
            routes.update(f"{tor} {n} {addr[node]}" for n in ipaddress.collapse_addresses(nets))
    routes.update(f"{tor} {r}" for k, r in borrowed if k == me)
    for p, r in pool_rack.items():  # its own aggregate is a blackhole, the others via the spine
        routes.add(f"{tor} {p} blackhole" if r == me else f"{tor} {p} 10.1.0.{2 * me}")
print("\n".join(sorted(routes)))
PY
  rm -f "$t.w" "$t.n" "$t.p"
}
actual() {
  { frr_routes tor-0 | sed 's/^/tor-0 /'; frr_routes tor-1 | sed 's/^/tor-1 /'; spine_routes | sed 's/^/spine /'; } | sort
}
# wait_tables: until the tables match the store (BGP updates follow the store shortly).
wait_tables() {
  local deadline=$((SECONDS + 30))
  until [ "$(actual)" = "$(expected)" ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
}
check_tables() {
  local now
  now=$(actual)
  expect_eq "$now" "$(expected)" "tor-0, tor-1 and the spine match the store ($1)"
  expect_eq "$(grep -c '^spine ' <<<"$now")" 2 "the spine holds one route per rack ($1)"
  expect_eq "$(grep '^spine ' <<<"$now" | grep -c -v '/24 ' || true)" 0 "the spine holds no /26 or /32 of workloads ($1)"
}

# 2, 3. The tables after the tutorial's five workloads.
wait_tables
check_tables "five workloads"
expect_eq "$(frr_routes tor-0 | grep -c '/26 ')" 2 "tor-0: a block for each of kube-node-0 and kube-node-1"
expect_eq "$(frr_routes tor-1 | grep -c '/26 ')" 2 "tor-1: a block for each of kube-node-2 and kube-node-3"
expect_eq "$(spine_routes)" "192.168.0.0/24 10.1.0.1
192.168.1.0/24 10.1.0.3" "the spine: rack 0's pool via tor-0, rack 1's via tor-1"

# 4. Pod to pod TCP across racks, both ways.
a=kube-node-0/nginx-5c7588df-prx4z b=kube-node-2/nginx-5c7588df-w7r7g
a_ip=$(pod_ip kube-node-0 nginx-5c7588df-prx4z) b_ip=$(pod_ip kube-node-2 nginx-5c7588df-w7r7g)
tcp_check "$a" "$b" "$b_ip" "$a_ip"
tcp_check "$b" "$a" "$a_ip" "$b_ip"
hops=$(on kube-node-0 ip -4 route get "$b_ip" | head -1)
case $hops in *"via 10.0.0.1 "*) echo "ok: kube-node-0 reaches $b_ip via tor-0 ($hops)" ;; *) fail "kube-node-0's route to $b_ip: $hops" ;; esac
hops=$(on spine ip -4 route get "$b_ip" | head -1)
case $hops in *"via 10.1.0.3 "*) echo "ok: the spine forwards $b_ip to tor-1 ($hops)" ;; *) fail "the spine's route to $b_ip: $hops" ;; esac

# fill NODE BLOCK: allocate for NODE (blockctl on a node, in one exec) until BLOCK has no free
# address.
fill() {
  local node=$1 block=$2 used
  used=$(blockctl get workloads -o json | /usr/bin/python3 -c "
import json, sys; print(sum(w['block'] == '$block' for w in json.load(sys.stdin)))")
  on kube-node-0 sh -c 'for k in $(seq 1 "$2"); do
    blockctl --config /etc/blockd/blockd.yaml ipam allocate --node "$0" --handle "filler-$1-$k" >/dev/null || exit 1
  done' "$node" "$block" $((64 - used)) || fail "filling $block for $node"
}
block_of() { blockctl get workloads -o json | /usr/bin/python3 -c "
import json, sys; print(next(w['block'] for w in json.load(sys.stdin) if w['address'] == '$1'))"; }
# The spine's table with BIRD's per-route "since" time: any route replaced shows. (An update
# tor-0 sent late for step 5 would still show in step 6, compared with the same snapshot.)
spine_snapshot() { birdc show route all; }
# The snapshot to compare with is taken once the spine has settled (the same table 1 s apart): an
# update still in flight from an earlier step would otherwise show as a change made by this one.
spine_settled() { local a; a=$(spine_snapshot); sleep 1; [ "$a" = "$(spine_snapshot)" ]; }

# 5. A workload on kube-node-1 once its block is full: a second block for kube-node-1, a new
# route at tor-0, and not one change at the spine.
wait_for 30 "the spine's table settles" spine_settled
spine_before=$(spine_snapshot) tor0_before=$(frr_routes tor-0)
block1=$(block_of "$(pod_ip kube-node-1 nginx-5c7588df-s7qw6)")
fill kube-node-1 "$block1"
extra=$(add_pod kube-node-1 extra) || fail "pod extra on kube-node-1"
echo "extra (kube-node-1) got $extra"
extra_block=$(block_of "$extra")
[ "$extra_block" != "$block1" ] || fail "extra got $extra from kube-node-1's full block $block1"
expect_eq "$(pool_of "$extra" 192.168.0.0/24)" 192.168.0.0/24 "extra's address is in rack-0's pool"
wait_tables
check_tables "kube-node-1 claimed a second block"
[ "$(frr_routes tor-0)" != "$tor0_before" ] || fail "tor-0's table did not change"
echo "ok: tor-0's table changed: $(diff <(echo "$tor0_before") <(frr_routes tor-0) | grep '^[<>]' | tr '\n' ' ')"
expect_eq "$(spine_snapshot)" "$spine_before" "the spine's table is unchanged (the new block is inside the aggregate)"

# 6. Rack 0's pool full for kube-node-1 (its blocks and the last free one filled): its next
# workload borrows from kube-node-0's block, a /32 at tor-0 and still nothing at the spine.
fill kube-node-1 "$extra_block"
blockctl ipam allocate --node kube-node-1 --handle claim-last-block >/dev/null
last_block=$(blockctl get workloads -o json | /usr/bin/python3 -c "
import json, sys; print(next(w['block'] for w in json.load(sys.stdin) if w['workload'] == 'claim-last-block'))")
fill kube-node-1 "$last_block"
borrower=$(add_pod kube-node-1 borrower) || fail "pod borrower on kube-node-1"
echo "borrower (kube-node-1) got $borrower"
node0_block=$(block_of "$(pod_ip kube-node-0 nginx-5c7588df-prx4z)")
expect_eq "$(pool_of "$borrower" "$node0_block")" "$node0_block" "the borrower's address comes from kube-node-0's block"
wait_tables
check_tables "a borrowed address in rack 0"
expect_eq "$(frr_routes tor-0 | grep "^$borrower/32 ")" "$borrower/32 10.0.0.11" "tor-0: the borrowed /32 via kube-node-1"
expect_eq "$(spine_snapshot)" "$spine_before" "the spine's table is unchanged (the /32 stays inside the aggregate)"
tcp_check "$b" kube-node-1/borrower "$borrower" "$b_ip"

route_summary
echo "PASS spine_leaf ($lab_runtime)"
