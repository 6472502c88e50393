/* Lua entry of the DNS smoke (see dns_lua_smoke.ts). */
import { dnsSmoke } from './dns_lua_smoke';
declare function print(this: void, s: string): void;
print(dnsSmoke());
