/*
 * up_compact.ts — `slabnet up --board ID` when the board's bundle is a
 * compact one (the small boards' src/compact/ stack: dist/espruino/<ID>.min.js
 * for a board with a `compact` part, told by its export compactStack;
 * src/cli/up_board.ts loads it and hands it here). Node only.
 *
 * The same wire and loop as a general bundle: the host frame driver
 * (drivers/host/udpframes.ts, UDP datagrams to socat's tap) connected
 * with the bundle's netAttach (frames out) and netRxFrame (frames in);
 * netTick from the shared poll loop (src/cli/poll_loop.ts) every
 * TICK_MS and after each received datagram, then the services
 * (src/host/compact_services.ts) over the bundle's exports. The stack is
 * compactStack(null, --mac, clock): the board's compact configuration,
 * seeded from E.hwRand (src/host/bundle.ts espruinoGlobals); the address
 * through netSetIp; ping answered by its ICMP.
 *
 * Contracts as a general bundle's: the `ready` line (board=ID at the
 * end), exit 2 for what the bundle or this runner cannot do, and on
 * SIGTERM/SIGINT one line of JSON — here `Net` (the bundle's netStats:
 * rx, tx, fragDrop, udpNoPort, tcpRstTx, ...), `Driver`, `Services`,
 * `Board` (with stack "compact" and its profile) and `Signal`; there is no
 * MIB, skb pool or device in the compact stack.
 *
 * Not available (exit 2): no --ip (the compact DHCP client reports its
 * lease to nothing the exports reach), --dns and --send (not written over
 * the compact API yet), --mtu other than 1500 (the compact stack's frames
 * are Ethernet's 1514 bytes), more TCP listeners than the board's TCP
 * blocks leave one connection for.
 */
import { whenToStop } from './lifeline';
import { startPollLoop } from './poll_loop';
import type { UpOptions } from './up';
import type { Board } from '../../boards/board';
import { UdpFramesDriver, FrameDevOps } from '../../drivers/host/udpframes';
import { PcapFile } from '../host/pcapfile';
import { formatIp } from '../link/ifaddr';
import { formatMac } from '../link/ether';
import { prefixMask } from '../core/inaddr';
import { CompactApi, compactFeatures } from '../host/bundle';
import { CompactService, CompactUdpService, CompactTcpEcho, CompactTcpDiscard, CompactHttp } from '../host/compact_services';
import { boardReadyLine, fail, HostClock, PcapTap } from './up_board';
import type { Stack } from '../stack';

const ECHO_PORT = 7;
const DISCARD_PORT = 9;
const HTTP_PORT = 80;
const TCP_IDLE_MS = 60000;
const HTTP_HDR_MAX = 4096;
/** netTick period (src/compact/net.ts: every 10–50 ms; TCP's delayed ACK is 40 ms) */
const TICK_MS = 10;

/** What the flags ask that a compact bundle (with features f) or this runner cannot do: a message, or null. */
export function compactProblem(id: string, o: UpOptions, f: { tcp: boolean }, tcbs: number): string | null {
  const compact = ', which slabnet up does not do with a compact bundle (' + id + ')';
  if (o.addr === 0) return 'without --ip the address comes from DHCP' + compact + ': give --ip A.B.C.D/N';
  if (o.dns.length > 0) return '--dns' + compact;
  if (o.send.length > 0) return '--send' + compact;
  if (o.mtu !== 1500) return '--mtu ' + o.mtu + compact + ' (its frames are Ethernet\'s: mtu 1500)';
  const out = ', which the ' + id + ' bundle has compiled out (boards/' + id + '.ts compact.profile)';
  if (!f.tcp && o.serve.indexOf('http') >= 0) return '--serve http needs TCP' + out;
  const listeners = f.tcp ? o.serve.length : 0;
  if (f.tcp && listeners + 1 > tcbs) {
    return '--serve ' + o.serve.join(',') + ' need ' + listeners + ' TCP listeners + 1 connection, but board ' + id + ' has ' + tcbs + ' TCP blocks (compact.config.tcbs): serve fewer';
  }
  return null;
}

