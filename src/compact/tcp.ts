/* stub: being written */
import type { Net } from './net';
export function tcpInput(n: Net, off: number, len: number, src: number): void {}
export function tcpKick(n: Net, ip: number): void {}
export function tcpTick(n: Net, now: number): void {}
export function tcpListen(n: Net, port: number): number { return -1; }
export function tcpConnect(n: Net, ip: number, port: number): number { return -1; }
export function tcpAccept(n: Net, l: number): number { return -1; }
export function tcpRecv(n: Net, t: number, dst: Uint8Array, max: number): number { return 0; }
export function tcpSend(n: Net, t: number, src: Uint8Array, off: number, len: number): number { return 0; }
export function tcpClose(n: Net, t: number): void {}
export function tcpState(n: Net, t: number): number { return 0; }
