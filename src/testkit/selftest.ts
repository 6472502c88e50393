/*
 * selftest.ts — dist/selftest.js (`npm run build`): one file that needs no
 * wiring. Two stacks of the generic bundle's code joined through two
 * ENC28J60 register-level models inside one interpreter run the scenario
 * (src/testkit/scenario.ts: ARP, ping, UDP echo, a TCP transfer checked
 * byte for byte, Espruino's http and net through NetworkJS), then print
 * `selftest: N passed, M failed`, the ms per ping and per TCP segment, and
 * process.memory() before and after. Run it in Espruino's interpreter
 * (`espruino dist/selftest.js`) or upload it to a board before wiring
 * anything: it touches no pin and no SPI bus.
 */
import * as slabnet from '../espruino';
import { Enc28j60Mock, connectBackToBack } from '../../drivers/enc28j60/mock';
import { W5500Mock } from '../../drivers/w5500/mock';
import { runScenario } from './scenario';
import { espruinoEnv } from './espruino_testkit';

declare function print(s: string): void;
declare const process: { memory(gc?: boolean): unknown };

const PICO_FULL = { skbLargeCount: 1, reasmSlots: 1, tcpMaxSockets: 3, tcpSynQueue: 2, tcpTimeWaitSlots: 3 };
/** the peer listens on three ports (src/testkit/peer.ts) besides its connections */
const PICO_PEER = { skbLargeCount: 1, reasmSlots: 1, tcpMaxSockets: 5, tcpSynQueue: 2, tcpTimeWaitSlots: 3 };

print('selftest: memory before ' + JSON.stringify(process.memory()));
const env = espruinoEnv(function (): void {
  print('selftest: memory after ' + JSON.stringify(process.memory()));
});
// the figures also as a sentence each
const rawPrint = env.print;
env.print = function (line: string): void {
  rawPrint(line);
  if (line.indexOf('@@figure ') !== 0) return;
  const f = JSON.parse(line.substring(9)) as { name: string; value: number; unit: string };
  if (f.name === 'espruino_ping_ms') print('selftest: ' + f.value + ' ms per ping (this stack\'s share)');
  if (f.name === 'espruino_tcp_segment_ms') print('selftest: ' + f.value + ' ms per 1448-byte TCP segment (this stack\'s share)');
};
runScenario(
  slabnet,
  { Enc28j60Mock: Enc28j60Mock, connectBackToBack: connectBackToBack, W5500Mock: W5500Mock },
  env,
  {
    chip: 'enc28j60',
    // the Pico's pools (8 small skbs, 3 TCBs with 2 KB rings), with the
    // large skb, the reassembly slot and the TCP tables its bundle leaves out
    board: 'espruino-pico-enc28j60',
    boardOver: PICO_FULL,
    peerOver: PICO_PEER,
    frag: true,
    tcp: true,
    tcpBytes: 65536,
    httpBytes: 16384,
    stepMs: 60000,
    spiHz: 10000000,
    role: 'both',
    wireDirs: null,
  },
);
