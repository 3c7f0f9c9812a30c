#!/usr/bin/env bash
# The route-reflector lab: on a fresh Debian 12 machine, as root, installs the build and lab
# dependencies, builds blockd, deploys route-reflector.clab.yml (tests/lab/clab-netns: network
# namespaces, or containers with --runtime docker), applies Calico's route-reflector recipe
# (resources.yaml), runs the tutorial's steps with this lab's pools (nodes labelled by rack, a
# pool per rack without encapsulation, five workloads through CNI), and prints: the pools, the
# workloads, each node's BGP status (one peer: rr, by peerSelector), the routes kube-node-0
# received (reflected, next hop the owning node) and rr's table. Then it destroys the lab,
# unless --keep is given (then: clab-netns destroy -t ...).
# Options (examples/lab-deploy.sh): --keep, --no-build, --runtime netns|docker. BLOCKD_BUILD_DIR: build folder (build/).
set -euo pipefail
topo=$(cd "$(dirname "$0")" && pwd)/route-reflector.clab.yml
. "$(dirname "$topo")/steps.sh"
. "$top/examples/lab-deploy.sh" "$@"
reflector_steps
wait_sessions 90
tutorial_steps
show_cluster
say "blockctl routes received   # on kube-node-0: the other nodes' blocks, reflected by rr"
deadline=$((SECONDS + 15))
until [ "$(rr_routes | wc -l)" -ge 4 ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
on kube-node-0 blockctl routes received --socket /run/blockd/blockd.sock
say "vtysh -c 'show bgp ipv4 unicast'   # on rr: every block, next hop its node"
vtysh -c 'show bgp ipv4 unicast'
say "vtysh -c 'show ip route bgp'   # on rr: what it forwards between the racks with"
vtysh -c 'show ip route bgp'
[ $keep = 0 ] || lab_kept rr -- vtysh --vty_socket /var/run/frr -c "'show bgp ipv4 unicast'"
