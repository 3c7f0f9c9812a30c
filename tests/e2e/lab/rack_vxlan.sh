#!/usr/bin/env bash
# The rack tutorial with VXLAN CrossSubnet pools as a lab (examples/rack-vxlan/rack-vxlan.clab.yml,
# deployed with tests/lab/clab-netns): a BIRD 2 router, two racks of two blockd nodes, each rack
# its own subnet; pools rack-0/1-ippool with vxlanMode CrossSubnet, ipipMode Never; the
# tutorial's labels and five workloads made through CNI (ptp + blockd-ipam). Asserts:
#   1. every workload address lies in its rack's pool;
#   2. on every node, the kernel holds exactly the routes blockd should install (protocol 200):
#      a blackhole for its own block, the same-rack peer's block direct via the peer's address
#      on eth1, each other-rack block via that node's VTEP on vxlan.blockd onlink; the VXLAN
#      device has the configured VNI, port, local address, uplink, learning off, and the MAC and
#      VTEP address the node published in its Node resource; one permanent neighbour
#      (VTEP -> MAC) and one FDB entry (MAC -> node address) per other-rack node, no more;
#   3. the router's table holds one route per block, next hop the owning node;
#   4. TCP between workloads in different racks works and goes in VXLAN: the nodes' VXLAN
#      devices count the packets, the router forwards UDP 4789 and no bare pod packet; TCP
#      within a rack works and leaves every VXLAN counter alone;
#   5. a remote block emptied of its last workload (released with its block) loses its route on
#      the other nodes while its node's neighbour/FDB entries stay (its first block, holding its
#      VTEP address, remains); a node decommissioned (workload deleted, blockd stopped, VTEP
#      address released) leaves no route, neighbour or FDB entry for it anywhere;
#   6. no kernel refused a change of blockd's (no route on vxlan.blockd before the device).
# Expected kernel state is derived from the store (blocks, Node resources) and the node configs.
# Needs root. Usage: rack_vxlan.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: rack_vxlan.sh BUILD_DIR}" && pwd)
e2e=$(cd "$(dirname "$0")/.." && pwd)
. "$e2e/lib.sh"
vx_dir=$(cd "$e2e/../../examples/rack-vxlan" && pwd)
topo=$vx_dir/rack-vxlan.clab.yml pools_dir=$vx_dir lab_name=rv$$
export CLAB_NETNS_PATH="$build/agent" CLAB_NETNS_STATE_DIR=/tmp/clab-netns-e2e-$$
. "$vx_dir/../rack-tutorial/tutorial.sh"
tmp=$(mktemp -d)
lab_test_setup "$build" "$tmp"
started=$SECONDS

clab deploy
wait_sessions 60 || fail "BGP sessions"
echo "ok: four BGP sessions Established at the router"
tutorial_steps

nodes=(kube-node-0 kube-node-1 kube-node-2 kube-node-3)
ctl() { blockctl "$@"; }

# 1. Addresses by rack.
expect_addresses_by_rack

