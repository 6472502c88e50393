#!/usr/bin/env bash
# test/interop/hostile.sh — slabnet against hostile peers and its own process
# hygiene, with the Linux kernel on the other end (issue 10's must-shows).
#
# Inside a private network namespace (nothing leaves it; only 192.0.2.0/24):
#
#   kernel: tapX 192.0.2.1/24 ◄─► socat (TUN tap ⇄ UDP, one frame per datagram)
#     ◄─► test/interop/bridge.mjs (relays frames; its control port blackholes
#         an address: every frame to/from it dropped)
#     ◄─► 127.0.0.1:SLAB_LPORT / SLAB_RPORT ◄─► `slabnet up` 192.0.2.2/24
#
# (without bridge.mjs, or with HOSTILE_DIRECT=1, socat talks to slabnet
# directly, and check c makes its clients vanish by deleting their addresses
# instead: the kernel then cannot send a FIN or RST from them.)
# Each of checks a-d gets a fresh `slabnet up --serve echo,discard,http`,
# stopped with SIGTERM afterwards: its counters (JSON) are printed.
#
#   a. SYN flood: FLOOD_N spoofed SYNs (test/interop/synflood.mjs: sources in
#      192.0.2.160-254, which nobody owns; random ports; FLOOD_RATE/s) sent as
#      raw frames straight into slabnet's frame port during a 5 MB GET by the
#      kernel's curl (paced at GET_RATE so it outlasts the flood): the GET is
#      byte-exact; a new connection (GET /bytes/1000) made ~1 s into the flood
#      is served within A_LIMIT s, and one made at its end within A_LIMIT s of it.
#   b. slowloris (slowloris.mjs): 24 connections from 4 addresses of their
#      own sending one header byte every 3 s for 20 s, while 6 GETs
#      /bytes/10000 from 192.0.2.1 (one every 3 s) are each served within
#      B_LIMIT s.
#   c. 50 half-open clients (halfopen.mjs), each from its own address
#      192.0.2.100-149 on the tap, send half a request header, then vanish
#      (their addresses blackholed in the bridge, the client killed): 4 clients
#      from 192.0.2.1 are all served within C_LIMIT s of the vanishing. All 50
#      must connect first (slabnet needs a neighbour entry for each).
#   d. 32 zero-window connections from 4 addresses of their own (zerowin.py:
#      SO_RCVBUF at the minimum, GET /bytes/10000000, never read), then 3 GETs
#      from 192.0.2.1, each served within D_LIMIT s.
#   e. process hygiene: `npx --no-install slabnet up` started by a shell in
#      its own session and process group (setsid); SIGTERM (1) to the npx
#      process alone, (2) to the whole group, (3) to slabnet's node process
#      alone: each time within E_LIMIT s none of the processes recorded in
#      that group (by pgid and pid + start time, not by name) is left, and the
#      counters JSON line was printed to its output.
#
# Needs root, iproute2, socat, node, python3, curl, ss. Every command has a
# timeout; the namespace and every process we started are removed on exit
# (trap). Prints PASS/FAIL per check with the times measured, and
# "N passed, M failed"; exits non-zero when anything failed. KEEP=1 keeps
# the work directory; ONLY=LETTERS runs only those checks (ONLY=ae: a and e).
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
# log, pass, fail, stop_pid, wait_for
. "$ROOT/test/interop/lib.sh"
IT="$ROOT/test/interop"

