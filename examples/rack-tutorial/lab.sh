#!/usr/bin/env bash
# The rack tutorial as a running lab (README's main command). On a fresh Debian 12 machine, as
# root: installs the build and lab dependencies, builds blockd, deploys rack-tutorial.clab.yml in
# network namespaces (tests/lab/clab-netns), runs the tutorial's steps (default pool created then
# deleted, nodes labelled by rack, a pool per rack, five workloads through CNI), and prints:
# the pools, the workloads, each node's BGP status, the router's own route table and the route
# reduction. Then it destroys the lab, unless --keep is given (then: clab-netns destroy -t ...).
# Options (examples/lab-deploy.sh): --keep, --no-build. BLOCKD_BUILD_DIR: build folder (build/).
set -euo pipefail
topo=$(cd "$(dirname "$0")" && pwd)/rack-tutorial.clab.yml
. "$(dirname "$topo")/tutorial.sh"
. "$top/examples/lab-deploy.sh" "$@"
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