# 2. Each node's kernel against the store. expected_kernels NODE... prints, per node, the routes
# of protocol 200 (as `ip route` prints them), the permanent neighbours and the FDB entries of
# vxlan.blockd (as `ip neigh` and `bridge fdb` print them) that blockd's route plan implies
# (blockd's route plan); actual_kernels NODE... prints what the nodes' kernels have.
snapshot() { ctl get workloads -o json >"$tmp/workloads.json" && ctl get nodes -o json >"$tmp/nodes.json"; }
expected_kernels() {
  snapshot
  python3 - "$tmp/workloads.json" "$tmp/nodes.json" "$@" <<'EOF'
import ipaddress, json, sys
workloads, nodes = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["items"]
spec = {n["metadata"]["name"]: n["spec"] for n in nodes}
iface = {name: ipaddress.ip_interface(s["bgp"]["ipv4Address"]) for name, s in spec.items()}
owner = {w["block"]: w["node"] for w in workloads if not w["borrowed"]}
for me in sys.argv[3:]:
    own = [ipaddress.ip_network(b) for b, n in owner.items() if n == me]
    routes = [f"blackhole {b}" for b in ipaddress.collapse_addresses(own)]  # siblings merge
    neigh, fdb = set(), set()
    for block, node in owner.items():
        if node == me:
            continue
        if iface[node].network == iface[me].network:  # CrossSubnet, same subnet: direct
            routes.append(f"{block} via {iface[node].ip} dev eth1")
        else:
            vtep, mac = spec[node]["ipv4VXLANTunnelAddr"], spec[node]["vxlanTunnelMACAddr"]
            routes.append(f"{block} via {vtep} dev vxlan.blockd onlink")
            neigh.add(f"{vtep} lladdr {mac} PERMANENT")
            fdb.add(f"{mac} dst {iface[node].ip} self permanent")
    print("\n".join([f"== {me}"] + sorted(routes) + sorted(neigh) + sorted(fdb)))
EOF
}
actual_kernels() {
  local n
  for n in "$@"; do
    echo "== $n"
    # one exec per node: each is a process start on a loaded machine
    on "$n" sh -c "ip -4 route show proto 200 | sort
      ip neigh show dev vxlan.blockd nud permanent | sort
      bridge fdb show dev vxlan.blockd | grep ' dst ' | sort" | sed 's/ *$//'
  done
}
# wait_kernels WHAT NODE...: until the nodes' kernels match the store (blockd reconciles on the
# datastore watch), then asserts it.
wait_kernels() {
  local what=$1 deadline=$((SECONDS + 30)); shift
  until [ "$(actual_kernels "$@")" = "$(expected_kernels "$@")" ] || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
  expect_eq "$(actual_kernels "$@")" "$(expected_kernels "$@")" "kernels of $*: $what"
}
wait_kernels "own block blackholed, same-rack block direct on eth1, other rack via VTEPs on vxlan.blockd; their neighbour and FDB entries" "${nodes[@]}"
expect_eq "$(on kube-node-0 ip -4 route show proto 200 | grep -c 'dev vxlan.blockd onlink')" 2 \
  "kube-node-0 reaches rack 1's two blocks through VXLAN"
expect_eq "$(on kube-node-0 ip -4 route show proto 200 | grep -c 'via 10.0.0.11 dev eth1')" 1 \
  "kube-node-0 reaches kube-node-1's block directly"

# The device itself: configured VNI, port, uplink and local address (node config), learning off,
# the MAC and VTEP address the node published.
device_of() {
  on "$1" ip -d -j addr show dev vxlan.blockd >"$tmp/device.json"
  python3 - "$tmp/device.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))[0]
i = d["linkinfo"]["info_data"]
vtep = [a["local"] + "/" + str(a["prefixlen"]) for a in d["addr_info"] if a["family"] == "inet"]
print(d["linkinfo"]["info_kind"], "id", i["id"], "port", i["port"], "local", i["local"], "dev", i["link"],
      "learning", i["learning"], "mac", d["address"], "vtep", *vtep)
EOF
}
configured_device() {
  python3 - "$vx_dir/nodes/$1.yaml" "$tmp/nodes.json" "$1" <<'EOF'
import ipaddress, json, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
n = next(n["spec"] for n in json.load(open(sys.argv[2]))["items"] if n["metadata"]["name"] == sys.argv[3])
dp = c["dataplane"]
print("vxlan id", dp["vxlanVNI"], "port", dp["vxlanPort"], "local", ipaddress.ip_interface(c["node"]["address"]).ip,
      "dev", dp["uplink"], "learning False mac", n["vxlanTunnelMACAddr"], "vtep", n["ipv4VXLANTunnelAddr"] + "/32")
EOF
}
snapshot
for n in "${nodes[@]}"; do
  expect_eq "$(device_of "$n")" "$(configured_device "$n")" "$n's vxlan.blockd: configured VNI/port/uplink, its published MAC and VTEP"
