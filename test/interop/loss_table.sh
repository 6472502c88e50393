#!/usr/bin/env bash
# test/interop/loss_table.sh — issue 10's loss-recovery table, measured against
# Linux: the same client, impairment and GET with slabnet as the server, then
# with the Linux kernel's own TCP as the server (calibration).
#
#   netns C: curl ─ tapC 192.0.2.1/24 ◄─► socat ◄─► 127.0.0.1 UDP ◄─► bridge.mjs (impairment)
#                 ◄─► 127.0.0.1 UDP ◄─► DUT 192.0.2.2:
#     slabnet: `slabnet up --ip 192.0.2.2/24 --frames udp:... --serve http` (in C)
#     linux:   socat (in C) ◄─► tapS, moved into netns S: 192.0.2.2/24, bytes_server.mjs on :80
#
# The kernel has no sch_netem, so test/interop/bridge.mjs applies each profile
# to both directions (own seeded PRNG each). Socat's tap for Linux is created in
# C (its UDP side needs C's loopback, where the bridge is) and then moved into
# netns S (a tap keeps working when moved; its address is set there).
# Profiles: loss 5%, 10%, 20% both ways; delay 20 ms ± 10 ms (reorders);
# delay 5 ms with 25% of frames sent early (overtaking). For each profile and
# DUT: `curl -o FILE http://192.0.2.2/bytes/N` (N = 2,000,000), timed (curl's
# time_total), checked byte-exact against test/interop/pattern.mjs.
#
# Prints PASS/FAIL per GET (exactness; a slabnet GET cut off by its time limit
# passes when the bytes received so far are exact and not none, and shows as
# TIMEOUT), the table `profile | slabnet s | linux s | ratio` (medians), per GET
# an INFO line with the server's TCP counters that changed (RetransSegs,
# TCPTimeouts, ...: slabnet's from its status page, Linux's from netns S) and per
# profile the ratio goal (slabnet ≤ 2 × Linux): INFO lines, or PASS/FAIL when
# LOSS_RATIO_GATE=1. Writes $WORK/loss_table.json (its other files go to
# $WORK/loss_table/) and prints the path; then
# "N passed, M failed"; exits non-zero when anything failed.
#
# Environment: LOSS_RUNS=N GETs per cell (median; default 1), LOSS_TIMEOUT=S per
# GET (default 60), LOSS_BUDGET=S for the whole script (default 330: the
# per-GET limit shrinks so the script ends in time; GETs with < 5 s left are
# skipped), LOSS_PROFILES=loss5,loss10,... (a subset), LOSS_EXTRA='NAME:SPEC ...'
# (more profiles in bridge.mjs's SPEC, e.g. 'none:none delay5:delay=5' to tell
# window limits from recovery), LOSS_BYTES (default
# 2000000), LOSS_SEED (bridge PRNG, default 20261207), LOSS_RATIO_GATE=1,
# WORK=DIR (the caller's directory, e.g. run.sh's: used and kept; otherwise a
# fresh one, removed at the end unless something failed or KEEP is set), LOSS_SLABNET_ARGS (more flags for
# slabnet up, e.g. --pcap FILE), LOSS_SKIP_LINUX=1 / LOSS_SKIP_SLABNET=1,
# SLABNET_BIN=PATH (default bin/slabnet.js here; e.g. that of a `git archive`
# copy of a commit, to measure it while the tree is being edited).
# Needs root, iproute2, socat, node, curl, ping, sha256sum, cmp.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
# log, pass, fail, stop_pid, wait_for
. "$ROOT/test/interop/lib.sh"

