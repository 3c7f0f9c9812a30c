#!/usr/bin/env bash
# blockd's BFD against BIRD 2's (a second implementation, besides FRR's bfdd), single hop over
# IPv4 or IPv6, in two network namespaces this test creates. BIRD is the ToR (`bfd on`, 300 ms
# x 3); blockd peers with it with bfd {300, 300, 3} and a 30 s hold time. Asserts:
#   1. BIRD's BFD session Up and blockd's peer Established with BFD Up;
#   2. BIRD silenced with nftables (both ways, link left up): blockd's BFD Down (detection time
#      expired) and its BGP session ended, well before the hold time;
#   3. the drop removed: BFD Up and the session Established again.
# Usage: bird_bfd.sh BLOCKD BLOCKCTL v4|v6   (needs root)
set -euo pipefail
blockd_bin=${1:?usage: bird_bfd.sh BLOCKD BLOCKCTL v4|v6}
BLOCKCTL=${2:?usage: bird_bfd.sh BLOCKD BLOCKCTL v4|v6}
family=${3:?usage: bird_bfd.sh BLOCKD BLOCKCTL v4|v6}
. "$(dirname "$0")/lib.sh"
next_lab_names
lab_links

if [ "$family" = v6 ]; then tor_ip=fd78::1 node_ip=fd78::2 channel=ipv6; else tor_ip=10.78.0.1 node_ip=10.78.0.2 channel=ipv4; fi
start_bird "router id 10.78.0.1;
protocol device {}
protocol bfd {
  interface \"${P}a\" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; };
}
protocol bgp tor {
  local $tor_ip as 65001;
  neighbor $node_ip as 65002;
  hold time 30;
  error wait time 1, 5;  # BIRD waits 60 s after an error by default before it takes the peer back
  bfd on;
  $channel { import all; export none; };
}"

v6_line=""
[ "$family" = v6 ] && v6_line="addressV6: fd78::2/64,"
start_blockd "$blockd_bin" "node: {name: ${P}-node, address: 10.78.0.2/24, $v6_line asNumber: 65002}
datastore: $STORE
bgp:
  holdTime: 30
  peers: [{address: $tor_ip, asNumber: 65001, bfd: {receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3}}]
dataplane: {programKernel: false}
control: {socket: $WORK/blockd.sock, metrics: \"\"}
log: {level: info}"

bird_bfd_up() { birdc_ show bfd sessions | grep -E "^$node_ip +${P}a +Up "; }

# 1. Up.
wait_for 30 "BIRD's BFD session with blockd Up" bird_bfd_up
wait_for 40 "blockd's peer Established with BFD Up" peer_row "$tor_ip" up Up
node_status

# 2. BIRD silent.
silence "$TOR" "${P}a"
wait_for 10 "blockd's BFD Down and its BGP session ended (before the 30 s hold time)" peer_row "$tor_ip" start Down
grep -q "bfd: peer $tor_ip: Down (control detection time expired)" "$WORK/blockd.log" ||
  fail "blockd's log does not say the detection time expired"

# 3. Back.
unsilence "$TOR"
wait_for 30 "BIRD's BFD session Up again" bird_bfd_up
wait_for 40 "blockd's peer Established again with BFD Up" peer_row "$tor_ip" up Up
echo "PASS: BFD with BIRD over $family: up, silent-failure detection ending BGP, recovery"
