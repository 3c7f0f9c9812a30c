# The labs' shared shell, sourced by each lab's steps file (rack-tutorial/tutorial.sh,
# spine-leaf/steps.sh, rack-dualstack/dualstack.sh), hence by every lab.sh and e2e lab test.
# Needs: $topo (the .clab.yml). Optional: $lab_name (a name other than the file's, for parallel
# runs), $pools_dir (where rack-0/1-ippool.yaml are; default: the topology's folder),
# $pool_note (said after each pool file), $router (the BIRD node birdc talks to; default router).
# Sets $top (the tree), lab_args and the tutorial's five workloads.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tutorial_dir=$top/examples/rack-tutorial
lab_args=(-t "$topo")
[ -n "${lab_name:-}" ] && lab_args+=(--name "$lab_name")
# The five workloads of Calico's tutorial, NAME:NODE (rack 0: kube-node-0/1, rack 1: 2/3).
workloads=(nginx-5c7588df-prx4z:kube-node-0 nginx-5c7588df-s7qw6:kube-node-1
  nginx-5c7588df-w7r7g:kube-node-2 nginx-5c7588df-62lnf:kube-node-3 nginx-5c7588df-pnsvv:kube-node-2)

# clab COMMAND [ARGS...]: tests/lab/clab-netns on this lab (deploy takes --runtime).
clab() { "$top/tests/lab/clab-netns" "$1" "${lab_args[@]}" "${@:2}"; }
# on NODE CMD...: CMD inside a node of the lab, with the node's own paths, under either runtime
# (a network namespace or a container: clab-netns knows which from the lab's state).
on() { clab exec --node "$1" -- "${@:2}"; }
# pod_exec NODE POD CMD...: CMD inside workload POD on NODE (pod.sh names the workload's
# namespace after the node's under the netns runtime, where all nodes share one host).
pod_exec() {
  on "$1" sh -c 'pod=$1; shift; exec ip netns exec "${CLAB_NETNS:+$CLAB_NETNS-}$pod" "$@"' pod "$2" "${@:3}"
}
# pod_ip NODE POD [4|6]: the workload's global address of that family (default 4).
pod_ip() { pod_exec "$1" "$2" ip -"${3:-4}" -o addr show dev eth0 scope global | awk '{print $4}' | cut -d/ -f1; }
# node_kill NODE SIGNAL NAME: signals the processes called NAME in NODE only.
node_kill() {
  if [ "$(lab_runtime)" = docker ]; then
    on "$1" pkill -"$2" -x "$3"
  else
    local p
    for p in $(ip netns pids "clab-${lab_name:-$(lab_file_name)}-$1"); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$3" ] && kill -"$2" "$p"
    done
  fi
}
# node_runs NODE NAME: a live (not zombie) process called NAME runs in NODE.
node_runs() {
  if [ "$(lab_runtime)" = docker ]; then
    on "$1" ps -eo stat=,comm= | awk -v n="$2" '$1 !~ /^Z/ && $2 == n { f = 1 } END { exit !f }'
  else
    local p
    for p in $(ip netns pids "clab-${lab_name:-$(lab_file_name)}-$1"); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && return 0
    done
    return 1
  fi
}
lab_file_name() { sed -n 's/^name: *//p' "$topo" | head -n1; }
# lab_runtime: netns or docker, from the deployed lab's state (clab-netns writes it).
lab_runtime() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("runtime", "netns"))' \
    "${CLAB_NETNS_STATE_DIR:-/tmp/clab-netns}/${lab_name:-$(lab_file_name)}/state.json"
}
blockctl() { on kube-node-0 blockctl --config /etc/blockd/blockd.yaml "$@"; }
birdc() { on "${router:-router}" birdc -s /run/bird/bird.ctl "$@"; }
# vtysh NODE -c CMD...: FRR's shell on one of the lab's FRR routers (the ToRs of rack-dual-tor and
# spine-leaf).
vtysh() { local node=$1; shift; on "$node" vtysh --vty_socket /var/run/frr "$@"; }
# frr_routes NODE: the FRR router's selected BGP routes in its kernel table ("PREFIX NEXTHOP"
# lines, sorted; a route without a next-hop address, such as an aggregate's, says "blackhole").
frr_routes() {
  vtysh "$1" -c 'show ip route bgp json' 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for prefix, routes in json.load(sys.stdin).items():
    for r in routes:
        if r.get("selected"):
            for nh in r.get("nexthops", []):
                print(prefix, nh.get("ip", "blackhole"))' | sort
}
say() { printf '\n$ %s\n' "$*"; }

