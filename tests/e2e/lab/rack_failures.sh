#!/usr/bin/env bash
# Failures on the rack tutorial lab (examples/rack-tutorial, deployed with tests/lab/clab-netns
# from a copy in a temporary folder whose node configs say gracefulRestart restartTime 10 and
# bgp holdTime 9, so that expiries are seen within seconds; the example: 120, and 90 by default).
# The ToR is BIRD 2 (the example's) or, with `frr`, FRR 8 configured the same way (one eBGP
# session per node, import all, export none, BGP routes installed in the ToR's kernel).
# After the tutorial's steps, the ToR's table is the baseline (rack_tutorial.sh checks it
# against the store). Asserts:
#   a. kill -9 of kube-node-3's blockd, not restarted: the session goes down (TCP closed without
#      a NOTIFICATION) and the ToR keeps the node's block as stale (RFC 4724 §4.2) for the
#      restart time the node advertised: still there right after the session dropped, and
#      withdrawn no earlier than restartTime after the kill, then the ToR's table is the
#      baseline without the node's routes. The other nodes' kernels keep their routes to the
#      node's block unchanged: blockd derives them from the datastore's blocks and affinities,
#      not from BGP or liveness, and the store still holds the node's blocks (a dead agent does
#      not mean dead workloads; Calico behaves the same). So a same-rack workload still reaches
#      the node's workload (direct, on-link), while a workload in the other rack, whose
#      traffic crosses the ToR in this lab (see README "IPIP without an ipip module"), no
#      longer does. A new blockd then brings the node's routes back, exactly.
#   b. kube-node-1's uplink set down (ip link set eth1 down in the node): no TCP reset reaches
#      the ToR, so the session ends when the hold timer (9 s) expires. That is an error with a
#      NOTIFICATION (RFC 4271 §6.5), not a restart, so graceful restart does not apply
#      (RFC 4724 §4.2; neither BIRD nor FRR here keep routes after a hold timer expiry) and the
#      ToR withdraws the node's block at once; the node's kernel drops blockd's routes on eth1
#      with the link; workloads on the node are unreachable. Link up: blockd puts its kernel
#      routes back (the link change triggers a resync), the session re-establishes, the ToR's
#      table is the baseline again, and TCP between the racks works again.
# Needs root. Usage: rack_failures.sh BUILD_DIR [bird|frr]
set -euo pipefail
# Debian's python3 (with python3-yaml) first: a pyenv shim in front of it costs seconds a call
# on a loaded machine, and the checks below race graceful restart timers.
export PATH=/usr/bin:$PATH
build=$(cd "${1:?usage: rack_failures.sh BUILD_DIR [bird|frr]}" && pwd)
tor=${2:-bird}
tests_dir=$(cd "$(dirname "$0")" && pwd)
. "$tests_dir/../lib.sh"
case $tor in bird | frr) ;; *) fail "rack_failures.sh: unknown ToR '$tor' (bird or frr)" ;; esac
example=$(cd "$tests_dir/../../../examples/rack-tutorial" && pwd)
restart_time=10 hold_time=9

# The lab, copied: short timers; with frr, FRR replaces BIRD on the router node.
work=$(mktemp -d /tmp/rack-failures.XXXXXX)
chmod 755 "$work"
cp -r "$example" "$work/rack-tutorial"
cp "$example/../blockd-start.sh" "$example/../etcd-start.sh" "$work/"   # the nodes' ../ binds
lab=$work/rack-tutorial
for f in "$lab"/nodes/kube-node-*.yaml; do
  sed -i "s/^  gracefulRestart: {restartTime: 120}\$/  gracefulRestart: {restartTime: $restart_time}\n  holdTime: $hold_time/" "$f"
  grep -q "restartTime: $restart_time}" "$f" || fail "$f: no 'gracefulRestart: {restartTime: 120}' line to shorten"
done
# After a session error such as a hold timer expiry (b.), BIRD leaves the peer Idle for its
# `error wait time` (60 s the first time) before it accepts or opens a connection again; 1 s
# here, to keep the test short.
sed -i 's/^  graceful restart on;$/  graceful restart on;\n  error wait time 1, 10;/' "$lab/router/bird.conf"
grep -q 'error wait time 1, 10;' "$lab/router/bird.conf" || fail "router/bird.conf: no 'graceful restart on;' line"
if [ "$tor" = frr ]; then
  cat >"$lab/router/frr.conf" <<'EOF'
