// test/interop/check.mjs — shared by counters*.mjs: reads the one-line JSON
// counters a `slabnet up` printed on SIGTERM (run.sh saves that last stdout
// line to a file), looks counters up by dotted path ('Services.http.requests')
// and prints PASS/FAIL per check.
//   const { val, check, done } = counterChecks(file, 'loss counters', 'slabnet --loss');
// An unreadable or non-JSON file is one FAIL and exit 1 at once.
import { readFileSync } from 'node:fs';

export function counterChecks(file, label, slabnet) {
  let failed = 0;
  const say = (ok, what) => {
    if (!ok) failed++;
    console.log((ok ? 'PASS ' : 'FAIL ') + what);
  };

  let c;
  try {
    c = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    say(false, `${label}: last stdout line of ${slabnet} is not JSON: ` + e.message);
    process.exit(1);
  }
  // the counter at a dotted path, undefined where any part is missing
  const val = (path) => path.split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), c);
  // PASS when the counter is a number and compares to want by op ('>=', '>', '==')
  const check = (path, op, want) => {
    const v = val(path);
    let ok = typeof v === 'number';
    if (ok && op === '>=') ok = v >= want;
    if (ok && op === '>') ok = v > want;
    if (ok && op === '==') ok = v === want;
    say(ok, `${label}: ${path} = ${v} (want ${op} ${want})`);
  };
  // exit 0 when every check passed, else 1
  const done = () => process.exit(failed === 0 ? 0 : 1);
  return { val, check, done };
}