# add_pod NODE NAME [--ipv6]: a workload through CNI (ptp + blockd-ipam) on NODE; prints its
# address(es). The agents learn new labels and pools through the datastore watch; until then
# the node has no pool, so an early ADD is retried for a few seconds.
add_pod() {
  local addr deadline=$((SECONDS + 15)) err
  err=$(mktemp)
  until addr=$(on "$1" bash /etc/blockd/pod.sh add "$2" "${@:3}" 2>"$err"); do
    if [ $SECONDS -ge $deadline ]; then cat "$err" >&2; rm -f "$err"; return 1; fi
    sleep 0.5
  done
  rm -f "$err"
  echo "$addr"
}

# tutorial_steps [--ipv6]: the tutorial from a fresh install to five running workloads, printing
# each step: the default pool(s) created then deleted, nodes labelled by rack, a pool per rack
# (with --ipv6 also the IPv6 default and rack pools of $ipv6_pools_dir), the five workloads.
tutorial_steps() {
  local v6=${1:-} n r w name node addr
  if [ -z "$v6" ]; then
    say "blockctl create -f default-pool.yaml   # what a fresh install has"
    blockctl create -f - <"$tutorial_dir/default-pool.yaml"
    say "blockctl delete ippools default-ipv4-ippool"
    blockctl delete ippools default-ipv4-ippool
  else
    say "blockctl create -f default-pool.yaml -f default-ipv6-pool.yaml   # what a fresh dual-stack install has"
    { cat "$tutorial_dir/default-pool.yaml"; echo ---; cat "$ipv6_pools_dir/default-ipv6-pool.yaml"; } | blockctl create -f -
    say "blockctl delete ippools default-ipv4-ippool; blockctl delete ippools default-ipv6-ippool"
    blockctl delete ippools default-ipv4-ippool
    blockctl delete ippools default-ipv6-ippool
  fi
  for n in 0 1 2 3; do
    say "blockctl label nodes kube-node-$n rack=$((n / 2))"
    blockctl label nodes "kube-node-$n" "rack=$((n / 2))"
  done
  for r in 0 1; do
    if [ -z "$v6" ]; then
      say "blockctl create -f rack-$r-ippool.yaml${pool_note:+   # $pool_note}"
      blockctl create -f - <"${pools_dir:-$(dirname "$topo")}/rack-$r-ippool.yaml"
    else
      say "blockctl create -f rack-$r-ippool.yaml -f rack-$r-ippool-v6.yaml"
      { cat "$tutorial_dir/rack-$r-ippool.yaml"; echo ---; cat "$ipv6_pools_dir/rack-$r-ippool-v6.yaml"; } | blockctl create -f -
    fi
  done
  say "five workloads through CNI (ptp + blockd-ipam${v6:+ with \"ipv6\": true}), as the kubelet would create them"
  for w in "${workloads[@]}"; do
    name=${w%:*} node=${w#*:}
    addr=$(add_pod "$node" "$name" $v6) || return 1
    printf '%-22s on %s: %s\n' "$name" "$node" "$(echo $addr)"
  done
}

# show_cluster [NOTE]: what every lab.sh prints first: the pools, the workloads (NOTE after the
# command) and each node's BGP status.
show_cluster() {
  local n
  say "blockctl get ippool -o wide"
  blockctl get ippool -o wide
  say "blockctl get workloads -o wide${1:+   # $1}"
  blockctl get workloads -o wide
  for n in 0 1 2 3; do
    say "blockctl node status   # on kube-node-$n"
    on "kube-node-$n" blockctl node status --socket /run/blockd/blockd.sock
  done
}

# lab_kept CMD...: what a lab.sh --keep prints last: a command to try and how to destroy.
lab_kept() {
  echo
  echo "lab kept: $top/tests/lab/clab-netns exec ${lab_args[*]} --node $*"
  echo "          $top/tests/lab/clab-netns destroy ${lab_args[*]}"
}

# node_logs: the last lines of every node's blockd and etcd log (for a failed test or lab).
node_logs() {
  local n
  for n in $(clab inspect --format json | python3 -c 'import json,sys; print(" ".join(r["name"] for r in json.load(sys.stdin) if r["state"] == "running"))'); do
    on "$n" sh -c 'for f in /var/log/blockd/*.log /var/log/etcd/*.log; do [ -f "$f" ] && { echo "--- '"$n"': $f"; tail -n 30 "$f"; }; done; true' 2>/dev/null || true
  done
}
