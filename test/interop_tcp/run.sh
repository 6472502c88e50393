#!/usr/bin/env bash
# test/interop_tcp/run.sh — slabnet TCP against the Linux kernel, over a TAP
# device in a private network namespace (root; socat, nc, tshark, tsx):
# kernel nc ↔ slabnet echo 2 MB, discard 3 MB, source 1 MB, RST from a
# closed port; CLIENT=5555:1500000 adds an active open from slabnet to a
# kernel `nc -l`; LOSS=0.03 loses 3% of frames each way inside slabnet's
# driver (no netem here). Prints results and the slabnet counters.
# Usage: [LOSS=0.03] [CLIENT=5555:1500000] bash test/interop_tcp/run.sh
set -u
cd "$(dirname "$0")/../.."
NS="tcpit-$$"; TAP="tcpt$(( $$ % 10000 ))"; W=$(mktemp -d /tmp/tcpit.XXXX)
SLAB=""; SOC=""; TSH=""
cleanup() { [ -n "$SLAB" ] && kill $SLAB 2>/dev/null; [ -n "$SOC" ] && kill $SOC 2>/dev/null; [ -n "$TSH" ] && kill $TSH 2>/dev/null; sleep 0.3; ip netns del "$NS" 2>/dev/null; }
trap cleanup EXIT
ip netns add "$NS"; ip netns exec "$NS" ip link set lo up
NCL=""
if [ -n "${CLIENT:-}" ]; then ip netns exec "$NS" timeout 90 nc -l -p "${CLIENT%%:*}" > "$W/client.out" & NCL=$!; sleep 0.3; fi
ip netns exec "$NS" env LOSS=${LOSS:-0} SRC_N=${SRC_N:-1000000} CLIENT=${CLIENT:-} node --import tsx test/interop_tcp/tcp_up.mjs >"$W/slab.out" 2>"$W/slab.err" & SLAB=$!
ip netns exec "$NS" socat -d UDP4-DATAGRAM:127.0.0.1:47001,bind=127.0.0.1:47002 "TUN:192.0.2.1/24,tun-type=tap,tun-name=$TAP,iff-up,iff-no-pi" 2>"$W/socat.err" & SOC=$!
for i in $(seq 50); do ip netns exec "$NS" ip link show "$TAP" >/dev/null 2>&1 && grep -q ready "$W/slab.out" && break; sleep 0.2; done
ip netns exec "$NS" tshark -i "$TAP" -w "$W/tap.pcapng" -q 2>/dev/null & TSH=$!
[ -n "${NETEM:-}" ] && ip netns exec "$NS" tc qdisc add dev "$TAP" root netem $NETEM && echo "netem: $NETEM"
sleep 1
nsx() { ip netns exec "$NS" "$@"; }
echo "--- echo small"
printf 'hello slabnet tcp\n' | nsx timeout 10 nc -q 2 192.0.2.2 7 > "$W/e1.out"
grep -q 'hello slabnet tcp' "$W/e1.out" && echo "echo small: OK" || echo "echo small: BAD"
echo "--- echo 2 MB"
head -c 2000000 /dev/urandom > "$W/big.in"
nsx timeout 60 nc -q 5 192.0.2.2 7 < "$W/big.in" > "$W/big.out"
cmp "$W/big.in" "$W/big.out" && echo "echo 2MB: SAME" || echo "echo 2MB: DIFFER $(stat -c %s $W/big.out)"
echo "--- source 1 MB from slabnet"
nsx timeout 60 nc 192.0.2.2 19 < /dev/null > "$W/src.out"; echo "got $(stat -c %s $W/src.out) bytes"
node -e "const b=require('fs').readFileSync('$W/src.out');let ok=b.length===${SRC_N:-1000000};for(let i=0;i<b.length&&ok;i++)if(b[i]!==((i*7+(i>>>10))&255))ok=false;console.log('source pattern', ok?'OK':'BAD')"
echo "--- discard 3 MB"
head -c 3000000 /dev/zero | nsx timeout 60 nc -q 5 192.0.2.2 9; echo "rc=$?"
echo "--- connect to closed port"
nsx timeout 5 nc -z -w 2 192.0.2.2 4444; echo "nc -z closed port rc=$? (1 expected)"
if [ -n "${CLIENT:-}" ]; then echo "--- slabnet client → kernel nc -l"; wait $NCL; echo "kernel got $(stat -c %s $W/client.out) bytes";
node -e "const b=require('fs').readFileSync('$W/client.out');let ok=b.length===${CLIENT##*:};for(let i=0;i<b.length&&ok;i++)if(b[i]!==((i*7+(i>>>10))&255))ok=false;console.log('client pattern', ok?'OK':'BAD')"; fi
sleep 2
kill -TERM $SLAB; wait $SLAB 2>/dev/null; SLAB=""
kill $TSH 2>/dev/null; TSH=""; sleep 0.5
tail -3 "$W/slab.out" | cut -c1-1500; cat "$W/slab.err" | head -5
nsx ss -tan 2>/dev/null | head -5
tshark -r "$W/tap.pcapng" -q -z expert,error 2>/dev/null | head -20
tshark -r "$W/tap.pcapng" -Y "tcp.analysis.flags && !tcp.analysis.window_update" 2>/dev/null | awk '{$1=$1};1' | cut -c1-150 | sort -k6 | head -30
echo "pcap: $W/tap.pcapng"
