/*
 * pcapfile.ts — Node-only: stream a pcap capture (src/sim/pcap.ts) to a
 * file. Used by the simulation (`slabnet sim --pcap FILE`) and by
 * `slabnet up --pcap FILE`. Records are buffered in a PcapWriter and
 * written out with fs.writeSync whenever more than `flushBytes` are
 * pending, and on flush()/close().
 *
 *   const f = new PcapFile('/tmp/x.pcap');
 *   f.record(tMs, buf, off, len);   // as often as you like
 *   f.close();
 */
import * as fs from 'node:fs';
import { PcapWriter, PcapOptions } from '../sim/pcap';

export class PcapFile {
  readonly path: string;
  readonly writer: PcapWriter;
  private fd: number;
  flushBytes = 65536;

  constructor(path: string, opts?: PcapOptions) {
    this.path = path;
    this.writer = new PcapWriter(opts);
    this.fd = fs.openSync(path, 'w');
    this.flush();
  }

  get count(): number {
    return this.writer.count;
  }

  record(tsMs: number, buf: Uint8Array, off: number, len: number): void {
    this.writer.record(tsMs, buf, off, len);
    if (this.writer.pending() >= this.flushBytes) this.flush();
  }

  flush(): void {
    if (this.fd < 0 || this.writer.pending() === 0) return;
    const b = this.writer.bytes();
    let o = 0;
    while (o < b.length) o += fs.writeSync(this.fd, b, o, b.length - o);
    this.writer.clear();
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Write a finished capture to a file in one go. */
export function writePcapFile(path: string, w: PcapWriter): void {
  fs.writeFileSync(path, w.bytes());
}
