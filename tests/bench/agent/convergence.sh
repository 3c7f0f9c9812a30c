#!/usr/bin/env bash
# Convergence in the rack tutorial's topology (examples/rack-tutorial, network namespaces): from a
# CNI ADD that claims a new block on kube-node-0 to the block's route in the BIRD ToR's kernel
# table, and from the DEL that empties the block to the route's removal (convergence.py), each
# split at the UPDATE's arrival on the ToR's link: blockd's part before it, BIRD's after.
# Needs root. Usage: convergence.sh BUILD_DIR [SAMPLES] (default 200)
set -euo pipefail
build=$(cd "${1:?usage: convergence.sh BUILD_DIR [SAMPLES]}" && pwd)
samples=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../e2e/lib.sh"
lab_test_start rack-tutorial tutorial.sh cv "$build" >/dev/null

clab deploy --runtime netns >/dev/null
wait_sessions 60 || fail "BGP sessions"
blockctl label nodes kube-node-0 rack=0 >/dev/null
# Workload addresses only: with Tunnel use the node's IPIP tunnel address (Calico's
# ipv4IPIPTunnelAddr) would hold a block, and every ADD must claim a new one.
{ cat "$(dirname "$topo")/rack-0-ippool.yaml"; echo "  allowedUses: [Workload]"; } | blockctl create -f - >/dev/null
sock=$(on kube-node-0 echo /run/blockd/blockd.sock)
python3 "$here/convergence.py" "clab-$lab_name-router" "clab-$lab_name-kube-node-0" "$sock" \
  "$build/agent/blockd-ipam" 192.168.0. "$samples" eth1  # eth1: the router's link to kube-node-0
