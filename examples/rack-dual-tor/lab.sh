#!/usr/bin/env bash
# The dual-ToR lab: on a fresh Debian 12 machine, as root, installs the build and lab
# dependencies, builds blockd, deploys rack-dual-tor.clab.yml (tests/lab/clab-netns: network
# namespaces, or containers with --runtime docker), creates the pool and tor-b's BGPPeers, a
# workload on each node through CNI, and prints: each node's BGP and BFD status, each ToR's BGP
# sessions, BFD peers and routes, and each node's multipath route to the other's block. Then it
# fails tor-a silently (nftables drops everything, links up) and prints the same again: BFD
# Down, tor-a's next hop gone, the pods still reaching each other through tor-b. Then it destroys
# the lab, unless --keep is given (then: clab-netns destroy -t ...).
# Options (examples/lab-deploy.sh): --keep, --no-build, --runtime netns|docker. BLOCKD_BUILD_DIR: build folder (build/).
set -euo pipefail
topo=$(cd "$(dirname "$0")" && pwd)/rack-dual-tor.clab.yml
. "$(dirname "$topo")/steps.sh"
. "$top/examples/lab-deploy.sh" "$@"
rack_steps
show_state() {
  local n t
  for n in 0 1; do
    say "blockctl node status   # on kube-node-$n"
    on "kube-node-$n" blockctl node status --socket /run/blockd/blockd.sock
    say "ip route show proto 200   # on kube-node-$n: the other node's block via both ToRs"
    on "kube-node-$n" ip route show proto 200
  done
  for t in tor-a tor-b; do
    say "vtysh -c 'show bfd peers brief'   # on $t"
    vtysh $t -c 'show bfd peers brief'
    say "vtysh -c 'show ip route bgp'   # on $t"
    vtysh $t -c 'show ip route bgp'
  done
}
show_state
pod1=$(pod_ip kube-node-1 pod-1)
say "ping -c 3 $pod1   # from pod-0 on kube-node-0"
pod_exec kube-node-0 pod-0 ping -c 3 -i 0.2 "$pod1"
say "tor-a fails silently: nft drops everything it receives or sends; its links stay up"
tor_fail tor-a
sleep 1
show_state
say "ping -c 3 $pod1   # from pod-0 on kube-node-0, now through tor-b alone"
pod_exec kube-node-0 pod-0 ping -c 3 -i 0.2 "$pod1"
[ $keep = 0 ] || lab_kept kube-node-0 -- ip route show proto 200
