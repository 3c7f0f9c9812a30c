#!/usr/bin/env bash
# ctest's cleanup fixture for the e2e tests (e2e_leftovers): ctest kills a test that overruns its
# TIMEOUT with SIGKILL, so its EXIT trap never removes its lab or namespaces. Each test records
# what it makes in /tmp/blockd-e2e-records/<its PID> (e2e_record in lib.sh) and its own cleanup
# removes the record; for every record whose test is gone, this destroys the lab and deletes the
# namespaces and scratch folders the record names, by those names only, then the record.
# Needs root. Usage: leftovers.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
records=/tmp/blockd-e2e-records
[ -d "$records" ] || exit 0
for record in "$records"/*; do
  [ -f "$record" ] || continue
  pid=${record##*/}
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then continue; fi  # still running
  (
    lab_topo= lab_name= lab_state= lab_runtime= lab_scratch= agent_netns_names=
    . "$record"
    if [ -n "$lab_topo" ]; then
      if [ "$lab_runtime" = docker ]; then
        . "$top/tests/lab/docker-daemon.sh"
        docker_up || echo "leftovers: no Docker daemon for lab ${lab_name:-?}" >&2
      fi
      echo "leftovers: test $pid (killed) left lab ${lab_name:-?}: destroying it"
      CLAB_NETNS_STATE_DIR=$lab_state "$top/tests/lab/clab-netns" destroy -t "$lab_topo" ${lab_name:+--name "$lab_name"} || true
      rm -rf "$lab_state" $lab_scratch
      ! declare -F docker_down >/dev/null || docker_down
    fi
    for ns in $agent_netns_names; do
      if ip netns del "$ns" 2>/dev/null; then echo "leftovers: test $pid (killed) left namespace $ns: deleted"; fi
    done
  ) || true
  rm -f "$record"
done
