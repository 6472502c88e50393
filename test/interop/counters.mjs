// test/interop/counters.mjs — checks the one-line JSON counters `slabnet up`
// prints on SIGTERM after run.sh's traffic. Prints PASS/FAIL per check.
// usage: node counters.mjs COUNTERS.json DISCARDS_SENT [TCP_ECHO_BYTES TCP_DISCARD_BYTES UPLOAD_BYTES]
import { counterChecks } from './check.mjs';

const [file, discardsArg, tcpEchoArg, tcpDiscardArg, uploadArg] = process.argv.slice(2);
const discards = Number(discardsArg);
const { check, done } = counterChecks(file, 'counters', 'slabnet');

// 3 + 2 pings answered
check('Icmp.InEchos', '>=', 5);
check('Icmp.OutEchoReps', '>=', 5);
// ARP: the kernel asked, slabnet answered
check('Link.ArpInRequests', '>=', 1);
check('Link.ArpOutReplies', '>=', 1);
// 2 × 4008-byte echo requests + the 3000-byte UDP echo reassembled; replies fragmented
check('Ip.ReasmOKs', '>=', 3);
check('Ip.FragOKs', '>=', 3);
check('Ip.FragCreates', '>=', 8);
// UDP: 3 echoes, the discards, the closed port
check('Udp.InDatagrams', '>=', 3 + discards);
check('Udp.OutDatagrams', '>=', 3);
check('Udp.NoPorts', '>=', 1);
check('Icmp.OutDestUnreachs', '>=', 1);
check('Services.udp-echo.datagrams', '>=', 3);
check('Services.udp-discard.datagrams', '==', discards);
// the kernel's packets were all well formed
check('Ip.InHdrErrors', '==', 0);
check('Ip.InCsumErrors', '==', 0);
check('Udp.InCsumErrors', '==', 0);
check('Icmp.InCsumErrors', '==', 0);
// TCP (when run.sh passed the TCP byte counts)
if (tcpEchoArg !== undefined) {
  const echo = Number(tcpEchoArg);
  const disc = Number(tcpDiscardArg);
  const up = Number(uploadArg);
  // echo + discard + status page + big GET + upload + 16 parallel GETs
  check('Tcp.PassiveOpens', '>=', 21);
  check('Tcp.InErrs', '==', 0);
  check('Tcp.InCsumErrors', '==', 0);
  check('Tcp.OutRsts', '>=', 1);
  check('Services.tcp-echo.bytesIn', '==', echo);
  check('Services.tcp-echo.bytesOut', '==', echo);
  check('Services.tcp-discard.bytesIn', '==', disc);
  // + 3 keep-alive requests + the chunked upload; 5 error responses
  check('Services.http.requests', '>=', 27); // the 431 request never completes a header section
  check('Services.http.responses2xx', '>=', 23);
  check('Services.http.responses4xx', '==', 5);
  check('Services.http.responses5xx', '==', 0);
  check('Services.http.bodyBytes', '>=', up + 300000);
  check('Services.http.patternBytes', '>=', 10000000 + 16 * 100000);
}
// resources
check('Driver.txErrors', '==', 0);
check('Pool.BadFrees', '==', 0);
check('Pool.InUse', '==', 0);
done();
