#!/usr/bin/env bash
# Session behaviour against BIRD 2: bash scenarios.sh BUILD_DIR SCENARIO
#   hold_timer         BIRD frozen with SIGSTOP: our hold timer expires (NOTIFICATION 4/0), the
#                      session comes back after SIGCONT
#   graceful_restart   bgpspeak stopped with graceful restart: BIRD keeps our routes (table and
#                      FIB) while we are away; restarted with one prefix fewer, only that one goes
#   graceful_restart_frr  the same with FRR 8.4 as the helper
#   no_graceful_stop   control: stopped without graceful restart, BIRD drops our routes at once
#   unconfigured       a connection from an address that is not a peer is refused and logged
#   gtsm               GTSM (RFC 5082) on both sides: the session comes up and routes flow
#   helper             BIRD restarts gracefully (birdc graceful restart): bgpspeak keeps BIRD's
#                      routes as stale meanwhile, then drops the one BIRD no longer sends after
#                      its End-of-RIB
source "$(dirname "$0")/lib.sh"
SCENARIO=$2
make_link
BLOCK=10.66.0.0/26
HOST=10.66.1.7/32
printf '%s\n%s\n' "$BLOCK" "$HOST" >"$WORK/announce.txt"
in_table() { birdc_ show route "$1" | grep -q unicast; }
bird_established() { birdc_ show protocols node | grep -q Established; }
bird_conf() {  # extra protocol options
  start_bird "router id 10.77.0.1;
protocol device {}
protocol direct { ipv4; }
protocol kernel { ipv4 { export all; }; }
protocol bgp node { local 10.77.0.1 as 65001; neighbor 10.77.0.2 as 65002; $1
  ipv4 { import all; export none; }; }"
}
established_twice() { [ "$(grep -c -- "-> Established" "$WORK/bgpspeak.log")" -ge 2 ]; }

case $SCENARIO in
  hold_timer)
    bird_conf "hold time 3; error wait time 1, 2; connect delay time 1;"  # BIRD waits 60 s after an error by default
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --hold-time 3 --announce "$WORK/announce.txt"
    wait_for 30 "session Established" speak_log_has "-> Established"
    kill -STOP "$(cat "$WORK/bird.pid")"
    wait_for 30 "hold timer expired" speak_log_has "hold timer expired"
    speak_log_has "sending NOTIFICATION 4/0" || fail "no NOTIFICATION 4/0 sent"
    kill -CONT "$(cat "$WORK/bird.pid")"
    wait_for 60 "session Established again" established_twice
    ;;
  graceful_restart)
    bird_conf "graceful restart on;"
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --graceful-restart 120 --announce "$WORK/announce.txt"
    wait_for 30 "session Established" speak_log_has "-> Established"
    wait_for 20 "$HOST in BIRD's table" in_table "$HOST"
    wait_for 20 "$HOST in the ToR FIB" fib_has "$HOST"
    stop_speak TERM
    wait_gone 20 "BIRD's session Established" bird_established
    in_table "$BLOCK" && in_table "$HOST" || fail "BIRD dropped our routes during the restart"
    fib_has "$BLOCK" && fib_has "$HOST" || fail "the ToR FIB lost our routes during the restart"
    echo "ok: routes kept by BIRD while bgpspeak is down"
    printf '%s\n' "$BLOCK" >"$WORK/announce.txt"
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --graceful-restart 120 --restarting --announce "$WORK/announce.txt"
    wait_for 30 "session Established again" bird_established
    wait_gone 20 "$HOST (not re-announced) swept after End-of-RIB" in_table "$HOST"
    in_table "$BLOCK" || fail "$BLOCK lost across the restart"
    fib_has "$BLOCK" || fail "$BLOCK left the FIB across the restart"
    ;;
  graceful_restart_frr)
    start_frr "frr defaults datacenter
