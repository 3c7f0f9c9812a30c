#!/usr/bin/env bash
# The rack-scale lab (examples/rack-scale/rack-scale.clab.yml, deployed with tests/lab/clab-netns):
# a BIRD 2 ToR and 16 blockd nodes in 4 racks sharing one SQLite store, a /22 pool per rack,
# 50 workloads per node (800), then 1,000 create/delete cycles on random nodes. Asserts:
#   1. every workload's address (as CNI returned it) lies in its rack's pool;
#   2. the ToR's table equals the routes the store implies: per node, its affine blocks (sibling
#      blocks merged into their aggregate, ARCHITECTURE.md) plus a /32 per borrowed address,
#      next hop the node; and its block routes cover exactly the store's affine blocks;
#   3. after the churn: `blockctl ipam check` exits 0, the ToR's table again equals the store's
#      routes (no stale route), and every node's kernel routes of protocol 200 are exactly what
#      the store implies (a blackhole per own aggregate, a route via the owner for every other
#      node's block and borrowed address): no stale route in any kernel;
#   4. the live workloads in the store are exactly those created and not deleted (800);
#   5. TCP between real pods of different racks works, before and after the churn.
# Workloads: a real runtime calls the main plugin (ptp), which calls the IPAM plugin. Making
# 800 namespaces with ptp and 2,000 more ADD/DEL through it takes far too long on 2 cores
# (about 2 s per pod under load here), so all but four workloads are made by invoking the
# blockd-ipam CNI plugin directly (CNI ADD/DEL, network config on stdin, against the node's
# blockd socket), exactly as ptp invokes it. Four workloads, one per rack, are real ptp pods
# (examples/rack-tutorial/pod.sh) and carry the TCP checks; the churn leaves them alone.
# RACK_SCALE_PER_NODE (50) and RACK_SCALE_CYCLES (1,000) make a shorter run for debugging.
# Churn: cycle c runs in lane c % 4 (4 lanes at once, so agents
# claim and release blocks concurrently): ADD a new workload on a random node, then DEL a random
# live workload of that lane on its node. The plan comes from a seed printed at the start;
# RACK_SCALE_SEED=<seed> replays it (the same operations per lane and the same final set).
# Needs root. Usage: rack_scale.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: rack_scale.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
example=$(cd "$here/../../../examples/rack-scale" && pwd)
top=$(cd "$example/../.." && pwd)
topo=$example/rack-scale.clab.yml
lab_name=rs$$
export CLAB_NETNS_PATH="$build/agent" CLAB_NETNS_STATE_DIR=/tmp/clab-netns-e2e-$$
state=$CLAB_NETNS_STATE_DIR/$lab_name
seed=${RACK_SCALE_SEED:-$(((RANDOM << 15) | RANDOM))}
cycles=${RACK_SCALE_CYCLES:-1000}
per_node=${RACK_SCALE_PER_NODE:-50} nodes=16 lanes=4
ptp_nodes=(0 5 10 15)  # one real pod per rack
work=$(mktemp -d /tmp/rack-scale-$$.XXXXXX)
. "$top/examples/lab-lib.sh"   # clab, on; blockctl and birdc are this test's own, below
lab_failure_report() {
  echo "seed $seed"
  for f in "$work"/*.err; do [ -s "$f" ] && tail -n 20 "$f"; done 2>/dev/null || true
}
lab_test_setup "$build" "$work"
echo "seed $seed (replay with RACK_SCALE_SEED=$seed), $cycles churn cycles"

# Wall time per phase, and CPU time (this script's children plus every process of the lab:
# agents, BIRD), which does not depend on what else runs on the machine.
cpu_seconds() {  # "TEST LAB": CPU seconds of this script's children, of the lab's processes
  local pids
  pids=$(for ns in /run/netns/"clab-$lab_name-"*; do ip netns pids "${ns##*/}" 2>/dev/null || true; done)
  { tail -n 1 "$work/times"; for p in $pids; do cat "/proc/$p/stat" 2>/dev/null || true; done; } | awk -v hz="$(getconf CLK_TCK)" '
    /^[0-9]+m/ { for (i = 1; i <= 2; i++) { split($i, t, "m"); test += t[1] * 60 + t[2] } next }
    { sub(/^.*\) /, ""); lab += ($12 + $13) / hz }
    END { printf "%.1f %.1f", test, lab }'
}
t_start=$EPOCHREALTIME t_phase=$EPOCHREALTIME cpu_phase="0 0"
phase() {  # phase NAME: the wall and CPU time of the phase that just ended
  local now=$EPOCHREALTIME cpu
  times >"$work/times"  # in this shell: a subshell's `times` would not count this shell's children
  cpu=$(cpu_seconds)
  awk -v what="$1" -v now="$now" -v phase="$t_phase" -v start="$t_start" -v cpu="$cpu" -v cpu0="$cpu_phase" \
    'BEGIN { split(cpu, c, " "); split(cpu0, c0, " "); t = c[1] - c0[1]; l = c[2] - c0[2]
      printf "TIME %-26s wall %6.1f s (total %6.1f s), CPU %6.1f s (test %.1f, agents and BIRD %.1f)\n",
        what, now - phase, now - start, t + l, t, l }'
  t_phase=$now cpu_phase=$cpu
}

