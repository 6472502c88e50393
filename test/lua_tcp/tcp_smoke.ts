/* Lua entry of the TCP smoke test (see tcp_smoke_lib.ts). */
import { tcpSmoke } from './tcp_smoke_lib';
declare function print(this: void, s: string): void;
print(tcpSmoke());
