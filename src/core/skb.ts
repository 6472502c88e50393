/*
 * skb.ts — the socket-buffer pool: every packet buffer the stack will ever
 * use, allocated once (DESIGN.md zero-GC rules 1, 2, 6).
 *
 * An skb is a small integer handle. Its bytes live in its own Uint8Array
 * (created at start-up, reused forever); its metadata lives in typed arrays
 * indexed by the handle, like struct sk_buff's fields:
 *
 *   buf[h]        the buffer (0 = head, buf[h].length = end)
 *   data/tail     payload window: [data, tail)      (skb->data, skb->tail)
 *   nh/th         network / transport header offsets (skb_network_header ...)
 *   dev/proto     receiving or sending device index, ethertype
 *   next          link for SkbQueue (skb->next); one queue at a time
 *   cb0..cb3      control block scratch (skb->cb): owner layer's use only
 *
 * Two size classes: "small" skbs hold one Ethernet frame plus headroom;
 * "large" skbs (few) hold a whole IP datagram up to the reassembly cap,
 * used by reassembly and by senders of datagrams bigger than the MTU
 * before ip_fragment splits them.
 *
 * Exhaustion is normal: alloc returns -1, callers drop and count.
 */

export const SKB_NONE = -1;

export interface SkbPoolConfig {
  /** number of small skbs */
  smallCount: number;
  /** bytes per small skb (frame + headroom) */
  smallSize: number;
  /** number of large skbs */
  largeCount: number;
  /** bytes per large skb */
  largeSize: number;
  /** bytes reserved in front of data by alloc() for headers to be pushed */
  headroom: number;
}

export class SkbPool {
  readonly count: number;
  readonly smallCount: number;
  readonly smallSize: number;
  readonly largeSize: number;
  readonly headroom: number;
  readonly buf: Uint8Array[];
  readonly data: Int32Array;
  readonly tail: Int32Array;
  readonly nh: Int32Array;
  readonly th: Int32Array;
  readonly dev: Int32Array;
  readonly proto: Int32Array;
  readonly next: Int32Array;
  readonly cb0: Int32Array;
  readonly cb1: Int32Array;
  readonly cb2: Int32Array;
  readonly cb3: Int32Array;
  /** 1 while allocated */
  readonly used: Uint8Array;
  private freeSmall: number;
  private freeLarge: number;
  /* statistics */
  inUseSmall = 0;
  inUseLarge = 0;
  highSmall = 0;
  highLarge = 0;
  allocs = 0;
  frees = 0;
  allocFails = 0;
  badFrees = 0;

  constructor(c: SkbPoolConfig) {
    this.smallCount = c.smallCount;
    this.smallSize = c.smallSize;
    this.largeSize = c.largeSize;
    this.headroom = c.headroom;
    const n = c.smallCount + c.largeCount;
    this.count = n;
    this.buf = [];
    for (let i = 0; i < n; i++) {
      this.buf.push(new Uint8Array(i < c.smallCount ? c.smallSize : c.largeSize));
    }
    this.data = new Int32Array(n);
    this.tail = new Int32Array(n);
    this.nh = new Int32Array(n);
    this.th = new Int32Array(n);
    this.dev = new Int32Array(n);
    this.proto = new Int32Array(n);
    this.next = new Int32Array(n);
    this.cb0 = new Int32Array(n);
    this.cb1 = new Int32Array(n);
    this.cb2 = new Int32Array(n);
    this.cb3 = new Int32Array(n);
    this.used = new Uint8Array(n);
    // free lists threaded through next[]
    this.freeSmall = SKB_NONE;
    for (let i = c.smallCount - 1; i >= 0; i--) {
      this.next[i] = this.freeSmall;
      this.freeSmall = i;
    }
    this.freeLarge = SKB_NONE;
    for (let i = n - 1; i >= c.smallCount; i--) {
      this.next[i] = this.freeLarge;
      this.freeLarge = i;
    }
  }

  /**
   * Allocate an skb able to hold `size` bytes after the standard headroom.
   * Returns the handle with data = tail = headroom (empty), or SKB_NONE.
   */
  alloc(size: number): number {
    const need = size + this.headroom;
    let h = SKB_NONE;
    if (need <= this.smallSize && this.freeSmall !== SKB_NONE) {
      h = this.freeSmall;
      this.freeSmall = this.next[h];
      this.inUseSmall++;
      if (this.inUseSmall > this.highSmall) this.highSmall = this.inUseSmall;
    } else if (need <= this.largeSize && this.freeLarge !== SKB_NONE) {
      h = this.freeLarge;
      this.freeLarge = this.next[h];
      this.inUseLarge++;
      if (this.inUseLarge > this.highLarge) this.highLarge = this.inUseLarge;
    } else {
      this.allocFails++;
      return SKB_NONE;
    }
    this.allocs++;
    this.used[h] = 1;
    this.data[h] = this.headroom;
    this.tail[h] = this.headroom;
    this.nh[h] = 0;
    this.th[h] = 0;
    this.dev[h] = -1;
    this.proto[h] = 0;
    this.next[h] = SKB_NONE;
    this.cb0[h] = 0;
    this.cb1[h] = 0;
    this.cb2[h] = 0;
    this.cb3[h] = 0;
    return h;
  }

