/*
 * Shared by the compact drivers' tests (compact_enc28j60, compact_w5500):
 * addresses, the far end of the cable, and the frames the peer sends
 * (ARP request, ICMP echo request) with the check of our echo reply.
 * Not a test file itself.
 */
import { expect } from 'vitest';
import { csumPartial, csumFinish } from '../../src/core/checksum';
import { get16, get32, put16, put32 } from '../../src/compact/net';

export const MAC = new Uint8Array([0x02, 0x73, 0x6c, 0xc0, 0x01, 0x00]);
export const PEER = new Uint8Array([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
export const OTHER = new Uint8Array([0x02, 0x99, 0x99, 0x99, 0x99, 0x99]);
export const IP = (192 << 24) | (0 << 16) | (2 << 8) | 10;
export const PEER_IP = (192 << 24) | (0 << 16) | (2 << 8) | 1;
export const MASK = -256;

/** The other end of the cable: records what the chip transmits (either chip model's wire interface). */
export class Wire {
  frames: Uint8Array[] = [];
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean {
    this.frames.push(buf.slice(off, off + len));
    return true;
  }
}

/** ARP request from PEER for tip (broadcast). */
export function arpRequest(tip: number): Uint8Array {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(PEER, 6);
  put16(f, 12, 0x0806);
  put16(f, 14, 1);
  put16(f, 16, 0x0800);
  put16(f, 18, 0x0604);
  put16(f, 20, 1);
  f.set(PEER, 22);
  put32(f, 28, PEER_IP);
  put32(f, 38, tip);
  return f;
}

/** ICMP echo request from PEER to us with `data` payload bytes (seq in the header, payload (i + seq) & 0xff). */
export function echoRequest(seq: number, data: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + data);
  f.set(MAC, 0);
  f.set(PEER, 6);
  put16(f, 12, 0x0800);
  const ip = 14;
  f[ip] = 0x45;
  put16(f, ip + 2, 20 + 8 + data);
  put16(f, ip + 4, seq);
  f[ip + 8] = 64;
  f[ip + 9] = 1;
  put32(f, ip + 12, PEER_IP);
  put32(f, ip + 16, IP);
  put16(f, ip + 10, csumFinish(csumPartial(f, ip, 20, 0)));
  const ic = 34;
  f[ic] = 8;
  put16(f, ic + 4, 0x1234);
  put16(f, ic + 6, seq);
  for (let i = 0; i < data; i++) f[ic + 8 + i] = (i + seq) & 0xff;
  put16(f, ic + 2, csumFinish(csumPartial(f, ic, 8 + data, 0)));
  return f;
}

/** Check that w is our echo reply to echoRequest(seq, data): padded to 60, addresses swapped, checksums right, payload back. */
export function expectEchoReply(w: Uint8Array, seq: number, data: number): void {
  expect(w.length).toBe(Math.max(60, 42 + data));
  expect(Array.from(w.subarray(0, 6))).toEqual(Array.from(PEER));
  expect(Array.from(w.subarray(6, 12))).toEqual(Array.from(MAC));
  expect(get16(w, 12)).toBe(0x0800);
  expect(csumFinish(csumPartial(w, 14, 20, 0))).toBe(0);
  expect(get32(w, 14 + 12)).toBe(IP);
  expect(get32(w, 14 + 16)).toBe(PEER_IP);
  expect(w[34]).toBe(0);
  expect(get16(w, 34 + 6)).toBe(seq);
  expect(csumFinish(csumPartial(w, 34, 8 + data, 0))).toBe(0);
  for (let i = 0; i < data; i++) if (w[42 + i] !== ((i + seq) & 0xff)) throw new Error('payload byte ' + i);
}
