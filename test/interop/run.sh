#!/usr/bin/env bash
# test/interop/run.sh — slabnet against the real Linux kernel (npm run test:interop).
#
# Builds, inside a private network namespace (nothing leaves it):
#
#   kernel: tapX 192.0.2.1/24 ◄─► socat (TUN tap ⇄ UDP, one frame per datagram)
#             ◄─► 127.0.0.1:RPORT / 127.0.0.1:LPORT ◄─► `slabnet up` 192.0.2.2/24
#
# then drives slabnet with the kernel's own tools (ping, ip neigh, socat/nc
# UDP) and checks the capture with tshark. Every command has a timeout; the
# namespace and every process we started are removed on exit (trap).
# Needs root, iproute2, socat, tshark, ping. Prints PASS/FAIL per check and
# "N passed, M failed"; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

NS="slabnet-it-$$"
TAP="snit$(( $$ % 100000 ))"
LPORT=47001            # slabnet listens here (socat sends here)
RPORT=47002            # socat listens here (slabnet sends here)
HOST_IP=192.0.2.1
SLAB_IP=192.0.2.2
SLAB_MAC=02:00:5e:00:02:02
WORK=$(mktemp -d /tmp/slabnet-interop.XXXXXX)
SLAB_PID=""
SOCAT_PID=""
TSHARK_PID=""
PASSED=0
FAILED=0
T0=$(date +%s)

