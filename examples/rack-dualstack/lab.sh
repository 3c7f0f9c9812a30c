#!/usr/bin/env bash
# The dual-stack rack tutorial as a running lab. On a fresh Debian 12 machine, as root: installs
# the build and lab dependencies, builds blockd, deploys rack-dualstack.clab.yml
# (tests/lab/clab-netns: network namespaces, or containers with --runtime docker), runs the tutorial's steps in both families (default pools
# created then deleted, nodes labelled by rack, an IPv4 and an IPv6 pool per rack, five workloads
# through CNI, each with one address of each family), and prints: the pools, the workloads, each
# node's BGP status, the router's IPv4 and IPv6 tables and the route reduction per family. Then
# it destroys the lab, unless --keep is given (then: clab-netns destroy -t ...).
# Options (examples/lab-deploy.sh): --keep, --no-build, --runtime netns|docker. BLOCKD_BUILD_DIR: build folder (build/).
set -euo pipefail
topo=$(cd "$(dirname "$0")" && pwd)/rack-dualstack.clab.yml
. "$(dirname "$topo")/dualstack.sh"
. "$top/examples/lab-deploy.sh" "$@"
wait_sessions 60 "$sessions"
tutorial_steps --ipv6
show_cluster
say "birdc show route table master4   # on the router"
birdc show route table master4
say "birdc show route table master6   # on the router"
birdc show route table master6
say "ip -6 route show proto 200   # on kube-node-0: the other nodes' IPv6 blocks"
on kube-node-0 ip -6 route show proto 200
echo
dualstack_summary
[ $keep = 0 ] || lab_kept kube-node-0 -- blockctl --config /etc/blockd/blockd.yaml get workloads
