/*
 * espruino-native.test.ts — the native paths of the Espruino bundle
 * (src/features.ts RUNTIME_ESPRUINO: set() copies, E.sum checksums) in
 * Espruino's own interpreter against a plain-JavaScript RFC 1071
 * reference: the scenario of `npm run test:espruino` runs both stacks from
 * one bundle, so a checksum wrong the same way on both sides would pass
 * there; here every UDP datagram the bundle sends is checked by the
 * reference, and every datagram built by the reference must be accepted.
 * Also Uint8Array.prototype.set as memmove (overlaps both ways).
 * The interpreters: ESPRUINO_DIR, else ../shared/espruino/bin beside the
 * checkout (where CI has them: ../shared/espruino/README.md); skipped only
 * on a machine that has neither. The bundle: the generic one, built here
 * from the current sources into a temporary file (`npm test` runs before
 * `npm run build` in CI, and other tests rebuild dist/ meanwhile).
 */
import { describe, it, expect } from 'vitest';
import { spawnAsync } from '../spawn_async';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = join(__dirname, '..', '..');
const dir = process.env.ESPRUINO_DIR ? resolve(root, process.env.ESPRUINO_DIR) : resolve(root, '..', 'shared', 'espruino', 'bin');
const stock = join(dir, 'espruino');
const ready = existsSync(stock);

/** Bundle the generic Espruino build (rollup.config.js, as `npm run build` does) into file. */
async function buildGeneric(file: string): Promise<void> {
  const cfg = pathToFileURL(join(root, 'rollup.config.js')).href;
  const code =
    'import { rollup } from ' + JSON.stringify(pathToFileURL(createRequire(join(root, 'package.json')).resolve('rollup')).href) + ';\n' +
    'import { espruinoInputOptions, espruinoOutputOptions } from ' + JSON.stringify(cfg) + ';\n' +
    'const b = await rollup(espruinoInputOptions(false, undefined));\n' +
    'await b.write(espruinoOutputOptions(' + JSON.stringify(file) + ', true));\n' +
    'await b.close();\n';
  // a script file, not --input-type/-e: terser's worker threads inherit the flags
  const script = file + '.build.mjs';
  writeFileSync(script, code);
  const r = await spawnAsync(process.execPath, [script], { cwd: root, timeout: 240000 });
  rmSync(script, { force: true });
  if (r.status !== 0 || !existsSync(file)) throw new Error('building the generic bundle failed: ' + (r.stderr || '').slice(-2000));
}

