#!/usr/bin/env bash
# The rack tutorial with VXLAN CrossSubnet pools as a running lab. As root on Debian 12: installs
# the build and lab dependencies, builds blockd, deploys rack-vxlan.clab.yml (tests/lab/clab-netns:
# network namespaces, or containers with --runtime docker), runs the tutorial's steps with this folder's pools (vxlanMode
# CrossSubnet), and prints: the pools, the workloads, each node's BGP status, kube-node-0's
# kernel routes, VXLAN device, neighbour and FDB entries, the router's own route table, and a
# cross-rack and a same-rack TCP exchange with the VXLAN packet counters around them. Then it
# destroys the lab, unless --keep is given (then: clab-netns destroy -t ...).
# Options (examples/lab-deploy.sh): --keep, --no-build, --runtime netns|docker. BLOCKD_BUILD_DIR: build folder (build/).
set -euo pipefail
topo=$(cd "$(dirname "$0")" && pwd)/rack-vxlan.clab.yml
pools_dir=$(dirname "$topo") lab_name=${lab_name:-rack-vxlan}
. "$pools_dir/../rack-tutorial/tutorial.sh"
. "$top/examples/lab-deploy.sh" "$@"
wait_sessions 60
tutorial_steps
show_cluster "vxlan-tunnel-addr.*: each node's VTEP address"
# The agents learn each other's VTEPs through the datastore watch: wait for rack 1's two blocks.
deadline=$((SECONDS + 30))
until [ "$(on kube-node-0 ip route show proto 200 | grep -c 'dev vxlan.blockd')" -ge 2 ] || [ $SECONDS -ge $deadline ]; do
  sleep 0.5
done
say "ip route show proto 200   # kube-node-0: rack 0 direct, rack 1 in VXLAN"
on kube-node-0 ip route show proto 200
say "ip -d link show vxlan.blockd; ip neigh show dev vxlan.blockd; bridge fdb show dev vxlan.blockd   # kube-node-0"
on kube-node-0 ip -d link show vxlan.blockd
on kube-node-0 ip neigh show dev vxlan.blockd
on kube-node-0 bridge fdb show dev vxlan.blockd
say "birdc show route   # on the router"
birdc show route

# Pod-to-pod TCP, once across the racks and once within rack 0, with kube-node-0's VXLAN
# transmit counter around each: only the cross-rack exchange goes through the tunnel.
vx_tx() {  # from `ip -s`: under the netns runtime a node's /sys is still the host's
  on kube-node-0 ip -s -j link show dev vxlan.blockd | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'
}
tcp() {  # tcp FROM_NODE FROM_POD TO_NODE TO_POD
  local to_ip port=$((20000 + RANDOM % 20000)) before
  to_ip=$(pod_ip "$3" "$4") before=$(vx_tx)
  pod_exec "$3" "$4" python3 -c "
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$to_ip', $port)); s.listen(1); s.settimeout(10); c, a = s.accept(); c.sendall(b'hello ' + a[0].encode())" </dev/null &
  sleep 0.5
  pod_exec "$1" "$2" python3 -c "
import socket; print(socket.create_connection(('$to_ip', $port), timeout=5).recv(100).decode())" </dev/null
  wait
  echo "kube-node-0 vxlan.blockd tx_packets: $before -> $(vx_tx)"
}
say "TCP (kube-node-0) -> kube-node-2, across the racks"
tcp kube-node-0 nginx-5c7588df-prx4z kube-node-2 nginx-5c7588df-w7r7g
say "TCP (kube-node-0) -> kube-node-1, within rack 0"
tcp kube-node-0 nginx-5c7588df-prx4z kube-node-1 nginx-5c7588df-s7qw6
echo
route_summary
[ $keep = 0 ] || lab_kept kube-node-0 -- ip route show proto 200
