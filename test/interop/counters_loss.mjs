// test/interop/counters_loss.mjs — checks the one-line JSON counters of the
// second `slabnet up` in run.sh, the one started with `--loss P` (frames lost
// inside its UDP frame driver, both ways): frames were lost each way, TCP
// recovered by retransmitting, nothing arrived corrupted, every byte counted,
// every skb back in the pool. Prints PASS/FAIL per check.
// usage: node counters_loss.mjs COUNTERS.json TCP_ECHO_BYTES GET_BYTES UPLOAD_BYTES
import { counterChecks } from './check.mjs';

const [file, echoArg, getArg, upArg] = process.argv.slice(2);
const echo = Number(echoArg);
const get = Number(getArg);
const up = Number(upArg);
const { val, check, done } = counterChecks(file, 'loss counters', 'slabnet --loss');

// the driver really lost frames both ways, and TCP had to retransmit
check('Driver.lostRx', '>', 0);
check('Driver.lostTx', '>', 0);
check('Tcp.RetransSegs', '>', 0);
// lost is not corrupted: nothing arrived with a bad checksum or header
check('Tcp.InCsumErrors', '==', 0);
check('Tcp.InErrs', '==', 0);
check('Ip.InCsumErrors', '==', 0);
check('Ip.InHdrErrors', '==', 0);
// every byte through the services exactly once
check('Services.tcp-echo.bytesIn', '==', echo);
check('Services.tcp-echo.bytesOut', '==', echo);
check('Services.http.patternBytes', '>=', get);
check('Services.http.bodyBytes', '>=', up);
check('Services.http.responses5xx', '==', 0);
// resources
check('Driver.txErrors', '==', 0);
check('Pool.BadFrees', '==', 0);
check('Pool.InUse', '==', 0);
const lr = val('Driver.lostRx');
const rx = val('Driver.rxDatagrams');
const lt = val('Driver.lostTx');
const tx = val('Driver.txDatagrams');
if (typeof rx === 'number' && typeof tx === 'number' && rx > 0) {
  console.log(
    `note: lost ${lr} of ${rx} frames in (${((100 * lr) / rx).toFixed(2)}%), ` +
      `${lt} of ${tx + lt} out (${((100 * lt) / (tx + lt)).toFixed(2)}%); ` +
      `Tcp.RetransSegs ${val('Tcp.RetransSegs')} of Tcp.OutSegs ${val('Tcp.OutSegs')}; ` +
      `TcpExt: TCPFastRetrans ${val('TcpExt.TCPFastRetrans')}, TCPSackRecovery ${val('TcpExt.TCPSackRecovery')}, ` +
      `TCPTimeouts ${val('TcpExt.TCPTimeouts')}, TCPOFOQueue ${val('TcpExt.TCPOFOQueue')}`,
  );
}
done();
