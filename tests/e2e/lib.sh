# Shared by the end-to-end scripts: waiting and asserting with messages that say what failed.
fail() { echo "FAIL: $*" >&2; exit 1; }
# wait_for SECONDS WHAT CMD...: retries CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for: $what"
    sleep 0.2
  done
  echo "ok: $what"
}
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  if [ "$1" != "$2" ]; then
    printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$3" "$2" "$1" >&2
    exit 1
  fi
  echo "ok: $3"
}
