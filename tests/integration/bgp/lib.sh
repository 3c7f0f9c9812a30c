# Shared helpers for the bgp integration tests: a ToR namespace and a node namespace joined by
# a veth, real BIRD 2 / FRR / GoBGP in the ToR, bgpspeak in the node. Every name carries this
# run's prefix; the EXIT trap stops what we started (by PID) and deletes the namespaces.
set -euo pipefail

BUILD=$(realpath "${1:?usage: $0 BUILD_DIR SCENARIO}")
SPEAK="$BUILD/bgp/bgpspeak"
P="bgi$$"
TOR="${P}t"
NODE="${P}n"
WORK=$(mktemp -d "/tmp/${P}.XXXX")
chmod 755 "$WORK"
PIDS=()
FRR_NAME=""
API_PORT=$((50000 + $$ % 10000))

cleanup() {
  local rc=$?
  # A sanitizer build of bgpspeak reports into its log: that fails the test too.
  if grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/bgpspeak.log" 2>/dev/null; then
    echo "FAIL: sanitizer report in bgpspeak.log" >&2
    rc=1
  fi
  if [ $rc -ne 0 ]; then
    echo "---- failed; logs:" >&2
    for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 40 "$f" >&2; }; done
  fi
  for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  ip netns del "$TOR" 2>/dev/null || true
  ip netns del "$NODE" 2>/dev/null || true
  [ -n "$FRR_NAME" ] && rm -rf "/var/run/frr/$FRR_NAME"
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && fail "timed out waiting for: $what"
    sleep 0.2
  done
  echo "ok: $what"
}
wait_gone() {
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  while "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && fail "timed out waiting until gone: $what"
    sleep 0.2
  done
  echo "ok: gone: $what"
}

# ToR 10.77.0.1 / fd77::1, node 10.77.0.2 / fd77::2.
make_link() {
  ip netns add "$TOR"
  ip netns add "$NODE"
  ip link add "${P}a" type veth peer name "${P}b"
  ip link set "${P}a" netns "$TOR"
  ip link set "${P}b" netns "$NODE"
  ip -n "$TOR" addr add 10.77.0.1/24 dev "${P}a"
  ip -n "$NODE" addr add 10.77.0.2/24 dev "${P}b"
  ip -n "$TOR" addr add fd77::1/64 dev "${P}a" nodad
  ip -n "$NODE" addr add fd77::2/64 dev "${P}b" nodad
  for ns in "$TOR" "$NODE"; do ip -n "$ns" link set lo up; done
  ip -n "$TOR" link set "${P}a" up
  ip -n "$NODE" link set "${P}b" up
  ip netns exec "$TOR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

start_bird() {  # CONFIG_TEXT
  echo "$1" >"$WORK/bird.conf"
  ip netns exec "$TOR" bird -c "$WORK/bird.conf" -s "$WORK/bird.ctl" -P "$WORK/bird.pid" >"$WORK/bird.log" 2>&1
  wait_for "BIRD pid file" 10 test -s "$WORK/bird.pid"
  PIDS+=("$(cat "$WORK/bird.pid")")
}
birdc_() { birdc -s "$WORK/bird.ctl" "$@"; }

start_frr() {  # CONFIG_TEXT
  FRR_NAME="$P"
  mkdir -p "/var/run/frr/$FRR_NAME"
  chown frr:frr "/var/run/frr/$FRR_NAME"
  echo "$1" >"$WORK/frr.conf"
  chown frr:frr "$WORK/frr.conf"
  local run="/var/run/frr/$FRR_NAME"
  ip netns exec "$TOR" /usr/lib/frr/zebra -N "$FRR_NAME" -d -f "$WORK/frr.conf" -i "$run/zebra.pid" -z "$run/zserv.api" >"$WORK/zebra.log" 2>&1
  wait_for "zebra pid file" 10 test -s "$run/zebra.pid"
  PIDS+=("$(cat "$run/zebra.pid")")
  ip netns exec "$TOR" /usr/lib/frr/bgpd -N "$FRR_NAME" -d -f "$WORK/frr.conf" -i "$run/bgpd.pid" -z "$run/zserv.api" >"$WORK/bgpd.log" 2>&1
  wait_for "bgpd pid file" 10 test -s "$run/bgpd.pid"
  PIDS+=("$(cat "$run/bgpd.pid")")
}
vtysh_() { vtysh -N "$FRR_NAME" "$@"; }

start_gobgp() {  # CONFIG_TEXT
  echo "$1" >"$WORK/gobgp.toml"
  ip netns exec "$TOR" gobgpd -f "$WORK/gobgp.toml" --api-hosts "127.0.0.1:$API_PORT" -l info >"$WORK/gobgp.log" 2>&1 &
  PIDS+=("$!")
  wait_for "GoBGP API" 20 ip netns exec "$TOR" gobgp -p "$API_PORT" global
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
