/* Lua entry of the DHCP smoke (see dhcp_lua_smoke.ts). */
import { dhcpSmoke } from './dhcp_lua_smoke';
declare function print(this: void, s: string): void;
print(dhcpSmoke());
