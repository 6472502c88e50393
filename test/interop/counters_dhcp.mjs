// test/interop/counters_dhcp.mjs — checks the one-line JSON counters of the
// `slabnet up` run without --ip in run.sh (DHCP and DNS from dnsmasq, a
// --send by name). Prints PASS/FAIL per check.
// usage: node counters_dhcp.mjs COUNTERS.json SENT_BYTES
import { counterChecks } from './check.mjs';

const [file, bytesArg] = process.argv.slice(2);
const bytes = Number(bytesArg);
const { check, done } = counterChecks(file, 'dhcp counters', 'slabnet');

// one lease, renewed at T1, from dnsmasq's well-formed messages
check('Dhcp.bounds', '==', 1);
check('Dhcp.renewals', '>=', 1);
check('Dhcp.acks', '>=', 2);
check('Dhcp.naks', '==', 0);
check('Dhcp.conflicts', '==', 0);
check('Dhcp.declines', '==', 0);
check('Dhcp.badMsgs', '==', 0);
check('Dhcp.leaseSec', '==', 120);
check('Dhcp.dnsCount', '==', 1);
// peer.test resolved once, no failure
check('Dns.resolved', '>=', 1);
check('Dns.failures', '==', 0);
check('Dns.malformed', '==', 0);
// the send by name
check('Services.tcp-send.bytesSent', '==', bytes);
check('Services.tcp-send.errno', '==', 0);
// resources
check('Ip.InHdrErrors', '==', 0);
check('Udp.InCsumErrors', '==', 0);
check('Pool.BadFrees', '==', 0);
check('Pool.InUse', '==', 0);
done();
