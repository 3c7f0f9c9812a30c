#!/usr/bin/env bash
# blockd's BFD against FRR 8.4's bfdd (RFC 5880/5881/5882), single hop over IPv4 or IPv6, in two
# network namespaces this test creates. FRR is the ToR (`neighbor X bfd profile fast`); blockd
# (kernel programming off) peers with it with bfd {300, 300, 3} and a 30 s hold time. Asserts:
#   1. BFD comes Up on both sides and the BGP session is Established (blockctl node status shows
#      the peer up with BFD Up; FRR's `show bfd peers` says up, with blockd's intervals as the
#      poll sequence after Up set them);
#   2. FRR's traffic dropped both ways with nftables in its namespace (links left up): blockd's BFD goes
#      Down with "control detection time expired" and its BGP session ends, well before the hold
#      time (waited for at most 10 s of the 30 s); the drop-to-down time is printed;
#   3. the drop removed: BFD Up again and the session Established again;
#   4. blockd stopped with SIGTERM: its BFD AdminDown is not a path failure to FRR, so graceful
#      restart keeps the node's block at the ToR.
# Usage: frr_bfd.sh BLOCKD BLOCKCTL v4|v6   (needs root)
set -euo pipefail
blockd_bin=${1:?usage: frr_bfd.sh BLOCKD BLOCKCTL v4|v6}
blockctl_bin=${2:?usage: frr_bfd.sh BLOCKD BLOCKCTL v4|v6}
family=${3:?usage: frr_bfd.sh BLOCKD BLOCKCTL v4|v6}

. "$(dirname "$0")/lib.sh"
next_lab_names
lab_links

if [ "$family" = v6 ]; then
  tor_ip=fd78::1 node_ip=fd78::2 pool_cidr=fd00:200::/120 ip_family=-6 allocate_flag=--ipv6
else
  tor_ip=10.78.0.1 node_ip=10.78.0.2 pool_cidr=192.168.0.0/24 ip_family=-4 allocate_flag=
fi

# FRR: zebra, bfdd, bgpd in the ToR namespace.
frr_conf=$(cat <<CONF
frr defaults datacenter
hostname ${P}tor
bfd
 profile fast
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
 !
!
router bgp 65001
 bgp router-id 10.78.0.1
 bgp graceful-restart
 no bgp ebgp-requires-policy
 neighbor $node_ip remote-as 65002
 neighbor $node_ip timers 10 30
 neighbor $node_ip bfd
 neighbor $node_ip bfd profile fast
 address-family ipv4 unicast
  network 10.200.0.0/24
 exit-address-family
 address-family ipv6 unicast
  neighbor $node_ip activate
 exit-address-family
!
ip route 10.200.0.0/24 blackhole
CONF
)
start_frr "$frr_conf"

# blockd in the node namespace, on its own SQLite store, programming no kernel routes.
v6_line=""
[ "$family" = v6 ] && v6_line="addressV6: fd78::2/64,"
start_blockd "$blockd_bin" "$(cat <<CONF
node: {name: ${P}-node, address: 10.78.0.2/24, $v6_line asNumber: 65002}
datastore: $STORE
bgp:
  holdTime: 30
  peers:
    - {address: $tor_ip, asNumber: 65001, bfd: {receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3}}
dataplane: {programKernel: false}
control: {socket: $WORK/blockd.sock, metrics: "127.0.0.1:9195"}
log: {level: info}
CONF
)"

# A block for the node, so the ToR has a route to keep or lose.
"$blockctl_bin" --datastore "$STORE" create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-$family}
spec: {cidr: $pool_cidr, nodeSelector: all()}
YAML
wait_for 20 "the node registered" "$blockctl_bin" --datastore "$STORE" get node "${P}-node"
"$blockctl_bin" --datastore "$STORE" ipam allocate --node "${P}-node" --handle bfd-test $allocate_flag >/dev/null
tor_has_block() { ip -n "$TOR" "$ip_family" route show proto bgp | grep -q "via $node_ip "; }

BLOCKCTL=$blockctl_bin
status() { node_status; }
frr_bfd_is() { vtysh_ -c "show bfd peer $node_ip json" | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)['status'] != '$1')"; }

# 1. Up.
wait_for 30 "FRR's BFD session with blockd up" frr_bfd_is up
wait_for 40 "blockd's peer Established with BFD Up" peer_row "$tor_ip" up Up
# blockd advertised 1 s while not Up (RFC 5880 §6.8.3) and 300 ms after its poll sequence: FRR
# has the new intervals only if it took the Poll and answered with Final.
frr_sees_blockd_at() {  # TX_MS RX_MS MULT
  vtysh_ -c "show bfd peer $node_ip json" | python3 -c "
import json, sys
p = json.load(sys.stdin)
sys.exit((p['remote-transmit-interval'], p['remote-receive-interval'], p['remote-detect-multiplier']) != ($1, $2, $3))"
}
wait_for 10 "FRR sees blockd's negotiated timers (300 ms, 300 ms, x3)" frr_sees_blockd_at 300 300 3
status

# 2. FRR goes silent: its traffic with the node dropped both ways, the link left up.
silence "$TOR" "${P}a"
dropped_at=$(date +%s.%N)
wait_for 10 "blockd's BFD Down and its BGP session ended (before the 30 s hold time)" peer_row "$tor_ip" start Down
down_at=$(date +%s.%N)
grep -q "bfd: peer $tor_ip: Down (control detection time expired)" "$WORK/blockd.log" ||
  fail "blockd's log does not say the detection time expired"
grep -q "bgp peer $tor_ip: BFD says the path is down: ending the session" "$WORK/blockd.log" ||
  fail "blockd's log does not say BFD ended the session"
python3 -c "import sys; print('BFD-detected session end after %.0f ms (300 ms x 3; hold time 30 s)' % ((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" \
  "$dropped_at" "$down_at"
status

# 3. Back.
unsilence "$TOR"
wait_for 30 "FRR's BFD session up again" frr_bfd_is up
wait_for 40 "blockd's peer Established again with BFD Up" peer_row "$tor_ip" up Up
changes=$(ip netns exec "$NODE" python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9195/metrics').read().decode())" |
  awk '$1 == "blockd_bfd_state_changes_total" {print $2}')
[ "${changes:-0}" -ge 4 ] || fail "blockd_bfd_state_changes_total is ${changes:-absent}, expected at least 4 (Up, Down, Up)"
echo "ok: blockd_bfd_state_changes_total $changes"
grep -E "bfd: peer|BFD says" "$WORK/blockd.log"

# 4. blockd stops gracefully: its BFD says AdminDown, which FRR does not take as a path failure
#    (RFC 5882 §3.2), so graceful restart keeps the node's block at the ToR.
wait_for 30 "the ToR routes the node's block" tor_has_block
kill -TERM "${PIDS[-1]}"
wait_for 10 "FRR's BFD session down" frr_bfd_is down
vtysh_ -c "show bfd peer $node_ip json" | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)['remote-diagnostic'] != 'administratively down')" ||
  fail "FRR's BFD session is down, but not by blockd's AdminDown"
sleep 2  # well past the 0.9 s detection time: a path failure would have withdrawn the block by now
tor_has_block || fail "the ToR dropped the node's block on a graceful stop (BFD AdminDown taken as failure)"
echo "ok: blockd stopped gracefully (BFD AdminDown): the ToR keeps the node's block (graceful restart)"
echo "PASS: BFD with FRR over $family: up, silent-failure detection ending BGP, recovery, graceful stop"
