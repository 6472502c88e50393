// test/interop/counters.mjs — checks the one-line JSON counters `slabnet up`
// prints on SIGTERM after run.sh's traffic. Prints PASS/FAIL per check.
// usage: node counters.mjs COUNTERS.json DISCARDS_SENT
import { readFileSync } from 'node:fs';

const [file, discardsArg] = process.argv.slice(2);
const discards = Number(discardsArg);
let failed = 0;
const say = (ok, what) => {
  if (!ok) failed++;
  console.log((ok ? 'PASS ' : 'FAIL ') + what);
};

let c;
try {
  c = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  say(false, 'counters: last stdout line of slabnet is not JSON: ' + e.message);
  process.exit(1);
}
const get = (path) => path.split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), c);
const check = (path, op, want) => {
  const v = get(path);
  let ok = typeof v === 'number';
  if (ok && op === '>=') ok = v >= want;
  if (ok && op === '==') ok = v === want;
  say(ok, `counters: ${path} = ${v} (want ${op} ${want})`);
};

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
// resources
check('Driver.txErrors', '==', 0);
check('Pool.BadFrees', '==', 0);
check('Pool.InUse', '==', 0);
process.exit(failed === 0 ? 0 : 1);
