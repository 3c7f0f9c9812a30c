# The reference tutorial's steps against the deployed rack-tutorial lab; sourced by lab.sh and by
# tests/e2e/lab/rack_tutorial.sh. Needs: $topo (the .clab.yml); optional $lab_name (a name other
# than the file's, for parallel runs), $runner ("clab-netns", the default, or "containerlab"),
# $pools_dir (where rack-0/1-ippool.yaml are: this folder unless set, examples/rack-vxlan sets it).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
runner=${runner:-clab-netns}
lab_args=(-t "$topo")
[ -n "${lab_name:-}" ] && lab_args+=(--name "$lab_name")
# The five workloads of the tutorial, NAME:NODE.
workloads=(nginx-5c7588df-prx4z:kube-node-0 nginx-5c7588df-s7qw6:kube-node-1
  nginx-5c7588df-w7r7g:kube-node-2 nginx-5c7588df-62lnf:kube-node-3 nginx-5c7588df-pnsvv:kube-node-2)

# on NODE CMD...: run CMD inside a node of the lab (paths are the node's own, as in a container).
on() {
  local node=$1; shift
  if [ "$runner" = containerlab ]; then
    docker exec -i "clab-${lab_name:-rack-tutorial}-$node" "$@"
  else
    "$top/tests/lab/clab-netns" exec "${lab_args[@]}" --node "$node" -- "$@"
  fi
}
blockctl() { on kube-node-0 blockctl --config /etc/blockd/blockd.yaml "$@"; }
birdc() { on router birdc -s /run/bird/bird.ctl "$@"; }
say() { printf '\n$ %s\n' "$*"; }

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

# tutorial_steps: the tutorial from a fresh install to five running workloads, printing each step.
tutorial_steps() {
  say "blockctl create -f default-pool.yaml   # what a fresh install has"
  blockctl create -f - <"$here/default-pool.yaml"
  say "blockctl delete ippools default-ipv4-ippool"
  blockctl delete ippools default-ipv4-ippool
  for n in 0 1 2 3; do
    say "blockctl label nodes kube-node-$n rack=$((n / 2))"
    blockctl label nodes "kube-node-$n" "rack=$((n / 2))"
  done
  for r in 0 1; do
    say "blockctl create -f rack-$r-ippool.yaml"
    blockctl create -f - <"${pools_dir:-$here}/rack-$r-ippool.yaml"
  done
  say "five workloads through CNI (ptp + blockd-ipam), as the kubelet would create them"
  local w name node addr deadline
  for w in "${workloads[@]}"; do
    name=${w%:*} node=${w#*:}
    # The agents learn the new labels and pools through the datastore watch; until then the
    # node has no pool, so an early ADD is retried for a few seconds.
    deadline=$((SECONDS + 15))
    until addr=$(on "$node" bash /etc/blockd/pod.sh add "$name" 2>"/tmp/pod-add.$$"); do
      if [ $SECONDS -ge $deadline ]; then cat "/tmp/pod-add.$$" >&2; rm -f "/tmp/pod-add.$$"; return 1; fi
      sleep 0.5
    done
    rm -f "/tmp/pod-add.$$"
    printf '%-22s on %s: %s\n' "$name" "$node" "$addr"
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