log() { printf '%s\n' "$*"; }
pass() { PASSED=$((PASSED + 1)); log "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); log "FAIL $*"; }
nsx() { ip netns exec "$NS" "$@"; }

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

cleanup() {
  stop_pid "$TSHARK_PID" INT 3
  stop_pid "$SLAB_PID" TERM 3
  stop_pid "$SOCAT_PID" TERM 2
  ip netns del "$NS" 2>/dev/null
  if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else log "artifacts kept in $WORK"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

wait_for() { # seconds command...: poll until the command succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# ---- preconditions ----------------------------------------------------------
for t in ip socat tshark ping node; do
  if ! command -v "$t" >/dev/null; then fail "setup: '$t' not installed"; log "0 passed, 1 failed"; exit 1; fi
done
if [ "$(id -u)" != 0 ]; then fail "setup: needs root (network namespaces, TAP)"; log "0 passed, 1 failed"; exit 1; fi

# ---- namespace, slabnet, socat, tshark -------------------------------------
log "== namespace $NS, tap $TAP, work dir $WORK"
if ! ip netns add "$NS"; then fail "setup: ip netns add"; exit 1; fi
nsx ip link set lo up
# keep the capture to what this test sends: no IPv6 chatter on the tap
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1 2>/dev/null

# background processes run via `ip netns exec` directly (not the nsx function),
# so $! is the process itself (ip execs it) and signals reach it
ip netns exec "$NS" node "$ROOT/bin/slabnet.js" up --ip "$SLAB_IP/24" --gw "$HOST_IP" --frames "udp:$LPORT:$RPORT" \
  --serve echo,discard --pcap "$WORK/slabnet.pcap" --mac "$SLAB_MAC" >"$WORK/slabnet.out" 2>"$WORK/slabnet.err" &
SLAB_PID=$!
if wait_for 20 grep -q ready "$WORK/slabnet.out"; then
  pass "slabnet up: $(grep ready "$WORK/slabnet.out")"
else
  fail "slabnet up: no 'ready' line in 20 s"
  cat "$WORK/slabnet.out" "$WORK/slabnet.err"
  log "$PASSED passed, $FAILED failed"
  exit 1
fi

ip netns exec "$NS" socat -d UDP4-DATAGRAM:127.0.0.1:$LPORT,bind=127.0.0.1:$RPORT \
  "TUN:$HOST_IP/24,tun-type=tap,tun-name=$TAP,iff-up,iff-no-pi" 2>"$WORK/socat.err" &
SOCAT_PID=$!
if ! wait_for 10 nsx ip -4 addr show dev "$TAP" up; then
  fail "setup: socat did not create $TAP"
  cat "$WORK/socat.err"
  log "$PASSED passed, $FAILED failed"
  exit 1
fi
ip netns exec "$NS" tshark -i "$TAP" -w "$WORK/tap.pcapng" -q 2>"$WORK/tshark.err" &
TSHARK_PID=$!
wait_for 15 grep -q "Capturing on" "$WORK/tshark.err" || log "note: tshark did not report capturing yet"

# ---- 1. ICMP echo (ping) and ARP resolution ---------------------------------
out=$(nsx timeout 15 ping -c 3 -i 0.2 -W 2 "$SLAB_IP" 2>&1)
if printf '%s\n' "$out" | grep -q ' 3 received'; then
  pass "ping -c 3 $SLAB_IP: $(printf '%s\n' "$out" | grep 'received')"
else
  fail "ping -c 3 $SLAB_IP"; printf '%s\n' "$out"
fi

neigh=$(nsx ip neigh show "$SLAB_IP" dev "$TAP")
if printf '%s\n' "$neigh" | grep -qi "lladdr $SLAB_MAC" && printf '%s\n' "$neigh" | grep -qE 'REACHABLE|STALE|DELAY|PROBE'; then
  pass "ARP: kernel neighbour entry: $neigh"
else
  fail "ARP: kernel neighbour entry for $SLAB_IP: '$neigh'"
fi

# ---- 2. fragmentation and reassembly both ways -------------------------------
out=$(nsx timeout 15 ping -c 2 -i 0.3 -W 3 -s 4000 "$SLAB_IP" 2>&1)
if printf '%s\n' "$out" | grep -q ' 2 received' && printf '%s\n' "$out" | grep -q '^4008 bytes from'; then
  pass "ping -c 2 -s 4000 $SLAB_IP (fragmented both ways): $(printf '%s\n' "$out" | grep 'received')"
else
  fail "ping -c 2 -s 4000 $SLAB_IP"; printf '%s\n' "$out"
fi

# ---- 3. UDP echo (port 7): replies byte for byte -----------------------------
udp_echo() { # name bytes
  local name=$1 n=$2
  head -c "$n" /dev/urandom >"$WORK/$name.in"
  nsx timeout 10 socat -T 1.5 -t 3 - UDP4:$SLAB_IP:7 <"$WORK/$name.in" >"$WORK/$name.out" 2>"$WORK/$name.err"
  if cmp -s "$WORK/$name.in" "$WORK/$name.out"; then
    pass "UDP echo $n bytes: reply identical ($(stat -c %s "$WORK/$name.out") bytes back)"
  else
    fail "UDP echo $n bytes: got $(stat -c %s "$WORK/$name.out") bytes back"; cat "$WORK/$name.err"
  fi
}
udp_echo echo-small 32
udp_echo echo-full 1472
udp_echo echo-frag 3000

# ---- 4. UDP discard (port 9): no reply ---------------------------------------
DISCARDS=3
: >"$WORK/discard.out"
for ((i = 0; i < DISCARDS; i++)); do
  head -c 100 /dev/urandom >"$WORK/discard.in"
  nsx timeout 5 socat -T 1 -t 1 - UDP4:$SLAB_IP:9 <"$WORK/discard.in" >>"$WORK/discard.out" 2>/dev/null
done
if [ ! -s "$WORK/discard.out" ]; then
  pass "UDP discard: $DISCARDS datagrams sent, no reply"
else
  fail "UDP discard: got $(stat -c %s "$WORK/discard.out") bytes back"
fi

# ---- 5. UDP to a closed port: ICMP port unreachable --------------------------
# socat's connected UDP socket sees the kernel turn the ICMP error into ECONNREFUSED
out=$(printf 'nobody home' | nsx timeout 5 socat -T 2 - UDP4:$SLAB_IP:4444 2>&1)
if printf '%s\n' "$out" | grep -qi 'refused'; then
  pass "UDP to closed port 4444: kernel reports: $(printf '%s\n' "$out" | grep -i refused | head -1 | sed 's/^.*socat\[[0-9]*\] //')"
else
  fail "UDP to closed port 4444: no 'Connection refused' ($out)"
fi

# ---- 6. the wire: tshark on the tap ------------------------------------------
sleep 0.5
stop_pid "$TSHARK_PID" INT 5
TSHARK_PID=""
tsh() { timeout 30 tshark -n -r "$1" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "${@:2}" 2>/dev/null; }
if [ -s "$WORK/tap.pcapng" ]; then
  total=$(tsh "$WORK/tap.pcapng" -Y "eth.src == $SLAB_MAC" | wc -l)
  bad=$(tsh "$WORK/tap.pcapng" -Y "eth.src == $SLAB_MAC && (_ws.malformed || _ws.expert.severity >= warning || ip.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0)")
  if [ "$total" -gt 0 ] && [ -z "$bad" ]; then
    pass "tshark on $TAP: $total frames from slabnet, none malformed, no bad IP/UDP/ICMP checksums"
  else
    fail "tshark on $TAP: $total frames from slabnet; problems:"; printf '%s\n' "$bad" | head -20
  fi
  unreach=$(tsh "$WORK/tap.pcapng" -Y "eth.src == $SLAB_MAC && icmp.type == 3 && icmp.code == 3 && udp.dstport == 4444" | wc -l)
  if [ "$unreach" -ge 1 ]; then
    pass "ICMP port unreachable for UDP 4444 on the wire ($unreach)"
  else
    fail "no ICMP port unreachable from slabnet for UDP 4444"
  fi
  frags=$(tsh "$WORK/tap.pcapng" -Y "eth.src == $SLAB_MAC && ip.flags.mf == 1" | wc -l)
  if [ "$frags" -ge 2 ]; then
    pass "slabnet sent $frags IP fragments with MF set (fragmentation)"
  else
    fail "slabnet sent $frags IP fragments with MF set"
  fi
else
  fail "tshark captured nothing on $TAP"; cat "$WORK/tshark.err"
fi

# ---- 7. counters: SIGTERM → one line of JSON ---------------------------------
kill -TERM "$SLAB_PID" 2>/dev/null
rc=""
for ((i = 0; i < 100; i++)); do
  if ! kill -0 "$SLAB_PID" 2>/dev/null; then break; fi
  sleep 0.1
done
if kill -0 "$SLAB_PID" 2>/dev/null; then
  fail "slabnet did not exit within 10 s of SIGTERM"
else
  wait "$SLAB_PID"; rc=$?
  SLAB_PID=""
  if [ "$rc" = 0 ]; then pass "slabnet exited 0 on SIGTERM"; else fail "slabnet exit status $rc on SIGTERM"; cat "$WORK/slabnet.err"; fi
fi
tail -n 1 "$WORK/slabnet.out" >"$WORK/counters.json"
node "$ROOT/test/interop/counters.mjs" "$WORK/counters.json" "$DISCARDS" >"$WORK/counters.log" 2>&1
cat "$WORK/counters.log"
PASSED=$((PASSED + $(grep -c '^PASS' "$WORK/counters.log")))
FAILED=$((FAILED + $(grep -c '^FAIL' "$WORK/counters.log")))

# ---- 8. slabnet's own capture (--pcap) ---------------------------------------
if [ -s "$WORK/slabnet.pcap" ]; then
  n=$(tsh "$WORK/slabnet.pcap" | wc -l)
  bad=$(tsh "$WORK/slabnet.pcap" -Y "eth.src == $SLAB_MAC && (_ws.malformed || ip.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0)")
  if [ "$n" -gt 0 ] && [ -z "$bad" ]; then
    pass "slabnet --pcap: tshark reads $n frames, slabnet's own are clean"
  else
    fail "slabnet --pcap: $n frames; problems:"; printf '%s\n' "$bad" | head -20
  fi
  # negative control: the same check must flag a slabnet frame with broken checksums
  if node "$ROOT/test/interop/corrupt.mjs" "$WORK/slabnet.pcap" "$SLAB_MAC" "$WORK/corrupt.pcap"; then
    flagged=$(tsh "$WORK/corrupt.pcap" -Y "eth.src == $SLAB_MAC && (_ws.malformed || ip.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0)" | wc -l)
    if [ "$flagged" -eq 2 ]; then
      pass "checksum check is live: flags 2 of 2 deliberately corrupted copies of a slabnet frame"
    else
      fail "checksum check flags $flagged of 2 deliberately corrupted frames"
    fi
  else
    fail "negative control: no frame to corrupt in slabnet's capture"
  fi
else
  fail "slabnet --pcap wrote nothing"
fi

log "== $(( $(date +%s) - T0 )) s"
log "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
