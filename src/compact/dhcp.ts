/* stub: being written */
import type { Net } from './net';
export function dhcpInput(n: Net, off: number, len: number): void {}
export function dhcpTick(n: Net, now: number): void {}