NS_C="slabnet-lt-c-$$"
NS_S="slabnet-lt-s-$$"
TAP_C="ltc$(( $$ % 100000 ))"
TAP_S="lts$(( $$ % 100000 ))"
# UDP ports on netns C's loopback
BR_A=47101   # bridge listens (client socat sends here)
CL_A=47102   # client socat listens (bridge sends here)
BR_B=47103   # bridge listens (DUT sends here)
DUT_B=47104  # DUT listens (bridge sends here)
CTL=47105    # bridge control
CLIENT_IP=192.0.2.1
DUT_IP=192.0.2.2
BYTES=${LOSS_BYTES:-2000000}
RUNS=${LOSS_RUNS:-1}
TMO=${LOSS_TIMEOUT:-60}
BUDGET=${LOSS_BUDGET:-330}
SEED=${LOSS_SEED:-20261207}
GATE=${LOSS_RATIO_GATE:-0}
PROFILE_NAMES=(loss5 loss10 loss20 jitter early)
PROFILE_SPECS=(loss=0.05 loss=0.1 loss=0.2 delay=20,jitter=10 delay=5,early=0.25)
OWN_WORK=1
if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then OWN_WORK=0; else WORK=$(mktemp -d /tmp/slabnet-loss.XXXXXX); fi
JSON="$WORK/loss_table.json"
WORK="$WORK/loss_table"  # this script's files (a caller's WORK has its own slabnet.out etc.)
mkdir -p "$WORK" || exit 1
BRIDGE_PID=""
SOCAT_C_PID=""
SOCAT_S_PID=""
SERVER_PID=""
SLAB_PID=""
PASSED=0
FAILED=0
T0=$(date +%s)
DEADLINE=$((T0 + BUDGET))

nsc() { ip netns exec "$NS_C" "$@"; }
nss() { ip netns exec "$NS_S" "$@"; }