node_ip() { echo "10.0.$(($1 / 4)).$((10 + $1 % 4))"; }
netns_of() { echo "clab-$lab_name-kube-node-$1"; }
# The lab's etcd node (10.0.9.10) is reached from inside a node; BIRD's socket is a folder of the
# router's (its tmpfs /run/bird under the netns runtime).
in_node() { nsenter --net="/run/netns/clab-$lab_name-$1" "${@:2}"; }
blockctl() { in_node kube-node-0 "$build/agent/blockctl" --datastore etcd://10.0.9.10:2379 "$@"; }
birdc() { command birdc -s "$state/router/tmpfs/run/bird/bird.ctl" "$@"; }
# ipam NODE ADD|DEL ID: the blockd-ipam plugin as ptp calls it, against the node's socket.
# (Builtins only around the plugin: at 3,000 calls, forks of printf, env and sed cost more CPU
# than the plugin itself.)
ipam() {
  CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS="/var/run/netns/clab-$lab_name-kube-node-$1-$3" CNI_IFNAME=eth0 \
    CNI_PATH="$build/agent" "$build/agent/blockd-ipam" \
    <<<"{\"cniVersion\":\"1.0.0\",\"name\":\"blocknet\",\"type\":\"ptp\",\"ipam\":{\"type\":\"blockd-ipam\",\"socket\":\"$state/kube-node-$1/tmpfs/run/blockd/blockd.sock\"}}"
}
# add NODE ID: ADD, printing "ID NODE ADDRESS"; fails with the plugin's answer if it fails.
add() {
  local out re='"address": *"([^/"]+)/'
  out=$(ipam "$1" ADD "$2") && [[ $out =~ $re ]] || { echo "ADD $2 on kube-node-$1 failed: $out" >&2; return 1; }
  echo "$2 $1 ${BASH_REMATCH[1]}"
}
del() { ipam "$1" DEL "$2" >/dev/null || { echo "DEL $2 on kube-node-$1 failed" >&2; return 1; }; }
# pod NODE add|del NAME: a real pod (namespace + ptp + blockd-ipam), run inside the node (with
# nsenter, as clab-netns exec does: `ip netns exec` would hide the pod's new namespace mount).
pod() {
  local ns; ns=$(netns_of "$1")
  nsenter --net="/var/run/netns/$ns" env CLAB_NETNS="$ns" PATH="$build/agent:$PATH" \
    bash "$state/kube-node-$1/binds/etc/blockd/pod.sh" "${@:2}"
}

# What the store implies, read straight from etcd (the blocks' values): lines "tor PREFIX
# NEXTHOP", "kernel NODE ROUTE", "blocks N" (affine blocks), "workload HANDLE NODE ADDRESS".
store_view() {
  in_node etcd etcdctl --endpoints http://127.0.0.1:2379 get --prefix /blockd/v1/ipam/blocks/ --print-value-only >"$work/blocks" &&
  python3 - "$work/blocks" <<'EOF'
import ipaddress, json, sys
blocks = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def ip(node):
    n = int(node.rsplit("-", 1)[1]); return f"10.0.{n // 4}.{10 + n % 4}"
nodes = [f"kube-node-{n}" for n in range(16)]
own = {n: [] for n in nodes}   # node -> its affine blocks
hosts = []                      # (address/32, node) borrowed: the node is not the block's owner
out = []
for b in blocks:
    cidr = ipaddress.ip_network(b["cidr"])
    owner = b["affinity"].removeprefix("host:")
    if owner:
        own[owner].append(cidr)
    for ordinal, a in b["allocations"].items():
        addr = cidr.network_address + int(ordinal)
        out.append(f"workload {a['handle']} {a['node']} {addr}")
        if a["node"] != owner:
            hosts.append((f"{addr}/32", a["node"]))
out.append(f"blocks {sum(len(v) for v in own.values())}")
# A node advertises its blocks, sibling blocks merged into their parent.
aggregates = {n: list(ipaddress.collapse_addresses(v)) for n, v in own.items()}
for n in nodes:
    out += [f"tor {p} {ip(n)}" for p in aggregates[n]]
out += [f"tor {h} {ip(n)}" for h, n in hosts]
# Each node's kernel: a blackhole per own aggregate; every other node's block and every address
# borrowed by another node via that node (the pools are ipipMode Always, the lab's ipipDevice
# is eth1). Its own borrowed addresses are routed by the CNI plugin, not blockd.
for me in nodes:
    out += [f"kernel {me} blackhole {p}" for p in aggregates[me]]
    out += [f"kernel {me} {c} via {ip(n)} dev eth1" for n in nodes if n != me for c in own[n]]
    out += [f"kernel {me} {h} via {ip(n)} dev eth1" for h, n in hosts if n != me]
print("\n".join(sorted(out)))
EOF
}
# The store is quiet between phases (every CNI call has returned): read it once per check.
snapshot() { store_view >"$work/view"; }
expected_tor() { sed -n 's/^tor //p' "$work/view"; }
expected_kernels() { sed -n 's/^kernel //p' "$work/view"; }
tor_routes() {
  birdc show route all 2>/dev/null | awk '/^[0-9]/{pfx=$1} /BGP.next_hop/{print pfx, $2}' | grep '^192\.168\.' | sort || true
}
kernel_routes() {
  local n
  for n in $(seq 0 $((nodes - 1))); do
    ip -n "$(netns_of "$n")" -4 route show proto 200 | awk -v node="kube-node-$n" '
      $1 == "blackhole" { print node, "blackhole", $2; next }
      { p = $1; if (p !~ /\//) p = p "/32"; print node, p, "via", $3, "dev", $5 }'
  done | sort
}
# converge WHAT ACTUAL EXPECTED: poll until both commands print the same (the ToR and the kernels
# follow the store through the agents' watch and BGP), then assert it.
converge() {
  local deadline=$((SECONDS + 120)) actual expected
  expected=$($3)
  until actual=$($2); [ "$actual" = "$expected" ] || [ $SECONDS -ge $deadline ]; do sleep 1; done
  expect_eq "$actual" "$expected" "$1"
}
wait_sessions() {
  local deadline=$((SECONDS + $1))
  until [ "$(birdc show protocols 2>/dev/null | grep -c 'kube_node_.*Established')" = $nodes ]; do
    [ $SECONDS -lt $deadline ] || { birdc show protocols >&2 || true; fail "not all $nodes BGP sessions Established"; }
    sleep 0.5
  done
  echo "ok: $nodes BGP sessions Established at the ToR"
}
# in_rack_pools FILE: every "ID NODE ADDRESS" line's address lies in rack NODE/4's pool.
in_rack_pools() {
  python3 - "$1" <<'EOF'
import ipaddress, sys
bad = []
for line in open(sys.argv[1]):
    wid, node, addr = line.split()
    pool = ipaddress.ip_network(f"192.168.{4 * (int(node) // 4)}.0/22")
    if ipaddress.ip_address(addr) not in pool:
        bad.append(f"{wid} on kube-node-{node}: {addr} is not in {pool}")
print("\n".join(bad))
EOF
}
check_tor() {
  snapshot
  converge "$1: the ToR's table equals the store's blocks (aggregated per node) and borrowed /32s, next hop the node" \
    tor_routes expected_tor
  local affine covered routes
  affine=$(sed -n 's/^blocks //p' "$work/view")
  routes=$(tor_routes)
  covered=$(awk '$1 !~ /\/32$/ { split($1, p, "/"); n += 2 ^ (26 - p[2]) } END { print n + 0 }' <<<"$routes")
  expect_eq "$covered" "$affine" "$1: the ToR's block routes cover the store's $affine affine /26 blocks"
  echo "    ToR: $(wc -l <<<"$routes") routes ($(grep -c '/32 ' <<<"$routes" || true) borrowed /32) for $affine blocks"
}
route_summary() {
  local nw routes hosts
  nw=$(awk '$1 == "workload" && $2 !~ /^(gateway|ipip-tunnel-addr)\./' "$work/view" | wc -l)
  routes=$(tor_routes | wc -l)
  hosts=$(tor_routes | grep -c '/32 ' || true)
  echo "route reduction: $nw workloads; the ToR holds $routes routes for them ($((routes - hosts)) blocks, $hosts borrowed /32); a /32-per-workload design would need $nw"
}

# Deploy, pools.
clab deploy >/dev/null
wait_sessions 120
blockctl create -f "$example/pools.yaml"
phase "deploy (17 nodes)"

# 800 workloads: the four pods first (each agent learns the pools through its watch; an early
# ADD finds no pool and is retried), then 16 nodes adding their workloads concurrently.
for n in "${ptp_nodes[@]}"; do
  deadline=$((SECONDS + 30))
  until a=$(pod "$n" add "pod-$n" 2>"$work/pod.err"); do
    [ $SECONDS -lt $deadline ] || fail "pod-$n on kube-node-$n: $(cat "$work/pod.err")"
    sleep 0.5
  done
  echo "pod-$n $n $a" >>"$work/pods"
done
for n in $(seq 0 $((nodes - 1))); do
  (
    first=0
    [[ " ${ptp_nodes[*]} " = *" $n "* ]] && first=1
    for k in $(seq $first $((per_node - 1))); do add "$n" "w-$n-$k" || exit 1; done
  ) >"$work/initial.$n" 2>"$work/initial.$n.err" &
done
failed=0
for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done
[ $failed = 0 ] || fail "$failed of $nodes nodes failed an ADD: $(cat "$work"/initial.*.err)"
cat "$work"/initial.[0-9]* >"$work/initial"
expect_eq "$(cat "$work/pods" "$work/initial" | wc -l)" $((nodes * per_node)) "$((nodes * per_node)) workloads created through CNI ($per_node per node)"
phase "create $((nodes * per_node)) workloads"

# 1. Addresses by rack (the CNI answers), and the store agrees with them.
expect_eq "$(in_rack_pools <(cat "$work/pods" "$work/initial"))" "" "every workload's address lies in its rack's pool"
live_expected() { awk '{ print "blocknet." $1, "kube-node-" $2 }' "$@" | sort; }
live_in_store() { snapshot; awk '$1 == "workload" && $2 !~ /^(gateway|ipip-tunnel-addr)\./ { print $2, $3 }' "$work/view" | sort; }
expect_eq "$(live_in_store)" "$(live_expected "$work/pods" "$work/initial")" "the store holds the $((nodes * per_node)) workloads, each on its node"

# 2. The ToR and the kernels.
check_tor "after $((nodes * per_node)) workloads"
converge "after $((nodes * per_node)) workloads: every kernel's protocol-200 routes are what the store implies" kernel_routes expected_kernels
# 5. Pod to pod across racks.
addr_of_pod() { awk -v p="pod-$1" '$1 == p { print $3 }' "$work/pods"; }
tcp_check kube-node-0/pod-0 kube-node-15/pod-15 "$(addr_of_pod 15)" "$(addr_of_pod 0)"
tcp_check kube-node-10/pod-10 kube-node-5/pod-5 "$(addr_of_pod 5)" "$(addr_of_pod 10)"
phase "check $((nodes * per_node)) workloads"

# Churn. The plan: per lane, lines "add NODE ID" / "del NODE ID"; and the workloads that live at
# the end ("ID NODE"), whatever the interleaving of the lanes.
python3 - "$seed" "$cycles" "$lanes" "$work" "$work/initial" <<'EOF'
import random, sys
seed, cycles, lanes, work, initial = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rng = random.Random(seed)
live = [dict() for _ in range(lanes)]  # lane -> {id: node}
for i, line in enumerate(open(initial)):
    wid, node, _ = line.split()
    live[i % lanes][wid] = node
plans = [[] for _ in range(lanes)]
for c in range(cycles):
    lane = c % lanes
    node = str(rng.randrange(16))
    wid = f"c-{c}"
    plans[lane].append(f"add {node} {wid}")
    victim = rng.choice(sorted(live[lane]))
    plans[lane].append(f"del {live[lane].pop(victim)} {victim}")
    live[lane][wid] = node
for lane in range(lanes):
    open(f"{work}/plan.{lane}", "w").write("".join(l + "\n" for l in plans[lane]))
open(f"{work}/live", "w").write("".join(f"{w} {n}\n" for l in live for w, n in l.items()))
EOF
for lane in $(seq 0 $((lanes - 1))); do
  (
    while read -r op n id; do
      if [ "$op" = add ]; then add "$n" "$id" || exit 1; else del "$n" "$id" || exit 1; fi
    done <"$work/plan.$lane"
  ) >"$work/churn.$lane" 2>"$work/churn.$lane.err" &
done
failed=0
for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done
[ $failed = 0 ] || fail "$failed of $lanes churn lanes failed (seed $seed): $(cat "$work"/churn.*.err)"
cat "$work"/churn.[0-9]* >"$work/churned"
expect_eq "$(wc -l <"$work/churned")" "$cycles" "$cycles churn cycles: each an ADD on a random node and a DEL"
phase "churn ($cycles cycles)"

# 3. After the churn: no leak, no stale route anywhere.
expect_eq "$(in_rack_pools "$work/churned")" "" "every churned workload's address lies in its rack's pool"
blockctl ipam check >"$work/check" 2>&1 || { cat "$work/check"; fail "blockctl ipam check after the churn (seed $seed)"; }
echo "ok: blockctl ipam check exits 0 after the churn: $(tail -n 1 "$work/check")"
# 4. The live workloads: exactly those created and not deleted.
expect_eq "$(live_in_store)" "$(live_expected "$work/pods" "$work/live")" \
  "the store holds exactly the $((nodes * per_node)) workloads created and not deleted ($((nodes * per_node)) + $cycles - $cycles)"
check_tor "after the churn"
converge "after the churn: every kernel's protocol-200 routes are what the store implies (no stale route)" \
  kernel_routes expected_kernels
tcp_check kube-node-15/pod-15 kube-node-0/pod-0 "$(addr_of_pod 0)" "$(addr_of_pod 15)"
phase "check after churn"

route_summary
echo "PASS rack_scale"
