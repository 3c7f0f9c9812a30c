# Shared helpers for the bgp integration tests: a ToR namespace and a node namespace joined by
# a veth, real BIRD 2 / FRR / GoBGP in the ToR, bgpspeak in the node. Every name carries this
# run's prefix; the EXIT trap stops what we started (by PID) and deletes the namespaces.
set -euo pipefail

BUILD=$(realpath "${1:?usage: $0 BUILD_DIR SCENARIO}")
SPEAK="$BUILD/bgp/bgpspeak"
FRR_DAEMONS="zebra bgpd"
. "$(dirname "${BASH_SOURCE[0]}")/../netns_lab.sh"
lab_names "bgi$$"
API_PORT=$((50000 + $$ % 10000))

cleanup() {
  local rc=$?
  # A sanitizer build of bgpspeak reports into its log: that fails the test too.
  if grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/bgpspeak.log" 2>/dev/null; then
    echo "FAIL: sanitizer report in bgpspeak.log" >&2
    rc=1
  fi
  if [ $rc -ne 0 ]; then print_logs; fi
  lab_teardown
  exit $rc
}
trap cleanup EXIT

# ToR 10.77.0.1 / fd77::1, node 10.77.0.2 / fd77::2.
make_link() {
  join_tor_and_node 10.77.0 fd77
  ip netns exec "$TOR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

start_gobgp() {  # CONFIG_TEXT
  echo "$1" >"$WORK/gobgp.toml"
  ip netns exec "$TOR" gobgpd -f "$WORK/gobgp.toml" --api-hosts "127.0.0.1:$API_PORT" -l info >"$WORK/gobgp.log" 2>&1 &
  PIDS+=("$!")
  wait_for 20 "GoBGP API" ip netns exec "$TOR" gobgp -p "$API_PORT" global
}
gobgp_() { ip netns exec "$TOR" gobgp -p "$API_PORT" "$@"; }

SPEAK_PID=""
start_speak() {  # bgpspeak arguments
  ip netns exec "$NODE" "$SPEAK" --dump-received "$WORK/received.txt" "$@" >>"$WORK/bgpspeak.log" 2>&1 &
  SPEAK_PID=$!
  PIDS+=("$SPEAK_PID")
}
stop_speak() {  # SIGNAL
  kill "-$1" "$SPEAK_PID"
  for _ in $(seq 1 50); do kill -0 "$SPEAK_PID" 2>/dev/null || return 0; sleep 0.1; done
  fail "bgpspeak did not exit on SIG$1"
}
speak_log_has() { grep -q -- "$1" "$WORK/bgpspeak.log"; }
received_has() { grep -q -- "$1" "$WORK/received.txt"; }
fib_has() {  # PREFIX: a route in the ToR's kernel
  if [[ $1 == *:* ]]; then ip -6 -n "$TOR" route show "$1" | grep -q via; else ip -n "$TOR" route show "$1" | grep -q via; fi
}