done
# Pods have the VXLAN device's MTU (pod.sh gives it to ptp).
w=${workloads[0]}
expect_eq "$(pod_exec "${w#*:}" "${w%:*}" ip -o link show dev eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')" \
  "$(on "${w#*:}" ip -o link show dev vxlan.blockd | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')" "a pod's MTU is its node's vxlan.blockd MTU"

# 3. The router: one route per block, next hop the owning node (no borrowed addresses here).
expected_tor() {
  snapshot
  python3 - "$tmp/workloads.json" "$tmp/nodes.json" <<'EOF'
import ipaddress, json, sys
nodes = {n["metadata"]["name"]: ipaddress.ip_interface(n["spec"]["bgp"]["ipv4Address"]).ip
         for n in json.load(open(sys.argv[2]))["items"]}
print("\n".join(sorted({f'{w["block"]} {nodes[w["node"]]}' for w in json.load(open(sys.argv[1])) if not w["borrowed"]})))
EOF
}
router_routes() {
  birdc show route all 2>/dev/null | awk '/^[0-9]/{pfx=$1} /BGP.next_hop/{print pfx, $2}' | grep '^192\.168\.' | sort || true
}
deadline=$((SECONDS + 30))
until [ "$(router_routes)" = "$(expected_tor)" ] || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
expect_eq "$(router_routes)" "$(expected_tor)" "router table: one route per block, next hop its node"
expect_eq "$(router_routes | wc -l)" 4 "four blocks at the router for five workloads"

# 4. Traffic. The router counts what it forwards: VXLAN packets, and pod packets not in VXLAN.
on router nft -f - <<'EOF'
table ip rackvxlan {
  counter vxlan {}
  counter bare_pod {}
  chain forward {
    type filter hook forward priority 0; policy accept;
    udp dport 4789 counter name vxlan
    ip saddr 192.168.0.0/16 counter name bare_pod
    ip daddr 192.168.0.0/16 counter name bare_pod
  }
}
EOF
tor_count() { on router nft list counter ip rackvxlan "$1" | awk '/packets/{print $2}'; }
vx_count() {  # from `ip -s`: under the netns runtime a node's /sys is the host's
  on "$1" ip -s -j link show dev vxlan.blockd | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['stats64']['$2']['packets'])"
}
counters() { echo "tor-vxlan=$(tor_count vxlan) tor-bare=$(tor_count bare_pod)" \
  "n0-tx=$(vx_count kube-node-0 tx) n1-tx=$(vx_count kube-node-1 tx) n1-rx=$(vx_count kube-node-1 rx) n2-rx=$(vx_count kube-node-2 rx)"; }
get() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }

a_ns=kube-node-0/nginx-5c7588df-prx4z a_ip=$(pod_ip kube-node-0 nginx-5c7588df-prx4z)
b_ns=kube-node-2/nginx-5c7588df-w7r7g b_ip=$(pod_ip kube-node-2 nginx-5c7588df-w7r7g)
c_ns=kube-node-1/nginx-5c7588df-s7qw6 c_ip=$(pod_ip kube-node-1 nginx-5c7588df-s7qw6)
before=$(counters)
tcp_check "$a_ns" "$b_ns" "$b_ip" "$a_ip"
tcp_check "$b_ns" "$a_ns" "$a_ip" "$b_ip"
after=$(counters)
echo "cross-rack: before $before; after $after"
[ "$(get n0-tx "$after")" -gt "$(get n0-tx "$before")" ] || fail "kube-node-0's vxlan.blockd sent nothing for the cross-rack TCP"
[ "$(get n2-rx "$after")" -gt "$(get n2-rx "$before")" ] || fail "kube-node-2's vxlan.blockd received nothing for the cross-rack TCP"
[ "$(get tor-vxlan "$after")" -gt "$(get tor-vxlan "$before")" ] || fail "the router forwarded no VXLAN packet for the cross-rack TCP"
expect_eq "$(get tor-bare "$after")" 0 "no pod packet crossed the router outside VXLAN"
echo "ok: cross-rack TCP went in VXLAN (UDP 4789 at the router, counted by both VXLAN devices)"

before=$(counters)
tcp_check "$a_ns" "$c_ns" "$c_ip" "$a_ip"
after=$(counters)
echo "same rack: before $before; after $after"
for c in tor-vxlan n0-tx n1-tx n1-rx; do
  expect_eq "$(get $c "$after")" "$(get $c "$before")" "same-rack TCP left counter $c alone (no VXLAN)"
done

