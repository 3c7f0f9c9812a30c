# The spine-leaf lab's steps against the deployed spine-leaf.clab.yml; sourced by lab.sh and by
# tests/e2e/lab/spine_leaf.sh. Needs: $topo (the .clab.yml); optional $lab_name (a name other
# than the file's, for parallel runs), $runner ("clab-netns", the default, or "containerlab").
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
tutorial=$top/examples/rack-tutorial
runner=${runner:-clab-netns}
lab_args=(-t "$topo")
[ -n "${lab_name:-}" ] && lab_args+=(--name "$lab_name")
# The rack tutorial's five workloads, NAME:NODE (rack 0: kube-node-0/1, rack 1: kube-node-2/3).
workloads=(nginx-5c7588df-prx4z:kube-node-0 nginx-5c7588df-s7qw6:kube-node-1
  nginx-5c7588df-w7r7g:kube-node-2 nginx-5c7588df-62lnf:kube-node-3 nginx-5c7588df-pnsvv:kube-node-2)

# on NODE CMD...: run CMD inside a node of the lab (paths are the node's own, as in a container).
on() {
  local node=$1; shift
  if [ "$runner" = containerlab ]; then
    docker exec -i "clab-${lab_name:-spine-leaf}-$node" "$@"
  else
    "$top/tests/lab/clab-netns" exec "${lab_args[@]}" --node "$node" -- "$@"
  fi
}
blockctl() { on kube-node-0 blockctl --config /etc/blockd/blockd.yaml "$@"; }
birdc() { on spine birdc -s /run/bird/bird.ctl "$@"; }   # the spine
vtysh() { local tor=$1; shift; on "$tor" vtysh --vty_socket /var/run/frr "$@"; }   # vtysh tor-N -c CMD
say() { printf '\n$ %s\n' "$*"; }

# established_at_tor TOR: how many of the ToR's BGP peers (two nodes, the spine) are Established.
established_at_tor() {
  vtysh "$1" -c 'show bgp ipv4 unicast summary json' 2>/dev/null | /usr/bin/python3 -c '
import json, sys
try: peers = json.load(sys.stdin).get("peers", {})
except ValueError: peers = {}
print(sum(p.get("state") == "Established" for p in peers.values()))'
}
sessions_up() {
  [ "$(birdc show protocols 2>/dev/null | grep -c 'tor_.*Established')" = 2 ] &&
    [ "$(established_at_tor tor-0)" = 3 ] && [ "$(established_at_tor tor-1)" = 3 ]
}
# wait_sessions SECONDS: until the spine has both ToR sessions and each ToR its three.
wait_sessions() {
  local deadline=$((SECONDS + $1))
  until sessions_up; do
    if [ $SECONDS -ge $deadline ]; then
      echo "the fabric's BGP sessions did not all reach Established:" >&2
      birdc show protocols >&2 || true
      vtysh tor-0 -c 'show bgp summary' >&2 || true
      vtysh tor-1 -c 'show bgp summary' >&2 || true
      return 1
    fi
    sleep 0.3
  done
}

# add_pod NODE NAME: a workload through CNI (ptp + blockd-ipam) on NODE; prints its address.
add_pod() {
  local node=$1 name=$2 addr deadline=$((SECONDS + 15)) err=/tmp/pod-add.$$
  # The agents learn new labels and pools through the datastore watch; until then the node has
  # no pool, so an early ADD is retried for a few seconds.
  until addr=$(on "$node" bash /etc/blockd/pod.sh add "$name" 2>"$err"); do
    if [ $SECONDS -ge $deadline ]; then cat "$err" >&2; rm -f "$err"; return 1; fi
    sleep 0.5
  done
  rm -f "$err"
  echo "$addr"
}

# lab_steps: the tutorial's steps with this lab's pools (no encapsulation), printing each step.
lab_steps() {
  say "blockctl create -f default-pool.yaml   # what a fresh install has"
  blockctl create -f - <"$tutorial/default-pool.yaml"
  say "blockctl delete ippools default-ipv4-ippool"
  blockctl delete ippools default-ipv4-ippool
  local n r w name node addr
  for n in 0 1 2 3; do
    say "blockctl label nodes kube-node-$n rack=$((n / 2))"
    blockctl label nodes "kube-node-$n" "rack=$((n / 2))"
  done
  for r in 0 1; do
    say "blockctl create -f rack-$r-ippool.yaml   # ipipMode Never, vxlanMode Never"
    blockctl create -f - <"$here/rack-$r-ippool.yaml"
  done
  say "five workloads through CNI (ptp + blockd-ipam), as the kubelet would create them"
  for w in "${workloads[@]}"; do
    name=${w%:*} node=${w#*:}
    addr=$(add_pod "$node" "$name") || return 1
    printf '%-22s on %s: %s\n' "$name" "$node" "$addr"
  done
}

# tor_routes TOR: the ToR's BGP routes in its kernel table ("PREFIX NEXTHOP" lines, sorted).
tor_routes() {
  vtysh "$1" -c 'show ip route bgp json' 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for prefix, routes in json.load(sys.stdin).items():
    for r in routes:
        if r.get("selected"):
            for nh in r.get("nexthops", []):
                print(prefix, nh.get("ip", "blackhole"))' | sort
}
# spine_routes: the spine's BGP routes ("PREFIX NEXTHOP" lines, sorted).
spine_routes() {
  birdc show route all 2>/dev/null | awk '/^[0-9]/{pfx=$1} /BGP.next_hop/{print pfx, $2}' | sort
}

# route_summary: workloads, routes at each ToR and at the spine, and what a /32-per-workload
# design would need at every one of them.
route_summary() {
  local nw t line
  # Each node's pod gateway (the on-link address ptp puts on the host side) is an allocation
  # under handle gateway.<node>.<pool>, not a workload.
  nw=$(blockctl get workloads -o json |
    /usr/bin/python3 -c 'import json,sys; print(sum(not w["workload"].startswith("gateway.") for w in json.load(sys.stdin)))')
  line="route reduction: $nw workloads;"
  for t in tor-0 tor-1; do
    # blocks (a node's adjacent blocks may go as one), borrowed /32s, and the rack aggregates:
    # its own (a blackhole) and the other rack's (via the spine, 10.1.0.x)
    line+=$(tor_routes "$t" | awk -v t="$t" '
      $2 == "blackhole" || $2 ~ /^10\.1\.0\./ { agg++; next }
      $1 ~ /\/32$/ { b32++; next }
      { blocks++ }
      END { printf " %s holds %d routes (%d blocks, %d borrowed /32, %d rack aggregates);", t, NR, blocks, b32, agg }')
  done
  echo "$line the spine holds $(spine_routes | wc -l) (one per rack); a /32-per-workload design would need $nw at each ToR and at the spine"
}
