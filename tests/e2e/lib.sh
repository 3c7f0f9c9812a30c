# Shared by the end-to-end scripts (and the integration and bench scripts: tests/integration/netns_lab.sh
# sources it): waiting and asserting with messages that say what failed.
fail() { echo "FAIL: $*" >&2; exit 1; }
# wait_for SECONDS WHAT CMD...: retries CMD every 0.1 s until it succeeds or time runs out.
wait_for() { poll_until 0 "for: " "" "$@"; }
# wait_gone SECONDS WHAT CMD...: retries CMD every 0.1 s until it fails or time runs out.
wait_gone() { poll_until 1 "until gone: " "gone: " "$@"; }
# poll_until STATUS WAITING DONE SECONDS WHAT CMD...: wait_for's and wait_gone's loop, until CMD's
# exit status is STATUS (0, or 1 for any failure).
poll_until() {
  local want=$1 waiting=$2 done=$3 secs=$4 what=$5
  shift 5
  local deadline=$((SECONDS + secs)) got
  while :; do
    got=0
    "$@" >/dev/null 2>&1 || got=1
    [ $got != "$want" ] || break
    [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting $waiting$what"
    sleep 0.1
  done
  echo "ok: $done$what"
}
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  if [ "$1" != "$2" ]; then
    printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$3" "$2" "$1" >&2
    exit 1
  fi
  echo "ok: $3"
}
# pool_of ADDR CIDR...: the first CIDR holding ADDR, or "none".
pool_of() {
  /usr/bin/python3 -c "import ipaddress,sys; a=ipaddress.ip_address(sys.argv[1])
print(next((p for p in sys.argv[2:] if a in ipaddress.ip_network(p)), 'none'))" "$@"
}
# pid_in_netns NETNS COMM: the PID of the process named COMM inside NETNS (fails if none); for
# tests of namespaces they make themselves (the labs' nodes: node_kill and node_runs).
pid_in_netns() {
  local p
  for p in $(ip netns pids "$1"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && { echo "$p"; return 0; }
  done
  return 1
}

# e2e_record NAME VALUE...: what this test makes, by name, in a record its cleanup removes: ctest
# kills a test that overruns its TIMEOUT with SIGKILL, so the EXIT trap never runs, and the
# e2e_leftovers test (tests/e2e/leftovers.sh, ctest's cleanup fixture) removes what the records
# of dead tests name.
e2e_records=/tmp/blockd-e2e-records
e2e_record_file=$e2e_records/$$
e2e_record() {
  mkdir -p "$e2e_records"
  while [ $# -ge 2 ]; do printf '%s=%q\n' "$1" "$2"; shift 2; done >>"$e2e_record_file"
}

# The lab tests' part, on a lab whose steps file sourced examples/lab-lib.sh (on, pod_exec, clab).
# A workload is named NODE/POD below.

# listening NODE/POD PORT: a TCP socket listens on PORT in the workload.
listening() { [ -n "$(pod_exec "${1%%/*}" "${1#*/}" ss -Hltn "sport = :$2" 2>/dev/null)" ]; }
# await_listener NODE/POD PORT: until a listener is bound (a loaded machine can take seconds to
# start Python), so that a refused connection never stands for a missing route.
await_listener() {
  local deadline=$((SECONDS + 20))
  until listening "$1" "$2"; do
    [ $SECONDS -lt $deadline ] || fail "no TCP listener on port $2 in $1 after 20s"
    sleep 0.1
  done
}
# tcp_check FROM TO TO_IP FROM_IP: a TCP connection from workload FROM (NODE/POD) reaches a
# listener in workload TO at TO_IP, which sees the client as FROM_IP (no NAT on the way). IPv6
# addresses work too. Runs the nodes' own python3 (the host's under the netns runtime).
tcp_check() {
  local port=$((20000 + RANDOM % 20000)) got
  pod_exec "${2%%/*}" "${2#*/}" python3 -c "
import socket
s = socket.socket(socket.AF_INET6 if ':' in '$3' else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$3', $port)); s.listen(1); s.settimeout(30)
c, a = s.accept(); c.sendall(('hello ' + a[0]).encode()); c.close()" </dev/null &
  local server=$!
  await_listener "$2" "$port"
  got=$(pod_exec "${1%%/*}" "${1#*/}" python3 -c "
import socket
s = socket.create_connection(('$3', $port), timeout=10); print(s.recv(100).decode())" </dev/null) || true
  wait $server || true
  expect_eq "$got" "hello $4" "TCP from $1 ($4) to $2 ($3)"
}
# expect_addresses_by_rack: each of the tutorial's workloads ($workloads, NAME:NODE) has its
# address from its rack's pool: kube-node-0 and -1 are rack 0 (rack-0-ippool, 192.168.0.0/24),
# kube-node-2 and -3 rack 1 (192.168.1.0/24).
expect_addresses_by_rack() {
  local w name node rack
  for w in "${workloads[@]}"; do
    name=${w%:*} node=${w#*:} rack=$((${node##*-} / 2))
    expect_eq "$(pool_of "$(pod_ip "$node" "$name")" 192.168.0.0/24 192.168.1.0/24)" "192.168.$rack.0/24" \
      "$name on $node (rack $rack) has an address from rack-$rack-ippool"
  done
}
# lab_test_setup BUILD_DIR [--runtime netns|docker] [SCRATCH...]: the start every lab test
# shares, once it has set $topo and $lab_name, sourced its steps file and exported
# CLAB_NETNS_STATE_DIR. netns: checks that blockd, blockctl and blockd-ipam are built and puts
# them on the nodes' PATH. docker: starts dockerd if none answers (stopped again on exit) and
# checks the lab image exists (tests/lab/lab-image.sh, the e2e_lab_image test, makes it).
# Sets $lab_runtime. On exit (pass or fail) destroys the lab and removes its state folder and
# the SCRATCH folders; a failed test first prints the nodes' logs, then runs lab_failure_report
# if the test defines one.
lab_test_setup() {
  local b build=$1
  shift
  lab_runtime=netns
  if [ "${1:-}" = --runtime ]; then lab_runtime=$2; shift 2; fi
  lab_scratch=("$@")
  if [ "$lab_runtime" = docker ]; then
    . "$top/tests/lab/docker-daemon.sh"
    docker_up || fail "no Docker daemon"
    docker image inspect blockd:dev >/dev/null 2>&1 || fail "no image blockd:dev: run tests/lab/lab-image.sh $build"
  else
    for b in blockd blockctl blockd-ipam; do [ -x "$build/agent/$b" ] || fail "$build/agent/$b is not built"; done
    export CLAB_NETNS_PATH="$build/agent"
  fi
  e2e_record lab_topo "$topo" lab_name "${lab_name:-}" lab_state "${CLAB_NETNS_STATE_DIR:-/tmp/clab-netns}" \
    lab_runtime "$lab_runtime" lab_scratch "${lab_scratch[*]}"
  trap lab_test_cleanup EXIT INT TERM
}
# lab_test_start EXAMPLE STEPS PREFIX BUILD_DIR [lab_test_setup's options...]: the start of a
# test on examples/EXAMPLE/EXAMPLE.clab.yml: sets $topo and $lab_name (PREFIX and this PID), gives
# the lab its own state folder, sources the example's STEPS file (steps.sh, tutorial.sh), then
# lab_test_setup BUILD_DIR ....
lab_test_start() {
  local example=$1 steps=$2 prefix=$3
  shift 3
  topo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/$example" && pwd)/$example.clab.yml
  lab_name=$prefix$$
  export CLAB_NETNS_STATE_DIR=/tmp/clab-netns-$prefix-$$
  . "$(dirname "$topo")/$steps"
  lab_test_setup "$@"
}
lab_test_cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "--- logs (failure, rc=$rc)"
    node_logs
    tail -n 20 "$CLAB_NETNS_STATE_DIR/$lab_name"/*/exec.log 2>/dev/null || true
    if declare -F lab_failure_report >/dev/null; then lab_failure_report || true; fi
  fi
  clab destroy || true
  rm -rf "$CLAB_NETNS_STATE_DIR" "${lab_scratch[@]}"
  ! declare -F docker_down >/dev/null || docker_down
  rm -f "$e2e_record_file"
  exit $rc
}

# The agent tests' part: agent_test_setup PREFIX NETNS...: the start the scripts of
# tests/e2e/agent share. Makes the scratch folder $work (readable by uid 65534, which some
# tests run as) and the namespaces PREFIX-NETNS with lo up; collects PIDs in $pids. On exit
# (pass or fail) kills those PIDs, deletes those namespaces and $work; a failure first prints
# the tail of every log in $work.
agent_test_setup() {
  agent_prefix=$1; shift
  agent_netns=("$@")
  work=$(mktemp -d "/tmp/blockd-$agent_prefix.XXXXXX")
  chmod 755 "$work"
  pids=()
  trap agent_test_cleanup EXIT INT TERM
  local ns names=()
  for ns in "${agent_netns[@]}"; do names+=("$agent_prefix-$ns"); done
  e2e_record agent_netns_names "${names[*]}"
  for ns in "${agent_netns[@]}"; do ip netns add "$agent_prefix-$ns"; ip -n "$agent_prefix-$ns" link set lo up; done
}
# agent_bridge HUB NODE...: the underlay: a bridge br0 in PREFIX-HUB with each NODE's eth0 on it,
# the i-th NODE (from 1) at 10.0.0.1i/24 and forwarding.
agent_bridge() {
  local hub=$agent_prefix-$1 n i=0
  shift
  ip -n "$hub" link add br0 type bridge
  ip -n "$hub" link set br0 up
  for n in "$@"; do
    i=$((i + 1))
    ip link add "$agent_prefix-$n" type veth peer name eth0 netns "$agent_prefix-$n"
    ip link set "$agent_prefix-$n" netns "$hub"
    ip -n "$hub" link set "$agent_prefix-$n" master br0 up
    ip -n "$agent_prefix-$n" addr add "10.0.0.1$i/24" dev eth0
    ip -n "$agent_prefix-$n" link set eth0 up
    ip netns exec "$agent_prefix-$n" sysctl -qw net.ipv4.ip_forward=1
  done
}
# agent_start_blockd NODE: $build's blockd in PREFIX-NODE with the config $work/NODE.yaml, logging
# to $work/NODE.log; its PID goes in $pids and $pid_NODE.
agent_start_blockd() {
  ip netns exec "$agent_prefix-$1" "$build/agent/blockd" --config "$work/$1.yaml" >>"$work/$1.log" 2>&1 &
  pids+=($!)
  eval "pid_$1=$!"
}
# agent_cni NODE POD COMMAND: Debian's CNI ptp plugin, with $build's blockd-ipam asking NODE's
# agent ($work/NODE.sock), for the workload namespace PREFIX-POD.
agent_cni() {
  printf '{"cniVersion":"1.0.0","name":"blocknet","type":"ptp","ipMasq":false,"ipam":{"type":"blockd-ipam","socket":"%s"}}' \
    "$work/$1.sock" |
    ip netns exec "$agent_prefix-$1" env CNI_COMMAND="$3" CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$agent_prefix-$2" \
      CNI_IFNAME=eth0 CNI_PATH="/usr/lib/cni:$build/agent" /usr/lib/cni/ptp
}
# agent_pod_ip POD: the workload's IPv4 address.
agent_pod_ip() { ip -n "$agent_prefix-$1" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1; }
agent_test_cleanup() {
  local rc=$? pid ns
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for ns in "${agent_netns[@]}"; do ip netns del "$agent_prefix-$ns" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then echo "--- logs (failure, rc=$rc)"; tail -n 40 "$work"/*.log 2>/dev/null || true; fi
  rm -rf "$work"
  rm -f "$e2e_record_file"
  exit $rc
}
