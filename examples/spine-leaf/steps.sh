# The spine-leaf lab's steps against the deployed spine-leaf.clab.yml; sourced by lab.sh and by
# tests/e2e/lab/spine_leaf.sh. The shared part (on, blockctl, birdc at the spine, vtysh and
# frr_routes at the ToRs, the tutorial's steps with this folder's pools, ...) is
# examples/lab-lib.sh: see there for its variables.
router=spine pool_note="ipipMode Never, vxlanMode Never"
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lab-lib.sh"

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
    /usr/bin/python3 -c 'import json,sys; print(sum(not w["workload"].startswith(("gateway.", "ipip-tunnel-addr.")) for w in json.load(sys.stdin)))')
  line="route reduction: $nw workloads;"
  for t in tor-0 tor-1; do
    # blocks (a node's adjacent blocks may go as one), borrowed /32s, and the rack aggregates:
    # its own (a blackhole) and the other rack's (via the spine, 10.1.0.x)
    line+=$(frr_routes "$t" | awk -v t="$t" '
      $2 == "blackhole" || $2 ~ /^10\.1\.0\./ { agg++; next }
      $1 ~ /\/32$/ { b32++; next }
      { blocks++ }
      END { printf " %s holds %d routes (%d blocks, %d borrowed /32, %d rack aggregates);", t, NR, blocks, b32, agg }')
  done
  echo "$line the spine holds $(spine_routes | wc -l) (one per rack); a /32-per-workload design would need $nw at each ToR and at the spine"
}
