// test/interop/loss_report.mjs — the table of test/interop/loss_table.sh:
// reads its runs file (one tab-separated line per GET:
//   dut profile spec run status seconds bytes statsfile before after
// dut slabnet|linux, status ok|timeout|error|skipped, statsfile the bridge's
// `stats` reply after the GET, before/after the server's TCP counters around
// it: slabnet's status page ("Tcp.RetransSegs 12" lines) or Linux's
// /proc/net/snmp + /proc/net/netstat ("Tcp: names" / "Tcp: values" pairs)),
// prints per GET an INFO line with the TCP counters that changed, then
//   profile | slabnet s | linux s | ratio
// with the median of each cell's runs (a timeout counts as its time limit
// and is shown as ">T"), writes the same as JSON, and prints per profile
// the ratio verdict (slabnet median ≤ 2 × Linux median): "PASS ratio ..." /
// "FAIL ratio ..." when gate is 1, "INFO ratio ..." otherwise.
// usage: node loss_report.mjs RUNS.tsv OUT.json GATE BYTES
import { readFileSync, writeFileSync } from 'node:fs';

const [runsFile, outFile, gateArg, bytesArg] = process.argv.slice(2);
if (outFile === undefined) {
  console.error('usage: node loss_report.mjs RUNS.tsv OUT.json GATE BYTES');
  process.exit(2);
}
const gate = gateArg === '1';
const MAX_RATIO = 2;

// counters worth a look in the per-GET line (all changed Tcp/TcpExt ones go to the JSON)
const KEY_COUNTERS = [
  'Tcp.RetransSegs', 'TcpExt.TCPTimeouts', 'TcpExt.TCPLossProbes', 'TcpExt.TCPFastRetrans', 'TcpExt.TCPSlowStartRetrans',
  'TcpExt.TCPSackRecovery', 'TcpExt.TCPRenoRecovery', 'TcpExt.TCPSpuriousRTOs', 'TcpExt.TCPDSACKRecv', 'TcpExt.TCPDSACKUndo',
  'TcpExt.TCPLossUndo', 'TcpExt.TCPSackFailures', 'TcpExt.TCPOFODrop',
];

// "Block.Name value" lines (slabnet) or "Block: names" + "Block: values" line pairs (Linux /proc/net/*)
function readCounters(file) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch { return null; }
  const c = new Map();
  const ls = text.split('\n');
  for (let i = 0; i < ls.length; i++) {
    let m = /^(Tcp|TcpExt)\.(\w+) (\d+)$/.exec(ls[i]);
    if (m !== null) { c.set(`${m[1]}.${m[2]}`, Number(m[3])); continue; }
    m = /^(Tcp|TcpExt): ([A-Za-z].*)$/.exec(ls[i]);
    const v = /^(Tcp|TcpExt): (-?\d.*)$/.exec(ls[i + 1] ?? '');
    if (m !== null && v !== null && v[1] === m[1]) {
      const names = m[2].trim().split(/\s+/), vals = v[2].trim().split(/\s+/);
      names.forEach((n, j) => c.set(`${m[1]}.${n}`, Number(vals[j])));
      i++;
    }
  }
  return c.size === 0 ? null : c;
}
// the Tcp/TcpExt counters that changed between two snapshots (gauges such as CurrEstab left out)
function counterDelta(beforeFile, afterFile) {
  if (!beforeFile || !afterFile) return null;
  const a = readCounters(beforeFile), b = readCounters(afterFile);
  if (a === null || b === null) return null;
  const d = {};
  for (const [k, v] of b) {
    if (k === 'Tcp.CurrEstab' || k === 'Tcp.MaxConn' || k.startsWith('Tcp.Rto')) continue;
    const delta = v - (a.get(k) ?? 0);
    if (delta !== 0) d[k] = delta;
  }
  return d;
}

