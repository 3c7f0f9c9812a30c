# The route-reflector lab's steps against the deployed route-reflector.clab.yml; sourced by
# lab.sh and by tests/e2e/lab/route_reflector.sh. The shared part (on, blockctl, the tutorial's
# steps with this folder's pools, ...) is examples/lab-lib.sh: see there for its variables.
pool_note="ipipMode Never, vxlanMode Never"
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lab-lib.sh"
vtysh() { on rr vtysh --vty_socket /var/run/frr "$@"; }   # vtysh -c CMD, on the reflector

# reflector_steps: Calico's route-reflector recipe (resources.yaml), as an operator applies it.
reflector_steps() {
  say "blockctl apply -f resources.yaml   # BGPConfiguration (no mesh, AS 64512), the rr Node, a BGPPeer by peerSelector"
  blockctl apply -f - <"$(dirname "$topo")/resources.yaml"
  say "blockctl get bgppeers"
  blockctl get bgppeers
}

# clients_established: how many route-reflector clients rr has in Established.
clients_established() {
  vtysh -c 'show bgp ipv4 unicast summary json' 2>/dev/null | /usr/bin/python3 -c '
import json, sys
try: peers = json.load(sys.stdin).get("peers", {})
except ValueError: peers = {}
print(sum(p.get("state") == "Established" for p in peers.values()))'
}
# wait_sessions SECONDS: until rr has its four clients.
wait_sessions() {
  local deadline=$((SECONDS + $1))
  until [ "$(clients_established)" = 4 ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "the route reflector's sessions did not all reach Established:" >&2
      vtysh -c 'show bgp summary' >&2 || true
      return 1
    fi
    sleep 0.3
  done
}

# rr_routes: rr's BGP routes as installed in its kernel ("PREFIX NEXTHOP" lines, sorted).
rr_routes() {
  vtysh -c 'show ip route bgp json' 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for prefix, routes in json.load(sys.stdin).items():
    for r in routes:
        if r.get("selected"):
            for nh in r.get("nexthops", []):
                print(prefix, nh.get("ip", "blackhole"))' | sort
}
