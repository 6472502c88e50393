/*
 * echo.ts — the Echo Protocol over UDP (RFC 862 §"UDP Based Echo
 * Service"): every datagram received on port 7 is sent back to its
 * source, byte for byte.
 *
 * Place in the packet path: udpRcv queues the datagram on the socket;
 * UdpService.run() copies it into its buffer and this sendto()s it back
 * (udpSendmsg → ipBuildAndSend, fragmenting when larger than the MTU).
 * A datagram larger than the buffer is echoed truncated and counted.
 */
import type { Stack } from '../stack';
import { sendto } from '../socket/socket';
import { UdpService } from './udp_service';

export const ECHO_PORT = 7;
/** datagrams handled per run() call */
const ECHO_BUDGET = 16;

export class UdpEchoService extends UdpService {
  readonly name = 'udp-echo';
  truncated = 0;
  sendErrors = 0;

  /** bufSize: the largest datagram echoed whole (65507 on a PC, ~1472 on a board). */
  constructor(st: Stack, port: number, bufSize: number) {
    super(st, port, bufSize, ECHO_BUDGET);
  }

  protected onDatagram(n: number, len: number): void {
    if (len > n) this.truncated++;
    const from = this.from;
    if (sendto(this.st, this.fd, this.buf, 0, n, from[0], from[1]) < 0) this.sendErrors++;
  }

  protected addStats(o: { [k: string]: number }): void {
    o.truncated = this.truncated;
    o.sendErrors = this.sendErrors;
  }
}
