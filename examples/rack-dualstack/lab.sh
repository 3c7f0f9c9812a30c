#!/usr/bin/env bash
# The dual-stack rack tutorial as a running lab. On a fresh Debian 12 machine, as root: installs
# the build and lab dependencies, builds blockd, deploys rack-dualstack.clab.yml in network
# namespaces (tests/lab/clab-netns), runs the tutorial's steps in both families (default pools
# created then deleted, nodes labelled by rack, an IPv4 and an IPv6 pool per rack, five workloads
# through CNI, each with one address of each family), and prints: the pools, the workloads, each
# node's BGP status, the router's IPv4 and IPv6 tables and the route reduction per family. Then
# it destroys the lab, unless --keep is given (then: clab-netns destroy -t ...).
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
topo=$(cd "$(dirname "$0")" && pwd)/rack-dualstack.clab.yml
. "$(dirname "$topo")/dualstack.sh"
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
wait_sessions 30 "$sessions"
dualstack_steps

say "blockctl get ippool -o wide"
blockctl get ippool -o wide
say "blockctl get workloads -o wide"
blockctl get workloads -o wide
for n in 0 1 2 3; do
  say "blockctl node status   # on kube-node-$n"
  on "kube-node-$n" blockctl node status --socket /run/blockd/blockd.sock
done
say "birdc show route table master4   # on the router"
birdc show route table master4
say "birdc show route table master6   # on the router"
birdc show route table master6
say "ip -6 route show proto 200   # on kube-node-0: the other nodes' IPv6 blocks"
on kube-node-0 ip -6 route show proto 200
echo
dualstack_summary
if [ $keep = 1 ]; then
  echo
  echo "lab kept: $top/tests/lab/clab-netns exec -t $topo --node kube-node-0 -- blockctl --config /etc/blockd/blockd.yaml get workloads"
  echo "          $top/tests/lab/clab-netns destroy -t $topo"
fi