! The tutorial's ToR as FRR: the same sessions as router/bird.conf (router AS 65001, rack 0
! AS 65002, rack 1 AS 65003), routes accepted, none sent back; FRR is a graceful restart
! helper by default. zebra installs the BGP routes in the router's kernel.
frr defaults datacenter
hostname router
router bgp 65001
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 neighbor 10.0.0.10 remote-as 65002
 neighbor 10.0.0.11 remote-as 65002
 neighbor 10.0.1.10 remote-as 65003
 neighbor 10.0.1.11 remote-as 65003
 address-family ipv4 unicast
  neighbor 10.0.0.10 route-map NONE out
  neighbor 10.0.0.11 route-map NONE out
  neighbor 10.0.1.10 route-map NONE out
  neighbor 10.0.1.11 route-map NONE out
 exit-address-family
route-map NONE deny 10
EOF
  python3 - "$lab/rack-tutorial.clab.yml" "$example/../spine-leaf/frr-start.sh" <<'EOF'
import sys, yaml
path = sys.argv[1]
topo = yaml.safe_load(open(path))
router = topo["topology"]["nodes"]["router"]
router["binds"] = ["router/frr.conf:/etc/frr/frr.conf", f"{sys.argv[2]}:/etc/frr/start.sh"]
router["exec"] = [line if not line.startswith("bird ") else "sh /etc/frr/start.sh" for line in router["exec"]]
topo["topology"]["defaults"]["tmpfs"]["/var/run/frr"] = ""
yaml.safe_dump(topo, open(path, "w"), sort_keys=False)
EOF
fi

topo=$lab/rack-tutorial.clab.yml
lab_name=rf$$
export CLAB_NETNS_PATH="$build/agent" CLAB_NETNS_STATE_DIR=/tmp/clab-netns-e2e-$$
. "$example/tutorial.sh"
lab_test_setup "$build" "$work"

node_ip() { case $1 in kube-node-0) echo 10.0.0.10 ;; kube-node-1) echo 10.0.0.11 ;; kube-node-2) echo 10.0.1.10 ;; kube-node-3) echo 10.0.1.11 ;; esac; }
# vtysh and birdc straight on the router's sockets (the host side of its tmpfs folders), not
# through `clab-netns exec`: quicker on a loaded machine, where the checks race timers.
vtysh() { command vtysh --vty_socket "$CLAB_NETNS_STATE_DIR/$lab_name/router/tmpfs/var/run/frr" "$@"; }
tor_birdc() { command birdc -s "$CLAB_NETNS_STATE_DIR/$lab_name/router/tmpfs/run/bird/bird.ctl" "$@"; }

