/* stub: being written */
import type { Net } from './net';
export function dnsInput(n: Net, off: number, len: number, src: number, sport: number, dport: number): boolean { return false; }
export function dnsTick(n: Net, now: number): void {}
