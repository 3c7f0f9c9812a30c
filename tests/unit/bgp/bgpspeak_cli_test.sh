#!/usr/bin/env bash
# bgpspeak's command line: every bad flag exits 1 with a message naming the flag.
set -uo pipefail
speak=${1:?usage: $0 BGPSPEAK}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '10.0.0.0/26\n' >"$dir/ok.txt"
printf '10.0.0.0/26\n10.0.0.1/26\n' >"$dir/bad.txt"
ok=(--local-as 65001 --router-id 10.0.0.1 --peer 10.0.0.2:65002 --announce "$dir/ok.txt" --port 0)
failures=0
expect_error() {  # NEEDLE ARGS...: exit status 1 and NEEDLE on stderr
  local needle=$1
  shift
  local err
  err=$("$speak" "$@" 2>&1 >/dev/null)
  local rc=$?
  if [ $rc -ne 1 ] || [[ $err != *"$needle"* ]]; then
    echo "FAIL: bgpspeak $*: exit $rc, stderr: $err (wanted exit 1 naming $needle)"
    failures=$((failures + 1))
  else
    echo "ok: $needle: $err"
  fi
}
expect_error --local-as --router-id 10.0.0.1 --peer 10.0.0.2:65002 --announce "$dir/ok.txt"
expect_error --local-as --local-as x "${ok[@]:2}"
expect_error --router-id --local-as 65001 --router-id 300.0.0.1 --peer 10.0.0.2:65002 --announce "$dir/ok.txt"
expect_error --router-id --local-as 65001 --router-id fd00::1 --peer 10.0.0.2:65002 --announce "$dir/ok.txt"
expect_error --peer --local-as 65001 --router-id 10.0.0.1 --peer 10.0.0.2 --announce "$dir/ok.txt"
expect_error --peer --local-as 65001 --router-id 10.0.0.1 --peer 10.0.0.2:0 --announce "$dir/ok.txt"
expect_error --peer --local-as 65001 --router-id 10.0.0.1 --peer 10.0.0.2:65002 --peer 10.0.0.2:65003 --announce "$dir/ok.txt"
expect_error --announce --local-as 65001 --router-id 10.0.0.1 --peer 10.0.0.2:65002 --announce "$dir/missing.txt"
expect_error "line 2" --local-as 65001 --router-id 10.0.0.1 --peer 10.0.0.2:65002 --announce "$dir/bad.txt"
expect_error --hold-time "${ok[@]}" --hold-time 2
expect_error --listen "${ok[@]}" --listen nowhere
expect_error --graceful-restart "${ok[@]}" --graceful-restart 5000
expect_error --ttl-security "${ok[@]}" --ttl-security 300
expect_error --no-such-flag "${ok[@]}" --no-such-flag
exit $((failures > 0))
