# The dual-stack rack tutorial's steps against the deployed rack-dualstack lab; sourced by lab.sh
# and by tests/e2e/lab/rack_dualstack.sh. Reuses ../rack-tutorial/tutorial.sh (on, blockctl,
# birdc, say, wait_sessions, the five workloads) and its pool files for IPv4. Needs: $topo (the
# .clab.yml); optional $lab_name (a name other than the file's, for parallel runs), $runner.
ds_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab_name=${lab_name:-rack-dualstack}
. "$ds_here/../rack-tutorial/tutorial.sh"
tutorial_here=$here
# Two sessions per node at the router: kube_node_N (IPv4) and kube_node_N_v6 (IPv6).
sessions=8

# dualstack_steps: the tutorial from a fresh dual-stack install to five running workloads,
# each with one IPv4 and one IPv6 address, printing each step.
dualstack_steps() {
  say "blockctl create -f default-pool.yaml -f default-ipv6-pool.yaml   # what a fresh dual-stack install has"
  { cat "$tutorial_here/default-pool.yaml"; echo ---; cat "$ds_here/default-ipv6-pool.yaml"; } | blockctl create -f -
  say "blockctl delete ippools default-ipv4-ippool; blockctl delete ippools default-ipv6-ippool"
  blockctl delete ippools default-ipv4-ippool
  blockctl delete ippools default-ipv6-ippool
  local n r
  for n in 0 1 2 3; do
    say "blockctl label nodes kube-node-$n rack=$((n / 2))"
    blockctl label nodes "kube-node-$n" "rack=$((n / 2))"
  done
  for r in 0 1; do
    say "blockctl create -f rack-$r-ippool.yaml -f rack-$r-ippool-v6.yaml"
    { cat "$tutorial_here/rack-$r-ippool.yaml"; echo ---; cat "$ds_here/rack-$r-ippool-v6.yaml"; } | blockctl create -f -
  done
  say "five workloads through CNI (ptp + blockd-ipam with \"ipv6\": true), as the kubelet would create them"
  local w name node addrs deadline
  for w in "${workloads[@]}"; do
    name=${w%:*} node=${w#*:}
    # The agents learn the new labels and pools through the datastore watch; until then the
    # node has no pool, so an early ADD is retried for a few seconds.
    deadline=$((SECONDS + 15))
    until addrs=$(on "$node" bash /etc/blockd/pod.sh add "$name" --ipv6 2>"/tmp/pod-add.$$"); do
      if [ $SECONDS -ge $deadline ]; then cat "/tmp/pod-add.$$" >&2; rm -f "/tmp/pod-add.$$"; return 1; fi
      sleep 0.5
    done
    rm -f "/tmp/pod-add.$$"
    printf '%-22s on %s: %s\n' "$name" "$node" "$(echo $addrs)"
  done
}

# dualstack_summary: per family, workloads, routes at the ToR, and what a /32 (/128)-per-workload
# design would need.
dualstack_summary() {
  local nw v4 v6
  # Pod gateways (handle gateway.<node>.<pool>) are allocations, not workloads.
  nw=$(blockctl get workloads -o json | python3 -c 'import json,sys
ws = [w for w in json.load(sys.stdin) if not w["workload"].startswith("gateway.")]
print(sum(":" not in w["address"] for w in ws), sum(":" in w["address"] for w in ws))')
  v4=$(birdc show route 2>/dev/null | grep -cE '^192\.168\.' || true)
  v6=$(birdc show route 2>/dev/null | grep -cE '^fd00:10:' || true)
  echo "route reduction: IPv4: ${nw% *} workload addresses, $v4 routes at the ToR (a /32 per workload: ${nw% *});" \
    "IPv6: ${nw#* } workload addresses, $v6 routes at the ToR (a /128 per workload: ${nw#* })"
}
