#!/usr/bin/env bash
# One bad BGPPeer never freezes the others (issue 16, item 4). blockd (kernel programming off, so
# no root needed) on a SQLite store peers over loopback with bgpspeak as its ToR. Asserts:
#   1. blockctl refuses what the speaker would refuse, naming the field: a TCP-MD5 password of
#      81 octets (spec.password), AS_TRANS (spec.asNumber), an IPv6 peer for a node that has no
#      IPv6 address (spec.peerIP);
#   2. a peer blockctl cannot judge (an IPv6 peer selected by label, for a node without IPv6) is
#      refused by the node alone: `blockctl node status` and /v1/status name it and the rule;
#   3. a valid BGPPeer created after it is still added: the session with bgpspeak comes up and
#      bgpspeak receives the node's routes.
# Usage: bad_peer.sh BLOCKD BLOCKCTL BGPSPEAK
set -euo pipefail
blockd_bin=${1:?usage: bad_peer.sh BLOCKD BLOCKCTL BGPSPEAK}
blockctl_bin=${2:?usage: bad_peer.sh BLOCKD BLOCKCTL BGPSPEAK}
bgpspeak_bin=${3:?usage: bad_peer.sh BLOCKD BLOCKCTL BGPSPEAK}
. "$(dirname "$0")/../../e2e/lib.sh"

work=$(mktemp -d "/tmp/badpeer$$.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "--- logs (failure, rc=$rc)"; tail -n 40 "$work"/*.log 2>/dev/null || true
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT INT TERM

n=$$
node_ip="127.$((100 + n % 100)).$(((n / 100) % 250)).1"
tor_ip="127.$((100 + n % 100)).$(((n / 100) % 250)).2"
free_port() { python3 -c "import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])" "$1"; }
node_port=$(free_port "$node_ip")
tor_port=$(free_port "$tor_ip")
store="sqlite://$work/store.db"
blockctl() { "$blockctl_bin" --datastore "$store" "$@"; }

blockctl create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-0}
spec: {cidr: 192.168.0.0/24, nodeSelector: all()}
YAML

cat >"$work/blockd.yaml" <<CONF
node: {name: node-0, address: $node_ip/8, asNumber: 65002}
datastore: $store
bgp: {listenAddress: $node_ip, listenPort: $node_port}
dataplane: {programKernel: false}
control: {socket: $work/blockd.sock, metrics: ""}
log: {level: info}
CONF
"$blockd_bin" --config "$work/blockd.yaml" >>"$work/blockd.log" 2>&1 &
pids+=($!)
wait_for 20 "blockd answers on its control socket" test -S "$work/blockd.sock"
wait_for 20 "node-0 registered" bash -c "'$blockctl_bin' --datastore '$store' get node node-0"

# 1. What the speaker would refuse never gets into the store.
refused() {  # refused WHAT EXPECTED_MESSAGE: blockctl create of stdin fails with status 1 and the message
  local out rc=0
  out=$(blockctl create -f - 2>&1) || rc=$?
  [ $rc -eq 1 ] || fail "$1: blockctl exited $rc, expected 1 ($out)"
  [[ $out == *"$2"* ]] || fail "$1: message '$out' lacks '$2'"
  echo "ok: blockctl refuses $1: $out"
}
long=$(printf 'x%.0s' $(seq 81))
refused "an 81-octet password" "BGPPeer long-key: spec.password: 81 octets; a TCP-MD5 key holds at most 80" <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: long-key}
spec: {peerIP: 10.9.0.1, asNumber: 65001, password: $long}
YAML
refused "AS_TRANS" "BGPPeer as-trans: spec.asNumber: 23456 is AS_TRANS" <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: as-trans}
spec: {peerIP: 10.9.0.2, asNumber: 23456}
YAML
refused "an IPv6 peer for node-0" "BGPPeer v6-for-node-0: spec.peerIP: fd00::9 is IPv6 but node node-0 has no spec.bgp.ipv6Address" <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: v6-for-node-0}
spec: {peerIP: fd00::9, asNumber: 65001, node: node-0}
YAML

# 2. and 3. An IPv6 peer for every node (node-0 has no IPv6 address), then a valid peer.
blockctl create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: v6-everywhere}
spec: {peerIP: fd00::9, asNumber: 65001, nodeSelector: all()}
YAML
echo "192.168.0.0/24" >"$work/tor-announce.txt"
"$bgpspeak_bin" --local-as 65001 --router-id 10.0.0.1 --peer "$node_ip:65002" --listen "$tor_ip" \
  --port "$tor_port" --passive --announce "$work/tor-announce.txt" --dump-received "$work/tor-received.txt" \
  >>"$work/bgpspeak.log" 2>&1 &
pids+=($!)
blockctl create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: "$tor_ip:$tor_port", asNumber: 65001, nodeSelector: all()}
YAML
blockctl ipam allocate --node node-0 --handle pod-1 >/dev/null  # gives node-0 a block to advertise

status() { "$blockctl_bin" node status --socket "$work/blockd.sock"; }
wait_for 30 "the valid peer Established in node status" bash -c "'$blockctl_bin' node status --socket '$work/blockd.sock' | grep -E '^\| $tor_ip +\| node specific +\| up '"
wait_for 20 "bgpspeak received node-0's block" grep -qE "^192\.168\.0\.[0-9]+/26 via $node_ip " "$work/tor-received.txt"
out=$(status)
echo "$out"
reason="bgp peer fd00::9: an IPv6 peer, but this node has no IPv6 address to peer from"
grep -qE "^\| fd00::9 +\| node specific +\| refused +\| +\| Refused $reason" <<<"$out" ||
  fail "node status does not list fd00::9 as refused with its reason"
grep -qF "warning: $reason (BGPPeer/v6-everywhere): not peered" <<<"$out" || fail "node status has no warning for fd00::9"
python3 - "$work/blockd.sock" "$reason" <<'PY' || fail "/v1/status does not name the refused peer"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: blockd\r\nConnection: close\r\n\r\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
status = json.loads(data.split(b"\r\n\r\n", 1)[1])
want = sys.argv[2] + " (BGPPeer/v6-everywhere): not peered"
sys.exit(0 if want in status["warnings"] else 1)
PY
echo "ok: /v1/status warns: $reason (BGPPeer/v6-everywhere): not peered"
grep -c "bgp peers: $reason" "$work/blockd.log" | grep -qx 1 || fail "the refusal is not logged exactly once"
echo "PASS: a bad peer is refused alone and named; the valid one is up"
