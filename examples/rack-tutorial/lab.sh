#!/usr/bin/env bash
# The rack tutorial as a running lab (README's main command). On a fresh Debian 12 machine, as
# root: installs the build and lab dependencies, builds blockd, deploys rack-tutorial.clab.yml in
# network namespaces (tests/lab/clab-netns), runs the tutorial's steps (default pool created then
# deleted, nodes labelled by rack, a pool per rack, five workloads through CNI), and prints:
# the pools, the workloads, each node's BGP status, the router's own route table and the route
# reduction. Then it destroys the lab, unless --keep is given (then: clab-netns destroy -t ...).
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
topo=$(cd "$(dirname "$0")" && pwd)/rack-tutorial.clab.yml
. "$(dirname "$topo")/tutorial.sh"
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
wait_sessions 30
tutorial_steps

say "blockctl get ippool -o wide"
blockctl get ippool -o wide
say "blockctl get workloads -o wide"
blockctl get workloads -o wide
for n in 0 1 2 3; do
  say "blockctl node status   # on kube-node-$n"
  if ! on "kube-node-$n" blockctl node status --socket /run/blockd/blockd.sock; then
    echo "(this build's blockctl has no 'node status': the agent's /v1/peers instead)"
    on "kube-node-$n" curl -s --unix-socket /run/blockd/blockd.sock http://blockd/v1/peers; echo
  fi
done
say "birdc show route   # on the router"
birdc show route
echo
route_summary
if [ $keep = 1 ]; then
  echo
  echo "lab kept: $top/tests/lab/clab-netns exec -t $topo --node kube-node-0 -- blockctl --config /etc/blockd/blockd.yaml get workloads"
  echo "          $top/tests/lab/clab-netns destroy -t $topo"
fi
