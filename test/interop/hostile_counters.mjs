// test/interop/hostile_counters.mjs — prints chosen counters from the one-line
// JSON `slabnet up` prints on SIGTERM (the file's last line), for hostile.sh's
// report: `Group.Name=value` for each path given (`n/a` when the stack has no
// such counter; objects such as Services.http printed as compact JSON).
// usage: node hostile_counters.mjs FILE PATH...   exit 1 when there is no JSON line
import { readFileSync } from 'node:fs';

const [file, ...paths] = process.argv.slice(2);
let lines;
try {
  lines = readFileSync(file, 'utf8').trim().split('\n');
} catch (e) {
  console.log('no counters: ' + e.message);
  process.exit(1);
}
let j;
try {
  j = JSON.parse(lines[lines.length - 1]);
} catch {
  console.log('no counters JSON line (last line: ' + JSON.stringify(lines[lines.length - 1].slice(0, 120)) + ')');
  process.exit(1);
}
const out = [];
for (const p of paths) {
  let v = j;
  for (const k of p.split('.')) v = v !== null && typeof v === 'object' ? v[k] : undefined;
  out.push(p + '=' + (v === undefined ? 'n/a' : typeof v === 'object' ? JSON.stringify(v) : v));
}
console.log(out.join(' '));
