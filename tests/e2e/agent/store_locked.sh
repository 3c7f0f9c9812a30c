#!/usr/bin/env bash
# Store calls run off blockd's event loop: with the SQLite store write-locked by another process
# for 20 s (and CNI ADDs queued behind the lock), the BGP session to a real BIRD 2 ToR (hold
# time 6 s: keepalives every 2 s) stays up and GET /v1/status keeps answering. Asserts:
#   1. every /v1/status probe (one every 100 ms for the 20 s) is answered, within 2 s each (the
#      measured maximum is printed; the issue's bound is 100 ms: noisy on a shared machine);
#   2. BIRD's session to the node never left Established (its "since" time did not change);
#   3. once the lock is gone, a CNI ADD succeeds.
# Needs root. Usage: store_locked.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: store_locked.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../lib.sh"
blockctl=$build/agent/blockctl
ipam_dir=$build/agent

p=hs$$
agent_test_setup $p tor n1
ip link add "$p-t" type veth peer name eth0 netns "$p-n1"
ip link set "$p-t" netns "$p-tor"
ip -n "$p-tor" addr add 10.0.0.1/24 dev "$p-t"
ip -n "$p-tor" link set "$p-t" up
ip -n "$p-n1" addr add 10.0.0.11/24 dev eth0
ip -n "$p-n1" link set eth0 up

cat >"$work/bird.conf" <<BIRD
router id 10.0.0.1;
protocol device {}
protocol bgp n1 {
  local 10.0.0.1 as 65001;
  neighbor 10.0.0.11 as 65002;
  hold time 6;
  ipv4 { import all; export none; };
}
BIRD
ip netns exec "$p-tor" bird -c "$work/bird.conf" -s "$work/bird.ctl" -P "$work/bird.pid"
pids+=("$(cat "$work/bird.pid")")

db="$work/store.db"
"$blockctl" --datastore "sqlite://$db" create -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: locked-pool}
spec: {cidr: 192.168.0.0/24}
YAML
cat >"$work/n1.yaml" <<CONF
node: {name: n1, address: 10.0.0.11/24, asNumber: 65002}
datastore: sqlite://$db
bgp:
  peers: [{address: 10.0.0.1, asNumber: 65001}]
  holdTime: 6
dataplane: {programKernel: false}
control: {socket: $work/n1.sock, metrics: ""}
CONF
agent_start_blockd n1
since() { birdc -s "$work/bird.ctl" show protocols n1 | awk '$1 == "n1" {print $4, $5, $6}'; }
wait_for 30 "BGP session n1 Established at BIRD" bash -c "birdc -s $work/bird.ctl show protocols n1 | grep -q Established"
established_since=$(since)

cni() {  # cni COMMAND CONTAINER
  printf '{"cniVersion":"1.0.0","name":"locknet","ipam":{"type":"blockd-ipam","socket":"%s"}}' "$work/n1.sock" |
    ip netns exec "$p-n1" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$p-n1" CNI_IFNAME=eth0 \
      CNI_PATH="$ipam_dir" timeout 60 "$ipam_dir/blockd-ipam"
}
cni ADD before >/dev/null || fail "CNI ADD before the lock"

# Another process holds the write lock for 20 s (WAL: readers go on, writers wait).
/usr/bin/python3 - "$db" >"$work/lock.log" 2>&1 <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(20)
c.execute("ROLLBACK")
print("released", flush=True)
PY
lock_pid=$!
pids+=("$lock_pid")
wait_for 10 "the store is write-locked" grep -q locked "$work/lock.log"
# ADDs queued behind the lock keep the store worker busy the whole time.
queued=()
for i in 1 2 3; do
  (cni ADD "queued$i" >"$work/queued$i.out" 2>&1 || true) &
  queued+=($!)
done

/usr/bin/python3 - "$work/n1.sock" "$p-n1" >"$work/probe.out" <<'PY'
import socket, sys, time
path = sys.argv[1]
worst, answered, failures = 0.0, 0, []
end = time.monotonic() + 19.5
while time.monotonic() < end:
    t0 = time.monotonic()
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(path)
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: blockd\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        if not data.startswith(b"HTTP/1.1 200"):
            raise OSError(data[:80])
        answered += 1
        worst = max(worst, time.monotonic() - t0)
    except OSError as e:
        failures.append(f"{time.monotonic() - t0:.2f}s {e}")
    time.sleep(0.1)
print(f"answered {answered} failed {len(failures)} max_ms {worst * 1000:.1f}")
for f in failures[:5]:
    print("failure:", f)
PY
cat "$work/probe.out"
read -r _ answered _ failed _ worst <"$work/probe.out"
[ "$failed" = 0 ] || fail "/v1/status went unanswered while the store was locked: $(cat "$work/probe.out")"
[ "$answered" -ge 50 ] || fail "only $answered status probes in 20 s"
echo "ok: /v1/status answered $answered probes while the store was locked; measured max ${worst} ms (shared machine: noisy)"

wait "$lock_pid" || true
grep -q released "$work/lock.log" || fail "the lock holder did not finish: $(cat "$work/lock.log")"
expect_eq "$(since)" "$established_since" "BIRD's session stayed Established through the 20 s lock (since unchanged)"
birdc -s "$work/bird.ctl" show protocols n1 | grep -q Established || fail "the session is down after the lock"
for pid in "${queued[@]}"; do wait "$pid" || true; done
cni ADD after >/dev/null || fail "CNI ADD after the lock was released"
echo "ok: CNI ADD succeeds once the lock is gone"
echo "PASS store_locked"
