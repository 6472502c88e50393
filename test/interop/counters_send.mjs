// test/interop/counters_send.mjs — checks the one-line JSON counters of the
// `slabnet up --send` run in run.sh (slabnet as the TCP client: an active
// open to the kernel's nc, and one to a closed port). Prints PASS/FAIL per check.
// usage: node counters_send.mjs COUNTERS.json SENT_BYTES
import { counterChecks } from './check.mjs';

const [file, bytesArg] = process.argv.slice(2);
const bytes = Number(bytesArg);
const { check, done } = counterChecks(file, 'send counters', 'slabnet');

// two connects (nc, the closed port); the closed one failed
check('Tcp.ActiveOpens', '>=', 2);
check('Tcp.AttemptFails', '>=', 1);
// the kernel's segments were all well formed
check('Tcp.InCsumErrors', '==', 0);
check('Tcp.InErrs', '==', 0);
check('Ip.InCsumErrors', '==', 0);
check('Ip.InHdrErrors', '==', 0);
// the transfer to nc
check('Services.tcp-send.bytesSent', '==', bytes);
check('Services.tcp-send.done', '==', 1);
check('Services.tcp-send.errno', '==', 0);
check('Services.tcp-send.connectRc', '==', -115); // -EINPROGRESS
check('Services.tcp-send.elapsedMs', '>=', 1);
// the closed port
check('Services.tcp-send-2.errno', '==', 111); // ECONNREFUSED
check('Services.tcp-send-2.connected', '==', 0);
// resources
check('Driver.txErrors', '==', 0);
check('Pool.BadFrees', '==', 0);
check('Pool.InUse', '==', 0);
done();