NS="slabnet-hostile-$$"
TAP="snho$(( $$ % 100000 ))"
SLAB_LPORT=47201        # slabnet receives frames here
SLAB_RPORT=47202        # slabnet sends frames here (socat, or the bridge's side B)
BR_A_PORT=47203         # the bridge's side A (socat sends here)
SOCAT_PORT=47204        # socat's own port when the bridge is in between
BR_CTL=47205            # the bridge's control port
E_LPORT=47301           # check e's slabnet (no peer needed)
E_RPORT=47302
HOST_IP=192.0.2.1
SLAB_IP=192.0.2.2
SLAB_MAC=02:00:5e:00:02:02
E_IP=192.0.2.9
FLOOD_N=${FLOOD_N:-3000}
FLOOD_RATE=${FLOOD_RATE:-1500}
FLOOD_SRC=192.0.2.160-254
GET_BIG=5000000
GET_RATE=1500k          # check a's GET: ~3.3 s, longer than the flood
A_LIMIT=1
A_MID_DELAY=1.2         # s after the GET began (~1 s into the flood): one more new connection
B_LIMIT=2
C_LIMIT=5
D_LIMIT=5
E_LIMIT=2
HALF_N=50
ATTACK_ADDRS=4          # b's and d's attackers share 4 addresses of their own (not the other client's 192.0.2.1)
SLOW_BASE=50            # b: 192.0.2.50-53
ZW_BASE=60              # d: 192.0.2.60-63
HALF_BASE=100           # 192.0.2.100 .. 192.0.2.149
WORK=$(mktemp -d /tmp/slabnet-hostile.XXXXXX)
SLAB_PID=""
SOCAT_PID=""
BRIDGE_PID=""
CLIENT_PIDS=()
E_PGIDS=()
PASSED=0
FAILED=0
T0=$(date +%s)

