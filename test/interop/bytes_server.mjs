// test/interop/bytes_server.mjs — Linux's side of test/interop/loss_table.sh:
// a Node HTTP server, run inside a network namespace so the kernel's TCP
// serves it, that answers GET /bytes/N with the same N bytes as slabnet's
// src/apps/http.ts (pattern ((i mod 251) + floor(i / 251)) mod 256, as
// test/interop/pattern.mjs computes it), streamed with back-pressure.
// Other paths 404, other methods 405.
// usage: node bytes_server.mjs --listen A.B.C.D:PORT [--parent PID]
// Prints "bytes_server ready" when listening; exits 0 on SIGTERM/SIGINT or
// when --parent PID is gone (checked every 500 ms). Bad arguments: exit 2.
import http from 'node:http';

const CHUNK = 1 << 16;
const MAX_N = 1 << 30;

function fill(buf, pos, len) {
  for (let i = 0; i < len; i++) {
    const p = pos + i;
    buf[i] = ((p % 251) + Math.floor(p / 251)) & 0xff;
  }
}

let listen = null, parent = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--listen') listen = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(args[i + 1] ?? '');
  else if (args[i] === '--parent') parent = Number(args[i + 1]);
  else listen = null, i = args.length;
}
if (listen === null || !Number.isInteger(parent) || parent < 0) {
  console.error('usage: node bytes_server.mjs --listen A.B.C.D:PORT [--parent PID]');
  process.exit(2);
}

const server = http.createServer((req, res) => {
  const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  if (m === null || Number(m[1]) > MAX_N) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const n = Number(m[1]);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(n) });
  if (req.method === 'HEAD') { res.end(); return; }
  let pos = 0;
  const pump = () => {
    while (pos < n) {
      const len = Math.min(CHUNK, n - pos);
      const buf = Buffer.allocUnsafe(len);
      fill(buf, pos, len);
      pos += len;
      if (!res.write(buf)) { res.once('drain', pump); return; }
    }
    res.end();
  };
  pump();
});
server.on('error', (e) => { console.error('bytes_server: ' + e.message); process.exit(2); });
server.listen(Number(listen[2]), listen[1], () => console.log(`bytes_server ready ${listen[1]}:${listen[2]}`));

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (parent > 0) {
  setInterval(() => {
    try { process.kill(parent, 0); } catch (e) { if (e.code === 'ESRCH') stop(); }
  }, 500).unref();
}
