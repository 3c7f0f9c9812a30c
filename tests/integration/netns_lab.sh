# Shared by the integration labs of tests/integration/bgp and tests/integration/bfd (sourced by
# their lib.sh): a ToR namespace and a node namespace joined by a veth, real BIRD 2 or FRR in
# the ToR, waiting with messages that say what failed. The sourcing script sets FRR_DAEMONS (the
# FRR daemons its labs run), calls lab_names with its run's prefix and sets its own EXIT trap,
# which calls print_logs (on failure) and lab_teardown.

# fail, wait_for and wait_gone: the ones every test script shares.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

PIDS=()
FRR_NAME=""

# lab_names PREFIX: this lab's names: P (the prefix), TOR (${P}t), NODE (${P}n) and a WORK
# folder of its own.
lab_names() {
  P=$1
  TOR="${P}t"
  NODE="${P}n"
  WORK=$(mktemp -d "/tmp/${P}.XXXX")
  chmod 755 "$WORK"
}

# lab_teardown [NAMESPACE...]: stops what PIDS holds, deletes TOR, NODE and the namespaces
# named, FRR's pathspace and WORK; the names are then empty (another lab_names may follow).
lab_teardown() {
  stop_pids
  local ns
  for ns in "${TOR:-}" "${NODE:-}" "$@"; do
    if [ -n "$ns" ]; then ip netns del "$ns" 2>/dev/null || true; fi
  done
  if [ -n "$FRR_NAME" ]; then rm -rf "/var/run/frr/$FRR_NAME"; fi
  if [ -n "${WORK:-}" ]; then rm -rf "$WORK"; fi
  TOR="" NODE="" FRR_NAME="" WORK=""
}

# join_tor_and_node V4_NET V6_NET (e.g. 10.77.0 fd77): the namespaces and their veth, ToR .1 /
# ::1, node .2 / ::2, lo up in both.
join_tor_and_node() {
  ip netns add "$TOR"
  ip netns add "$NODE"
  ip link add "${P}a" type veth peer name "${P}b"
  ip link set "${P}a" netns "$TOR"
  ip link set "${P}b" netns "$NODE"
  ip -n "$TOR" addr add "$1.1/24" dev "${P}a"
  ip -n "$NODE" addr add "$1.2/24" dev "${P}b"
  ip -n "$TOR" addr add "$2::1/64" dev "${P}a" nodad
  ip -n "$NODE" addr add "$2::2/64" dev "${P}b" nodad
  for ns in "$TOR" "$NODE"; do ip -n "$ns" link set lo up; done
  ip -n "$TOR" link set "${P}a" up
  ip -n "$NODE" link set "${P}b" up
}

start_bird() {  # CONFIG_TEXT
  echo "$1" >"$WORK/bird.conf"
  ip netns exec "$TOR" bird -c "$WORK/bird.conf" -s "$WORK/bird.ctl" -P "$WORK/bird.pid" >"$WORK/bird.log" 2>&1
  wait_for 10 "BIRD pid file" test -s "$WORK/bird.pid"
  PIDS+=("$(cat "$WORK/bird.pid")")
}
birdc_() { birdc -s "$WORK/bird.ctl" "$@"; }

# FRR in the ToR namespace under its own pathspace (FRR_NAME, default $P): the daemons of
# $FRR_DAEMONS, each started once the one before has written its PID file.
start_frr() {  # CONFIG_TEXT
  FRR_NAME=${FRR_NAME:-$P}
  local run="/var/run/frr/$FRR_NAME" daemon
  mkdir -p "$run"
  chown frr:frr "$run"
  echo "$1" >"$WORK/frr.conf"
  chown frr:frr "$WORK/frr.conf"
  for daemon in $FRR_DAEMONS; do
    ip netns exec "$TOR" "/usr/lib/frr/$daemon" -N "$FRR_NAME" -d -f "$WORK/frr.conf" -i "$run/$daemon.pid" \
      -z "$run/zserv.api" >"$WORK/$daemon.log" 2>&1
    wait_for 10 "$daemon pid file" test -s "$run/$daemon.pid"
    PIDS+=("$(cat "$run/$daemon.pid")")
  done
}
vtysh_() { vtysh -N "$FRR_NAME" "$@"; }

# Stops every process in PIDS: SIGTERM (a stopped one continued first), up to 2 s each, then SIGKILL.
stop_pids() {
  local pid
  for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# The tail of every log in $WORK, on stderr: what a failed test shows.
print_logs() {
  echo "---- failed; logs:" >&2
  for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 40 "$f" >&2; }; done
}
