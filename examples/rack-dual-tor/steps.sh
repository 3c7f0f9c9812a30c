# The dual-ToR lab's steps against the deployed rack-dual-tor.clab.yml; sourced by lab.sh, by
# tests/e2e/lab/rack_dual_tor.sh and by tests/bench/bfd/dual_tor_bench.sh. The shared part (on,
# blockctl, add_pod, pod_exec, vtysh, frr_routes, ...) is examples/lab-lib.sh: see there for its
# variables.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lab-lib.sh"
dual_tor_dir=$top/examples/rack-dual-tor

# up_at_tor TOR: how many of the ToR's two node sessions are Established with their BFD Up.
up_at_tor() {
  local bgp bfd
  bgp=$(vtysh "$1" -c 'show bgp ipv4 unicast summary json' 2>/dev/null) || bgp='{}'
  bfd=$(vtysh "$1" -c 'show bfd peers json' 2>/dev/null) || bfd='[]'
  /usr/bin/python3 -c '
import json, sys
try: peers = json.loads(sys.argv[1]).get("peers", {})
except ValueError: peers = {}
try: bfd = {p["peer"]: p.get("status") for p in json.loads(sys.argv[2])}
except (ValueError, KeyError, TypeError): bfd = {}
print(sum(p.get("state") == "Established" and bfd.get(a) == "up" for a, p in peers.items()))' "$bgp" "$bfd"
}
# wait_sessions SECONDS: until each ToR has both node sessions Established, BFD Up.
wait_sessions() {
  local deadline=$((SECONDS + $1))
  until [ "$(up_at_tor tor-a)" = 2 ] && [ "$(up_at_tor tor-b)" = 2 ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "the rack's BGP/BFD sessions did not all come up:" >&2
      local t
      for t in tor-a tor-b; do vtysh $t -c 'show bgp summary' >&2 || true; vtysh $t -c 'show bfd peers brief' >&2 || true; done
      return 1
    fi
    sleep 0.3
  done
}

# rack_steps: the rack's pool, the BGPPeers of tor-b (sourceAddress None), then a workload on
# each node (pod-0 on kube-node-0, pod-1 on kube-node-1), printing each step.
rack_steps() {
  # The BGPPeers name their node: both agents must have registered theirs first.
  local deadline=$((SECONDS + 60))
  until [ "$(blockctl get nodes -o json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))' 2>/dev/null)" = 2 ]; do
    [ $SECONDS -lt $deadline ] || { echo "the nodes did not register" >&2; return 1; }
    sleep 0.5
  done
  say "blockctl create -f pool.yaml   # 192.168.0.0/24, no encapsulation"
  blockctl create -f - <"$dual_tor_dir/pool.yaml"
  say "blockctl create -f peers.yaml   # tor-b for each node, sourceAddress: None, BFD 100 ms x 3"
  blockctl create -f - <"$dual_tor_dir/peers.yaml"
  wait_sessions 90 || return 1
  say "a workload on each node through CNI (ptp + blockd-ipam)"
  local n addr
  for n in 0 1; do
    addr=$(add_pod "kube-node-$n" "pod-$n") || return 1
    printf 'pod-%s on kube-node-%s: %s\n' "$n" "$n" "$addr"
  done
}

# node_route NODE PREFIX: the node's blockd route to PREFIX (`ip route show`, one line, next
# hops joined by spaces), empty when there is none.
node_route() { on "$1" ip route show "$2" proto 200 | tr -s ' \t\n' ' ' | sed 's/ $//'; }

# tor_fail TOR / tor_heal TOR: the ToR fails silently: every packet it receives or sends is
# dropped by nftables in its namespace (table blockd_fail), its links stay up.
tor_fail() {
  on "$1" nft add table inet blockd_fail
  on "$1" nft "add chain inet blockd_fail in { type filter hook prerouting priority -300; policy drop; }"
  on "$1" nft "add chain inet blockd_fail out { type filter hook output priority -300; policy drop; }"
}
tor_heal() { on "$1" nft delete table inet blockd_fail; }