# The ToR, whichever it is: its BGP table as "PREFIX NEXT_HOP" lines, and one session's state.
tor_routes() {
  if [ "$tor" = bird ]; then
    tor_birdc show route all 2>/dev/null | awk '/^[0-9]/{pfx=$1} /BGP.next_hop/{print pfx, $2}' | grep '^192\.168\.' | sort || true
  else
    vtysh -c 'show bgp ipv4 unicast json' 2>/dev/null | python3 -c '
import json, sys
for prefix, paths in json.load(sys.stdin).get("routes", {}).items():
    for p in paths:
        print(prefix, p["nexthops"][0]["ip"])' | grep '^192\.168\.' | sort || true
  fi
}
session_up() {
  if [ "$tor" = bird ]; then
    local proto=${1//-/_}
    tor_birdc show protocols "$proto" 2>/dev/null | grep -q Established
  else
    vtysh -c "show bgp neighbors $(node_ip "$1")" 2>/dev/null | grep -q 'BGP state = Established'
  fi
}
session_down() { ! session_up "$1"; }
all_sessions_up() { local n; for n in 0 1 2 3; do session_up "kube-node-$n" || return 1; done; }
without_next_hop() { grep -v " $1\$" <<<"$2" || true; }
# blockd's routes in a node's kernel (protocol 200, the lab's dataplane.routeProtocol).
kernel_routes() { on "$1" ip route show proto 200 | sort; }
# tcp_fails FROM TO TO_IP: while a listener waits in workload TO (NODE/POD) at TO_IP, a
# connection from workload FROM gets no answer or an ICMP unreachable (no route on the way, or the link is down); a
# refusal (the packet got there) or a connection fails the test.
tcp_fails() {
  local port=$((20000 + RANDOM % 20000)) got
  pod_exec "${2%%/*}" "${2#*/}" timeout 30 python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$3', $port)); s.listen(1); s.settimeout(25)
try: s.accept()[0].close()
except OSError: pass" </dev/null &
  local server=$!
  await_listener "$2" "$port"
  got=$(pod_exec "${1%%/*}" "${1#*/}" python3 -c "
import socket
try: socket.create_connection(('$3', $port), timeout=3); print('connected')
except ConnectionRefusedError: print('refused')
except OSError: print('unreachable')" </dev/null) || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  expect_eq "$got" unreachable "TCP from $1 to $2 ($3) gets through no more"
}
wait_tor_routes() {  # wait_tor_routes SECONDS EXPECTED
  local deadline=$((SECONDS + $1))
  until [ "$(tor_routes)" = "$2" ] || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
}
start_blockd() { on "$1" sh /etc/blockd/start.sh; }

clab deploy
wait_for 60 "four BGP sessions Established at the $tor ToR" all_sessions_up
echo "--- the tutorial's steps (${SECONDS}s)"
tutorial_steps

pod0=nginx-5c7588df-prx4z pod1=nginx-5c7588df-s7qw6 pod2=nginx-5c7588df-w7r7g pod3=nginx-5c7588df-62lnf
wait_tor_routes 30 "$(printf '%s\n' 192.168.0.0/26 192.168.0.64/26 192.168.1.0/26 192.168.1.64/26)"
baseline=$(tor_routes)
echo "baseline, the ToR's table:"; echo "$baseline"
expect_eq "$(cut -d' ' -f2 <<<"$baseline" | sort -u | wc -l)" 4 "the baseline has a block of each of the four nodes"
for n in 0 1 2 3; do kernel_before[$n]=$(kernel_routes "kube-node-$n"); done

# a. kill -9 of kube-node-3's blockd, not restarted.
echo "--- a. kill -9 of kube-node-3's blockd (${SECONDS}s)"
n3_routes=$(grep ' 10\.0\.1\.11$' <<<"$baseline")
n3_block=$(cut -d' ' -f1 <<<"$n3_routes" | head -1)
killed_at=$SECONDS
node_kill kube-node-3 9 blockd
wait_for 10 "the ToR sees kube-node-3's session go down" session_down kube-node-3
expect_eq "$(tor_routes)" "$baseline" "right after the session dropped, the ToR still has kube-node-3's block (graceful restart)"
if [ "$tor" = bird ]; then
  expect_eq "$(tor_birdc show protocols all kube_node_3 | grep -c 'Neighbor graceful restart active' || true)" 1 \
    "BIRD is helping kube-node-3 through a graceful restart"
else
  expect_eq "$(vtysh -c "show bgp ipv4 unicast $n3_block" 2>/dev/null | grep -c '(stale)' || true)" 1 \
    "FRR marks kube-node-3's block stale"
fi
wait_tor_routes $((restart_time + 40)) "$(without_next_hop 10.0.1.11 "$baseline")"
gone_after=$((SECONDS - killed_at))
expect_eq "$(tor_routes)" "$(without_next_hop 10.0.1.11 "$baseline")" \
  "the ToR withdrew kube-node-3's block once the restart time ran out (after ${gone_after}s)"
[ $gone_after -ge $((restart_time - 1)) ] ||
  fail "the ToR withdrew kube-node-3's block ${gone_after}s after the kill, before the restart time (${restart_time}s)"
echo "ok: kube-node-3's block was kept for the restart time (${restart_time}s) and no less"
route_at_tor_kernel=$(on router ip route show "$n3_block")
expect_eq "$route_at_tor_kernel" "" "the ToR's kernel no longer routes $n3_block"
expect_eq "$(blockctl ipam show --show-blocks | grep -c "$n3_block.*kube-node-3" || true)" 1 \
  "the store still holds $n3_block, affine to kube-node-3"
for n in 0 1 2; do
  expect_eq "$(kernel_routes "kube-node-$n")" "${kernel_before[$n]}" "kube-node-$n's kernel routes are unchanged (from the store, not from BGP)"
  expect_eq "$(on "kube-node-$n" ip route show "$n3_block" proto 200 | sed 's/ *$//')" "$n3_block via 10.0.1.11 dev eth1 onlink" \
    "kube-node-$n still routes kube-node-3's block to it"
done
pod3_ip=$(pod_ip kube-node-3 $pod3) pod2_ip=$(pod_ip kube-node-2 $pod2) pod0_ip=$(pod_ip kube-node-0 $pod0)
tcp_check "kube-node-2/$pod2" "kube-node-3/$pod3" "$pod3_ip" "$pod2_ip"
tcp_fails "kube-node-0/$pod0" "kube-node-3/$pod3" "$pod3_ip"
start_blockd kube-node-3
wait_for 60 "kube-node-3's new blockd is Established" session_up kube-node-3
wait_tor_routes 30 "$baseline"
expect_eq "$(tor_routes)" "$baseline" "a new blockd on kube-node-3 brings its routes back"
tcp_check "kube-node-0/$pod0" "kube-node-3/$pod3" "$pod3_ip" "$pod0_ip"

# b. kube-node-1's uplink down, then up.
echo "--- b. kube-node-1's uplink down, then up (${SECONDS}s)"
pod1_ip=$(pod_ip kube-node-1 $pod1)
on kube-node-1 ip link set eth1 down
wait_for $((hold_time + 40)) "the ToR's session with kube-node-1 ends (hold timer)" session_down kube-node-1
wait_tor_routes 20 "$(without_next_hop 10.0.0.11 "$baseline")"
expect_eq "$(tor_routes)" "$(without_next_hop 10.0.0.11 "$baseline")" \
  "the ToR withdrew kube-node-1's block at the hold timer expiry (an error, not a graceful restart)"
if [ "$tor" = bird ]; then
  info=$(tor_birdc show protocols all kube_node_1)
  expect_eq "$(grep -q 'Hold timer expired' <<<"$info" && echo yes || echo no)" yes "BIRD ended the session at the hold timer"
  expect_eq "$(grep -c 'Neighbor graceful restart active' <<<"$info" || true)" 0 "BIRD is not helping kube-node-1 through a restart"
else
  expect_eq "$(vtysh -c "show bgp neighbors 10.0.0.11" 2>/dev/null | grep -c 'NSF passive' || true)" 0 \
    "FRR is not helping kube-node-1 through a restart"
fi
expect_eq "$(kernel_routes kube-node-1 | grep -c 'dev eth1' || true)" 0 "kube-node-1's kernel dropped blockd's routes on eth1 with the link"
tcp_fails "kube-node-2/$pod2" "kube-node-1/$pod1" "$pod1_ip"
on kube-node-1 ip link set eth1 up
up_at=$SECONDS
# The lab's own route (an exec line of the topology, not blockd's) went with the link too.
on kube-node-1 ip route replace 10.0.0.0/16 via 10.0.0.1
wait_for 90 "the ToR's session with kube-node-1 is Established again" session_up kube-node-1
wait_tor_routes 30 "$baseline"
expect_eq "$(tor_routes)" "$baseline" "after the link came back, the ToR's table is the baseline again"
# The link change makes blockd retry the routes the kernel refused while the link was down at
# once (before, they waited for their back-off, up to 30 s): the deadline is generous for that.
restored() { [ "$(kernel_routes kube-node-1)" = "${kernel_before[1]}" ]; }
wait_for 20 "blockd put kube-node-1's kernel routes back after the link came up" restored
echo "   (within $((SECONDS - up_at))s of the link coming up, the session's re-establishment included)"
tcp_check "kube-node-2/$pod2" "kube-node-1/$pod1" "$pod1_ip" "$pod2_ip"
tcp_check "kube-node-1/$pod1" "kube-node-3/$pod3" "$pod3_ip" "$pod1_ip"

echo "PASS rack_failures ($tor) in ${SECONDS}s"
