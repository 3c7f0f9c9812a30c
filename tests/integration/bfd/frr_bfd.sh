#!/usr/bin/env bash
# blockd's BFD against FRR 8.4's bfdd (RFC 5880/5881/5882), single hop over IPv4 or IPv6, in two
# network namespaces this test creates. FRR is the ToR (`neighbor X bfd profile fast`); blockd
# (kernel programming off) peers with it with bfd {300, 300, 3} and a 30 s hold time. Asserts:
#   1. BFD comes Up on both sides and the BGP session is Established (blockctl node status shows
#      the peer up with BFD Up; FRR's `show bfd peers` says up);
#   2. FRR's packets dropped with nftables in its namespace (links left up): blockd's BFD goes
#      Down with "control detection time expired" and its BGP session ends, well before the hold
#      time (waited for at most 10 s of the 30 s); the drop-to-down time is printed;
#   3. the drop removed: BFD Up again and the session Established again.
# Usage: frr_bfd.sh BLOCKD BLOCKCTL v4|v6   (needs root)
set -euo pipefail
blockd_bin=${1:?usage: frr_bfd.sh BLOCKD BLOCKCTL v4|v6}
blockctl_bin=${2:?usage: frr_bfd.sh BLOCKD BLOCKCTL v4|v6}
family=${3:?usage: frr_bfd.sh BLOCKD BLOCKCTL v4|v6}

P="bfd$$"
TOR="${P}t"
NODE="${P}n"
FRR_NAME="$P"
WORK=$(mktemp -d "/tmp/${P}.XXXX")
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "---- failed; logs:" >&2
    for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 40 "$f" >&2; }; done
  fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  ip netns del "$TOR" 2>/dev/null || true
  ip netns del "$NODE" 2>/dev/null || true
  rm -rf "/var/run/frr/$FRR_NAME" "$WORK"
  exit $rc
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
wait_for() {  # DESCRIPTION SECONDS COMMAND...
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && fail "timed out waiting for: $what"
    sleep 0.1
  done
  echo "ok: $what"
}

# ToR 10.78.0.1 / fd78::1, node 10.78.0.2 / fd78::2.
ip netns add "$TOR"
ip netns add "$NODE"
ip link add "${P}a" type veth peer name "${P}b"
ip link set "${P}a" netns "$TOR"
ip link set "${P}b" netns "$NODE"
ip -n "$TOR" addr add 10.78.0.1/24 dev "${P}a"
ip -n "$NODE" addr add 10.78.0.2/24 dev "${P}b"
ip -n "$TOR" addr add fd78::1/64 dev "${P}a" nodad
ip -n "$NODE" addr add fd78::2/64 dev "${P}b" nodad
for ns in "$TOR" "$NODE"; do ip -n "$ns" link set lo up; done
ip -n "$TOR" link set "${P}a" up
ip -n "$NODE" link set "${P}b" up
if [ "$family" = v6 ]; then tor_ip=fd78::1 node_ip=fd78::2; else tor_ip=10.78.0.1 node_ip=10.78.0.2; fi

# FRR: zebra, bfdd, bgpd in the ToR namespace, one pathspace named for this run.
run="/var/run/frr/$FRR_NAME"
mkdir -p "$run"
chown frr:frr "$run"
cat >"$WORK/frr.conf" <<CONF
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
chown frr:frr "$WORK/frr.conf"
for daemon in zebra bfdd bgpd; do
  ip netns exec "$TOR" "/usr/lib/frr/$daemon" -N "$FRR_NAME" -d -f "$WORK/frr.conf" -i "$run/$daemon.pid" \
    -z "$run/zserv.api" >"$WORK/$daemon.log" 2>&1
  wait_for "$daemon pid file" 10 test -s "$run/$daemon.pid"
  PIDS+=("$(cat "$run/$daemon.pid")")
done
vtysh_() { vtysh -N "$FRR_NAME" "$@"; }

# blockd in the node namespace, on its own SQLite store, programming no kernel routes.
mkdir -m 700 "$WORK/store"
store="sqlite://$WORK/store/store.db"
v6_line=""
[ "$family" = v6 ] && v6_line="addressV6: fd78::2/64,"
cat >"$WORK/blockd.yaml" <<CONF
node: {name: ${P}-node, address: 10.78.0.2/24, $v6_line asNumber: 65002}
datastore: $store
bgp:
  holdTime: 30
  peers:
    - {address: $tor_ip, asNumber: 65001, bfd: {receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3}}
dataplane: {programKernel: false}
control: {socket: $WORK/blockd.sock, metrics: "127.0.0.1:9195"}
log: {level: info}
CONF
ip netns exec "$NODE" "$blockd_bin" --config "$WORK/blockd.yaml" >>"$WORK/blockd.log" 2>&1 &
PIDS+=($!)
wait_for "blockd answers on its control socket" 20 test -S "$WORK/blockd.sock"

status() { "$blockctl_bin" node status --socket "$WORK/blockd.sock"; }
# The row of the peer: | ADDRESS | TYPE | STATE | BFD | ...
peer_row() { status | grep -E "^\| $tor_ip +\| config +\| $1 +\| $2 +\|"; }
frr_bfd_is() { vtysh_ -c "show bfd peer $node_ip json" | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)['status'] != '$1')"; }

# 1. Up.
wait_for "FRR's BFD session with blockd up" 30 frr_bfd_is up
wait_for "blockd's peer Established with BFD Up" 40 peer_row up Up
status

# 2. FRR goes silent: every packet it sends to the node dropped, the link left up.
ip netns exec "$TOR" nft -f - <<NFT
table inet ${P} {
  chain out { type filter hook output priority 0; oifname "${P}a" drop; }
}
NFT
dropped_at=$(date +%s.%N)
wait_for "blockd's BFD Down and its BGP session ended (before the 30 s hold time)" 10 peer_row start Down
down_at=$(date +%s.%N)
grep -q "bfd: peer $tor_ip: Down (control detection time expired)" "$WORK/blockd.log" ||
  fail "blockd's log does not say the detection time expired"
grep -q "bgp peer $tor_ip: BFD says the path is down: ending the session" "$WORK/blockd.log" ||
  fail "blockd's log does not say BFD ended the session"
python3 -c "import sys; print('BFD-detected session end after %.0f ms (300 ms x 3; hold time 30 s)' % ((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" \
  "$dropped_at" "$down_at"
status

# 3. Back.
ip netns exec "$TOR" nft delete table inet "${P}"
wait_for "FRR's BFD session up again" 30 frr_bfd_is up
wait_for "blockd's peer Established again with BFD Up" 40 peer_row up Up
changes=$(ip netns exec "$NODE" curl -s http://127.0.0.1:9195/metrics | awk '$1 == "blockd_bfd_state_changes_total" {print $2}')
[ "${changes:-0}" -ge 4 ] || fail "blockd_bfd_state_changes_total is ${changes:-absent}, expected at least 4 (Up, Down, Up)"
echo "ok: blockd_bfd_state_changes_total $changes"
grep -E "bfd: peer|BFD says" "$WORK/blockd.log"
echo "PASS: BFD with FRR over $family: up, silent-failure detection ending BGP, recovery"
