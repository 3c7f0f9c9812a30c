#!/usr/bin/env bash
# The spine-leaf lab: on a fresh Debian 12 machine, as root, installs the build and lab
# dependencies, builds blockd, deploys spine-leaf.clab.yml (tests/lab/clab-netns: network
# namespaces, or containers with --runtime docker), runs the tutorial's steps with this lab's pools (default pool created
# then deleted, nodes labelled by rack, a pool per rack without encapsulation, five workloads
# through CNI), and prints: the pools, the workloads, each node's BGP status, each ToR's BGP
# table and kernel routes, the spine's table and the route reduction. Then it destroys the lab,
# unless --keep is given (then: clab-netns destroy -t ...).
# Options (examples/lab-deploy.sh): --keep, --no-build, --runtime netns|docker. BLOCKD_BUILD_DIR: build folder (build/).
set -euo pipefail
topo=$(cd "$(dirname "$0")" && pwd)/spine-leaf.clab.yml
. "$(dirname "$topo")/steps.sh"
. "$top/examples/lab-deploy.sh" "$@"
wait_sessions 90
tutorial_steps
show_cluster
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
[ $keep = 0 ] || lab_kept tor-0 -- vtysh --vty_socket /var/run/frr -c "'show bgp ipv4 unicast'"
