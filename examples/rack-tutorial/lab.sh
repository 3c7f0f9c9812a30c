#!/usr/bin/env bash
# The rack tutorial as a running lab (README's main command). On a fresh Debian 12 machine, as
# root: installs the build and lab dependencies, builds blockd, deploys rack-tutorial.clab.yml
# (tests/lab/clab-netns: network namespaces, or containers with --runtime docker), runs the
# tutorial's steps (default pool created then deleted, nodes labelled by rack, a pool per rack,
# five workloads through CNI), and prints: the pools, the workloads, each node's BGP status, the
# router's own route table and the route reduction. Then it destroys the lab, unless --keep is
# given (then: clab-netns destroy -t ...).
# Options (examples/lab-deploy.sh): --keep, --no-build, --runtime netns|docker.
# BLOCKD_BUILD_DIR: build folder (build/).
set -euo pipefail
topo=$(cd "$(dirname "$0")" && pwd)/rack-tutorial.clab.yml
. "$(dirname "$topo")/tutorial.sh"
. "$top/examples/lab-deploy.sh" "$@"
wait_sessions 60
tutorial_steps
show_cluster
say "birdc show route   # on the router"
birdc show route
echo
route_summary
[ $keep = 0 ] || lab_kept kube-node-0 -- blockctl --config /etc/blockd/blockd.yaml get workloads
