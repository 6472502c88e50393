# test/interop/lib.sh — helpers the interop scripts share (run.sh, hostile.sh,
# loss_table.sh source it): PASS/FAIL counting and bounded waits. Each script
# keeps its own PASSED/FAILED counters, namespaces and cleanup.

log() { printf '%s\n' "$*"; }
pass() { PASSED=$((PASSED + 1)); log "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); log "FAIL $*"; }

stop_pid() { # pid signal seconds: signal, then wait up to seconds, then KILL
  local pid=$1 sig=$2 secs=$3 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
}

wait_for() { # seconds command...: poll until the command succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
