# Sourced by the Docker lab scripts: a Docker daemon for the labs. docker_up uses the one that
# answers, else starts Debian's dockerd (as LAB-NOTES-style machines run it: as root, without
# systemd, its own data and exec roots) and remembers its PID; docker_down stops only a daemon
# docker_up started. The data root persists (/var/lib/blockd-lab/docker), so images built once
# are reused by the next run on the same machine.
#   . tests/lab/docker-daemon.sh; docker_up; trap docker_down EXIT
docker_started_pid=
docker_data_root=${BLOCKD_LAB_DOCKER_ROOT:-/var/lib/blockd-lab/docker}
# Debian's client, when installed, in front of any other docker on PATH.
if [ -x /usr/bin/docker ]; then docker() { /usr/bin/docker "$@"; }; fi
docker_up() {
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null || { echo "docker_up: dockerd is not installed (apt-get install docker.io)" >&2; return 2; }
  local run=/run/blockd-lab-dockerd
  mkdir -p "$docker_data_root" "$run"
  dockerd --data-root "$docker_data_root" --exec-root "$run/exec" -p "$run/dockerd.pid" \
    >>"$run/dockerd.log" 2>&1 &
  docker_started_pid=$!
  local deadline=$((SECONDS + 60))
  until docker info >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$docker_started_pid" 2>/dev/null; then
      echo "docker_up: dockerd did not answer within 60s; its log:" >&2
      tail -n 20 "$run/dockerd.log" >&2
      return 2
    fi
    sleep 0.5
  done
}
docker_down() {
  [ -n "$docker_started_pid" ] || return 0
  kill -TERM "$docker_started_pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$docker_started_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  docker_started_pid=
}