/** Run the compact bundle `api` of `board` with flags o (file rel, bytes long). Resolves to the exit code. */
export async function runUpCompact(api: CompactApi, board: Board, o: UpOptions, rel: string, bytes: number): Promise<number> {
  const id = board.id;
  const feat = compactFeatures(api);
  const cfg = board.compact !== undefined ? board.compact.config : {};
  const tcbs = cfg.tcbs !== undefined ? cfg.tcbs : 3;
  const tcpBuf = cfg.tcpBuf !== undefined ? cfg.tcpBuf : 2048;
  const p = compactProblem(id, o, feat, tcbs);
  if (p !== null) return fail(p, 2);

  const clock = new HostClock();
  let n: ReturnType<CompactApi['compactStack']>;
  try {
    n = api.compactStack(null, o.mac, clock);
  } catch (e) {
    return fail('compactStack(null, mac) of ' + rel + ' failed: ' + String(e), 1);
  }
  // the frame driver without a device layer: frames in through netRxFrame, out through sendFrame
  const ops: FrameDevOps = {
    registerNetdev: () => 0,
    rxFrame: (_st: Stack, _dev: number, b: Uint8Array, off: number, len: number): number => {
      api.netRxFrame(n, off === 0 ? b : b.subarray(off), len);
      return 0;
    },
    devTxComplete: () => undefined,
    getDev: () => null,
  };
  const drv = new UdpFramesDriver(null, { lport: o.lport, rport: o.rport, loss: o.loss, lossSeed: o.lossSeed }, ops);
  let pcap: PcapFile | null = null;
  if (o.pcap !== null) {
    try {
      pcap = new PcapFile(o.pcap);
    } catch (e) {
      return fail('cannot open pcap ' + o.pcap + ': ' + String(e), 1);
    }
    drv.tap = new PcapTap(pcap, clock);
  }
  try {
    await drv.open();
  } catch (e) {
    if (pcap !== null) pcap.close();
    return fail('cannot bind 127.0.0.1:' + o.lport + ': ' + String(e), 1);
  }
  api.netAttach(n, { xmit: (b: Uint8Array, len: number) => drv.sendFrame(b, 0, len, null) });
  api.netSetIp(n, o.addr | 0, prefixMask(o.prefixLen), o.gw | 0, 0);

  // services (a listener per TCP service; the other blocks are for connections)
  const nj = api.networkJsCompact(n);
  const now = (): number => clock.now();
  const conns = Math.max(1, tcbs - (feat.tcp ? o.serve.length : 0));
  const svcs: CompactService[] = [];
  for (const s of o.serve) {
    if (s === 'echo') {
      svcs.push(new CompactUdpService(nj, ECHO_PORT, true));
      if (feat.tcp) svcs.push(new CompactTcpEcho(api, n, ECHO_PORT, conns, tcpBuf, TCP_IDLE_MS, now));
    } else if (s === 'discard') {
      svcs.push(new CompactUdpService(nj, DISCARD_PORT, false));
      if (feat.tcp) svcs.push(new CompactTcpDiscard(api, n, DISCARD_PORT, conns, tcpBuf, TCP_IDLE_MS, now));
    } else if (s === 'http') {
      svcs.push(new CompactHttp(api, n, HTTP_PORT, conns, HTTP_HDR_MAX, tcpBuf, TCP_IDLE_MS, now));
    }
  }
  for (const s of svcs) {
    const rc = s.start();
    if (rc < 0) {
      drv.close();
      if (pcap !== null) pcap.close();
      return fail('starting ' + s.name + ' failed: ' + rc + ' (the board\'s compact configuration has too few sockets?)', 1);
    }
  }
  const work = (): number => {
    let w = 0;
    for (const s of svcs) w += s.run();
    return w;
  };

  // SIGTERM, SIGINT, SIGHUP, or the parent (npx, a shell) gone: src/cli/lifeline.ts
  const stopSignal = whenToStop();
  let lastFlush = clock.now();
  const loop = startPollLoop({
    poll: () => api.netTick(n),
    nextExpiry: () => clock.now() + TICK_MS,
    now,
    work,
    after: () => {
      if (pcap !== null && clock.now() - lastFlush >= 1000) {
        lastFlush = clock.now();
        pcap.flush();
      }
    },
  });
  drv.onRx = loop.schedule;
  process.stdout.write(boardReadyLine(o, id, formatMac(o.mac, 0), o.addr, o.prefixLen, o.gw, ''));

  const sig = await stopSignal;
  loop.stop();
  api.netTick(n);
  work();
  for (const s of svcs) s.stop();
  api.netTick(n);
  drv.close();
  if (pcap !== null) pcap.close();

  const svc: { [k: string]: unknown } = {};
  for (const s of svcs) svc[s.name] = s.stats();
  const r = {
    Net: api.netStats(n),
    Driver: drv.stats(),
    Services: svc,
    Board: { id, bundle: rel, bytes, counterNames: 'bundle', stack: 'compact', profile: board.compact !== undefined ? board.compact.profile : '-' },
    Signal: sig,
  };
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(r) + '\n', () => resolve()));
  return 0;
}
