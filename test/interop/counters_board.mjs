// test/interop/counters_board.mjs — checks the one-line JSON counters of a
// `slabnet up --board ID` in run.sh (phase 11: a board's own Espruino bundle
// under Node): the bundle it ran, its pings and UDP echoes, what it did with
// fragments (reassembled, or dropped and counted when reassembly is compiled
// out), no checksum or header errors, every skb back in the pool; with TCP
// bytes (ESP32 bundle) every byte of the TCP echo and of HTTP GET/PUT.
// Counter names are the source's even for a bundle built without them
// (src/host/bundle.ts namedCounters). A compact bundle (Board.stack
// "compact": src/compact/, src/cli/up_compact.ts) has no MIB, pool or
// device: its counters are Net (netStats: fragDrop, udpFull, udpNoPort,
// tcpRstTx, ...) and the same Services. Prints PASS/FAIL per check.
// usage: node counters_board.mjs COUNTERS.json BOARD_ID UDP_ECHOES DROPPED_FRAGS ECHO_REPLIES
//                                [TCP_ECHO_BYTES GET_BYTES PUT_BYTES [UDP_OVER]]
//   DROPPED_FRAGS > 0: reassembly compiled out, that many fragments dropped
//   DROPPED_FRAGS = 0: fragments reassembled (and replies fragmented)
//   UDP_OVER (compact): datagrams larger than a socket holds, dropped
import { counterChecks } from './check.mjs';

const [file, board, udpArg, fragArg, repArg, echoArg, getArg, putArg, overArg] = process.argv.slice(2);
const udp = Number(udpArg);
const frags = Number(fragArg);
const replies = Number(repArg);
const { val, check, done } = counterChecks(file, board + ' counters', 'slabnet --board ' + board);

const id = val('Board.id');
if (id === board) console.log(`PASS ${board} counters: Board.id = ${id} (${val('Board.bundle')}, ${val('Board.bytes')} bytes, counter names from the ${val('Board.counterNames')})`);
else {
  console.log(`FAIL ${board} counters: Board.id = ${id}`);
  process.exitCode = 1;
}
if (val('Board.stack') === 'compact') {
  console.log(`PASS ${board} counters: the compact stack (profile ${val('Board.profile')}), counters from its netStats`);
  check('Net.echo', '>=', replies);
  check('Net.fragDrop', '==', frags);
  check('Net.udpFull', '==', Number(overArg || 0));
  // UDP to a closed port: ICMP port unreachable
  check('Net.udpNoPort', '>=', 1);
  check('Net.rxBad', '==', 0);
  check('Services.udp-echo.datagrams', '==', udp);
  check('Services.udp-echo.sendErrors', '==', 0);
  if (echoArg !== undefined) {
    // the SYN to a closed port: RST
    check('Net.tcpRstTx', '>=', 1);
    check('Services.tcp-echo.accepted', '>=', 1);
    check('Services.tcp-echo.bytesIn', '==', Number(echoArg));
    check('Services.tcp-echo.bytesOut', '==', Number(echoArg));
    check('Services.http.accepted', '>=', 2);
    check('Services.http.patternBytes', '==', Number(getArg));
    check('Services.http.bodyBytes', '==', Number(putArg));
    check('Services.http.responses2xx', '>=', 2);
    check('Services.http.responses5xx', '==', 0);
  }
  check('Driver.txErrors', '==', 0);
  if (process.exitCode === 1) process.exit(1);
  done();
}
check('Icmp.OutEchoReps', '>=', replies);
check('Services.udp-echo.datagrams', '==', udp);
check('Services.udp-echo.sendErrors', '==', 0);
if (frags > 0) {
  // compiled out: each fragment counted as a reassembly request that failed, none reassembled, none sent
  check('Ip.ReasmReqds', '==', frags);
  check('Ip.ReasmFails', '==', frags);
  check('Ip.ReasmOKs', '==', 0);
  check('Ip.FragCreates', '==', 0);
  // UDP to a closed port, and TCP (compiled out) answered with protocol unreachable
  check('Icmp.OutDestUnreachs', '>=', 2);
} else {
  check('Ip.ReasmOKs', '>=', 3);
  check('Ip.ReasmFails', '==', 0);
  check('Ip.FragOKs', '>=', 3);
}
// nothing arrived corrupted
check('Ip.InHdrErrors', '==', 0);
check('Ip.InCsumErrors', '==', 0);
check('Icmp.InCsumErrors', '==', 0);
check('Udp.InCsumErrors', '==', 0);
if (echoArg !== undefined) {
  const echo = Number(echoArg);
  const get = Number(getArg);
  const put = Number(putArg);
  check('Tcp.InCsumErrors', '==', 0);
  check('Tcp.PassiveOpens', '>=', 3);
  check('Services.tcp-echo.bytesIn', '==', echo);
  check('Services.tcp-echo.bytesOut', '==', echo);
  check('Services.http.patternBytes', '==', get);
  check('Services.http.bodyBytes', '==', put);
  check('Services.http.responses2xx', '>=', 2);
  check('Services.http.responses5xx', '==', 0);
}
check('Driver.txErrors', '==', 0);
check('Pool.AllocFails', '==', 0);
check('Pool.BadFrees', '==', 0);
check('Pool.InUse', '==', 0);
if (process.exitCode === 1) process.exit(1);
done();
