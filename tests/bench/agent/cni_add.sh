#!/usr/bin/env bash
# CNI ADD/DEL latency of blockd-ipam alone against one running agent (SQLite store, one node in
# its own network namespace), beside containernetworking's host-local plugin in the same run
# (cni_add.py). SAMPLES sequential ADDs and DELs (default 200: the issue's 1,000 would take
# about 3 minutes of CI for both plugins), then 100 ADDs in a row and 8 at a time.
# Needs root. Usage: cni_add.sh BUILD_DIR [SAMPLES]
set -euo pipefail
build=$(cd "${1:?usage: cni_add.sh BUILD_DIR [SAMPLES]}" && pwd)
samples=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../e2e/lib.sh"
[ -x /usr/lib/cni/host-local ] || fail "no /usr/lib/cni/host-local (containernetworking-plugins)"

p=bc$$
work=$(mktemp -d /tmp/blockd-cni-bench.XXXXXX)
pid=
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null; sleep 0.3; kill -9 "$pid" 2>/dev/null; } || true
  ip netns del "$p-n1" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

ip netns add "$p-n1"
ip -n "$p-n1" link set lo up
ip link add "$p-h" type veth peer name eth0 netns "$p-n1"  # no dummy module here
ip -n "$p-n1" addr add 10.0.1.11/24 dev eth0
ip -n "$p-n1" link set eth0 up
store="sqlite://$work/store.db"
"$build/agent/blockctl" --datastore "$store" create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: bench-pool}
spec: {cidr: 10.100.0.0/16, nodeSelector: all()}
YAML
cat >"$work/n1.yaml" <<CONF
node: {name: n1, address: 10.0.1.11/24, asNumber: 65002}
datastore: $store
bgp: {peers: []}
dataplane: {uplink: eth0, routeProtocol: 200}
control: {socket: $work/n1.sock}
log: {level: warn}
CONF
ip netns exec "$p-n1" "$build/agent/blockd" --config "$work/n1.yaml" >"$work/n1.log" 2>&1 &
pid=$!
wait_for 30 "blockd's control socket" test -S "$work/n1.sock"

python3 "$here/cni_add.py" "$p-n1" "$samples" \
  "blockd={\"cniVersion\":\"1.0.0\",\"name\":\"benchnet\",\"ipam\":{\"type\":\"blockd-ipam\",\"path\":\"$build/agent/blockd-ipam\",\"socket\":\"$work/n1.sock\"}}" \
  "host_local={\"cniVersion\":\"1.0.0\",\"name\":\"benchnet\",\"ipam\":{\"type\":\"host-local\",\"path\":\"/usr/lib/cni/host-local\",\"dataDir\":\"$work/host-local\",\"ranges\":[[{\"subnet\":\"10.101.0.0/16\"}]]}}"