const info = [];
const lines = readFileSync(runsFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
const profiles = []; // in first-seen order
const cells = new Map(); // profile → { spec, slabnet: [], linux: [] }
for (const l of lines) {
  const [dut, profile, spec, run, status, seconds, bytes, statsFile, beforeFile, afterFile] = l.split('\t');
  if (!cells.has(profile)) { cells.set(profile, { spec, slabnet: [], linux: [] }); profiles.push(profile); }
  let bridge = null;
  try { bridge = JSON.parse(readFileSync(statsFile, 'utf8').replace(/^ok /, '')); } catch { bridge = null; }
  const b = bridge === null ? null : {
    ab: { forwarded: bridge.ab.forwarded, lost: bridge.ab.lost, dup: bridge.ab.dup, qdrop: bridge.ab.qdrop },
    ba: { forwarded: bridge.ba.forwarded, lost: bridge.ba.lost, dup: bridge.ba.dup, qdrop: bridge.ba.qdrop },
  };
  const tcp = counterDelta(beforeFile, afterFile);
  cells.get(profile)[dut].push({ run: Number(run), status, seconds: Number(seconds), bytes: Number(bytes), bridge: b, tcp });
  if (tcp !== null) {
    const shown = KEY_COUNTERS.filter((k) => tcp[k] !== undefined).map((k) => `${k.replace(/^TcpExt\./, '')} +${tcp[k]}`);
    info.push(`INFO ${dut} ${profile} run ${run}: ${status} ${Number(seconds).toFixed(2)} s; server TCP: ${shown.join(', ') || 'no retransmissions'}`);
  }
}

// median of the runs that ran (mean of the middle two for an even count); a timeout
// sorts by its limit and makes the result a lower bound
function median(runs) {
  const r = runs.filter((x) => x.status === 'ok' || x.status === 'timeout').sort((a, b) => a.seconds - b.seconds);
  if (r.length === 0) return null;
  const lo = r[(r.length - 1) >> 1], hi = r[r.length >> 1];
  return { seconds: (lo.seconds + hi.seconds) / 2, lowerBound: lo.status === 'timeout' || hi.status === 'timeout' };
}
const fmt = (m) => (m === null ? 'n/a' : (m.lowerBound ? '>' : '') + m.seconds.toFixed(2));

const out = { bytes: Number(bytesArg), maxRatio: MAX_RATIO, gate, profiles: [] };
const rows = [];
let verdicts = [];
for (const p of profiles) {
  const c = cells.get(p);
  const s = median(c.slabnet), l = median(c.linux);
  let ratio = null, ok = null, why = '';
  if (s !== null && l !== null && !l.lowerBound && l.seconds > 0) {
    ratio = s.seconds / l.seconds;
    ok = !s.lowerBound && ratio <= MAX_RATIO;
    why = `slabnet ${fmt(s)} s / linux ${fmt(l)} s = ${s.lowerBound ? '>' : ''}${ratio.toFixed(1)} (want ≤ ${MAX_RATIO})`;
  } else {
    ok = false;
    why = `no ratio: slabnet ${fmt(s)} s, linux ${fmt(l)} s`;
  }
  rows.push([p + ` (${c.spec})`, fmt(s), fmt(l), ratio === null ? 'n/a' : (s.lowerBound ? '>' : '') + ratio.toFixed(1)]);
  out.profiles.push({ profile: p, spec: c.spec, slabnet: { median: s, runs: c.slabnet }, linux: { median: l, runs: c.linux }, ratio, ratioOk: ok });
  verdicts.push([ok, `ratio ${p}: ${why}`]);
}

for (const l of info) console.log(l);
const head = ['profile', 'slabnet s', 'linux s', 'ratio'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join(' | ');
console.log(line(head));
console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
for (const r of rows) console.log(line(r));
writeFileSync(outFile, JSON.stringify(out, null, 1) + '\n');
for (const [ok, what] of verdicts) {
  if (gate) console.log((ok ? 'PASS ' : 'FAIL ') + what);
  else console.log(`INFO ${what}: ${ok ? 'within' : 'over'} the goal (LOSS_RATIO_GATE=1 makes this PASS/FAIL)`);
}