  /** Return an skb to its pool. A double or invalid free is counted and ignored. */
  free(h: number): void {
    if (h < 0 || h >= this.count || this.used[h] === 0) {
      this.badFrees++;
      return;
    }
    this.used[h] = 0;
    this.frees++;
    if (h < this.smallCount) {
      this.next[h] = this.freeSmall;
      this.freeSmall = h;
      this.inUseSmall--;
    } else {
      this.next[h] = this.freeLarge;
      this.freeLarge = h;
      this.inUseLarge--;
    }
  }

  /** Number of skbs currently allocated (tests assert 0 at the end). */
  inUse(): number {
    return this.inUseSmall + this.inUseLarge;
  }

  isLarge(h: number): boolean {
    return h >= this.smallCount;
  }

  len(h: number): number {
    return this.tail[h] - this.data[h];
  }

  /** Bytes free in front of data. */
  headroomOf(h: number): number {
    return this.data[h];
  }

  /** Bytes free after tail. */
  tailroom(h: number): number {
    return this.buf[h].length - this.tail[h];
  }

  /** skb_reserve: move an empty skb's data/tail forward by n. */
  reserve(h: number, n: number): void {
    this.data[h] += n;
    this.tail[h] += n;
  }

  /** skb_put: extend the tail by n; returns the offset of the added area, or -1. */
  put(h: number, n: number): number {
    const t = this.tail[h];
    if (t + n > this.buf[h].length) return -1;
    this.tail[h] = t + n;
    return t;
  }

  /** skb_push: prepend n bytes of header; returns the new data offset, or -1. */
  push(h: number, n: number): number {
    const d = this.data[h] - n;
    if (d < 0) return -1;
    this.data[h] = d;
    return d;
  }

  /** skb_pull: strip n bytes from the front; returns the new data offset, or -1. */
  pull(h: number, n: number): number {
    const d = this.data[h] + n;
    if (d > this.tail[h]) return -1;
    this.data[h] = d;
    return d;
  }

  /** skb_trim: cut the payload to len bytes (no-op if already shorter). */
  trim(h: number, len: number): void {
    if (this.tail[h] - this.data[h] > len) this.tail[h] = this.data[h] + len;
  }
}

/**
 * A FIFO of skbs threaded through pool.next (sk_buff_head). Bounded by
 * `limit` packets; enqueue fails (returns false) when full — the caller
 * drops and counts. An skb may sit on one queue at a time.
 */
export class SkbQueue {
  head = SKB_NONE;
  tailH = SKB_NONE;
  qlen = 0;
  /** total payload bytes queued */
  bytes = 0;
  constructor(
    readonly pool: SkbPool,
    public limit: number,
  ) {}

  enqueue(h: number): boolean {
    if (this.qlen >= this.limit) return false;
    const p = this.pool;
    p.next[h] = SKB_NONE;
    if (this.tailH === SKB_NONE) this.head = h;
    else p.next[this.tailH] = h;
    this.tailH = h;
    this.qlen++;
    this.bytes += p.tail[h] - p.data[h];
    return true;
  }

  /** Put an skb back at the front (requeue after a busy driver). Ignores the limit. */
  requeue(h: number): void {
    const p = this.pool;
    p.next[h] = this.head;
    this.head = h;
    if (this.tailH === SKB_NONE) this.tailH = h;
    this.qlen++;
    this.bytes += p.tail[h] - p.data[h];
  }

  dequeue(): number {
    const h = this.head;
    if (h === SKB_NONE) return SKB_NONE;
    const p = this.pool;
    this.head = p.next[h];
    if (this.head === SKB_NONE) this.tailH = SKB_NONE;
    p.next[h] = SKB_NONE;
    this.qlen--;
    this.bytes -= p.tail[h] - p.data[h];
    return h;
  }

  peek(): number {
    return this.head;
  }

  /** Free every queued skb (skb_queue_purge). */
  purge(): void {
    let h = this.dequeue();
    while (h !== SKB_NONE) {
      this.pool.free(h);
      h = this.dequeue();
    }
  }
}
