// test/interop/pattern.mjs — the body of slabnet's GET /bytes/N
// (src/apps/http_parse.ts patternByte: ((i mod 251) + floor(i / 251)) mod 256),
// computed independently. usage: node pattern.mjs N  → prints its sha256 (hex).
import { createHash } from 'node:crypto';

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 0) {
  console.error('usage: node pattern.mjs N');
  process.exit(2);
}
const h = createHash('sha256');
const chunk = new Uint8Array(1 << 16);
for (let pos = 0; pos < n; pos += chunk.length) {
  const len = Math.min(chunk.length, n - pos);
  for (let i = 0; i < len; i++) {
    const p = pos + i;
    chunk[i] = ((p % 251) + Math.floor(p / 251)) & 0xff;
  }
  h.update(chunk.subarray(0, len));
}
console.log(h.digest('hex'));
