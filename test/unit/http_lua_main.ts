/* Lua entry of the TCP services smoke (see http_lua_smoke.ts). */
import { httpSmoke } from './http_lua_smoke';
declare function print(this: void, s: string): void;
print(httpSmoke());