# vtep_of NODE: the VTEP address NODE published (Node spec.ipv4VXLANTunnelAddr).
vtep_of() {
  ctl get node "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["ipv4VXLANTunnelAddr"])'
}

# 5a. A remote block emptied: kube-node-3 gets a second block (from a second rack-1 pool) with
# one workload in it; every other node routes it through VXLAN; when that workload goes, its
# block goes (released with its last address) and so does the route, while kube-node-3's
# neighbour/FDB entries stay for its first block.
ctl create -f - <<'EOF'
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: rack-1-extra
spec:
  cidr: 192.168.2.0/26
  ipipMode: Never
  vxlanMode: CrossSubnet
  nodeSelector: rack == "1"
EOF
extra=$(ctl ipam allocate --node kube-node-3 --handle extra-workload --pool rack-1-extra)
expect_eq "$(pool_of "$extra" 192.168.2.0/26)" 192.168.2.0/26 "kube-node-3's extra workload is in a block of rack-1-extra"
wait_kernels "kube-node-3's second block routed through VXLAN from rack 0, directly from kube-node-2" kube-node-0 kube-node-1 kube-node-2
k3_vtep=$(vtep_of kube-node-3)
expect_eq "$(on kube-node-0 ip -4 route show proto 200 192.168.2.0/26 | sed 's/ *$//')" \
  "192.168.2.0/26 via $k3_vtep dev vxlan.blockd onlink" "kube-node-0 routes kube-node-3's new block to kube-node-3's VTEP"
ctl ipam release --handle extra-workload --release-empty-blocks >/dev/null
expect_eq "$(ctl ipam show --show-blocks | grep -c '^Block  *192\.168\.2\.0/26' || true)" 0 "the emptied block is given back to its pool"
wait_kernels "the emptied block's route is gone, kube-node-3's first block still routed" kube-node-0 kube-node-1 kube-node-2
expect_eq "$(on kube-node-0 ip neigh show dev vxlan.blockd "$k3_vtep" nud permanent | wc -l)" 1 \
  "kube-node-0 keeps kube-node-3's neighbour entry (its first block remains)"

# 5b. kube-node-3 decommissioned: its workload deleted through CNI, its blockd stopped, its VTEP
# address released: no block of it is left, and no node keeps a route, neighbour or FDB entry.
on kube-node-3 bash /etc/blockd/pod.sh del nginx-5c7588df-62lnf
node_kill kube-node-3 TERM blockd
ctl ipam release --handle vxlan-tunnel-addr.kube-node-3 --release-empty-blocks >/dev/null
expect_eq "$(ctl get workloads -o json | python3 -c 'import json,sys; print(sum(w["node"] == "kube-node-3" for w in json.load(sys.stdin)))')" 0 \
  "kube-node-3 holds no address"
wait_kernels "nothing left for kube-node-3" kube-node-0 kube-node-1 kube-node-2
expect_eq "$(on kube-node-0 ip neigh show dev vxlan.blockd "$k3_vtep" nud permanent | wc -l)" 0 \
  "kube-node-0's neighbour entry for kube-node-3's VTEP is gone"
expect_eq "$(on kube-node-0 bridge fdb show dev vxlan.blockd | grep -c 'dst 10.0.1.11' || true)" 0 \
  "kube-node-0's FDB entry for kube-node-3 is gone"
expect_eq "$(on kube-node-0 bridge fdb show dev vxlan.blockd | grep -c 'dst 10.0.1.10' || true)" 1 \
  "kube-node-0 keeps kube-node-2's FDB entry"
tcp_check "$a_ns" "$b_ns" "$b_ip" "$a_ip"
ctl ipam check >/dev/null || fail "ipam check after the decommission"
echo "ok: ipam check finds no problem"

# No change of blockd's was refused by a kernel: in particular no route, neighbour or FDB entry
# on vxlan.blockd before the node had that device (a rack-1 node sees rack 0's VXLAN pool and
# VTEPs before its own pool exists).
expect_eq "$(for n in "${nodes[@]}"; do on "$n" cat /var/log/blockd/blockd.log; done | grep -c 'kernel refused' || true)" 0 \
  "no kernel refused any of blockd's changes"

echo "PASS rack_vxlan ($((SECONDS - started))s)"
