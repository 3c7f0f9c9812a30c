#!/usr/bin/env bash
# The dual-ToR lab (examples/rack-dual-tor/rack-dual-tor.clab.yml, network namespaces): two FRR
# ToRs (tor-a AS 65101, tor-b AS 65102, bfdd, profile 100 ms x 3), two dual-homed blockd nodes
# (AS 65010, 65011, their own address a /32 on lo), peering with tor-a as a config peer with
# localAddress and with tor-b through a BGPPeer with sourceAddress None, BFD on every session,
# one pool without encapsulation, a workload on each node through CNI. Asserts:
#   1. each ToR has both node sessions Established with BFD Up (so each session starts from the
#      node's address on that ToR's link: FRR peers with those addresses alone);
#   2. each node's block reached both ToRs, in their kernels, next hop the node's address on
#      that ToR's link;
#   3. each node routes the other node's block with one multipath route via both ToRs (ECMP);
#   4. TCP between the pods, both ways;
#   5. tor-a fails silently (nftables drops everything in its namespace; links stay up): each
#      node's route keeps tor-b's next hop alone, and TCP between the pods still works both ways
#      (through tor-b: tor-a forwards nothing). The loss of a 100 pps ping across the failure
#      is printed, not asserted (tests/bench/bfd/dual_tor_bench.sh measures it);
#   6. tor-a heals: BFD and BGP come back, and the multipath routes are whole again.
# Needs root. Usage: rack_dual_tor.sh BUILD_DIR
set -euo pipefail
export PATH=/usr/bin:/usr/sbin:$PATH
build=$(cd "${1:?usage: rack_dual_tor.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../lib.sh"
lab_test_start rack-dual-tor steps.sh dt "$build"
lab_failure_report() {
  local t n
  for t in tor-a tor-b; do vtysh $t -c 'show bgp summary'; vtysh $t -c 'show bfd peers brief'; frr_routes $t; done
  for n in 0 1; do on kube-node-$n blockctl node status --socket /run/blockd/blockd.sock; on kube-node-$n ip route; done
}

clab deploy --runtime netns
rack_steps || fail "pool, peers, sessions or workloads"
echo "ok: each ToR has both node sessions Established, BFD Up"

ip0=$(pod_ip kube-node-0 pod-0)
ip1=$(pod_ip kube-node-1 pod-1)
block() { /usr/bin/python3 -c "import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1] + '/26', strict=False))" "$1"; }
block0=$(block "$ip0") block1=$(block "$ip1")
# Node n's link to tor-a is 10.10.0.2n/31 (the ToR at 2n, the node at 2n+1), to tor-b 10.20.0.2n/31.
has_route() { frr_routes "$1" | grep -qx "$2 $3"; }
for t in a b; do
  net=10.10; [ $t = a ] || net=10.20
  wait_for 30 "tor-$t routes kube-node-0's block $block0 to $net.0.1" has_route tor-$t "$block0" $net.0.1
  wait_for 30 "tor-$t routes kube-node-1's block $block1 to $net.0.3" has_route tor-$t "$block1" $net.0.3
done

# 3. ECMP at each node: one route, a next hop on each uplink.
multipath() {  # NODE BLOCK A_NEXTHOP B_NEXTHOP
  local r
  r=$(node_route "$1" "$2")
  [[ $r == *"nexthop via $3 dev eth1"*"nexthop via $4 dev eth2"* ]]
}
wait_for 30 "kube-node-0 routes $block1 via both ToRs (10.10.0.0, 10.20.0.0) as one multipath route" \
  multipath kube-node-0 "$block1" 10.10.0.0 10.20.0.0
wait_for 30 "kube-node-1 routes $block0 via both ToRs (10.10.0.2, 10.20.0.2) as one multipath route" \
  multipath kube-node-1 "$block0" 10.10.0.2 10.20.0.2
echo "kube-node-0: $(node_route kube-node-0 "$block1")"

# 4. Pod to pod, both ways.
tcp_check kube-node-0/pod-0 kube-node-1/pod-1 "$ip1" "$ip0"
tcp_check kube-node-1/pod-1 kube-node-0/pod-0 "$ip0" "$ip1"

# 5. tor-a fails silently, under a 100 pps ping.
pod_exec kube-node-0 pod-0 ping -q -i 0.01 -c 600 -W 1 "$ip1" >/tmp/dual-tor-ping.$$ 2>&1 &
pinger=$!
sleep 2
tor_fail tor-a
echo "tor-a fails: nftables drops everything in its namespace"
single() { [ "$(node_route "$1" "$2")" = "$2 via $3 dev eth2" ]; }
wait_for 20 "kube-node-0 routes $block1 via tor-b alone" single kube-node-0 "$block1" 10.20.0.0
wait_for 20 "kube-node-1 routes $block0 via tor-b alone" single kube-node-1 "$block0" 10.20.0.2
tcp_check kube-node-0/pod-0 kube-node-1/pod-1 "$ip1" "$ip0"
tcp_check kube-node-1/pod-1 kube-node-0/pod-0 "$ip0" "$ip1"
wait $pinger || true
echo "info: 100 pps ping across the failure: $(grep -o '[0-9]* packets transmitted, [0-9]* received' /tmp/dual-tor-ping.$$)"
rm -f /tmp/dual-tor-ping.$$

# 6. tor-a heals.
tor_heal tor-a
wait_sessions 60 || fail "tor-a's sessions after it healed"
wait_for 30 "kube-node-0 routes $block1 via both ToRs again" multipath kube-node-0 "$block1" 10.10.0.0 10.20.0.0
wait_for 30 "kube-node-1 routes $block0 via both ToRs again" multipath kube-node-1 "$block0" 10.10.0.2 10.20.0.2
echo "PASS: rack_dual_tor"
