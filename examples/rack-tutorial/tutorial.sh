# The reference tutorial's steps against the deployed rack-tutorial lab; sourced by lab.sh and by
# tests/e2e/lab/rack_tutorial.sh (examples/rack-vxlan reuses it with its own pools). The shared
# part (on, blockctl, birdc, tutorial_steps, ...) is examples/lab-lib.sh: see there for the
# variables it reads ($topo, $lab_name, $pools_dir).
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lab-lib.sh"

# wait_sessions SECONDS [COUNT]: until the router has all COUNT (default four) sessions Established.
wait_sessions() {
  local deadline=$((SECONDS + $1))
  until [ "$(birdc show protocols 2>/dev/null | grep -c 'kube_node_.*Established')" = "${2:-4}" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "the router's BGP sessions did not all reach Established:" >&2
      birdc show protocols >&2 || true
      return 1
    fi
    sleep 0.3
  done
}

# route_summary: blockctl's route reduction from the store, then what the ToR really holds:
# workloads, routes at the ToR, and what a /32-per-workload design would need.
route_summary() {
  local nw routes blocks32
  say "blockctl routes   # route reduction, from the datastore"
  blockctl routes
  # A node's own addresses (its pods' gateway, its VXLAN tunnel address) are not workloads.
  nw=$(blockctl routes -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["workloads"])')
  routes=$(birdc show route 2>/dev/null | grep -cE '^192\.168\.' || true)
  blocks32=$(birdc show route 2>/dev/null | grep -cE '^192\.168\.[0-9.]+/32' || true)
  echo "at the router: $nw workloads; the ToR holds $routes routes for them ($((routes - blocks32)) blocks, $blocks32 borrowed /32); a /32-per-workload design would need $nw"
}