/** Run in the interpreter: the bundle as require('slabnet') (loaded into RAM from ./node_modules). */
const SCRIPT = String.raw`
var net = require("slabnet");
function csum(b, off, len, s0) {
  var s = s0 || 0;
  for (var i = 0; i < len; i += 2) s += (b[off + i] << 8) | (i + 1 < len ? b[off + i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return (~s) & 0xffff;
}
var seed = 7;
function rnd() { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; }
// set() is memmove: overlaps both ways, views at odd offsets
var moveBad = 0;
for (var k = 0; k < 200; k++) {
  var a = new Uint8Array(3000), r = new Uint8Array(3000);
  for (var i = 0; i < 3000; i++) { a[i] = (i * 7 + k) & 255; r[i] = a[i]; }
  var so = Math.floor(rnd() * 1500), d = Math.floor(rnd() * 1500), len = Math.floor(rnd() * 1500), rv = k % 3 === 0 ? 1 : 0;
  (rv ? a.subarray(1) : a).set(a.subarray(so, so + len), d);
  var tmp = []; for (var i = 0; i < len; i++) tmp.push(r[so + i]);
  for (var i = 0; i < len; i++) r[rv + d + i] = tmp[i];
  for (var i = 0; i < 3000; i++) if (a[i] !== r[i]) { moveBad++; break; }
}
var now = 1000;
var st = net.createBoardStack('espruino-pico-enc28j60', null, { now: function () { return now; } });
var sent = [];
var drv = { startXmit: function (dev, skb) { var p = st.pool; sent.push(new Uint8Array(p.buf[skb].subarray(p.data[skb], p.tail[skb]))); net.devTxComplete(st, dev, skb); return net.NETDEV_TX_OK; } };
var OUR = [2, 0, 0, 0, 0, 1], PEER = [2, 0, 0, 0, 0, 2];
var dev = net.registerNetdev(st, 'eth0', new Uint8Array(OUR), 1500, drv);
net.ifconfig(st, dev, '192.0.2.2/24', null);
net.devOpen(st, dev);
function frame(type, body) { var f = new Uint8Array(14 + body.length); f.set(OUR, 0); f.set(PEER, 6); f[12] = type >> 8; f[13] = type & 255; f.set(body, 14); return f; }
var fd = net.socket(st, net.SOCK_DGRAM, 0);
net.bind(st, fd, 0, 5000);
var peer = net.parseIp('192.0.2.1');
net.sendto(st, fd, new Uint8Array(1), 0, 1, peer, 4000); now += 5; st.poll();
var arp = [0, 1, 8, 0, 6, 4, 0, 2].concat(PEER, [192, 0, 2, 1], OUR, [192, 0, 2, 2]);
net.rxFrame(st, dev, frame(0x0806, arp), 0, 42); now += 5; st.poll(); now += 5; st.poll();
var bad = 0, okOut = 0, okIn = 0;
var src = new Uint8Array(1500); for (var i = 0; i < 1500; i++) src[i] = Math.floor(rnd() * 256);
var rb = new Uint8Array(1600), from = new Int32Array(2);
for (var n = 0; n <= 1472; n += (n < 40 ? 1 : 97)) {
  var so = Math.floor(rnd() * 20), ul = 8 + n, ph = 0xc000 + 0x0202 + 0xc000 + 0x0201 + 17 + ul;
  sent = [];
  net.sendto(st, fd, src, so, n, peer, 4000); now += 5; st.poll();
  var f = sent[sent.length - 1];
  if (!f || f[23] !== 17) { bad++; continue; }
  var c = f[40] * 256 + f[41]; f[40] = 0; f[41] = 0;
  var want = csum(f, 34, ul, ph); if (want === 0) want = 0xffff;
  f[40] = c >> 8; f[41] = c & 255;
  if (c !== want || csum(f, 14, 20) !== 0) bad++; else okOut++;
  var body = new Uint8Array(28 + n);
  body.set([0x45, 0, (28 + n) >> 8, (28 + n) & 255, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2], 0);
  var hc = csum(body, 0, 20); body[10] = hc >> 8; body[11] = hc & 255;
  body.set([0x0f, 0xa0, 0x13, 0x88, ul >> 8, ul & 255, 0, 0], 20);
  body.set(src.subarray(so, so + n), 28);
  var uc = csum(body, 20, ul, ph); if (uc === 0) uc = 0xffff; body[26] = uc >> 8; body[27] = uc & 255;
  net.rxFrame(st, dev, frame(0x0800, body), 0, 14 + body.length); now += 5; st.poll();
  var got = net.recvfrom(st, fd, rb, 1, 1599, from), same = got === n;
  for (var i = 0; same && i < n; i++) if (rb[1 + i] !== src[so + i]) same = false;
  if (same) okIn++; else bad++;
}
print("@@native " + JSON.stringify({ moveBad: moveBad, okOut: okOut, okIn: okIn, bad: bad, inUse: st.pool.inUse() }));
`;

describe('the Espruino bundle in Espruino 2v29: native copies and checksums against a JavaScript reference', () => {
  it.skipIf(!ready)('UDP checksums out and in at 55 lengths (odd and even, odd offsets), set() as memmove', async () => {
    const work = mkdtempSync(join(tmpdir(), 'slabnet-native-'));
    try {
      writeFileSync(join(work, 'main.js'), SCRIPT);
      // require("x") loads ./node_modules/x.js (README: Files, modules, memory)
      const nm = join(work, 'node_modules');
      mkdirSync(nm);
      await buildGeneric(join(nm, 'slabnet.js'));
      const r = await spawnAsync(stock, ['main.js'], { cwd: work, input: '', encoding: 'latin1', timeout: 120000 });
      const m = /@@native (\{.*\})/.exec(r.stdout);
      expect(m, r.stdout.slice(-2000)).not.toBeNull();
      const res = JSON.parse((m as RegExpExecArray)[1]);
      expect(res).toEqual({ moveBad: 0, okOut: 55, okIn: 55, bad: 0, inUse: 0 });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 400000);
});