nsx() { ip netns exec "$NS" "$@"; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN{printf "%.2f s", ms/1000}'; }


cleanup() {
  local p
  for p in "${CLIENT_PIDS[@]}"; do stop_pid "$p" KILL 1; done
  for p in "${E_PGIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
  stop_pid "$SLAB_PID" TERM 3
  stop_pid "$SOCAT_PID" TERM 2
  stop_pid "$BRIDGE_PID" TERM 2
  # anything still running inside our namespace was started by this script
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else log "artifacts kept in $WORK"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM


tap_ready() { # ip: socat's tap is up with its address and its prefix route leads to ip
  ip netns exec "$NS" ip -4 addr show dev "$TAP" up | grep -q inet && ip netns exec "$NS" ip -4 route get "$1" | grep -q " dev $TAP "
}

start_slab() { # prefix: a fresh `slabnet up` on the frame ports; returns 1 when it is not ready
  local prefix=$1
  ip netns exec "$NS" node "$ROOT/bin/slabnet.js" up --ip "$SLAB_IP/24" --gw "$HOST_IP" --frames "udp:$SLAB_LPORT:$SLAB_RPORT" \
    --serve echo,discard,http --mac "$SLAB_MAC" >"$WORK/${prefix}slabnet.out" 2>"$WORK/${prefix}slabnet.err" &
  SLAB_PID=$!
  if wait_for 30 grep -q ready "$WORK/${prefix}slabnet.out" && nsx ping -c 1 -W 2 "$SLAB_IP" >/dev/null 2>&1; then return 0; fi
  fail "${prefix%-}: slabnet up: no 'ready' line or no ping reply in 30 s"
  cat "$WORK/${prefix}slabnet.out" "$WORK/${prefix}slabnet.err" | tail -20
  stop_pid "$SLAB_PID" KILL 1
  SLAB_PID=""
  return 1
}

stop_slab() { # prefix counter-paths...: SIGTERM, then print the counters asked for;
  # a FAIL line only when slabnet had died before (a crash under attack) or does not exit cleanly
  local prefix=$1 i rc
  shift
  if ! kill -0 "$SLAB_PID" 2>/dev/null; then
    wait "$SLAB_PID" 2>/dev/null; rc=$?
    fail "${prefix%-}: slabnet had exited (status $rc) before the SIGTERM: $(tail -n 3 "$WORK/${prefix}slabnet.err" | tr '\n' ' ' | cut -c1-300)"
  else
    kill -TERM "$SLAB_PID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$SLAB_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SLAB_PID" 2>/dev/null; then
      fail "${prefix%-}: slabnet did not exit within 10 s of SIGTERM (killed)"
      stop_pid "$SLAB_PID" KILL 1
    fi
    wait "$SLAB_PID" 2>/dev/null; rc=$?
    [ "$rc" = 0 ] || fail "${prefix%-}: slabnet exit status $rc on SIGTERM: $(tail -n 3 "$WORK/${prefix}slabnet.err" | tr '\n' ' ' | cut -c1-300)"
  fi
  SLAB_PID=""
  log "   counters: $(node "$IT/hostile_counters.mjs" "$WORK/${prefix}slabnet.out" "$@")"
}

client_gone() { # pid: stop a helper client and forget it
  local pid=$1 sig=${2:-TERM} p keep=()
  [ "$sig" = KILL ] && disown "$pid" 2>/dev/null # no "Killed" line from bash
  stop_pid "$pid" "$sig" 2
  wait "$pid" 2>/dev/null
  for p in "${CLIENT_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  CLIENT_PIDS=("${keep[@]}")
}

timed_get() { # name path max_s [curl options...]: curl GET in the namespace; writes $WORK/name.{bin,w,err,end}
  local name=$1 path=$2 max=$3
  shift 3
  nsx timeout $((max + 5)) curl -sS --max-time "$max" "$@" -o "$WORK/$name.bin" -w '%{http_code} %{size_download}' \
    "http://$SLAB_IP$path" >"$WORK/$name.w" 2>"$WORK/$name.err"
  now_ms >"$WORK/$name.end"
}

get_verdict() { # name bytes: sets gv ("ok" or what was observed) from a timed_get's files
  local name=$1 n=$2 w want got
  w=$(cat "$WORK/$name.w" 2>/dev/null)
  want=$(node "$IT/pattern.mjs" "$n")
  got=$({ sha256sum <"$WORK/$name.bin"; } 2>/dev/null | cut -c1-64)
  if [ "$w" = "200 $n" ] && [ "$got" = "$want" ]; then gv=ok; else
    gv="got '$w'${got:+ sha256 ${got:0:12}} $(head -c 120 "$WORK/$name.err" | tr '\n' ' ')"
  fi
}

addrs() { # add|del base count: secondary addresses 192.0.2.base.. on the tap
  local i
  for ((i = 0; i < $3; i++)); do nsx ip addr "$1" "192.0.2.$(($2 + i))/24" dev "$TAP" 2>/dev/null; done
}

want() { [ -z "${ONLY:-}" ] || [[ "$ONLY" == *"$1"* ]]; } # ONLY=ac: run checks a and c only

bridge_ctl() { # command...: control datagrams to the bridge (bridgectl.mjs), prints the replies
  nsx timeout 5 node "$IT/bridgectl.mjs" "$BR_CTL" "$@" 2>&1
}

# ---- preconditions ----------------------------------------------------------
for t in ip socat node python3 curl ss sha256sum setsid npx; do
  if ! command -v "$t" >/dev/null; then fail "setup: '$t' not installed"; log "0 passed, 1 failed"; exit 1; fi
done
if [ "$(id -u)" != 0 ]; then fail "setup: needs root (network namespaces, TAP)"; log "0 passed, 1 failed"; exit 1; fi
USE_BRIDGE=1
if [ -n "${HOSTILE_DIRECT:-}" ] || [ ! -f "$IT/bridge.mjs" ]; then USE_BRIDGE=0; fi

# ---- namespace, bridge, socat -----------------------------------------------
log "== hostile peers: namespace $NS, tap $TAP, work dir $WORK, $([ $USE_BRIDGE = 1 ] && echo "through bridge.mjs" || echo "socat ⇄ slabnet directly (no bridge)")"
if ! ip netns add "$NS"; then fail "setup: ip netns add"; exit 1; fi
nsx ip link set lo up
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
if [ "$USE_BRIDGE" = 1 ]; then
  ip netns exec "$NS" node "$IT/bridge.mjs" --a "$BR_A_PORT:$SOCAT_PORT" --b "$SLAB_RPORT:$SLAB_LPORT" --ctl "$BR_CTL" --parent $$ \
    >"$WORK/bridge.out" 2>"$WORK/bridge.err" &
  BRIDGE_PID=$!
  if ! wait_for 15 grep -q 'bridge ready' "$WORK/bridge.out"; then
    fail "setup: bridge.mjs printed no 'bridge ready' in 15 s"; cat "$WORK/bridge.out" "$WORK/bridge.err" | tail -20
    log "$PASSED passed, $FAILED failed"; exit 1
  fi
  SOCAT_TO=$BR_A_PORT
  SOCAT_BIND=$SOCAT_PORT
else
  SOCAT_TO=$SLAB_LPORT
  SOCAT_BIND=$SLAB_RPORT
fi
ip netns exec "$NS" socat -d UDP4-DATAGRAM:127.0.0.1:$SOCAT_TO,bind=127.0.0.1:$SOCAT_BIND \
  "TUN:$HOST_IP/24,tun-type=tap,tun-name=$TAP,iff-up,iff-no-pi" 2>"$WORK/socat.err" &
SOCAT_PID=$!
if ! wait_for 10 tap_ready "$SLAB_IP"; then
  fail "setup: socat did not create $TAP (or no route to $SLAB_IP through it)"; cat "$WORK/socat.err"
  log "$PASSED passed, $FAILED failed"; exit 1
fi

TCP_COUNTERS="TcpExt.ListenDrops TcpExt.ListenOverflows TcpExt.TCPReqQFullDrop TcpExt.TCPReqQFullDoCookies TcpExt.SyncookiesSent
  TcpExt.SyncookiesRecv TcpExt.SyncookiesFailed Tcp.PassiveOpens Tcp.AttemptFails Tcp.EstabResets Tcp.CurrEstab TcpExt.EmbryonicRsts"

# ---- a. SYN flood during a 5 MB GET ------------------------------------------
log "== a. SYN flood: $FLOOD_N spoofed SYNs ($FLOOD_SRC, ${FLOOD_RATE}/s) into slabnet's frame port during GET /bytes/$GET_BIG"
if want a && start_slab a-; then
  t_get0=$(now_ms)
  # paced by the reader (curl --limit-rate, the kernel's window) so that it lasts the whole flood
  timed_get a-get "/bytes/$GET_BIG" 60 --limit-rate "$GET_RATE" &
  get_pid=$!
  CLIENT_PIDS+=("$get_pid")
  sleep 0.2
  # a new connection in the middle of the flood, too (issue 10: served during and right after it)
  ( sleep "$A_MID_DELAY"; now_ms >"$WORK/a-mid.start"; timed_get a-mid /bytes/1000 10 ) &
  mid_pid=$!
  CLIENT_PIDS+=("$mid_pid")
  nsx timeout 30 node "$IT/synflood.mjs" --to "$SLAB_LPORT" --dmac "$SLAB_MAC" --dst "$SLAB_IP" --dport 80 \
    --count "$FLOOD_N" --rate "$FLOOD_RATE" --src "$FLOOD_SRC" --seed $$ >"$WORK/a-flood.out" 2>&1
  flood_t0=$(sed -n 's/^synflood: start \([0-9]*\).*/\1/p' "$WORK/a-flood.out")
  flood_t1=$(sed -n 's/^synflood: end \([0-9]*\).*/\1/p' "$WORK/a-flood.out")
  # a new connection at once
  timed_get a-new /bytes/1000 10
  get_verdict a-new 1000
  new_gv=$gv
  log "   $(tail -n 1 "$WORK/a-flood.out")"
  wait "$get_pid" # the big GET ends by itself (its own --max-time)
  client_gone "$get_pid"
  get_verdict a-get "$GET_BIG"
  big_gv=$gv
  wait "$mid_pid"
  client_gone "$mid_pid"
  get_verdict a-mid 1000
  mid_gv=$gv
  if [ -z "$flood_t1" ]; then
    fail "a. SYN flood: synflood.mjs did not finish: $(head -c 300 "$WORK/a-flood.out")"
  else
    t_get1=$(cat "$WORK/a-get.end")
    new_ms=$(( $(cat "$WORK/a-new.end") - flood_t1 ))
    span="GET $(secs $((t_get1 - t_get0))) (ended $(secs $((t_get1 - flood_t0))) after the flood began), flood $(secs $((flood_t1 - flood_t0)))"
    if [ "$big_gv" = ok ] && [ "$t_get1" -gt "$flood_t1" ]; then
      pass "a. SYN flood: GET /bytes/$GET_BIG during it is byte-exact: $span"
    elif [ "$big_gv" = ok ]; then
      fail "a. SYN flood: the GET was exact but ended before the flood did (not during all of it): $span"
    else
      fail "a. SYN flood: GET /bytes/$GET_BIG during the flood: $big_gv; $span"
    fi
    mid_t=$(cat "$WORK/a-mid.start")
    mid_ms=$(( $(cat "$WORK/a-mid.end") - mid_t ))
    mid_at="started $(secs $((mid_t - flood_t0))) into the flood"
    if [ "$mid_gv" = ok ] && [ "$mid_ms" -le $((A_LIMIT * 1000)) ] && [ "$mid_t" -lt "$flood_t1" ]; then
      pass "a. SYN flood: new connection during it, GET /bytes/1000 $mid_at: served in $(secs "$mid_ms") (limit $A_LIMIT s)"
    elif [ "$mid_gv" = ok ] && [ "$mid_t" -lt "$flood_t1" ]; then
      fail "a. SYN flood: new connection during it, GET /bytes/1000 $mid_at: served only after $(secs "$mid_ms") (limit $A_LIMIT s)"
    elif [ "$mid_gv" = ok ]; then
      fail "a. SYN flood: the GET meant for the middle of the flood started after its end ($mid_at)"
    else
      fail "a. SYN flood: new connection during it, GET /bytes/1000 $mid_at: not served ($mid_gv) in $(secs "$mid_ms")"
    fi
    if [ "$new_gv" = ok ] && [ "$new_ms" -le $((A_LIMIT * 1000)) ]; then
      pass "a. SYN flood: new connection GET /bytes/1000 served $(secs "$new_ms") after the flood's end (limit $A_LIMIT s)"
    elif [ "$new_gv" = ok ]; then
      fail "a. SYN flood: new connection GET /bytes/1000 served only $(secs "$new_ms") after the flood's end (limit $A_LIMIT s)"
    else
      fail "a. SYN flood: new connection GET /bytes/1000 not served ($new_gv) in $(secs "$new_ms") after the flood's end (limit $A_LIMIT s)"
    fi
  fi
  stop_slab a- $TCP_COUNTERS Link.ArpTableFull Pool.HighSmall Pool.HighLarge Pool.AllocFails
fi

# ---- b. slowloris --------------------------------------------------------------
SLOW_N=24
log "== b. slowloris: $SLOW_N connections from 192.0.2.$SLOW_BASE-$((SLOW_BASE + ATTACK_ADDRS - 1)), one header byte every 3 s for 20 s; 6 GETs /bytes/10000 from $HOST_IP meanwhile"
want b && addrs add "$SLOW_BASE" "$ATTACK_ADDRS"
if want b && start_slab b-; then
  ip netns exec "$NS" timeout 40 node "$IT/slowloris.mjs" "$SLAB_IP" 80 "$SLOW_N" 3000 20000 "192.0.2.$SLOW_BASE" "$ATTACK_ADDRS" \
    >"$WORK/b-slow.out" 2>&1 &
  slow_pid=$!
  CLIENT_PIDS+=("$slow_pid")
  slow_t0=$(now_ms)
  wait_for 6 grep -q connected "$WORK/b-slow.out"
  log "   $(grep connected "$WORK/b-slow.out")"
  b_ok=0
  b_res=""
  for ((i = 0; i < 6; i++)); do
    # one GET every 3 s, from 2 s after the slowloris clients began
    delay=$(( slow_t0 + 2000 + 3000 * i - $(now_ms) ))
    [ "$delay" -gt 0 ] && sleep "$(awk -v d="$delay" 'BEGIN{printf "%.3f", d/1000}')"
    t=$(now_ms)
    timed_get "b-get$i" /bytes/10000 3 --interface "$HOST_IP"
    ms=$(( $(cat "$WORK/b-get$i.end") - t ))
    get_verdict "b-get$i" 10000
    if [ "$gv" = ok ] && [ "$ms" -le $((B_LIMIT * 1000)) ]; then
      b_ok=$((b_ok + 1)); b_res="$b_res $(secs "$ms")"
    elif [ "$gv" = ok ]; then b_res="$b_res $(secs "$ms")(slow)"
    else b_res="$b_res [not served in $(secs "$ms"): $gv]"
    fi
  done
  wait "$slow_pid" 2>/dev/null
  client_gone "$slow_pid"
  log "   $(grep done "$WORK/b-slow.out")"
  if [ "$b_ok" = 6 ]; then
    pass "b. slowloris: 6 of 6 GETs /bytes/10000 served exactly, each within $B_LIMIT s:$b_res"
  else
    fail "b. slowloris: $b_ok of 6 GETs /bytes/10000 served within $B_LIMIT s:$b_res"
  fi
  stop_slab b- Services.http $TCP_COUNTERS
fi
want b && addrs del "$SLOW_BASE" "$ATTACK_ADDRS"

# ---- c. 50 half-open clients that vanish -------------------------------------------
log "== c. $HALF_N half-open clients (192.0.2.$HALF_BASE-$((HALF_BASE + HALF_N - 1))) send half a request, then vanish; 4 clients from $HOST_IP"
want c && addrs add "$HALF_BASE" "$HALF_N"
if want c && start_slab c-; then
  # one connection every 20 ms; all of them connected and sent half a request within 8 s
  # (no `timeout` in front: $! must be the client itself, which is killed below; it exits by itself after 60 s)
  ip netns exec "$NS" node "$IT/halfopen.mjs" "$SLAB_IP" 80 "$HALF_N" "192.0.2.$HALF_BASE" 20 8000 >"$WORK/c-half.out" 2>&1 &
  half_pid=$!
  half_t0=$(now_ms)
  CLIENT_PIDS+=("$half_pid")
  wait_for 10 grep -q "connected and sent" "$WORK/c-half.out"
  half_line=$(grep 'connected and sent' "$WORK/c-half.out")
  half_ready=$(printf '%s\n' "$half_line" | sed -n 's/^halfopen: \([0-9]*\) of.*/\1/p')
  log "   $half_line"
  sleep 1
  if [ "$USE_BRIDGE" = 1 ]; then
    cmds=()
    for ((i = 0; i < HALF_N; i++)); do cmds+=("blackhole 192.0.2.$((HALF_BASE + i))"); done
    r=$(bridge_ctl "${cmds[@]}")
    bh_ok=$(printf '%s\n' "$r" | grep -c '^ok')
    [ "$bh_ok" = "$HALF_N" ] || log "   bridge: blackhole answers: $(printf '%s\n' "$r" | grep -v '^ok' | sort | uniq -c | head -3 | tr '\n' ' ')"
    how="$bh_ok of $HALF_N addresses blackholed in the bridge"
  else
    addrs del "$HALF_BASE" "$HALF_N"
    how="no bridge: their addresses deleted from the tap"
  fi
  client_gone "$half_pid" KILL
  t_van=$(now_ms)
  log "   vanished $(secs $(( t_van - half_t0 ))) after the first connect: $how, clients killed; $(grep -c 'closed by the server' "$WORK/c-half.out") had been closed by slabnet by then"
  cpids=()
  for ((i = 0; i < 4; i++)); do
    timed_get "c-get$i" /bytes/1000 15 --interface "$HOST_IP" &
    cpids+=($!)
  done
  CLIENT_PIDS+=("${cpids[@]}")
  for p in "${cpids[@]}"; do wait "$p"; client_gone "$p"; done
  c_ok=0
  c_res=""
  for ((i = 0; i < 4; i++)); do
    ms=$(( $(cat "$WORK/c-get$i.end") - t_van ))
    get_verdict "c-get$i" 1000
    if [ "$gv" = ok ] && [ "$ms" -le $((C_LIMIT * 1000)) ]; then c_ok=$((c_ok + 1)); c_res="$c_res $(secs "$ms")"
    elif [ "$gv" = ok ]; then c_res="$c_res $(secs "$ms")(late)"
    else c_res="$c_res [not served in $(secs "$ms"): $gv]"
    fi
  done
  if [ "${half_ready:-0}" != "$HALF_N" ]; then
    fail "c. $HALF_N vanished half-open clients: only ${half_ready:-0} of $HALF_N could connect and send half a request within 8 s (then: $c_ok of 4 other clients served within $C_LIMIT s, after:$c_res)"
  elif [ "$c_ok" = 4 ]; then
    pass "c. $HALF_N vanished half-open clients: 4 of 4 other clients served within $C_LIMIT s of the vanishing (done after:$c_res)"
  else
    fail "c. $HALF_N vanished half-open clients: $c_ok of 4 other clients served within $C_LIMIT s of the vanishing (after:$c_res)"
  fi
  stop_slab c- Services.http Link.ArpQueueDrops Link.ArpTableFull Link.ArpResolveFailed Link.TxNoNeigh Tcp.PassiveOpens Tcp.CurrEstab TcpExt.TCPKeepAlive TcpExt.TCPAbortOnTimeout TcpExt.ListenDrops TcpExt.ListenOverflows
  [ "$USE_BRIDGE" = 1 ] && log "   bridge: $(bridge_ctl stats | sed 's/,"blackholes":\[[^]]*\]//')"
fi
want c && addrs del "$HALF_BASE" "$HALF_N"

# ---- d. zero-window connections (sockstress) -----------------------------------
ZW_N=32
log "== d. $ZW_N zero-window connections from 192.0.2.$ZW_BASE-$((ZW_BASE + ATTACK_ADDRS - 1)) (GET /bytes/10000000, SO_RCVBUF minimal, never read), then 3 GETs from $HOST_IP"
want d && addrs add "$ZW_BASE" "$ATTACK_ADDRS"
if want d && start_slab d-; then
  ip netns exec "$NS" timeout 60 python3 "$IT/zerowin.py" "$SLAB_IP" 80 "$ZW_N" /bytes/10000000 50 "192.0.2.$ZW_BASE" "$ATTACK_ADDRS" \
    >"$WORK/d-zw.out" 2>&1 &
  zw_pid=$!
  CLIENT_PIDS+=("$zw_pid")
  wait_for 12 grep -q 'connected and sent' "$WORK/d-zw.out"
  log "   $(grep 'connected and sent' "$WORK/d-zw.out")"
  sleep 2
  # the kernel's view: established connections to slabnet's port 80 with data it holds unread
  log "   kernel: $(nsx ss -Htn state established "( dport = :80 )" | awk '{n++; if ($1 > 0) s++; q += $1} END {printf "%d connections to :80, %d with unread data (%d bytes in all)", n, s, q}')"
  d_ok=0
  d_res=""
  for ((i = 0; i < 3; i++)); do
    t=$(now_ms)
    timed_get "d-get$i" /bytes/10000 8 --interface "$HOST_IP"
    ms=$(( $(cat "$WORK/d-get$i.end") - t ))
    get_verdict "d-get$i" 10000
    if [ "$gv" = ok ] && [ "$ms" -le $((D_LIMIT * 1000)) ]; then d_ok=$((d_ok + 1)); d_res="$d_res $(secs "$ms")"
    elif [ "$gv" = ok ]; then d_res="$d_res $(secs "$ms")(late)"
    else d_res="$d_res [not served in $(secs "$ms"): $gv]"
    fi
  done
  if [ "$d_ok" = 3 ]; then
    pass "d. $ZW_N zero-window connections: 3 of 3 GETs /bytes/10000 served exactly within $D_LIMIT s each:$d_res"
  else
    fail "d. $ZW_N zero-window connections: $d_ok of 3 GETs /bytes/10000 served within $D_LIMIT s:$d_res"
  fi
  client_gone "$zw_pid"
  stop_slab d- Services.http Tcp.CurrEstab TcpExt.TCPWinProbe TcpExt.TCPToZeroWindowAdv TcpExt.TCPAbortOnTimeout TcpExt.ListenDrops TcpExt.ListenOverflows
fi
want d && addrs del "$ZW_BASE" "$ATTACK_ADDRS"

# ---- e. process hygiene: SIGTERM to npx alone, then to its process group ------------
proc_alive() { # pid starttime: the same process is still there (not a zombie)
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  set -- "$2" $st
  [ "$2" != Z ] && [ "${21}" = "$1" ]
}

group_procs() { # "pid:starttime" of every live process in the group $E_PG
  local pid st
  for pid in $(ps -e -o pid=,pgid=,stat= | awk -v g="$E_PG" '$2 == g && $3 !~ /^Z/ {print $1}'); do
    st=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    st=${st##*) }
    set -- $st
    printf '%s:%s ' "$pid" "${20}"
  done
}

hygiene() { # label how: start `npx slabnet up` in its own group, signal it (how: npx | group), check
  local label=$1 how=$2 out="$WORK/e-$1.out" err="$WORK/e-$1.err" recorded left p t0 ms npx_pid node_pid tree target
  ip netns exec "$NS" setsid bash -c 'echo $$ >"$1"; cd "$2" || exit 1; shift 2; npx --no-install slabnet "$@"; exit 0' \
    hygiene "$WORK/e-$label.pg" "$ROOT" up --ip "$E_IP/24" --frames "udp:$E_LPORT:$E_RPORT" --serve echo,discard,http \
    >"$out" 2>"$err" &
  local starter=$!
  wait_for 5 test -s "$WORK/e-$label.pg"
  E_PG=$(cat "$WORK/e-$label.pg" 2>/dev/null)
  if [ -z "$E_PG" ]; then fail "e. $label: the setsid shell did not start"; return; fi
  E_PGIDS+=("$E_PG")
  if ! wait_for 30 grep -q ready "$out"; then
    fail "e. $label: npx slabnet up printed no 'ready' line in 30 s"; tail -n 5 "$out" "$err"; kill -KILL -- "-$E_PG" 2>/dev/null; wait "$starter" 2>/dev/null; return
  fi
  recorded=$(group_procs)
  npx_pid=$(ps -o pid= --ppid "$E_PG" | tr -d ' ' | head -1)
  tree=$(ps -e -o pid=,ppid=,pgid=,args= | awk -v g="$E_PG" '$3 == g {printf "%s(ppid %s) %s %s %s|", $1, $2, $4, $5, $6}')
  log "   group $E_PG: ${tree%|}"
  node_pid=$(ps -e -o pid=,pgid=,comm=,args= | awk -v g="$E_PG" '$2 == g && $4 ~ /(^|\/)node$/ && $5 ~ /slabnet$/ {print $1}' | tail -n 1)
  if [ "$how" = npx ]; then target="npx (pid $npx_pid) alone"; t0=$(now_ms); kill -TERM "$npx_pid"
  elif [ "$how" = node ]; then target="slabnet's node (pid $node_pid) alone"; t0=$(now_ms); kill -TERM "$node_pid"
  else target="the process group $E_PG"; t0=$(now_ms); kill -TERM -- "-$E_PG"
  fi
  while :; do # watch for up to 5 s
    left=""
    for p in $(printf '%s\n' $recorded $(group_procs) | sort -u); do proc_alive "${p%%:*}" "${p##*:}" && left="$left ${p%%:*}"; done
    ms=$(( $(now_ms) - t0 ))
    [ -z "$left" ] || [ "$ms" -ge 5000 ] && break
    sleep 0.05
  done
  local json=no signame
  signame=$(tail -n 1 "$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Tcp&&j.Signal)console.log(j.Signal)})' 2>/dev/null)
  [ -n "$signame" ] && json=yes
  if [ -z "$left" ] && [ "$ms" -le $((E_LIMIT * 1000)) ] && [ "$json" = yes ]; then
    pass "e. SIGTERM to $target: all $(wc -w <<<"$recorded") processes gone in $(secs "$ms"), counters JSON printed (Signal $signame)"
  else
    local what=""
    [ -n "$left" ] && what="still running after $(secs "$ms"):$(for p in $left; do printf ' %s (%s)' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-60)"; done)"
    [ -z "$left" ] && [ "$ms" -gt $((E_LIMIT * 1000)) ] && what="all gone, but only after $(secs "$ms")"
    [ -z "$left" ] && [ "$ms" -le $((E_LIMIT * 1000)) ] && what="all gone in $(secs "$ms")"
    [ "$json" = yes ] && what="$what; counters JSON printed (Signal $signame)" || what="$what; no counters JSON line (last line: '$(tail -n 1 "$out" | head -c 80)')"
    fail "e. SIGTERM to $target: $what"
  fi
  disown "$starter" 2>/dev/null # no "Killed" line from bash
  kill -KILL -- "-$E_PG" 2>/dev/null
  for p in $recorded; do proc_alive "${p%%:*}" "${p##*:}" && kill -KILL "${p%%:*}" 2>/dev/null; done
  E_PGIDS=() # gone: the number may be reused by someone else's group, never signal it again
  wait "$starter" 2>/dev/null
  wait_for 3 sh -c "! ip netns exec '$NS' ss -Hlun 'sport = :$E_LPORT' | grep -q ."
}
log "== e. process hygiene: npx --no-install slabnet up in its own process group; SIGTERM to npx alone, to the group, to slabnet's node alone"
if want e; then
  hygiene npx npx
  hygiene group group
  hygiene node node
fi

log "== $(( $(date +%s) - T0 )) s"
log "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
