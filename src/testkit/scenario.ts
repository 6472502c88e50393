/*
 * scenario.ts — the traffic a board bundle must carry inside Espruino's own
 * interpreter (`npm run test:espruino`, dist/selftest.js). Not on the
 * packet path: a test program over the public API of a bundle.
 *
 *   board stack ─ its chip driver ─ SPI ─ mock chip ═ wire ═ mock chip ─ driver ─ peer stack
 *
 * Both stacks come from the SAME module (the board's bundle, loaded from
 * Storage as the board loads it), so the peer costs only its instance;
 * the chip models come from the test kit (src/testkit/espruino_testkit.ts).
 * Steps, in order, each with a time limit:
 *   link/arp   the first ping resolves the peer's MAC (ARP, RFC 826)
 *   ping       ICMP echo round trips (ms each: espruino_ping_ms)
 *   ping-frag  a 3000-byte echo, fragmented and reassembled both ways
 *              (where the profile has fragmentation and reassembly)
 *   udp-echo   datagrams to an echo socket on the peer, checked
 *   tcp        64 KB board → peer over SOCK_STREAM, every byte checked
 *              (espruino_tcp_segment_ms per 1448-byte segment)
 *   http-srv   Espruino's require("http") server on the board, fetched by
 *              the peer's HTTP client (espruino_http_get_16k_ms)
 *   http-cli   Espruino's http client on the board, served by the peer
 *   http-name  the same by host name: http.get("http://peer.test:8080/...")
 *              through the NetworkJS adapter and the bundle's DnsResolver
 *              (src/apps/dns_resolver.ts), the peer answering DNS (where
 *              the bundle has FEATURE_DNS)
 *   net        Espruino's require("net") client on the board, echoed by
 *              the peer
 *   quiesce    everything closed, every skb back in both pools
 * The http/net steps run where the profile has TCP and the host gives
 * Espruino's modules (env.http/env.net): Espruino's network is the board's
 * NetworkJS adapter (src/socket/networkjs.ts), timed (NetMeter); the
 * peer's services (src/testkit/peer.ts) are on the socket API.
 *
 * Results go through env.print as lines the harness parses:
 *   @@check {"name","ok","ms","detail"}   one per step
 *   @@figure {"name","value","unit"}      the measured figures
 *   @@mem {"phase","usage"}               JsVars at the phases the harness marks
 *   selftest: N passed, M failed          last
 * It allocates freely (closures, strings): it is a test, not the stack.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import {
  PeerServices, patternOk, PAT_PERIOD, ECHO_PORT, SINK_PORT, PEER_HTTP_PORT, PEER_ECHO_PORT, CONTROL_PORT, BOARD_HTTP_PORT,
  PEER_NAME,
} from './peer';

/** What the scenario needs from the host runtime (Espruino or Node). */
export interface TestkitEnv {
  /** milliseconds, monotonic */
  now(): number;
  /** JsVars in use now without a GC (Espruino), or -1 where not measurable */
  mem(): number;
  print(line: string): void;
  /** b[off..off+len) as a binary string (one char per byte) */
  str(b: Uint8Array, off: number, len: number): string;
  /** run fn soon, after the host's event loop has had a turn */
  later(fn: () => void): void;
  /** the host's marks of memory phases (the harness records them) */
  mark(phase: string): void;
  /** Espruino's require("NetworkJS").create, require("http"), require("net"); null in Node */
  networkJsCreate: ((obj: unknown) => void) | null;
  http: any;
  net: any;
  /** Espruino's require("fs") (the wire of a two-interpreter run), or null */
  fs: any;
  /** the stacks' clock (null: the bundle's own, Espruino's getTime) */
  clock: unknown;
  /** called once with the totals when every step has run */
  done(passed: number, failed: number): void;
}

