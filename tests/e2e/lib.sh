# Shared by the end-to-end scripts (and the integration and bench scripts: tests/integration/netns_lab.sh
# sources it): waiting and asserting with messages that say what failed.
fail() { echo "FAIL: $*" >&2; exit 1; }
# wait_for SECONDS WHAT CMD...: retries CMD every 0.1 s until it succeeds or time runs out.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for: $what"
    sleep 0.1
  done
  echo "ok: $what"
}
# wait_gone SECONDS WHAT CMD...: retries CMD every 0.1 s until it fails or time runs out.
wait_gone() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  while "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting until gone: $what"
    sleep 0.1
  done
  echo "ok: gone: $what"
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
  trap lab_test_cleanup EXIT INT TERM
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
  local ns
  for ns in "${agent_netns[@]}"; do ip netns add "$agent_prefix-$ns"; ip -n "$agent_prefix-$ns" link set lo up; done
}
agent_test_cleanup() {
  local rc=$? pid ns
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for ns in "${agent_netns[@]}"; do ip netns del "$agent_prefix-$ns" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then echo "--- logs (failure, rc=$rc)"; tail -n 40 "$work"/*.log 2>/dev/null || true; fi
  rm -rf "$work"
  exit $rc
}
