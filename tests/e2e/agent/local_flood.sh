#!/usr/bin/env bash
# A local unprivileged user must not be able to cut CNI off from blockd (issue: 1,010 idle
# metrics connections exhausted a 1024-descriptor limit). blockd runs in a network namespace of
# its own with RLIMIT_NOFILE 1024:1024 (systemd's soft default, and no hard headroom, so only the
# per-listener caps can save it). Asserts, in order:
#   1. uid 65534 opens 2,000 idle connections to the metrics port and holds them;
#   2. meanwhile 100 CNI ADDs (blockd-ipam) all succeed, with 100 distinct addresses;
#   3. a fresh /metrics scrape still answers, with its _total metrics typed as counters;
#   4. failed accepts and refusals are logged once per burst, not every 100 ms;
#   5. a retried ADD (same container) gets the address of its first try;
#   6. blockd started with a soft limit below its hard limit raises the soft limit to it.
# Needs root. Usage: local_flood.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: local_flood.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../lib.sh"
blockctl=$build/agent/blockctl
ipam_dir=$build/agent

agent_test_setup hf$$ n1
ns=hf$$-n1
store="sqlite://$work/store.db"
"$blockctl" --datastore "$store" create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: flood-pool}
spec: {cidr: 192.168.0.0/24}
YAML
cat >"$work/n1.yaml" <<CONF
node: {name: n1, address: 10.0.0.11/24, asNumber: 65002}
datastore: $store
bgp: {listenPort: 0}
dataplane: {programKernel: false}
control: {socket: $work/n1.sock, metrics: 127.0.0.1:9095}
CONF
start_blockd() {  # start_blockd SOFT:HARD
  ip netns exec "$ns" prlimit --nofile="$1" "$build/agent/blockd" --config "$work/n1.yaml" >>"$work/n1.log" 2>&1 &
  blockd_pid=$!
  pids+=("$blockd_pid")
  wait_for 20 "blockd answers on its control socket" test -S "$work/n1.sock"
}
start_blockd 1024:1024

# 1. The flood, as nobody: 2,000 connections, each connected and then left idle.
cat >"$work/flood.py" <<'PY'
import socket, sys, time
conns, failed = [], 0
for _ in range(2000):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", 9095))
        conns.append(s)
    except OSError:
        failed += 1
        s.close()
print(f"opened {len(conns)} failed {failed}", flush=True)
time.sleep(float(sys.argv[1]))
PY
ip netns exec "$ns" prlimit --nofile=4096:4096 setpriv --reuid=65534 --regid=65534 --clear-groups \
  /usr/bin/python3 "$work/flood.py" 120 >"$work/flood.out" 2>&1 &
flood_pid=$!
pids+=("$flood_pid")
wait_for 60 "uid 65534 holds its idle metrics connections" grep -q '^opened' "$work/flood.out"
echo "flood: $(cat "$work/flood.out")"
opened=$(awk '/^opened/{print $2}' "$work/flood.out")
[ "$opened" -ge 1010 ] || fail "the flood opened only $opened connections (needs more than blockd's 1024 descriptors)"

# 2. 100 CNI ADDs while the flood holds.
cni() {  # cni COMMAND CONTAINER
  printf '{"cniVersion":"1.0.0","name":"floodnet","ipam":{"type":"blockd-ipam","socket":"%s"}}' "$work/n1.sock" |
    ip netns exec "$ns" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$ns" CNI_IFNAME=eth0 \
      CNI_PATH="$ipam_dir" timeout 40 "$ipam_dir/blockd-ipam"
}
t0=$(date +%s.%N)
for i in $(seq 1 100); do
  out=$(cni ADD "c$i") || fail "CNI ADD $i of 100 failed during the flood: $out"
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][0]["address"])' <<<"$out" >>"$work/addresses"
done
t1=$(date +%s.%N)
kill -0 "$flood_pid" 2>/dev/null || fail "the flood ended before the ADDs did"
expect_eq "$(sort -u "$work/addresses" | wc -l)" 100 "100 CNI ADDs during the flood, 100 distinct addresses"
echo "measured: 100 ADDs in $(/usr/bin/python3 -c "print(round($t1 - $t0, 2))") s with 2,000 idle metrics connections (shared machine: noisy)"

# 3. The metrics port still serves a fresh scrape (the idle flood was closed to make room).
metrics=$(ip netns exec "$ns" /usr/bin/python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:9095/metrics", timeout=10).read().decode(), end="")') ||
  fail "no /metrics answer during the flood"
grep -qx '# TYPE blockd_ipam_allocations_total counter' <<<"$metrics" || fail "allocations are not a counter: $metrics"
grep -qx 'blockd_ipam_allocations_total 100' <<<"$metrics" || fail "allocations_total is not 100: $metrics"
echo "ok: /metrics answers during the flood; counters typed as counters"

# 4. Once per burst, not every 100 ms.
accept_lines=$(grep -c 'accept failed' "$work/n1.log" || true)
[ "$accept_lines" -le 5 ] || fail "'accept failed' logged $accept_lines times"
echo "ok: 'accept failed' logged $accept_lines times, 'refusing' $(grep -c 'refusing new ones' "$work/n1.log" || true) times"

# 5. A retried ADD gets the same address.
again=$(cni ADD c1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][0]["address"])')
expect_eq "$again" "$(head -1 "$work/addresses")" "a retried ADD of c1 gets its first address"
kill "$flood_pid" 2>/dev/null || true
for i in $(seq 1 100); do cni DEL "c$i" >/dev/null || fail "CNI DEL c$i failed"; done
"$blockctl" --datastore "$store" ipam check >/dev/null || fail "ipam check after the flood"
echo "ok: every ADD released, ipam check clean"

# 6. RLIMIT_NOFILE: the soft limit raised to the hard one at start.
kill -TERM "$blockd_pid"; wait "$blockd_pid" || true
start_blockd 1024:4096
soft=$(awk '/Max open files/{print $4}' "/proc/$blockd_pid/limits")
expect_eq "$soft" 4096 "blockd raised its open-files soft limit to the hard limit"
grep -q 'open files limit raised from 1024 to 4096' "$work/n1.log" || fail "the raise is not logged"
echo "PASS local_flood"
