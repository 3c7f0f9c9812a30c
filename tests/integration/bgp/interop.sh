#!/usr/bin/env bash
# bgpspeak against a real ToR daemon: bash interop.sh BUILD_DIR DAEMON MODE FAMILY [md5]
#   DAEMON: bird | frr | gobgp   MODE: ebgp | ibgp   FAMILY: v4 | v6
# Checks: the session comes up; an announced /26 (/122) and /32 (/128) reach the daemon's table
# (and, for BIRD and FRR, the ToR's kernel FIB); the daemon's route reaches bgpspeak; after
# SIGHUP with one prefix removed, only that prefix disappears.
source "$(dirname "$0")/lib.sh"
DAEMON=$2 MODE=$3 FAMILY=$4 MD5=${5:-}
TOR_AS=65001
NODE_AS=$([ "$MODE" = ebgp ] && echo 65002 || echo 65001)
if [ "$FAMILY" = v4 ]; then
  TOR_IP=10.77.0.1 NODE_IP=10.77.0.2 BLOCK=10.66.0.0/26 HOST=10.66.1.7/32 THEIRS=10.55.0.0/24 AF=ipv4
else
  TOR_IP=fd77::1 NODE_IP=fd77::2 BLOCK=fd66::/122 HOST=fd66:1::7/128 THEIRS=fd55::/64 AF=ipv6
fi
PW=$([ -n "$MD5" ] && echo "s3cret-$$" || true)
make_link

case $DAEMON in
  bird)
    start_bird "router id 10.77.0.1;
protocol device {}
protocol direct { ipv4; ipv6; }
protocol kernel { ipv4 { export all; }; }
protocol kernel { ipv6 { export all; }; }
protocol static { ipv4; route 10.55.0.0/24 blackhole; }
protocol static { ipv6; route fd55::/64 blackhole; }
protocol bgp node { local $TOR_IP as $TOR_AS; neighbor $NODE_IP as $NODE_AS; ${PW:+password \"$PW\";}
  ipv4 { import all; export where source = RTS_STATIC; }; ipv6 { import all; export where source = RTS_STATIC; }; }"
    in_table() { birdc_ show route "$1" | grep -q unicast; }
    ;;
  frr)
    start_frr "frr defaults datacenter
hostname tor
router bgp $TOR_AS
 bgp router-id 10.77.0.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor $NODE_IP remote-as $NODE_AS
 ${PW:+neighbor $NODE_IP password $PW}
 address-family ipv4 unicast
  network 10.55.0.0/24
 exit-address-family
 address-family ipv6 unicast
  neighbor $NODE_IP activate
  network fd55::/64
 exit-address-family"
    in_table() { vtysh_ -c "show bgp $AF unicast $1 json" | grep -q '"paths"'; }
    ;;
  gobgp)
    start_gobgp "[global.config]
  as = $TOR_AS
  router-id = \"10.77.0.1\"
  local-address-list = [\"$TOR_IP\"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = \"$NODE_IP\"
    peer-as = $NODE_AS
    ${PW:+auth-password = \"$PW\"}
  [neighbors.transport.config]
    local-address = \"$TOR_IP\"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = \"$AF-unicast\""
    gobgp_ global rib -a "$AF" add "$THEIRS"
    in_table() { gobgp_ global rib -a "$AF" "$1" | grep -qF "$1"; }
    ;;
  *) fail "unknown daemon $DAEMON" ;;
esac

printf '%s\n%s\n' "$BLOCK" "$HOST" >"$WORK/announce.txt"
start_speak --local-as "$NODE_AS" --router-id 10.77.0.2 --peer "$TOR_IP:$TOR_AS" ${PW:+--password "$PW"} \
  --announce "$WORK/announce.txt"
wait_for 30 "session Established" speak_log_has "-> Established"
wait_for 20 "$BLOCK in $DAEMON's table" in_table "$BLOCK"
wait_for 20 "$HOST in $DAEMON's table" in_table "$HOST"
if [ "$DAEMON" != gobgp ]; then
  wait_for 20 "$BLOCK in the ToR kernel FIB" fib_has "$BLOCK"
  wait_for 20 "$HOST in the ToR kernel FIB" fib_has "$HOST"
fi
wait_for 20 "$DAEMON's $THEIRS received by bgpspeak" received_has "^$THEIRS via $TOR_IP from $TOR_IP"

printf '%s\n' "$BLOCK" >"$WORK/announce.txt"
kill -HUP "$SPEAK_PID"
wait_gone 20 "$HOST withdrawn from $DAEMON's table" in_table "$HOST"
[ "$DAEMON" != gobgp ] && wait_gone 20 "$HOST withdrawn from the ToR kernel FIB" fib_has "$HOST"
in_table "$BLOCK" || fail "$BLOCK disappeared although still announced"
speak_log_has "Established -> Idle" && fail "session flapped"
echo "PASS: $DAEMON $MODE $FAMILY ${MD5:+with TCP-MD5}"
