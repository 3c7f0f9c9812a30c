#!/usr/bin/env bash
# The spine-leaf lab: on a fresh Debian 12 machine, as root, installs the build and lab
# dependencies, builds blockd, deploys spine-leaf.clab.yml in network namespaces
# (tests/lab/clab-netns), runs the tutorial's steps with this lab's pools (default pool created
# then deleted, nodes labelled by rack, a pool per rack without encapsulation, five workloads
# through CNI), and prints: the pools, the workloads, each node's BGP status, each ToR's BGP
# table and kernel routes, the spine's table and the route reduction. Then it destroys the lab,
# unless --keep is given (then: clab-netns destroy -t ...).
# Options: --keep, --no-build (use an existing build). BLOCKD_BUILD_DIR: build folder (build/).
set -euo pipefail
keep=0 build_it=1 build_dir=${BLOCKD_BUILD_DIR:-}
for a in "$@"; do
  case $a in
    --keep) keep=1 ;;
    --no-build) build_it=0 ;;
    *) echo "lab.sh: unknown option $a (--keep, --no-build)" >&2; exit 1 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "lab.sh: run as root (network namespaces)" >&2; exit 1; }
topo=$(cd "$(dirname "$0")" && pwd)/spine-leaf.clab.yml
. "$(dirname "$topo")/steps.sh"
build_dir=${build_dir:-$top/build}
if [ $build_it = 1 ]; then
  bash "$top/tests/install-deps.sh"
  cmake -S "$top" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j2 --target blockd blockctl blockd-ipam
fi
export CLAB_NETNS_PATH="$build_dir/agent"
for b in blockd blockctl blockd-ipam; do
  [ -x "$build_dir/agent/$b" ] || { echo "lab.sh: $build_dir/agent/$b is not built" >&2; exit 2; }
done
clab() { "$top/tests/lab/clab-netns" "$1" "${lab_args[@]}" "${@:2}"; }
clab deploy --reconfigure
if [ $keep = 0 ]; then trap 'clab destroy' EXIT; else trap '[ $? = 0 ] || clab destroy' EXIT; fi
trap 'exit 130' INT TERM
clab inspect
wait_sessions 60
lab_steps

say "blockctl get ippool -o wide"
blockctl get ippool -o wide
say "blockctl get workloads -o wide"
blockctl get workloads -o wide
for n in 0 1 2 3; do
  say "blockctl node status   # on kube-node-$n"
  on "kube-node-$n" blockctl node status --socket /run/blockd/blockd.sock
done
# Routes reach the ToRs and the spine shortly after the workloads exist.
deadline=$((SECONDS + 15))
until [ "$(spine_routes | wc -l)" -ge 2 ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
for t in tor-0 tor-1; do
  say "vtysh -c 'show bgp ipv4 unicast'   # on $t: s = suppressed by the aggregate"
  vtysh "$t" -c 'show bgp ipv4 unicast'
  say "vtysh -c 'show ip route bgp'   # on $t: what it forwards with"
  vtysh "$t" -c 'show ip route bgp'
done
say "birdc show route   # on the spine"
birdc show route
echo
route_summary
if [ $keep = 1 ]; then
  echo
  echo "lab kept: $top/tests/lab/clab-netns exec -t $topo --node tor-0 -- vtysh --vty_socket /var/run/frr -c 'show bgp ipv4 unicast'"
  echo "          $top/tests/lab/clab-netns destroy -t $topo"
fi
