/*
 * fileframes.ts — a host (Node-only) frame transport: one Ethernet frame
 * per file, the cable protocol of the test kit's FileWire
 * (src/testkit/espruino_testkit.ts), so a Node stack can be the LAN peer of
 * a chip model running inside Espruino's interpreter
 * (src/testkit/hwmock.ts, src/testkit/lan_peer.ts).
 *
 * Protocol: the sender writes <outbox>/<n> for n = 0, 1, 2, ...: a 2-byte
 * big-endian length, then the frame. The receiver reads <inbox>/<n> in
 * order, hands the frame on, deletes the file. A file shorter than its
 * length says is still being written: read again on the next poll. This
 * side writes each file under a temporary name and renames it (atomic).
 *
 * Place in the packet path: the bottom of both paths, a NetDriver, as
 * drivers/host/udpframes.ts: receive = pollInbox() → rxFrame (netif_rx) → the
 * owner's onRx hook (schedules st.poll()); transmit = startXmit writes
 * the file and frees the skb at once. Allocates a Buffer per frame (host
 * side of the wire, not a board's hot path). Excluded from the bundles.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from '../../src/stack';
import { NetDevice, NetDriver, NETDEV_TX_OK } from '../../src/link/netdev';
import { registerNetdev, rxFrame, devTxComplete } from '../../src/link/dev';

/** frames taken from the inbox per poll() */
const POLL_MAX = 16;

export class FileFramesDriver implements NetDriver {
  devIndex = -1;
  /** called after frames were received (the owner schedules st.poll()) */
  onRx: (() => void) | null = null;
  /** sees every frame in (dir 0) and out (dir 1) */
  tap: ((dir: number, b: Uint8Array, off: number, len: number) => void) | null = null;
  private txSeq = 0;
  private rxSeq = 0;
  /* counters */
  rxFrames = 0;
  txFrames = 0;
  rxRefused = 0;
  txErrors = 0;

  constructor(
    readonly st: Stack,
    /** folder this side writes frames to */
    readonly outbox: string,
    /** folder this side reads frames from */
    readonly inbox: string,
  ) {}

  /** Register the net device on the stack (DOWN). Returns the device index or -errno. */
  register(name: string, mac: Uint8Array, mtu: number): number {
    const d = registerNetdev(this.st, name, mac, mtu, this);
    if (d >= 0) this.devIndex = d;
    return d;
  }

  /** Deliver the frames that have arrived; returns how many. */
  pollInbox(): number {
    let n = 0;
    for (; n < POLL_MAX; n++) {
      const name = join(this.inbox, String(this.rxSeq));
      let b: Buffer;
      try {
        b = readFileSync(name);
      } catch {
        break; // not there yet
      }
      if (b.length < 2 || b.length !== 2 + ((b[0] << 8) | b[1])) break; // still being written
      unlinkSync(name);
      this.rxSeq++;
      this.rxFrames++;
      const u = new Uint8Array(b.buffer, b.byteOffset + 2, b.length - 2);
      if (this.tap !== null) this.tap(0, u, 0, u.length);
      if (rxFrame(this.st, this.devIndex, u, 0, u.length) !== 0) this.rxRefused++;
    }
    if (n > 0 && this.onRx !== null) this.onRx();
    return n;
  }

  startXmit(dev: NetDevice, skb: number): number {
    const p = this.st.pool;
    const off = p.data[skb];
    this.sendFrame(p.buf[skb], off, p.tail[skb] - off);
    devTxComplete(this.st, dev, skb);
    return NETDEV_TX_OK;
  }

  /** One frame out (b[off..off+len), copied into its file). */
  sendFrame(b: Uint8Array, off: number, len: number): void {
    if (this.tap !== null) this.tap(1, b, off, len);
    const f = Buffer.alloc(2 + len);
    f[0] = len >>> 8;
    f[1] = len & 0xff;
    f.set(b.subarray(off, off + len), 2);
    const name = join(this.outbox, String(this.txSeq));
    try {
      writeFileSync(name + '.tmp', f);
      renameSync(name + '.tmp', name);
      this.txSeq++;
      this.txFrames++;
    } catch {
      this.txErrors++;
    }
  }

  stats(): { [k: string]: number } {
    return { rxFrames: this.rxFrames, txFrames: this.txFrames, rxRefused: this.rxRefused, txErrors: this.txErrors };
  }
}
