# A ToR namespace running FRR 8.4 (zebra, bfdd, bgpd) and a node namespace running blockd, joined
# by a veth (ToR 10.78.0.1 / fd78::1, node 10.78.0.2 / fd78::2), for the BFD interop test and the
# failover benchmark. Every name carries this run's prefix; lab_down (also the EXIT trap) stops
# what lab_up started, by PID, and deletes the namespaces.
# Usage: . lib.sh; lab_up FRR_CONFIG BLOCKD_CONFIG (both may use $WORK); lab_down.
set -euo pipefail

BASE_P="bfd$$"
LAB_N=0
PIDS=()
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

# Names for the next lab: each lab_up in one run gets its own.
lab_names() {
  LAB_N=$((LAB_N + 1))
  P="${BASE_P}x$LAB_N"
  TOR="${P}t"
  NODE="${P}n"
  FRR_NAME="$P"
  WORK=$(mktemp -d "/tmp/${P}.XXXX")
  chmod 755 "$WORK"
  mkdir -m 700 "$WORK/store"
  STORE="sqlite://$WORK/store/store.db"
}

lab_down() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  PIDS=()
  [ -n "${TOR:-}" ] && ip netns del "$TOR" 2>/dev/null || true
  [ -n "${NODE:-}" ] && ip netns del "$NODE" 2>/dev/null || true
  [ -n "${FRR_NAME:-}" ] && rm -rf "/var/run/frr/$FRR_NAME"
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
  TOR="" NODE="" FRR_NAME="" WORK=""
}
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -n "${WORK:-}" ]; then
    echo "---- failed; logs:" >&2
    for f in "$WORK"/*.log; do [ -e "$f" ] && { echo "== $f" >&2; tail -n 40 "$f" >&2; }; done
  fi
  lab_down
  exit $rc
}
trap on_exit EXIT INT TERM

lab_links() {
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
}

start_frr() {  # CONFIG_TEXT
  local run="/var/run/frr/$FRR_NAME"
  mkdir -p "$run"
  chown frr:frr "$run"
  echo "$1" >"$WORK/frr.conf"
  chown frr:frr "$WORK/frr.conf"
  for daemon in zebra bfdd bgpd; do
    ip netns exec "$TOR" "/usr/lib/frr/$daemon" -N "$FRR_NAME" -d -f "$WORK/frr.conf" -i "$run/$daemon.pid" \
      -z "$run/zserv.api" >"$WORK/$daemon.log" 2>&1
    wait_for "$daemon pid file" 10 test -s "$run/$daemon.pid"
    PIDS+=("$(cat "$run/$daemon.pid")")
  done
}
vtysh_() { vtysh -N "$FRR_NAME" "$@"; }

start_bird() {  # CONFIG_TEXT
  echo "$1" >"$WORK/bird.conf"
  ip netns exec "$TOR" bird -c "$WORK/bird.conf" -s "$WORK/bird.ctl" -P "$WORK/bird.pid" >"$WORK/bird.log" 2>&1
  wait_for "BIRD pid file" 10 test -s "$WORK/bird.pid"
  PIDS+=("$(cat "$WORK/bird.pid")")
}
birdc_() { birdc -s "$WORK/bird.ctl" "$@"; }

# blockctl node status and the row of one peer: | ADDRESS | TYPE | STATE | BFD | ...
node_status() { "$BLOCKCTL" node status --socket "$WORK/blockd.sock"; }
peer_row() {  # ADDRESS STATE BFD_STATE
  node_status | grep -E "^\| $1 +\| config +\| $2 +\| $3 +\|"
}

start_blockd() {  # BLOCKD CONFIG_TEXT
  echo "$2" >"$WORK/blockd.yaml"
  ip netns exec "$NODE" "$1" --config "$WORK/blockd.yaml" >>"$WORK/blockd.log" 2>&1 &
  PIDS+=($!)
  wait_for "blockd answers on its control socket" 20 test -S "$WORK/blockd.sock"
}

# Blocks an interface's traffic in a namespace with nftables (the link stays up): a silent failure.
silence() {  # NAMESPACE INTERFACE
  ip netns exec "$1" nft -f - <<NFT
table inet ${P}drop {
  chain out { type filter hook output priority 0; oifname "$2" drop; }
  chain in { type filter hook input priority 0; iifname "$2" drop; }
}
NFT
}
unsilence() { ip netns exec "$1" nft delete table inet "${P}drop"; }
