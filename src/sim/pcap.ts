/*
 * pcap.ts — a libpcap capture-file writer (the classic format, not
 * pcapng): what tcpdump -w writes and Wireshark/tshark read. Used by the
 * simulation to capture any link in virtual time and by `slabnet up
 * --pcap FILE` (through the Node-only src/host/pcapfile.ts).
 *
 * Format (all fields little-endian, as written by a little-endian host):
 *   global header, 24 bytes: magic 0xa1b2c3d4 (microsecond timestamps) or
 *     0xa1b23c4d (nanosecond), version 2.4, thiszone 0, sigfigs 0,
 *     snaplen, network = LINKTYPE_ETHERNET (1)
 *   per record, 16 bytes + data: ts_sec, ts_usec|ts_nsec, incl_len, orig_len
 *
 * Bytes are built into one growable buffer (doubling; no allocation per
 * record once it is large enough). take() hands over what was written
 * since the last take() so a file sink can stream.
 */

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HDR = 24;
export const PCAP_REC_HDR = 16;

export interface PcapOptions {
  /** nanosecond timestamps (default: microseconds) */
  nanos?: boolean;
  /** bytes kept per frame (default 65535) */
  snaplen?: number;
  /** initial buffer size (default 64 KiB) */
  initialSize?: number;
}

function putLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

function getLe32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
}

export class PcapWriter {
  readonly nanos: boolean;
  readonly snaplen: number;
  private buf: Uint8Array;
  private len = 0;
  /** records written */
  count = 0;
  /** bytes written in total (header included), across take() calls */
  total = 0;

  constructor(opts?: PcapOptions) {
    const o = opts !== undefined ? opts : {};
    this.nanos = o.nanos === true;
    this.snaplen = o.snaplen !== undefined ? o.snaplen : 65535;
    this.buf = new Uint8Array(o.initialSize !== undefined && o.initialSize > 64 ? o.initialSize : 65536);
    const b = this.buf;
    putLe32(b, 0, this.nanos ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
    b[4] = 2; // version_major
    b[5] = 0;
    b[6] = 4; // version_minor
    b[7] = 0;
    putLe32(b, 8, 0); // thiszone
    putLe32(b, 12, 0); // sigfigs
    putLe32(b, 16, this.snaplen);
    putLe32(b, 20, LINKTYPE_ETHERNET);
    this.len = PCAP_GLOBAL_HDR;
    this.total = PCAP_GLOBAL_HDR;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let sz = this.buf.length * 2;
    while (sz < this.len + n) sz *= 2;
    const nb = new Uint8Array(sz);
    for (let i = 0; i < this.len; i++) nb[i] = this.buf[i];
    this.buf = nb;
  }

  /** Append one frame buf[off..off+len) captured at virtual time tsMs (>= 0). */
  record(tsMs: number, buf: Uint8Array, off: number, len: number): void {
    const incl = len < this.snaplen ? len : this.snaplen;
    this.ensure(PCAP_REC_HDR + incl);
    const t = tsMs < 0 ? 0 : tsMs;
    const per = this.nanos ? 1000000000 : 1000000;
    const units = Math.round(t * (this.nanos ? 1000000 : 1000));
    const sec = Math.floor(units / per);
    const frac = units - sec * per;
    const b = this.buf;
    const o = this.len;
    putLe32(b, o, sec);
    putLe32(b, o + 4, frac);
    putLe32(b, o + 8, incl);
    putLe32(b, o + 12, len);
    const d = o + PCAP_REC_HDR;
    for (let i = 0; i < incl; i++) b[d + i] = buf[off + i];
    this.len = d + incl;
    this.total += PCAP_REC_HDR + incl;
    this.count++;
  }

  /** Bytes not yet taken (the whole file when take() was never called). A view: copy before recording more. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Bytes pending (not yet taken). */
  pending(): number {
    return this.len;
  }

  /** Forget the pending bytes (after a sink has written bytes() out). */
  clear(): void {
    this.len = 0;
  }

  /** Hand over the pending bytes (a copy) and start over with an empty buffer (for streaming sinks). */
  take(): Uint8Array {
    const out = new Uint8Array(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.buf[i];
    this.len = 0;
    return out;
  }
}

export interface PcapRecord {
  /** timestamp in milliseconds */
  tsMs: number;
  sec: number;
  frac: number;
  origLen: number;
  data: Uint8Array;
}

export interface PcapFileInfo {
  magic: number;
  nanos: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linktype: number;
  records: PcapRecord[];
}

/** Parse a classic little-endian pcap file (tests and tools; allocates). Returns null when malformed. */
export function readPcap(b: Uint8Array): PcapFileInfo | null {
  if (b.length < PCAP_GLOBAL_HDR) return null;
  const magic = getLe32(b, 0);
  if (magic !== PCAP_MAGIC_US && magic !== PCAP_MAGIC_NS) return null;
  const nanos = magic === PCAP_MAGIC_NS;
  const info: PcapFileInfo = {
    magic,
    nanos,
    versionMajor: b[4] | (b[5] << 8),
    versionMinor: b[6] | (b[7] << 8),
    snaplen: getLe32(b, 16),
    linktype: getLe32(b, 20),
    records: [],
  };
  let o = PCAP_GLOBAL_HDR;
  while (o < b.length) {
    if (o + PCAP_REC_HDR > b.length) return null;
    const sec = getLe32(b, o);
    const frac = getLe32(b, o + 4);
    const incl = getLe32(b, o + 8);
    const orig = getLe32(b, o + 12);
    if (o + PCAP_REC_HDR + incl > b.length) return null;
    const data = new Uint8Array(incl);
    for (let i = 0; i < incl; i++) data[i] = b[o + PCAP_REC_HDR + i];
    info.records.push({
      tsMs: sec * 1000 + (nanos ? frac / 1000000 : frac / 1000),
      sec,
      frac,
      origLen: orig,
      data,
    });
    o += PCAP_REC_HDR + incl;
  }
  return info;
}