cleanup() {
  stop_pid "$SLAB_PID" TERM 3
  stop_pid "$SERVER_PID" TERM 2
  stop_pid "$SOCAT_S_PID" TERM 2
  stop_pid "$SOCAT_C_PID" TERM 2
  stop_pid "$BRIDGE_PID" TERM 2
  ip netns del "$NS_S" 2>/dev/null
  ip netns del "$NS_C" 2>/dev/null
  if [ "$OWN_WORK" = 1 ]; then
    if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$(dirname "$WORK")"; else log "artifacts kept in $(dirname "$WORK")"; fi
  fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM


tap_ready() { # netns tap ip: the tap is up with its address AND its prefix route leads to ip
  ip netns exec "$1" ip -4 addr show dev "$2" up | grep -q inet && ip netns exec "$1" ip -4 route get "$3" | grep -q " dev $2 "
}

finish() { log "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }

ctl() { # command: one datagram to the bridge's control port; prints its reply (bash's /dev/udp is a
  # connected socket; dd's one read takes the whole reply datagram and returns at once, socat would wait -t)
  nsc timeout 4 bash -c 'exec 3<>"/dev/udp/127.0.0.1/$1" && printf "%s" "$2" >&3 && timeout 3 dd bs=65536 count=1 status=none <&3' \
    _ "$CTL" "$1" 2>/dev/null
}

ctl_ok() { # command: fail when the bridge does not answer "ok"
  local r
  r=$(ctl "$1")
  case "$r" in ok*) return 0 ;; esac
  fail "bridge control '$1': '$r'"
  return 1
}

# ---- preconditions ----------------------------------------------------------
for t in ip socat node curl ping sha256sum cmp; do
  if ! command -v "$t" >/dev/null; then fail "setup: '$t' not installed"; finish; fi
done
if [ "$(id -u)" != 0 ]; then fail "setup: needs root (network namespaces, TAP)"; finish; fi
for extra in ${LOSS_EXTRA:-}; do  # NAME:SPEC more profiles, e.g. LOSS_EXTRA='none:none delay5:delay=5'
  if [[ "$extra" != *:* ]]; then fail "setup: LOSS_EXTRA item '$extra' is not NAME:SPEC"; finish; fi
  PROFILE_NAMES+=("${extra%%:*}")
  PROFILE_SPECS+=("${extra#*:}")
done
if [ -n "${LOSS_PROFILES:-}" ]; then
  names=() specs=()
  for ((i = 0; i < ${#PROFILE_NAMES[@]}; i++)); do
    case ",$LOSS_PROFILES," in *",${PROFILE_NAMES[$i]},"*) names+=("${PROFILE_NAMES[$i]}"); specs+=("${PROFILE_SPECS[$i]}") ;; esac
  done
  if [ "${#names[@]}" -eq 0 ]; then fail "setup: LOSS_PROFILES='$LOSS_PROFILES' names none of ${PROFILE_NAMES[*]}"; finish; fi
  PROFILE_NAMES=("${names[@]}")
  PROFILE_SPECS=("${specs[@]}")
fi
WANT=$(node "$ROOT/test/interop/pattern.mjs" "$BYTES")
: >"$WORK/runs.tsv"

# ---- namespaces, bridge, client tap ------------------------------------------
log "== netns $NS_C (client, wires), $NS_S (Linux server); work dir $WORK; $RUNS run(s) per cell, GET limit ${TMO} s, budget ${BUDGET} s"
if ! ip netns add "$NS_C" || ! ip netns add "$NS_S"; then fail "setup: ip netns add"; finish; fi
for ns in "$NS_C" "$NS_S"; do
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
done

# background processes via `ip netns exec` directly, so $! is the process itself
ip netns exec "$NS_C" node "$ROOT/test/interop/bridge.mjs" --a "$BR_A:$CL_A" --b "$BR_B:$DUT_B" --ctl "$CTL" \
  --seed "$SEED" --parent $$ --max-time $((BUDGET + 60)) >"$WORK/bridge.out" 2>"$WORK/bridge.err" &
BRIDGE_PID=$!
if ! wait_for 15 grep -q 'bridge ready' "$WORK/bridge.out"; then
  fail "setup: bridge.mjs: no 'bridge ready' in 15 s"; cat "$WORK/bridge.out" "$WORK/bridge.err"; finish
fi
ip netns exec "$NS_C" socat -d UDP4-DATAGRAM:127.0.0.1:$BR_A,bind=127.0.0.1:$CL_A \
  "TUN:$CLIENT_IP/24,tun-type=tap,tun-name=$TAP_C,iff-up,iff-no-pi" 2>"$WORK/socat-c.err" &
SOCAT_C_PID=$!
if ! wait_for 10 tap_ready "$NS_C" "$TAP_C" "$DUT_IP"; then
  fail "setup: socat did not create $TAP_C (or no route to $DUT_IP through it)"; cat "$WORK/socat-c.err"; finish
fi

# ---- one GET ----------------------------------------------------------------
# snapshot dut file: the DUT's TCP counters (slabnet: its status page GET /;
# linux: netns S's /proc/net/snmp and /proc/net/netstat); the report prints the
# changes over each GET (retransmissions, timeouts, recoveries)
snapshot() {
  if [ "$1" = slabnet ]; then
    nsc timeout 8 curl -sS --noproxy '*' --max-time 5 "http://$DUT_IP/" >"$2" 2>/dev/null
  else
    nss cat /proc/net/snmp /proc/net/netstat >"$2" 2>/dev/null
  fi
}

# measure dut profile spec run: the GET under the profile; PASS/FAIL on exactness; a line in runs.tsv
measure() {
  local dut=$1 prof=$2 spec=$3 run=$4 left lim w rc code size secs status out err got st
  out="$WORK/$dut-$prof-$run.bin"
  err="$WORK/$dut-$prof-$run.err"
  st="$WORK/$dut-$prof-$run.stats"
  left=$((DEADLINE - $(date +%s) - 15))
  lim=$TMO
  [ "$left" -lt "$lim" ] && lim=$left
  if [ "$lim" -lt 5 ]; then
    log "SKIP $dut $prof run $run: the ${BUDGET} s budget is spent"
    printf '%s\t%s\t%s\t%s\tskipped\t0\t0\t%s\t\t\n' "$dut" "$prof" "$spec" "$run" "$st" >>"$WORK/runs.tsv"
    return
  fi
  # unimpaired: the client's ARP entry for the DUT fresh, then the profile and zeroed counters
  ctl_ok "profile none" || return
  nsc timeout 5 ping -c 1 -W 2 "$DUT_IP" >/dev/null 2>&1
  snapshot "$dut" "$WORK/$dut-$prof-$run.before"
  ctl_ok "stats reset" || return
  ctl_ok "profile $spec" || return
  w=$(nsc timeout $((lim + 5)) curl -sS --noproxy '*' --max-time "$lim" -o "$out" \
    -w '%{http_code} %{size_download} %{time_total}' "http://$DUT_IP/bytes/$BYTES" 2>"$err")
  rc=$?
  ctl "stats" >"$st"
  ctl_ok "profile none"
  snapshot "$dut" "$WORK/$dut-$prof-$run.after"
  read -r code size secs <<<"$w"
  size=$(stat -c %s "$out" 2>/dev/null || echo 0)
  got=$(sha256sum <"$out" 2>/dev/null | cut -c1-64)
  if [ "$rc" = 0 ] && [ "$code" = 200 ] && [ "$size" = "$BYTES" ] && [ "$got" = "$WANT" ]; then
    status=ok
    pass "$dut $prof ($spec) run $run: GET /bytes/$BYTES exact (sha256 ${got:0:16}…) in $secs s"
  elif { [ "$rc" = 28 ] || [ "$rc" = 124 ]; } && [ "$dut" = slabnet ] && [ "$size" -gt 0 ] && cmp -s -n "$size" "$out" "$WORK/ref.bin"; then
    status=timeout
    secs=$lim
    pass "$dut $prof ($spec) run $run: TIMEOUT after $lim s with $size of $BYTES bytes, exact so far"
  else
    status=error
    [ "$rc" = 28 ] || [ "$rc" = 124 ] && status=timeout
    secs=$lim
    fail "$dut $prof ($spec) run $run: curl rc=$rc '$w', $size bytes, sha256 ${got:0:16} want ${WANT:0:16}"
    head -c 300 "$err"
    out=""  # kept for a look
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dut" "$prof" "$spec" "$run" "$status" "${secs:-0}" "$size" "$st" \
    "$WORK/$dut-$prof-$run.before" "$WORK/$dut-$prof-$run.after" >>"$WORK/runs.tsv"
  [ -z "$out" ] || rm -f "$out"
}

measure_all() { # dut
  local i r
  for ((i = 0; i < ${#PROFILE_NAMES[@]}; i++)); do
    for ((r = 1; r <= RUNS; r++)); do measure "$1" "${PROFILE_NAMES[$i]}" "${PROFILE_SPECS[$i]}" "$r"; done
  done
}

path_check() { # label: ping through the unimpaired bridge
  local out
  out=$(nsc timeout 15 ping -c 3 -i 0.2 -W 2 "$DUT_IP" 2>&1)
  if printf '%s\n' "$out" | grep -q ' 3 received'; then
    pass "$1: ping -c 3 $DUT_IP through the bridge: $(printf '%s\n' "$out" | grep received)"
    return 0
  fi
  fail "$1: ping -c 3 $DUT_IP through the bridge"; printf '%s\n' "$out"
  return 1
}

# ---- Linux as the server (calibration), and the reference file ---------------
# socat creates tapS in C (its UDP side needs C's loopback) and it moves to S
ip netns exec "$NS_C" socat -d UDP4-DATAGRAM:127.0.0.1:$BR_B,bind=127.0.0.1:$DUT_B \
  "TUN,tun-type=tap,tun-name=$TAP_S,iff-no-pi" 2>"$WORK/socat-s.err" &
SOCAT_S_PID=$!
linux_ok=0
if wait_for 10 ip -n "$NS_C" link show "$TAP_S" && ip -n "$NS_C" link set "$TAP_S" netns "$NS_S" &&
   ip -n "$NS_S" addr add "$DUT_IP/24" dev "$TAP_S" && ip -n "$NS_S" link set "$TAP_S" up &&
   wait_for 10 tap_ready "$NS_S" "$TAP_S" "$CLIENT_IP"; then
  ip netns exec "$NS_S" node "$ROOT/test/interop/bytes_server.mjs" --listen "$DUT_IP:80" --parent $$ \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  if wait_for 15 grep -q 'bytes_server ready' "$WORK/server.out"; then
    path_check "linux (netns S, tap moved there)" && linux_ok=1
  else
    fail "setup: bytes_server.mjs: no 'ready' in 15 s"; cat "$WORK/server.out" "$WORK/server.err"
  fi
else
  fail "setup: socat's $TAP_S into netns $NS_S with $DUT_IP/24"; cat "$WORK/socat-s.err"
fi

# the reference: unimpaired GET from Linux, checked against pattern.mjs (prefix checks of cut-off GETs use it)
ref_ok=0
if [ "$linux_ok" = 1 ]; then
  w=$(nsc timeout 40 curl -sS --noproxy '*' --max-time 30 -o "$WORK/ref.bin" -w '%{http_code} %{time_total}' \
    "http://$DUT_IP/bytes/$BYTES" 2>"$WORK/ref.err")
  got=$(sha256sum <"$WORK/ref.bin" 2>/dev/null | cut -c1-64)
  if [ "$got" = "$WANT" ]; then
    ref_ok=1
    pass "linux unimpaired: GET /bytes/$BYTES exact ('$w'), sha256 = pattern.mjs ${WANT:0:16}…"
  else
    fail "linux unimpaired: GET /bytes/$BYTES '$w' sha256 ${got:0:16} want ${WANT:0:16}"; cat "$WORK/ref.err"
  fi
fi
if [ "$ref_ok" = 0 ]; then
  # no reference from Linux: build it locally so slabnet's cut-off GETs can still be checked
  node -e 'const n=+process.argv[1],b=Buffer.alloc(n);for(let p=0;p<n;p++)b[p]=((p%251)+Math.floor(p/251))&255;require("fs").writeFileSync(process.argv[2],b)' \
    "$BYTES" "$WORK/ref.bin"
fi
if [ "$linux_ok" = 1 ] && [ -z "${LOSS_SKIP_LINUX:-}" ]; then
  log "== linux: ${PROFILE_NAMES[*]}"
  measure_all linux
fi
stop_pid "$SERVER_PID" TERM 2
SERVER_PID=""
stop_pid "$SOCAT_S_PID" TERM 2
SOCAT_S_PID=""
wait_for 5 sh -c "! ip -n '$NS_S' link show '$TAP_S'" || log "note: $TAP_S still present after socat exited"

# ---- slabnet as the server ---------------------------------------------------
if [ -z "${LOSS_SKIP_SLABNET:-}" ]; then
  ip -n "$NS_C" neigh flush dev "$TAP_C" 2>/dev/null  # the Linux server's MAC is gone
  ip netns exec "$NS_C" node "${SLABNET_BIN:-$ROOT/bin/slabnet.js}" up --ip "$DUT_IP/24" --frames "udp:$DUT_B:$BR_B" --serve http ${LOSS_SLABNET_ARGS:-} \
    >"$WORK/slabnet.out" 2>"$WORK/slabnet.err" &
  SLAB_PID=$!
  if wait_for 30 grep -q ready "$WORK/slabnet.out"; then
    if path_check "slabnet ($(grep -m1 ready "$WORK/slabnet.out"))"; then
      log "== slabnet: ${PROFILE_NAMES[*]}"
      measure_all slabnet
    fi
    kill -TERM "$SLAB_PID" 2>/dev/null
    wait_for 10 sh -c "! kill -0 $SLAB_PID" || fail "slabnet did not exit within 10 s of SIGTERM"
    stop_pid "$SLAB_PID" KILL 1
    SLAB_PID=""
    tail -n 1 "$WORK/slabnet.out" >"$WORK/slabnet-counters.json"
  else
    fail "slabnet up: no 'ready' line in 30 s"; cat "$WORK/slabnet.out" "$WORK/slabnet.err"
  fi
fi

# ---- the table ----------------------------------------------------------------
log "== GET /bytes/$BYTES, seconds (median of $RUNS), bridge seed $SEED"
node "$ROOT/test/interop/loss_report.mjs" "$WORK/runs.tsv" "$JSON" "$GATE" "$BYTES" >"$WORK/report.log" 2>&1
cat "$WORK/report.log"
PASSED=$((PASSED + $(grep -c '^PASS' "$WORK/report.log")))
FAILED=$((FAILED + $(grep -c '^FAIL' "$WORK/report.log")))
[ -s "$JSON" ] || fail "loss_report.mjs wrote no $JSON"
rm -f "$WORK/ref.bin"
log "table: $JSON ($(( $(date +%s) - T0 )) s in all)"
finish
