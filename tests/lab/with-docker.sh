#!/usr/bin/env bash
# Runs a command with a Docker daemon answering: the one already running, else one started for
# the command and stopped after it (tests/lab/docker-daemon.sh). For tests that are not shell
# scripts themselves, such as the lab runner's pytest docker tests.
#   tests/lab/with-docker.sh <command> [args...]
set -uo pipefail
. "$(dirname "$0")/docker-daemon.sh"
docker_up || exit 2
trap docker_down EXIT
"$@"
