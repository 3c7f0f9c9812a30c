#!/usr/bin/env bash
# The rack tutorial dual-stack (examples/rack-dualstack/rack-dualstack.clab.yml, deployed with
# tests/lab/clab-netns): a BIRD 2 router, two racks of two blockd nodes, each rack one subnet in
# both families; every node peers with the router once per family (an IPv4 and an IPv6 session).
# Pools per rack in both families (192.168.R.0/24 IPIP, fd00:10:0:R::/64 with /122 blocks,
# routed natively), five workloads made through CNI (ptp + blockd-ipam asking for ipv4 and ipv6).
# Asserts:
#   1. each workload has exactly one IPv4 and one IPv6 address, both from its rack's pools;
#   2. the router's IPv4 and IPv6 tables hold exactly one route per affine block (two sibling
#      blocks of one node may go as their aggregate), next hop the node's address of that
#      family, derived from the store's blocks and workloads;
#   3. kube-node-0's and kube-node-3's kernels route every other node's IPv6 block: via the
#      node itself in the same rack, via the router (the route learned over BGP) across racks;
#      their own blocks are blackholes;
#   4. TCP between workloads in different racks over IPv6 (both ways) and over IPv4;
#   5. deleting a workload through CNI releases both its addresses (`blockctl ipam check`
#      clean), and the router's tables and kube-node-3's IPv6 kernel routes follow the store.
# Needs root. Usage: rack_dualstack.sh BUILD_DIR
set -euo pipefail
# Debian's python3 (as tests/lab/clab-netns uses), not a pyenv or venv shim found first on PATH:
# a shim can take seconds to start on a loaded machine.
export PATH=/usr/bin:$PATH
build=$(cd "${1:?usage: rack_dualstack.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
topo=$(cd "$here/../../../examples/rack-dualstack" && pwd)/rack-dualstack.clab.yml
lab_name=rd$$
export CLAB_NETNS_PATH="$build/agent" CLAB_NETNS_STATE_DIR=/tmp/clab-netns-e2e-$$
. "$(dirname "$topo")/dualstack.sh"
lab_failure_report() {
  birdc show protocols 2>/dev/null || true
}
lab_test_setup "$build"

clab deploy
wait_sessions 30 "$sessions" || fail "BGP sessions"
echo "ok: eight BGP sessions (one per node and family) Established at the router"
tutorial_steps --ipv6

# addrs_of NODE NAME 4|6: the workload's global addresses of that family, one a line.
addrs_of() { pod_ip "$1" "$2" "$3"; }

# 1. One address per family, each from the rack's pool of that family.
for w in "${workloads[@]}"; do
  name=${w%:*} node=${w#*:} rack=$((${node##*-} / 2))
  expect_eq "$(addrs_of "$node" "$name" 4 | wc -l) $(addrs_of "$node" "$name" 6 | wc -l)" "1 1" \
    "$name on $node has one IPv4 and one IPv6 address"
  expect_eq "$(pool_of "$(addrs_of "$node" "$name" 4)" 192.168.0.0/24 192.168.1.0/24)" "192.168.$rack.0/24" \
    "$name's IPv4 address is from rack-$rack-ippool"
  expect_eq "$(pool_of "$(addrs_of "$node" "$name" 6)" fd00:10:0:0::/64 fd00:10:0:1::/64)" "fd00:10:0:$rack::/64" \
    "$name's IPv6 address is from rack-$rack-ippool-v6"
done

# Node addresses per family, and each rack's router address (the next hop of learned routes).
nodes_json='{"kube-node-0": ["10.0.0.10", "2001:db8::10"], "kube-node-1": ["10.0.0.11", "2001:db8::11"],
  "kube-node-2": ["10.0.1.10", "2001:db8:0:1::10"], "kube-node-3": ["10.0.1.11", "2001:db8:0:1::11"]}'

# 2. The router's tables against the store: per family, one route per affine block (sibling
# blocks of a node may be one aggregate) and one host route per borrowed
# address, next hop the node's address of the family.
expected_routes() { # 4|6
  blockctl get workloads -o json | python3 -c '
import ipaddress, json, sys
family, nodes = int(sys.argv[1]), json.loads(sys.argv[2])
routes, blocks = set(), {}
for w in json.load(sys.stdin):
    block = ipaddress.ip_network(w["block"])
    if block.version != family:
        continue
    nh, addr = nodes[w["node"]][0 if family == 4 else 1], w["address"]
    if w["borrowed"]:
        routes.add(f"{addr}/{block.max_prefixlen} {nh}")
    else:
        blocks.setdefault(nh, set()).add(block)
for nh, nets in blocks.items():
    routes.update(f"{n} {nh}" for n in ipaddress.collapse_addresses(nets))
print("\n".join(sorted(routes)))' "$1" "$nodes_json"
}
router_routes() { # 4|6
  local table=master$1 pools='^192\.168\.'
  [ "$1" = 6 ] && pools='^fd00:10:'
  birdc show route all table "$table" 2>/dev/null |
    awk '/^[0-9a-f]/{pfx=$1} /BGP.next_hop/{print pfx, $2}' | grep "$pools" | sort || true
}
wait_routes() {
  local deadline=$((SECONDS + 20))
  until { [ "$(router_routes 4)" = "$(expected_routes 4)" ] && [ "$(router_routes 6)" = "$(expected_routes 6)" ]; } ||
    [ $SECONDS -ge $deadline ]; do sleep 0.3; done
}
wait_routes
for f in 4 6; do
  expect_eq "$(router_routes $f)" "$(expected_routes $f)" "router's IPv$f table: one route per affine block, next hop the node's IPv$f address"
  expect_eq "$(router_routes $f | wc -l)" 4 "four IPv$f blocks at the router for five workloads (two on kube-node-2 share one)"
done

# 3. Kernel routes for IPv6 blocks on a node of each rack (blockd's protocol 200): the other
# nodes' blocks via the node in the same rack, via the router across racks (learned over BGP);
# its own blocks as blackholes. Expected from the store, actual from `ip -j -6 route`.
expected_kernel6() { # NODE
  blockctl get workloads -o json | python3 -c '
import ipaddress, json, sys
me, nodes = sys.argv[1], json.loads(sys.argv[2])
rack = lambda n: int(n.rsplit("-", 1)[1]) // 2
router = {0: "2001:db8::1", 1: "2001:db8:0:1::1"}
def via(node):
    return nodes[node][1] if rack(node) == rack(me) else router[rack(me)]
own, routes = set(), set()
for w in json.load(sys.stdin):
    block = ipaddress.ip_network(w["block"])
    if block.version != 6:
        continue
    node, addr = w["node"], w["address"]
    if w["borrowed"]:
        if node != me:
            routes.add(f"{addr}/128 via {via(node)}")
    elif node == me:
        own.add(block)
    else:
        routes.add(f"{block} via {via(node)}")
routes.update(f"blackhole {n}" for n in ipaddress.collapse_addresses(own))
print("\n".join(sorted(routes)))' "$1" "$nodes_json"
}
kernel6() { # NODE
  on "$1" ip -j -6 route show proto 200 | python3 -c '
import json, sys
out = []
for r in json.load(sys.stdin):
    dst = r["dst"] if "/" in r["dst"] else r["dst"] + "/128"
    gw = r.get("gateway", "-")
    out.append(f"blackhole {dst}" if r.get("type") == "blackhole" else f"{dst} via {gw}")
print("\n".join(sorted(out)))'
}
check_kernel6() { # NODE WHAT
  local deadline=$((SECONDS + 20))
  until [ "$(kernel6 "$1")" = "$(expected_kernel6 "$1")" ] || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
  expect_eq "$(kernel6 "$1")" "$(expected_kernel6 "$1")" "$1's kernel: $2"
}
for node in kube-node-0 kube-node-3; do
  check_kernel6 $node "other nodes' IPv6 blocks via the rack's node or the router, its own blackholed"
done
expect_eq "$(kernel6 kube-node-0 | grep -c ' via 2001:db8::1$')" 2 \
  "kube-node-0 routes rack 1's two IPv6 blocks via the router, as learned over BGP"

# 4. Pod to pod TCP across racks: IPv6 both ways, IPv4 one way.
a=nginx-5c7588df-s7qw6 a_node=kube-node-1 b=nginx-5c7588df-62lnf b_node=kube-node-3
a_ns=$a_node/$a b_ns=$b_node/$b
a6=$(addrs_of $a_node $a 6) b6=$(addrs_of $b_node $b 6)
tcp_check "$a_ns" "$b_ns" "$b6" "$a6"
tcp_check "$b_ns" "$a_ns" "$a6" "$b6"
tcp_check "$a_ns" "$b_ns" "$(addrs_of $b_node $b 4)" "$(addrs_of $a_node $a 4)"

# 5. Deleting a workload releases both its addresses: kube-node-0's only workload goes, so its
# pod gateways and (empty) blocks may go too; whatever the store keeps, the router follows it.
gone=nginx-5c7588df-prx4z
gone4=$(addrs_of kube-node-0 $gone 4) gone6=$(addrs_of kube-node-0 $gone 6)
on kube-node-0 bash /etc/blockd/pod.sh del $gone
held=$(blockctl get workloads -o json | python3 -c 'import json, sys
print(" ".join(sorted(w["address"] for w in json.load(sys.stdin) if w["address"] in sys.argv[1:])) or "none")' "$gone4" "$gone6")
expect_eq "$held" none "$gone's addresses $gone4 and $gone6 are released"
blockctl ipam check >/tmp/ipam-check.$$ 2>&1 || { cat /tmp/ipam-check.$$; rm -f /tmp/ipam-check.$$; fail "blockctl ipam check after the delete"; }
rm -f /tmp/ipam-check.$$
echo "ok: blockctl ipam check is clean"
wait_routes
for f in 4 6; do
  expect_eq "$(router_routes $f)" "$(expected_routes $f)" "router's IPv$f table follows the store after the delete"
done
check_kernel6 kube-node-3 "IPv6 routes follow the store after the delete (a released block's route goes)"

dualstack_summary
echo "PASS rack_dualstack"
