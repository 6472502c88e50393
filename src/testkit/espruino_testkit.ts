/*
 * espruino_testkit.ts — the test kit bundle (`npm run build` →
 * dist/espruino/testkit.min.js): what `npm run test:espruino` loads beside a
 * board's bundle inside Espruino's interpreter. Not on the packet path and
 * never flashed to a board: the register-level chip models (the "hardware"
 * under the board's real driver), the scenario (src/testkit/scenario.ts) and
 * the Espruino side of its host interface (espruinoEnv).
 *
 * Built WITHOUT property renaming: every name it uses on the board bundle's
 * objects must be a public one, which the test proves on the way.
 */
import type { TestkitEnv } from './scenario';

export { Enc28j60Mock, connectBackToBack } from '../../drivers/enc28j60/mock';
export { W5500Mock } from '../../drivers/w5500/mock';
export { runScenario, NetMux } from './scenario';
export type { TestkitEnv, ScenarioOptions, ChipKit } from './scenario';

/* Espruino built-ins */
declare function getTime(): number;
declare function print(s: string): void;
declare function setTimeout(fn: () => void, ms: number): unknown;
declare function require(name: string): any;
declare const E: { toString(b: Uint8Array): string; toUint8Array(s: string): Uint8Array };
declare const process: { memory(gc?: boolean): { usage: number; total: number } };

/**
 * The scenario's host interface on Espruino: getTime, process.memory,
 * E.toString (native bytes → string), setTimeout, Espruino's own
 * NetworkJS/http/net modules. onDone(passed, failed) runs at the end.
 */
export function espruinoEnv(onDone: (passed: number, failed: number) => void): TestkitEnv {
  return {
    now: function (): number {
      return getTime() * 1000;
    },
    mem: function (): number {
      return process.memory(false).usage;
    },
    print: function (line: string): void {
      print(line);
    },
    str: function (b: Uint8Array, off: number, len: number): string {
      return E.toString(b.subarray(off, off + len));
    },
    later: function (fn: () => void): void {
      setTimeout(fn, 0);
    },
    mark: function (phase: string): void {
      print('@@mem ' + JSON.stringify({ phase: phase, usage: process.memory().usage }));
    },
    networkJsCreate: function (obj: unknown): void {
      require('NetworkJS').create(obj);
    },
    // Espruino's modules as the steps first use them (no JsVars spent on
    // what a run does not use)
    get http(): any {
      return require('http');
    },
    get net(): any {
      return require('net');
    },
    get dgram(): any {
      return require('dgram');
    },
    clock: null,
    done: onDone,
  };
}

/** payload bytes per datagram: Espruino's sockets move at most 536 (net->chunkSize) */
const WIRE_CHUNK = 512;

/**
 * The cable between two chip models in two interpreters, over UDP on
 * 127.0.0.1 through Espruino's dgram. Espruino's sockets carry at most 536
 * bytes a datagram, so a frame goes as up to 3 chunks, each with a 2-byte
 * header: the frame's sequence number (mod 256) and (index << 4 | count);
 * the receiver joins them and hands whole frames to its chip (a chunk out
 * of order drops the frame, counted: the stacks above recover, as from
 * loss). For a board whose build has no room for the peer: its
 * interpreter holds only its chip, its stack and this.
 */
export class DgramWire {
  private readonly sock: any;
  private readonly frame = new Uint8Array(1600);
  private readonly chunk = new Uint8Array(WIRE_CHUNK + 2);
  private txSeq = 0;
  private rxSeq = -1;
  private rxNext = 0;
  private rxLen = 0;
  /** frames sent and delivered, chunks dropped */
  sent = 0;
  received = 0;
  dropped = 0;
  constructor(dgram: any, private readonly chip: { receiveFromWire(b: Uint8Array, off: number, len: number): boolean }, localPort: number, private readonly remotePort: number) {
    const self = this;
    this.sock = dgram.createSocket('udp4');
    this.sock.on('message', function (msg: string): void {
      self.rxChunk(E.toUint8Array(msg));
    });
    this.sock.bind(localPort);
  }
  private rxChunk(u: Uint8Array): void {
    if (u.length < 3) {
      this.dropped++;
      return;
    }
    const seq = u[0];
    const idx = u[1] >> 4;
    const count = u[1] & 15;
    if (idx === 0) {
      this.rxSeq = seq;
      this.rxNext = 0;
      this.rxLen = 0;
    }
    if (seq !== this.rxSeq || idx !== this.rxNext || this.rxLen + u.length - 2 > this.frame.length) {
      this.dropped++;
      this.rxSeq = -1;
      return;
    }
    this.frame.set(u.subarray(2), this.rxLen);
    this.rxLen += u.length - 2;
    this.rxNext++;
    if (this.rxNext === count) {
      this.received++;
      this.rxSeq = -1;
      this.chip.receiveFromWire(this.frame, 0, this.rxLen);
    }
  }
  /** WirePeer / WireReceiver: a frame the chip puts on the cable */
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean {
    const count = Math.ceil(len / WIRE_CHUNK);
    const c = this.chunk;
    c[0] = this.txSeq;
    this.txSeq = (this.txSeq + 1) & 0xff;
    for (let i = 0; i < count; i++) {
      const o = i * WIRE_CHUNK;
      const n = len - o < WIRE_CHUNK ? len - o : WIRE_CHUNK;
      c[1] = (i << 4) | count;
      c.set(buf.subarray(off + o, off + o + n), 2);
      const s = E.toString(c.subarray(0, n + 2));
      this.sock.send(s, 0, s.length, this.remotePort, '127.0.0.1');
    }
    this.sent++;
    return true;
  }
}