hostname tor
router bgp 65001
 bgp router-id 10.77.0.1
 bgp graceful-restart
 no bgp ebgp-requires-policy
 neighbor 10.77.0.2 remote-as 65002
 address-family ipv4 unicast
 exit-address-family"
    frr_has() { vtysh_ -c "show bgp ipv4 unicast $1 json" | grep -q '"paths"'; }
    frr_established() { vtysh_ -c "show bgp neighbors 10.77.0.2 json" | grep -q '"bgpState":"Established"'; }
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --graceful-restart 120 --announce "$WORK/announce.txt"
    wait_for 30 "$HOST in FRR's table" frr_has "$HOST"
    wait_for 20 "$HOST in the ToR FIB" fib_has "$HOST"
    stop_speak TERM
    wait_gone 20 "FRR's session Established" frr_established
    frr_has "$BLOCK" && frr_has "$HOST" || fail "FRR dropped our routes during the restart"
    fib_has "$BLOCK" && fib_has "$HOST" || fail "the ToR FIB lost our routes during the restart"
    vtysh_ -c "show bgp ipv4 unicast $HOST json" | grep -q '"stale":true' || fail "FRR does not mark our route stale"
    echo "ok: routes kept (stale) by FRR while bgpspeak is down"
    printf '%s\n' "$BLOCK" >"$WORK/announce.txt"
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --graceful-restart 120 --restarting --announce "$WORK/announce.txt"
    wait_for 30 "session Established again" frr_established
    wait_gone 30 "$HOST (not re-announced) swept after End-of-RIB" frr_has "$HOST"
    frr_has "$BLOCK" || fail "$BLOCK lost across the restart"
    fib_has "$BLOCK" || fail "$BLOCK left the FIB across the restart"
    ;;
  no_graceful_stop)
    bird_conf "graceful restart on;"
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --announce "$WORK/announce.txt"
    wait_for 30 "$HOST in BIRD's table" in_table "$HOST"
    stop_speak TERM
    wait_gone 20 "$HOST removed after a Cease" in_table "$HOST"
    grep -q "Administrative shutdown\|Cease" "$WORK/bird.log" || birdc_ show protocols all node | grep -qi "shutdown\|cease" ||
      fail "BIRD did not see a Cease"
    ;;
  unconfigured)
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --passive --announce "$WORK/announce.txt"
    wait_for 20 "bgpspeak listening" ip netns exec "$NODE" ss -ltn "sport = :179" -H
    ip -n "$TOR" addr add 10.77.0.9/24 dev "${P}a"
    ip netns exec "$TOR" python3 -c '
import socket, sys
s = socket.socket(); s.bind(("10.77.0.9", 0)); s.settimeout(5)
s.connect(("10.77.0.2", 179))
s.settimeout(5)
data = s.recv(100)   # the speaker closes without a word
sys.exit(0 if data == b"" else 1)' || fail "an unconfigured address was answered"
    wait_for 10 "refusal logged" speak_log_has "refused connection from unconfigured address 10.77.0.9"
    ;;
  gtsm)
    bird_conf "ttl security on;"
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --ttl-security 1 --announce "$WORK/announce.txt"
    wait_for 30 "session Established" speak_log_has "-> Established"
    wait_for 20 "$HOST in BIRD's table" in_table "$HOST"
    ;;
  helper)
    helper_bird() {  # the static route BIRD announces
      start_bird "router id 10.77.0.1;
protocol device {}
protocol static { ipv4; route $1 blackhole; route 10.57.0.0/24 blackhole; }
protocol bgp node { local 10.77.0.1 as 65001; neighbor 10.77.0.2 as 65002; graceful restart on;
  ipv4 { import all; export where source = RTS_STATIC; }; }"
    }
    helper_bird 10.55.0.0/24
    start_speak --local-as 65002 --router-id 10.77.0.2 --peer 10.77.0.1:65001 --graceful-restart 120 --announce "$WORK/announce.txt"
    wait_for 30 "BIRD's 10.55.0.0/24 received" received_has "^10.55.0.0/24 via 10.77.0.1 from 10.77.0.1 path 65001$"
    birdc_ graceful restart >/dev/null
    wait_for 20 "BIRD's routes kept as stale while it restarts" received_has "^10.55.0.0/24 via 10.77.0.1 from 10.77.0.1 path 65001 stale$"
    received_has "^10.57.0.0/24 .* stale$" || fail "10.57.0.0/24 not kept"
    wait_gone 20 "the old BIRD" kill -0 "$(cat "$WORK/bird.pid")"
    rm -f "$WORK/bird.pid"
    helper_bird 10.56.0.0/24
    wait_for 30 "BIRD's new 10.56.0.0/24 received" received_has "^10.56.0.0/24 via"
    wait_gone 20 "10.55.0.0/24 (not re-sent) swept at End-of-RIB" received_has "^10.55.0.0/24"
    wait_for 20 "10.57.0.0/24 refreshed, no longer stale" received_has "^10.57.0.0/24 via 10.77.0.1 from 10.77.0.1 path 65001$"
    ;;
  *) fail "unknown scenario $SCENARIO" ;;
esac
echo "PASS: $SCENARIO"
