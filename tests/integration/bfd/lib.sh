# A ToR namespace running FRR 8.4 (zebra, bfdd, bgpd) and a node namespace running blockd, joined
# by a veth (ToR 10.78.0.1 / fd78::1, node 10.78.0.2 / fd78::2), for the BFD interop test and the
# failover benchmark. Every name carries this run's prefix; lab_teardown (also the EXIT trap) stops
# what lab_up started, by PID, and deletes the namespaces.
# Usage: . lib.sh; next_lab_names; lab_up FRR_CONFIG BLOCKD_CONFIG (both may use $WORK); lab_teardown.
set -euo pipefail

BASE_P="bfd$$"
LAB_N=0
FRR_DAEMONS="zebra bfdd bgpd"
. "$(dirname "${BASH_SOURCE[0]}")/../netns_lab.sh"

# Names for the next lab: each lab_up in one run gets its own.
next_lab_names() {
  LAB_N=$((LAB_N + 1))
  lab_names "${BASE_P}x$LAB_N"
  FRR_NAME="$P"
  mkdir -m 700 "$WORK/store"
  STORE="sqlite://$WORK/store/store.db"
}

on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -n "${WORK:-}" ]; then print_logs; fi
  lab_teardown
  exit $rc
}
trap on_exit EXIT INT TERM

lab_links() { join_tor_and_node 10.78.0 fd78; }

# blockctl node status and the row of one peer: | ADDRESS | TYPE | STATE | BFD | ...
node_status() { "$BLOCKCTL" node status --socket "$WORK/blockd.sock"; }
peer_row() {  # ADDRESS STATE BFD_STATE
  node_status | grep -E "^\| $1 +\| config +\| $2 +\| $3 +\|"
}

start_blockd() {  # BLOCKD CONFIG_TEXT
  echo "$2" >"$WORK/blockd.yaml"
  ip netns exec "$NODE" "$1" --config "$WORK/blockd.yaml" >>"$WORK/blockd.log" 2>&1 &
  PIDS+=($!)
  wait_for 20 "blockd answers on its control socket" test -S "$WORK/blockd.sock"
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
