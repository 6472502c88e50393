/*
 * discard.ts — the Discard Protocol over UDP (RFC 863 §"UDP Based
 * Discard Service"): every datagram received on port 9 is read and
 * thrown away; nothing is ever sent back.
 *
 * Place in the packet path: udpRcv queues the datagram on the socket;
 * UdpService.run() reads it into a scratch buffer, which frees the skb,
 * and counts it.
 */
import type { Stack } from '../stack';
import { UdpService } from './udp_service';

export const DISCARD_PORT = 9;
const DISCARD_BUDGET = 32;

export class UdpDiscardService extends UdpService {
  readonly name = 'udp-discard';

  /** bufSize: scratch buffer; longer datagrams are still consumed (and counted) whole. */
  constructor(st: Stack, port: number, bufSize: number) {
    super(st, port, bufSize, DISCARD_BUDGET);
  }

  protected onDatagram(): void {
    // nothing to do: reading it was the service
  }

  protected addStats(o: { [k: string]: number }): void {
    o.port = this.port;
  }
}