/** What the scenario needs to know about the bundle under test. */
export interface ScenarioOptions {
  /** 'enc28j60' or 'w5500': the chip models and the driver to attach */
  chip: string;
  /** createBoardStack's first argument (null = the bundle's own board) */
  board: string | null;
  /** StackConfig overrides of the board's stack (null = its defaults) */
  boardOver: unknown;
  /** StackConfig overrides of the peer's stack */
  peerOver: unknown;
  /** run the 3000-byte fragmented ping */
  frag: boolean;
  /** run TCP (and http/net where env has them) */
  tcp: boolean;
  /** bytes of the TCP transfer and of the http bodies */
  tcpBytes: number;
  httpBytes: number;
  /** ms allowed per step */
  stepMs: number;
  /** the board's SPI clock in Hz (SPI bytes → bus time in the figures) */
  spiHz: number;
  /**
   * 'both': board and peer in this interpreter; 'board' / 'peer': this
   * interpreter runs one side and the chips' wire is a file per frame
   * between two interpreters (FileWire; wireDirs = [this side's outbox,
   * its inbox]): for a board whose build has no room for the peer.
   */
  role: string;
  wireDirs: string[] | null;
}

/** The chip models (the test kit's exports). */
export interface ChipKit {
  Enc28j60Mock: any;
  connectBackToBack: any;
  W5500Mock: any;
  /** the file wire (espruino_testkit.ts), for a two-interpreter run */
  FileWire?: any;
}

export const BOARD_IP = '192.0.2.2';
export const PEER_IP = '192.0.2.1';
const PREFIX = '/24';
/** the TCP figure's unit: an MSS of 1448 (MTU 1500 with timestamps) */
const SEGMENT = 1448;
/** UDP echo datagram sizes */
const UDP_SIZES = [64, 512, 1400];

type StepFn = () => number;

interface Step {
  name: string;
  /** set up; returns false when the step cannot start (a failure) */
  start: () => boolean;
  /** 1 done, 0 not yet, < 0 failed */
  poll: StepFn;
  /** a detail for the check line */
  detail: string;
  /** on success: the figures from the board's share and the wall time of the step (ms) */
  report?: (shareMs: number, elapsedMs: number) => void;
}

/**
 * Espruino's network: the board's NetworkJS adapter, with the time spent
 * in it measured (boardMs: the board's share of Espruino's socket work).
 */
export class NetMeter {
  boardMs = 0;
  constructor(
    readonly nj: any,
    private readonly now: () => number,
  ) {}
  create(host: string | undefined | null, port: number, socketType?: number, options?: unknown): number {
    const t = this.now();
    const r = this.nj.create(host, port, socketType, options);
    this.boardMs += this.now() - t;
    return r;
  }
  close(s: number): void {
    const t = this.now();
    this.nj.close(s);
    this.boardMs += this.now() - t;
  }
  accept(s: number): number {
    const t = this.now();
    const r = this.nj.accept(s);
    this.boardMs += this.now() - t;
    return r;
  }
  recv(s: number, maxLen: number, socketType?: number): string | number {
    const t = this.now();
    const r = this.nj.recv(s, maxLen, socketType);
    this.boardMs += this.now() - t;
    return r;
  }
  send(s: number, data: string, socketType?: number): number {
    const t = this.now();
    const r = this.nj.send(s, data, socketType);
    this.boardMs += this.now() - t;
    return r;
  }
}

/**
 * Run the scenario: m is the bundle's exports (both stacks are built from
 * it), kit the chip models. Asynchronous: env.done reports the totals.
 */
