/*
 * The compact stack's receive filter (src/compact/net.ts netInput): frames to
 * our MAC and to the broadcast address get in; another unicast MAC and any
 * multicast MAC (none joined) are counted as rxOther and dropped.
 */
import { describe, it, expect } from 'vitest';
import { netCreate, netAttach, netSetIp, netRxFrame, netStats } from '../../src/compact/net';
import { ManualClock } from '../../src/core/clock';

const OURS = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

/** An ARP request for 192.0.2.2 from 192.0.2.1 (02:00:00:00:00:01), to `dst`. */
function arpTo(dst: number[]): Uint8Array {
  const f = new Uint8Array(60);
  f.set(dst, 0);
  f.set([0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 0x01, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2], 0 + 6);
  return f;
}

describe('compact receive filter', () => {
  it('our MAC and broadcast in; another unicast MAC and multicast out, counted', () => {
    const n = netCreate(null, Uint8Array.from(OURS), new ManualClock(0), 1);
    const sent: number[] = [];
    netAttach(n, { xmit: (b: Uint8Array) => sent.push(b[21]) });
    netSetIp(n, 0xc0000202 | 0, 0xffffff00 | 0, 0, 0);
    sent.length = 0;
    netRxFrame(n, arpTo(OURS), 60);
    netRxFrame(n, arpTo([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 60);
    expect(sent).toEqual([2, 2]); // two ARP replies
    const before = netStats(n).rxOther;
    netRxFrame(n, arpTo([0x02, 0x11, 0x22, 0x33, 0x44, 0x56]), 60);
    netRxFrame(n, arpTo([0x03, 0x11, 0x22, 0x33, 0x44, 0x55]), 60);
    netRxFrame(n, arpTo([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]), 60);
    netRxFrame(n, arpTo([0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]), 60);
    expect(netStats(n).rxOther - before).toBe(4);
    expect(sent.length).toBe(2);
  });
});
