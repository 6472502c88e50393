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
export { runScenario, NetMeter } from './scenario';
export type { TestkitEnv, ScenarioOptions, ChipKit } from './scenario';

/* Espruino built-ins */
declare function getTime(): number;
declare function print(s: string): void;
declare function setTimeout(fn: () => void, ms: number): unknown;
declare function require(name: string): any;
declare const E: { toString(b: Uint8Array): string | undefined; toUint8Array(s: string): Uint8Array };
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
    str: binary,
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
    get fs(): any {
      return require('fs');
    },
    clock: null,
    done: onDone,
  };
}

/** b[off..off+len) as a binary string: natively, or byte by byte when Espruino has no room for a flat string. */
function binary(b: Uint8Array, off: number, len: number): string {
  const s = E.toString(b.subarray(off, off + len));
  if (typeof s === 'string') return s;
  let r = '';
  for (let i = 0; i < len; i++) r += String.fromCharCode(b[off + i]);
  return r;
}

/**
 * The cable between two chip models in two interpreters: one file per
 * frame. The sender writes <outbox>/<n> (a 2-byte length, then the frame)
 * for n = 0, 1, 2, ...; the receiver's poll() reads <inbox>/<n> in order,
 * hands the frame to its chip and deletes the file (a file shorter than its
 * length says is still being written: it is read again on the next poll).
 * No socket: Espruino has one network, and in the board's interpreter that
 * is the board's NetworkJS adapter. For a board whose build has no room for
 * the peer: its interpreter holds only its chip, its stack and this.
 */
export class FileWire {
  private txSeq = 0;
  private rxSeq = 0;
  private readonly hdr = new Uint8Array(2);
  /** frames sent and delivered */
  sent = 0;
  received = 0;
  constructor(
    private readonly fs: any,
    private readonly chip: { receiveFromWire(b: Uint8Array, off: number, len: number): boolean },
    private readonly outbox: string,
    private readonly inbox: string,
  ) {}
  /** WirePeer / WireReceiver: a frame the chip puts on the cable */
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean {
    this.hdr[0] = len >>> 8;
    this.hdr[1] = len & 0xff;
    this.fs.writeFileSync(this.outbox + '/' + this.txSeq, binary(this.hdr, 0, 2) + binary(buf, off, len));
    this.txSeq++;
    this.sent++;
    return true;
  }
  /** Deliver the frames that have arrived (at most 4 a call). */
  poll(): void {
    for (let k = 0; k < 4; k++) {
      const name = this.inbox + '/' + this.rxSeq;
      if (!this.fs.statSync(name)) return; // undefined (Espruino) or null: not there yet
      const s: string | undefined = this.fs.readFileSync(name);
      // empty (undefined) or shorter than it says: still being written
      if (typeof s !== 'string' || s.length < 2 || s.length !== 2 + ((s.charCodeAt(0) << 8) | s.charCodeAt(1))) return;
      this.fs.unlinkSync(name);
      this.rxSeq++;
      this.received++;
      const u = E.toUint8Array(s.substring(2));
      this.chip.receiveFromWire(u, 0, u.length);
    }
  }
}