export function runScenario(m: any, kit: ChipKit, env: TestkitEnv, o: ScenarioOptions): void {
  const clock = env.clock !== null ? env.clock : undefined;
  const local = o.role === 'both';
  const isPeer = o.role === 'peer';
  // ---- the chips (harness), then the board's stack, then the peer
  let ca: any = null;
  let cb: any = null;
  let wire: any = null;
  const w5500 = o.chip === 'w5500';
  if (local) {
    ca = w5500 ? new kit.W5500Mock(4, 2) : new kit.Enc28j60Mock('board');
    cb = w5500 ? new kit.W5500Mock(4, 2) : new kit.Enc28j60Mock('peer');
    if (w5500) {
      ca.attachWire(cb);
      cb.attachWire(ca);
    } else kit.connectBackToBack(ca, cb);
    ca.nativeCopy = true;
    cb.nativeCopy = true;
  } else {
    const c = w5500 ? new kit.W5500Mock(4, 2) : new kit.Enc28j60Mock(isPeer ? 'peer' : 'board');
    c.nativeCopy = true;
    const dirs = o.wireDirs as string[];
    wire = new kit.FileWire(env.fs, c, dirs[0], dirs[1]);
    c.attachWire(wire);
    if (isPeer) cb = c;
    else ca = c;
  }
  // the board's chip model runs inside the board's driver calls: its time
  // is measured (chipMs) and taken out of the board's share
  let chipMs = 0;
  if (ca !== null) {
    const chip = ca;
    const raw = chip.transfer;
    chip.transfer = function (tx: Uint8Array | null, txOff: number, rx: Uint8Array | null, rxOff: number, len: number): void {
      const t = env.now();
      raw.call(chip, tx, txOff, rx, rxOff, len);
      chipMs += env.now() - t;
    };
  }
  env.mark('chips');
  const macA = new Uint8Array([0x02, 0x53, 0x4c, 0x42, 0x00, 0x02]);
  const macB = new Uint8Array([0x02, 0x53, 0x4c, 0x42, 0x00, 0x01]);
  let a: any = null;
  let upA = true;
  if (!isPeer) {
    a = m.createBoardStack(o.board, o.boardOver, clock);
    env.mark('created');
    // an unknown board gives null: every step then fails (the link step says so)
    const da = a !== null ? attach(m, o.chip, a, ca, macA) : -1;
    upA = da >= 0 && m.ifconfig(a, da, BOARD_IP + PREFIX, null) === 0 && m.devOpen(a, da) === 0;
  }
  env.mark('stack');
  let b: any = null;
  let upB = true;
  if (cb !== null) {
    b = m.createBoardStack(o.board, o.peerOver, clock);
    const db = b !== null ? attach(m, o.chip, b, cb, macB) : -1;
    upB = db >= 0 && m.ifconfig(b, db, PEER_IP + PREFIX, null) === 0 && m.devOpen(b, db) === 0;
  }

  const peerAddr = m.parseIp(PEER_IP);
  const EAGAIN = m.EAGAIN;
  // pattern source: PAT_PERIOD + the largest chunk, so any offset's run is one view
  const pat = new Uint8Array(PAT_PERIOD + 2048);
  for (let i = 0; i < pat.length; i++) pat[i] = i % PAT_PERIOD;
  const rbuf = new Uint8Array(2048);
  const from = new Int32Array(2);

  let peak = -1;
  let verifyMs = 0;
  /** ms in the board's code: a.poll() and the steps' calls (checking excluded) */
  let boardMs = 0;
  function pump(): void {
    if (wire !== null) wire.poll();
    if (a !== null) {
      const t = env.now();
      a.poll();
      boardMs += env.now() - t;
    }
    if (b !== null) {
      b.poll();
      services.serve();
    }
    const u = env.mem();
    if (u > peak) peak = u;
  }

  // ---- the peer's services (src/testkit/peer.ts)
  const services: PeerServices = b !== null ? new PeerServices(m, b, pat, m.parseIp(BOARD_IP), o.tcpBytes, o.httpBytes, o.tcp, peerAddr) : (null as any);
  if (b !== null && !services.ok) upB = false;

  /** do bytes r[0..n) continue the pattern at stream offset pos? (timed: checking is not the board's share) */
  function verify(r: Uint8Array, n: number, pos: number): boolean {
    const t = env.now();
    const ok = patternOk(r, 0, n, pos);
    verifyMs += env.now() - t;
    return ok;
  }
  function verifyStr(s: string, pos: number): number {
    const t = env.now();
    let c = pos % PAT_PERIOD;
    let bad = -1;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) !== c) {
        bad = i;
        break;
      }
      c++;
      if (c === PAT_PERIOD) c = 0;
    }
    verifyMs += env.now() - t;
    return bad;
  }

  // ---- ICMP: the echo handler records replies
  let replySeq = -1;
  let replyLen = -1;
  if (a !== null) a.icmp.echoHandler = {
    onEchoReply: function (_s: number, ident: number, seq: number, len: number): void {
      if (ident === 0x5342) {
        replySeq = seq;
        replyLen = len;
      }
    },
  };
  function figure(name: string, value: number, unit: string): void {
    env.print('@@figure ' + JSON.stringify({ name: name, value: Math.round(value * 100) / 100, unit: unit }));
  }
  /** name: the board's share (ms); name_elapsed: the wall time of both stacks, the chip models and the harness */
  function fig(name: string, shareMs: number, elapsedMs: number): void {
    figure(name, shareMs, 'ms');
    figure(name.replace(/_ms$/, '_elapsed_ms'), elapsedMs, 'ms');
  }
  /**
   * A measured interval: snap() at its start, then share(snapshot) = the
   * board's ms in it: time in the board's code (its stack, driver and
   * NetworkJS adapter) less its chip model's time, plus the SPI bytes its
   * driver clocked at the board's bus clock (what a board spends against a
   * fast peer, on this CPU); elapsed(snapshot) = wall ms, checking excluded.
   */
  function snap(): number[] {
    return [env.now(), boardMs + (meter !== null ? meter.boardMs : 0), chipMs, ca !== null ? ca.bytes : 0, verifyMs];
  }
  function share(s0: number[]): number {
    const n = snap();
    return n[1] - s0[1] - (n[2] - s0[2]) + ((n[3] - s0[3]) * 8 * 1000) / o.spiHz;
  }
  function elapsed(s0: number[]): number {
    const n = snap();
    return n[0] - s0[0] - (n[4] - s0[4]);
  }

  /* ---- Espruino's http server on the board; the peer GETs from it when told ('G' on its control port) */
  function httpServerStep(): Step {
    let server: any = null;
    let cfd = -1;
    const s: Step = {
      name: 'http-srv',
      detail: '',
      report: function (shareMs: number, elapsedMs: number): void {
        fig('espruino_http_get_16k_ms', (shareMs * 16384) / o.httpBytes, (elapsedMs * 16384) / o.httpBytes);
      },
      start: function (): boolean {
        server = env.http.createServer(function (req: any, res: any) {
          let off = 0;
          res.writeHead(200, { 'Content-Length': String(o.httpBytes), 'Content-Type': 'application/octet-stream' });
          const more = function (): void {
            if (off >= o.httpBytes) {
              res.end();
              return;
            }
            let k = o.httpBytes - off;
            if (k > 1024) k = 1024;
            res.write(env.str(pat, off % PAT_PERIOD, k));
            off += k;
          };
          res.on('drain', more);
          more();
          req.on('data', function () {});
        });
        server.listen(BOARD_HTTP_PORT);
        cfd = m.socket(a, m.SOCK_DGRAM, 0);
        rbuf[0] = 0x47; // 'G'
        return cfd >= 0 && m.sendto(a, cfd, rbuf, 0, 1, peerAddr, CONTROL_PORT) === 1;
      },
      poll: function (): number {
        const n = m.recvfrom(a, cfd, rbuf, 0, 1, from);
        if (n === -EAGAIN) return 0;
        server.close();
        m.close(a, cfd);
        if (n !== 1 || rbuf[0] !== 0x4b) {
          s.detail = n === 1 ? "the peer's GET failed (status or content)" : 'control answer ' + n;
          return -1;
        }
        s.detail = 'the peer got ' + o.httpBytes + ' bytes, checked';
        return 1;
      },
    };
    return s;
  }

  /* ---- Espruino's http client on the board, served by the peer (by address, or by name through DNS) */
  function httpClientStep(byName: boolean): Step {
    let got = 0;
    let status = 0;
    let fin = 0;
    const s: Step = {
      name: byName ? 'http-name' : 'http-cli',
      detail: '',
      report: function (shareMs: number, elapsedMs: number): void {
        if (!byName) fig('espruino_http_client_get_16k_ms', (shareMs * 16384) / o.httpBytes, (elapsedMs * 16384) / o.httpBytes);
      },
      start: function (): boolean {
        if (byName) {
          // the stack's resolver (the first one made installs itself as st.resolver): one query slot, two cache entries
          const r = new m.DnsResolver(a, { maxQueries: 1, cacheSize: 2 });
          if (r.setServers([peerAddr]) !== 1 || a.resolver !== r) return false;
        }
        env.http
          .get('http://' + (byName ? PEER_NAME : PEER_IP) + ':' + PEER_HTTP_PORT + '/bytes/' + o.httpBytes, function (res: any) {
            status = res.statusCode;
            res.on('data', function (d: string) {
              if (fin === 0 && verifyStr(d, got) >= 0) fin = -1;
              got += d.length;
            });
            res.on('close', function () {
              if (fin === 0) fin = 1;
            });
          })
          .on('error', function (e: any) {
            s.detail = 'client error ' + e;
            fin = -1;
          });
        return true;
      },
      poll: function (): number {
        if (fin === 0) return 0;
        if (fin < 0 || got !== o.httpBytes || String(status) !== '200') {
          s.detail = (s.detail ? s.detail + '; ' : '') + 'status ' + status + ', ' + got + ' bytes' + (fin < 0 ? ', content differs' : '');
          return -1;
        }
        s.detail = 'GET ' + (byName ? 'http://' + PEER_NAME + ' (resolved by DNS) ' : '') + o.httpBytes + ' bytes, checked';
        return 1;
      },
    };
    return s;
  }

  /* ---- Espruino's net client on the board, echoed by the peer */
  function netStep(): Step {
    const N = 2048;
    let got = 0;
    let fin = 0;
    const s: Step = {
      name: 'net',
      detail: '',
      start: function (): boolean {
        const c = env.net.connect({ host: PEER_IP, port: PEER_ECHO_PORT }, function () {
          c.write(env.str(pat, 0, 1024));
          c.write(env.str(pat, 1024 % PAT_PERIOD, N - 1024));
        });
        c.on('data', function (d: string) {
          if (fin === 0 && verifyStr(d, got) >= 0) fin = -1;
          got += d.length;
          if (got >= N) c.end();
        });
        c.on('close', function () {
          if (fin === 0) fin = 1;
        });
        c.on('error', function (e: any) {
          s.detail = 'error ' + e;
          fin = -1;
        });
        return true;
      },
      poll: function (): number {
        if (fin === 0) return 0;
        if (fin < 0 || got !== N) {
          s.detail = (s.detail ? s.detail + '; ' : '') + got + ' of ' + N + ' bytes echoed' + (fin < 0 ? ', content differs' : '');
          return -1;
        }
        s.detail = N + ' bytes echoed and checked';
        return 1;
      },
    };
    return s;
  }

  const steps: Step[] = [];
  let pingSeq = 0;
  let pingT0 = 0;
  const PINGS = 5;
  function pingStep(name: string, len: number, count: number, figure: boolean): Step {
    let sent = 0;
    const s: Step = {
      name: name,
      detail: '',
      start: function (): boolean {
        sent = 0;
        return sendPing();
      },
      poll: function (): number {
        if (replySeq !== pingSeq) return 0;
        const ms = env.now() - pingT0;
        if (replyLen !== len) {
          s.detail = 'reply of ' + replyLen + ' bytes, sent ' + len;
          return -1;
        }
        if (sent >= count) {
          s.detail = count + ' x ' + len + ' bytes, last ' + ms.toFixed(1) + ' ms';
          return 1;
        }
        return sendPing() ? 0 : -1;
      },
    };
    if (figure) {
      s.report = function (shareMs: number, elapsedMs: number): void {
        fig('espruino_ping_ms', shareMs / count, elapsedMs / count);
      };
    }
    function sendPing(): boolean {
      pingSeq++;
      sent++;
      pingT0 = env.now();
      const rc = m.icmpPing(a, peerAddr, 0x5342, pingSeq, len);
      if (rc !== 0) s.detail = 'icmpPing ' + rc;
      return rc === 0;
    }
    return s;
  }
  const linkStep: Step = {
    name: 'link',
    detail: '',
    start: function (): boolean {
      if (!upA) linkStep.detail = "the board's stack, driver or address did not come up";
      else if (!upB) linkStep.detail = "the peer's stack or services did not come up";
      return upA && upB;
    },
    poll: function (): number {
      return 1;
    },
  };

  // ---- UDP echo: the peer's service echoes whatever reaches its port 7
  let ua = -1;
  let udpIdx = 0;
  const udpStep: Step = {
    name: 'udp-echo',
    detail: '',
    start: function (): boolean {
      ua = m.socket(a, m.SOCK_DGRAM, 0);
      if (ua < 0) return false;
      udpIdx = 0;
      return m.sendto(a, ua, pat, 0, UDP_SIZES[0], peerAddr, ECHO_PORT) === UDP_SIZES[0];
    },
    poll: function (): number {
      const n = m.recvfrom(a, ua, rbuf, 0, rbuf.length, from);
      if (n === -EAGAIN) return 0;
      const want = UDP_SIZES[udpIdx];
      if (n !== want || !verify(rbuf, n, 0) || from[1] !== ECHO_PORT) {
        udpStep.detail = 'echo of ' + n + ' bytes (sent ' + want + ') from port ' + from[1];
        return -1;
      }
      udpIdx++;
      if (udpIdx === UDP_SIZES.length) {
        udpStep.detail = UDP_SIZES.join('+') + ' bytes echoed';
        m.close(a, ua);
        return 1;
      }
      return m.sendto(a, ua, pat, 0, UDP_SIZES[udpIdx], peerAddr, ECHO_PORT) === UDP_SIZES[udpIdx] ? 0 : -1;
    },
  };

  // ---- TCP: board → the peer's sink, tcpBytes, every byte checked there;
  // its 'K' after our FIN says all of them were right
  let ta = -1;
  let sentN = 0;
  let tcpT0 = 0;
  let tcpV0 = 0;
  let shut = false;
  const tcpStep: Step = {
    name: 'tcp',
    detail: '',
    report: function (shareMs: number, elapsedMs: number): void {
      const segs = o.tcpBytes / SEGMENT;
      fig('espruino_tcp_segment_ms', shareMs / segs, elapsedMs / segs);
    },
    start: function (): boolean {
      ta = m.socket(a, m.SOCK_STREAM, 0);
      const rc = m.connect(a, ta, peerAddr, SINK_PORT);
      tcpT0 = env.now();
      tcpV0 = verifyMs;
      sentN = 0;
      shut = false;
      return ta >= 0 && (rc === 0 || rc === -m.EINPROGRESS);
    },
    poll: function (): number {
      if (sentN < o.tcpBytes) {
        let k = o.tcpBytes - sentN;
        if (k > 1460) k = 1460;
        const n = m.send(a, ta, pat, sentN % PAT_PERIOD, k);
        if (n > 0) sentN += n;
        else if (n !== -EAGAIN) {
          tcpStep.detail = 'send ' + n + ' after ' + sentN;
          return -1;
        }
        return 0;
      }
      if (!shut) {
        shut = m.shutdown(a, ta, m.SHUT_WR) === 0;
        if (!shut) {
          tcpStep.detail = 'shutdown failed';
          return -1;
        }
      }
      const n = m.recv(a, ta, rbuf, 0, 1);
      if (n === -EAGAIN) return 0;
      m.close(a, ta);
      // the sink's time for checking is excluded (in 'both' mode it runs here)
      const ms = env.now() - tcpT0 - (verifyMs - tcpV0);
      if (n !== 1 || rbuf[0] !== 0x4b) {
        tcpStep.detail = n === 1 ? "the peer's check failed" : 'no status from the peer (' + n + ')';
        return -1;
      }
      tcpStep.detail = o.tcpBytes + ' bytes checked by the peer, ' + ms.toFixed(0) + ' ms';
      return 1;
    },
  };

  // ---- everything closed: both pools full again (TIME_WAIT holds no skb)
  let qT0 = 0;
  const quiesce: Step = {
    name: 'quiesce',
    detail: '',
    start: function (): boolean {
      qT0 = env.now();
      return true;
    },
    poll: function (): number {
      const ia = a.pool.inUse();
      const ib = b !== null ? b.pool.inUse() : 0;
      if (ia === 0 && ib === 0) {
        quiesce.detail = b !== null ? 'all skbs back in both pools' : 'all skbs back in the pool';
        return 1;
      }
      quiesce.detail = 'skbs in use: board ' + ia + ', peer ' + ib;
      return env.now() - qT0 > 2000 ? -1 : 0;
    },
  };

  let meter: NetMeter | null = null;
  // ---- the steps of this side, in order
  if (!isPeer) {
    steps.push(linkStep);
    steps.push(pingStep('arp+ping', 56, 1, false));
    steps.push(pingStep('ping', 56, PINGS, true));
    if (o.frag) steps.push(pingStep('ping-frag', 3000, 1, false));
    steps.push(udpStep);
    if (o.tcp) steps.push(tcpStep);
    if (o.tcp && env.networkJsCreate !== null && typeof m.networkJs === 'function') {
      const nj = env.networkJsCreate as (obj: unknown) => void;
      meter = new NetMeter(m.networkJs(a), env.now);
      nj(meter);
      steps.push(httpServerStep());
      steps.push(httpClientStep(false));
      if (typeof m.DnsResolver === 'function') steps.push(httpClientStep(true));
      steps.push(netStep());
    }
    steps.push(quiesce);
  }

  // ---- the runner: one step at a time, pumping both stacks, yielding to
  // the host's event loop between bursts (Espruino's sockets run there)
  let idx = -1;
  let stepT0 = 0;
  let stepSnap: number[] = [];
  let passed = 0;
  let failed = 0;
  function check(s: Step, ok: boolean, ms: number): void {
    if (ok) passed++;
    else failed++;
    env.print('@@check ' + JSON.stringify({ name: s.name, ok: ok, ms: Math.round(ms), detail: s.detail }));
  }
  function next(): void {
    for (;;) {
      idx++;
      if (idx >= steps.length) {
        env.mark('traffic');
        if (peak >= 0) env.print('@@mem ' + JSON.stringify({ phase: 'peak', usage: peak }));
        env.print('selftest: ' + passed + ' passed, ' + failed + ' failed');
        env.done(passed, failed);
        return;
      }
      stepT0 = env.now();
      stepSnap = snap();
      const s = steps[idx];
      let ok = false;
      const t = stepT0;
      const v = verifyMs;
      try {
        ok = s.start();
      } catch (e) {
        s.detail = 'threw ' + e;
      }
      boardMs += env.now() - t - (verifyMs - v);
      if (ok) break;
      check(s, false, 0);
    }
    env.later(tick);
  }
  function tick(): void {
    const s = steps[idx];
    let r = 0;
    try {
      for (let k = 0; k < 8 && r === 0; k++) {
        pump();
        const t = env.now();
        const v = verifyMs;
        r = s.poll();
        boardMs += env.now() - t - (verifyMs - v);
      }
    } catch (e) {
      s.detail = 'threw ' + e;
      r = -1;
    }
    if (r === 0 && env.now() - stepT0 > o.stepMs) {
      s.detail = (s.detail ? s.detail + '; ' : '') + 'timed out after ' + o.stepMs + ' ms';
      r = -1;
    }
    if (r === 0) {
      env.later(tick);
      return;
    }
    if (r > 0 && s.report !== undefined) s.report(share(stepSnap), elapsed(stepSnap));
    check(s, r > 0, env.now() - stepT0);
    next();
  }
  // the peer, its services and the harness's steps are all built: what
  // the traffic adds from here is transient (the board's, the peer's, the harness's)
  env.mark('peer');
  if (isPeer) {
    // the peer's side of a two-interpreter run: serve until the harness stops it
    env.print('@@peer ' + (upB ? 'ready' : 'failed'));
    const loop = function (): void {
      pump();
      env.later(loop);
    };
    loop();
    return;
  }
  next();
}

function attach(m: any, chip: string, st: any, c: any, mac: Uint8Array): number {
  if (chip === 'w5500') return m.attachW5500(st, c, c, mac, 'eth0', { rxKb: 4, txKb: 2 });
  return m.attachEnc28j60(st, c, c, mac, 'eth0');
}
