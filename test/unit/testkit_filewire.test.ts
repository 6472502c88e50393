/*
 * testkit_filewire.test.ts — the test kit's FileWire (src/testkit/espruino_testkit.ts),
 * the cable between two interpreters in `npm run test:espruino`: a file per
 * frame, read in order, a file still being written read again later; and
 * NetMeter (src/testkit/scenario.ts), which times the board's NetworkJS
 * adapter. Espruino's E.toString/E.toUint8Array and fs are faked here.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { FileWire } from '../../src/testkit/espruino_testkit';
import { NetMeter } from '../../src/testkit/scenario';

/** Espruino's fs, in memory: statSync gives undefined for a missing file (as Espruino does) */
class FakeFs {
  files = new Map<string, string>();
  statSync(n: string): { size: number } | undefined {
    const f = this.files.get(n);
    return f === undefined ? undefined : { size: f.length };
  }
  readFileSync(n: string): string | undefined {
    const f = this.files.get(n);
    if (f === undefined) throw new Error('Could not open file');
    return f.length === 0 ? undefined : f;
  }
  writeFileSync(n: string, s: string): void {
    this.files.set(n, s);
  }
  unlinkSync(n: string): boolean {
    return this.files.delete(n);
  }
}

class Chip {
  got: number[][] = [];
  receiveFromWire(b: Uint8Array, off: number, len: number): boolean {
    this.got.push(Array.from(b.subarray(off, off + len)));
    return true;
  }
}

beforeAll(() => {
  (globalThis as any).E = {
    toString: (u: Uint8Array) => String.fromCharCode(...u),
    toUint8Array: (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0)),
  };
});

function frame(n: number, seed: number): Uint8Array {
  const f = new Uint8Array(n);
  for (let i = 0; i < n; i++) f[i] = (i * 7 + seed) & 0xff;
  return f;
}

describe('FileWire', () => {
  it('carries frames both ways, in order, byte for byte, and deletes each file once read', () => {
    const fs = new FakeFs();
    const ca = new Chip();
    const cb = new Chip();
    const a = new FileWire(fs, ca, '/w/a2b', '/w/b2a');
    const b = new FileWire(fs, cb, '/w/b2a', '/w/a2b');
    const sent = [frame(60, 1), frame(1514, 2), frame(300, 3), frame(1514, 4), frame(1, 5)];
    for (const f of sent) expect(a.receiveFromWire(f, 0, f.length)).toBe(true);
    b.receiveFromWire(frame(100, 9), 0, 100);
    expect(fs.files.size).toBe(6);
    b.poll(); // at most 4 a call
    expect(cb.got.length).toBe(4);
    b.poll();
    expect(cb.got).toEqual(sent.map((f) => Array.from(f)));
    a.poll();
    expect(ca.got).toEqual([Array.from(frame(100, 9))]);
    expect(fs.files.size).toBe(0);
    expect(a.sent).toBe(5);
    expect(b.received).toBe(5);
  });

  it('a file still being written (empty or shorter than its length says) is read again on the next poll', () => {
    const fs = new FakeFs();
    const cb = new Chip();
    const b = new FileWire(fs, cb, '/w/b2a', '/w/a2b');
    fs.writeFileSync('/w/a2b/0', '');
    b.poll();
    fs.writeFileSync('/w/a2b/0', String.fromCharCode(0, 4) + 'ab');
    b.poll();
    expect(cb.got.length).toBe(0);
    expect(fs.files.has('/w/a2b/0')).toBe(true);
    fs.writeFileSync('/w/a2b/0', String.fromCharCode(0, 4) + 'abcd');
    b.poll();
    expect(cb.got).toEqual([[97, 98, 99, 100]]);
    expect(b.received).toBe(1);
  });

  it('an offset view is sent from its offset', () => {
    const fs = new FakeFs();
    const cb = new Chip();
    const a = new FileWire(fs, new Chip(), '/w/a2b', '/w/b2a');
    const b = new FileWire(fs, cb, '/w/b2a', '/w/a2b');
    const big = frame(200, 3);
    a.receiveFromWire(big, 50, 100);
    b.poll();
    expect(cb.got).toEqual([Array.from(big.subarray(50, 150))]);
  });
});

describe('NetMeter', () => {
  it("passes every call to the board's adapter unchanged and adds up the time spent in it", () => {
    let t = 0;
    const calls: string[] = [];
    const nj = {
      create: (h: unknown, p: number) => {
        calls.push('create ' + h + ' ' + p);
        t += 5;
        return 3;
      },
      close: (s: number) => {
        calls.push('close ' + s);
        t += 1;
      },
      accept: (s: number) => {
        calls.push('accept ' + s);
        t += 2;
        return -1;
      },
      recv: (s: number, n: number) => {
        calls.push('recv ' + s + ' ' + n);
        t += 3;
        return 'ab';
      },
      send: (s: number, d: string) => {
        calls.push('send ' + s + ' ' + d);
        t += 4;
        return d.length;
      },
    };
    const m = new NetMeter(nj, () => t);
    expect(m.create(undefined, 80, 1)).toBe(3);
    expect(m.accept(3)).toBe(-1);
    expect(m.recv(3, 536, 1)).toBe('ab');
    expect(m.send(3, 'xyz', 1)).toBe(3);
    m.close(3);
    expect(calls).toEqual(['create undefined 80', 'accept 3', 'recv 3 536', 'send 3 xyz', 'close 3']);
    expect(m.boardMs).toBe(15);
  });
});
