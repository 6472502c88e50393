/*
 * bench/index.ts — `slabnet bench` / `npm run bench -- [--json] [--quick] [--only A,B] [--net 10.0.0] [--sites]`
 * (Node only; not part of any bundle).
 *
 * Metrics (names are a contract):
 *   icmp_echo_pps            A pings B over a pair link; round trips / s
 *   udp_echo_pps             64-byte UDP echo A→B→A over the socket API; round trips / s
 *   alloc_bytes_per_packet   heap growth per round trip in steady state, GC-free windows
 *                            (extra key "bench": icmp_echo | udp_echo | link_echo | ...)
 *   heap_used_bytes          heap retained by one stack after setup ("bench": "stack")
 *   link_echo_pps            link-layer round trip (private ethertype reflected by B)
 *   checksum_mbps            core micro: RFC 1071 checksum over 1500-byte buffers
 *   skb_alloc_free_ops       core micro: skb pool alloc+put+free per second
 *   tcp_bulk_mbps            TCP bulk payload (goodput) between two stacks on a pair link, MSS 1460,
 *                            no loss, wall clock; one line per "dir": a_to_b, b_to_a, and both
 *                            (both directions at once on one connection, value = sum); the
 *                            buffer/pool config is in extra keys (bench/tcp.ts BULK_CONFIG)
 *                            alloc_bytes_per_packet "bench": "tcp_bulk" is per data segment
 *   loss_profile_s           (only with --only loss_profiles) virtual seconds of a 2,000,000-byte
 *                            transfer from the `slabnet up` configuration over the issue-10 profiles
 *                            (bench/loss.ts): one line per "bench" profile, the median over seeds
 *                            1-3 (1 with --quick), with RTOs, retransmissions and Linux's time
 *
 * Output: a table, or with --json one {"name","value","unit",...} object per line.
 */
import { measureAlloc, measureRetained, getGc, AllocWorkload } from './alloc';
import { timeRun, ChecksumWork, SkbAllocFreeWork } from './micro';
import type { LinkEchoWork } from './pair';
import { profileSites } from './sites';
import { spawnSync } from 'node:child_process';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  [k: string]: string | number | boolean;
}

interface Opts {
  json: boolean;
  quick: boolean;
  sites: boolean;
  only: string[];
  /** first three octets of the echo benchmarks' /24 */
  net: string;
}

function parseArgs(argv: string[]): Opts | string {
  const o: Opts = { json: false, quick: false, sites: false, only: [], net: '192.0.2' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--sites') o.sites = true;
    else if (a === '--net' && i + 1 < argv.length) {
      o.net = argv[++i];
      if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(o.net)) return 'bad --net (want three octets, e.g. 10.0.0)';
    }
    else if (a === '--only' && i + 1 < argv.length) o.only.push(...argv[++i].split(','));
    else if (a === '--help' || a === '-h') return 'help';
    else return 'unknown argument: ' + a;
  }
  return o;
}

const USAGE =
  'usage: slabnet bench [--json] [--quick] [--sites] [--only icmp_echo,udp_echo,link_echo,checksum,skb,stack,tcp_bulk,loss_profiles]\n' +
  '  --only loss_profiles   virtual seconds of the issue-10 loss/jitter/reordering transfers (simulation)\n' +
  '  --sites   for every workload that allocates, list the allocating functions (sampling heap profiler)\n' +
  '  --net N   /24 used by the echo benchmarks (default 192.0.2; A = N.1, B = N.2)\n' +
  '  --quick   shorter runs (smoke test)\n';

/** A benchmark group: returns its results (or a skip reason). */
interface Group {
  id: string;
  /** run only when named in --only */
  explicit?: boolean;
  run(o: Opts): Promise<BenchResult[] | string>;
}

function round(x: number, digits: number): number {
  const m = Math.pow(10, digits);
  return Math.round(x * m) / m;
}

async function allocResult(bench: string, w: AllocWorkload, o: Opts): Promise<BenchResult> {
  const r = await measureAlloc(w, o.quick ? { window: 5000, windows: 5, warmup: 5000 } : { window: 20000, windows: 7, warmup: 20000 });
  return {
    name: 'alloc_bytes_per_packet',
    value: round(r.bytesPerOp, 3),
    unit: 'B/pkt',
    bench,
    per: 'round_trip',
    median: round(r.medianBytesPerOp, 3),
    young: round(r.youngBytesPerOp, 3),
    windows: r.clean,
    discarded_gc_windows: r.discarded,
    window_pkts: r.window,
    overhead_bytes: r.overhead,
  };
}

/** alloc_site rows for a workload that allocates (--sites). */
async function siteRows(id: string, w: AllocWorkload, k: number, warm: number): Promise<BenchResult[]> {
  const res: BenchResult[] = [];
  const sites = await profileSites(w, k, warm);
  let total = 0;
  for (const x of sites) total += x.bytes;
  for (let i = 0; i < sites.length && i < 8; i++) {
    const x = sites[i];
    res.push({
      name: 'alloc_site',
      value: Math.round((x.bytes * 100) / Math.max(1, total)),
      unit: '%',
      bench: id,
      fn: x.fn,
      where: x.where,
      callers: x.stack.join(' < '),
    });
  }
  return res;
}

async function echoGroup(
  id: string,
  ppsName: string,
  make: () => AllocWorkload | string,
  o: Opts,
  extra: (w: AllocWorkload) => { [k: string]: number | string },
): Promise<BenchResult[] | string> {
  let w: AllocWorkload | string;
  try {
    w = make();
  } catch (e) {
    return 'setup failed: ' + (e instanceof Error ? e.message : String(e));
  }
  if (typeof w === 'string') return w;
  const t = timeRun(w, 1000, o.quick ? 300 : 1500);
  const res: BenchResult[] = [];
  const ex = extra(w);
  res.push({ name: ppsName, value: Math.round(t.opsPerSec), unit: 'rt/s', round_trips: t.ops, secs: round(t.secs, 3), ...ex });
  const ar = await allocResult(id, w, o);
  res.push(ar);
  if (o.sites && ar.value > 0.5) res.push(...(await siteRows(id, w, o.quick ? 5000 : 20000, 1000)));
  return res;
}

const GROUPS: Group[] = [
  {
    id: 'checksum',
    async run(o): Promise<BenchResult[] | string> {
      const w = new ChecksumWork();
      const t = timeRun(w, 1000, o.quick ? 200 : 700);
      return [
        {
          name: 'checksum_mbps',
          value: round((t.opsPerSec * 1500 * 8) / 1e6, 1),
          unit: 'Mbit/s',
          micro: true,
          buf_bytes: 1500,
        },
        { ...(await allocResult('checksum', w, o)), per: 'call' },
      ];
    },
  },
  {
    id: 'skb',
    async run(o): Promise<BenchResult[] | string> {
      const w = new SkbAllocFreeWork();
      const t = timeRun(w, 10000, o.quick ? 200 : 700);
      if (w.fails !== 0) return 'skb pool exhausted';
      return [
        { name: 'skb_alloc_free_ops', value: Math.round(t.opsPerSec), unit: 'ops/s', micro: true },
        { ...(await allocResult('skb_alloc_free', w, o)), per: 'op' },
      ];
    },
  },
  {
    id: 'stack',
    async run() {
      const pm = await import('./pair');
      const r = measureRetained(() => pm.makePair());
      return [
        {
          name: 'heap_used_bytes',
          value: Math.round(r.bytes / 2),
          unit: 'B',
          bench: 'stack',
          array_buffer_bytes: Math.round(r.external / 2),
          note: 'heap retained per stack after setup (default config), pair of stacks / 2',
        },
      ];
    },
  },
  {
    id: 'link_echo',
    async run(o) {
      const pm = await import('./pair');
      return echoGroup('link_echo', 'link_echo_pps', () => new pm.LinkEchoWork(), o, (w) => {
        const l = w as LinkEchoWork;
        return { reflected: l.refl.reflected, received: l.sink.got, send_fails: l.sendFails };
      });
    },
  },
  {
    // method check: a link echo that also creates a small object per round trip
    id: 'alloc_check',
    explicit: true,
    async run(o) {
      const pm = await import('./pair');
      return echoGroup('alloc_check', 'alloc_check_pps', () => new pm.AllocatingLinkEcho(), o, () => ({
        note: 'deliberately allocates',
      }));
    },
  },
];

/** TCP bulk: both directions one at a time, then both at once; alloc per data segment. */
async function tcpBulkGroup(o: Opts): Promise<BenchResult[] | string> {
  let m: typeof import('./tcp');
  try {
    m = await import('./tcp');
  } catch (e) {
    return 'tcp benchmark unavailable: ' + (e instanceof Error ? e.message : String(e));
  }
  const res: BenchResult[] = [];
  const ms = o.quick ? 300 : 2000;
  for (const dir of ['a_to_b', 'b_to_a', 'both'] as const) {
    const w = new m.TcpBulkWork({ dir, verify: false });
    const c0 = process.cpuUsage();
    const t = timeRun(w, 256, ms);
    const cpu = process.cpuUsage(c0);
    const flows = w.flows.length;
    const mbps = (t.opsPerSec * w.segBytes * 8 * flows) / 1e6;
    // process CPU time (all threads: JIT, GC) as a second figure: wall clock suffers on a loaded host
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    const row: BenchResult = {
      name: 'tcp_bulk_mbps',
      value: round(mbps, 1),
      unit: 'Mbit/s',
      dir,
      bytes: w.received(),
      segments: Math.round(t.ops * flows),
      secs: round(t.secs, 3),
      cpu_secs: round(cpuSecs, 3),
      cpu_mbps: round(cpuSecs > 0 ? (t.ops * w.segBytes * 8 * flows) / cpuSecs / 1e6 : 0, 1),
      ...m.bulkConfigKeys(w),
    };
    if (dir === 'both') row.note = 'both directions at once on one connection; value is the sum';
    res.push(row);
    if (dir === 'a_to_b') {
      const ar = await allocResult('tcp_bulk', w, o);
      ar.per = 'data_segment';
      ar.dir = dir;
      res.push(ar);
      if (o.sites && ar.value > 0.5) res.push(...(await siteRows('tcp_bulk', w, o.quick ? 5000 : 20000, 1000)));
    }
    w.close();
    const inUse = w.a.pool.inUse() + w.b.pool.inUse();
    if (inUse !== 0) row.skbs_leaked = inUse;
  }
  return res;
}

/** loss_profile_s: the issue-10 profiles in virtual time (bench/loss.ts). */
async function lossGroup(o: Opts): Promise<BenchResult[] | string> {
  const m = await import('./loss');
  const seeds = o.quick ? [1] : [1, 2, 3];
  const res: BenchResult[] = [];
  for (const p of m.LOSS_PROFILES) {
    const rs = seeds.map((s) => m.runLossProfile(p, s));
    const bad = rs.filter((r) => !r.done || r.got !== m.LOSS_BYTES || r.mismatchAt >= 0);
    const mid = (f: (r: (typeof rs)[number]) => number): number => rs.map(f).sort((a, b) => a - b)[Math.floor(rs.length / 2)];
    const row: BenchResult = {
      name: 'loss_profile_s',
      value: round(mid((r) => r.seconds), 2),
      unit: 's',
      bench: p.name,
      seeds: seeds.length,
      rtos: mid((r) => r.timeouts),
      retrans: mid((r) => r.retrans),
      linux_s: p.linuxS,
    };
    if (bad.length > 0) row.not_exact = bad.length;
    res.push(row);
  }
  return res;
}

/** Late-bound echo benchmarks: they need the IP/ICMP/UDP/socket layers. */
async function echoGroups(): Promise<Group[]> {
  const g: Group[] = [];
  try {
    const m = await import('./echo');
    g.push({
      id: 'icmp_echo',
      run(o) {
        return echoGroup('icmp_echo', 'icmp_echo_pps', () => m.makeIcmpEcho(o.net), o, (w) => ({
          ...m.icmpExtra(w),
          net: o.net + '.0/24',
        }));
      },
    });
    g.push({
      id: 'udp_echo',
      run(o) {
        return echoGroup('udp_echo', 'udp_echo_pps', () => m.makeUdpEcho(o.net), o, (w) => ({
          ...m.udpExtra(w),
          net: o.net + '.0/24',
        }));
      },
    });
    g.push({ id: 'tcp_bulk', run: tcpBulkGroup });
    g.push({ id: 'loss_profiles', explicit: true, run: lossGroup });
  } catch (e) {
    const msg = 'echo benchmarks unavailable: ' + (e instanceof Error ? e.message : String(e));
    g.push({ id: 'icmp_echo', run: async () => msg });
    g.push({ id: 'udp_echo', run: async () => msg });
  }
  return g;
}

function fmtValue(v: number): string {
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(v);
}

function printTable(rows: BenchResult[], skipped: string[]): void {
  const lines: string[][] = [['metric', 'bench', 'value', 'unit', 'notes']];
  for (const r of rows) {
    const notes: string[] = [];
    for (const k of Object.keys(r)) {
      if (k === 'name' || k === 'value' || k === 'unit' || k === 'bench' || k === 'note') continue;
      notes.push(k + '=' + String(r[k]));
    }
    lines.push([r.name, r.bench !== undefined ? String(r.bench) : '', fmtValue(r.value), r.unit, notes.join(' ')]);
  }
  const w = [0, 0, 0, 0];
  for (const l of lines) for (let i = 0; i < 4; i++) w[i] = Math.max(w[i], l[i].length);
  let out = '';
  for (let j = 0; j < lines.length; j++) {
    const l = lines[j];
    out +=
      l[0].padEnd(w[0]) + '  ' + l[1].padEnd(w[1]) + '  ' + l[2].padStart(w[2]) + '  ' + l[3].padEnd(w[3]) + '  ' + l[4] + '\n';
    if (j === 0) out += '-'.repeat(w[0] + w[1] + w[2] + w[3] + 8 + 5) + '\n';
  }
  for (const s of skipped) out += 'skipped: ' + s + '\n';
  process.stdout.write(out);
}

export async function runBench(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (typeof o === 'string') {
    process.stderr.write(o + '\n' + USAGE);
    return 2;
  }
  if (o.sites && process.execArgv.indexOf('--enable-source-maps') < 0) {
    // source maps must be on before the sources load: re-run in a child
    const r = spawnSync(
      process.execPath,
      ['--enable-source-maps'].concat(process.execArgv, [process.argv[1], 'bench'], argv),
      { stdio: 'inherit' },
    );
    return r.status === null ? 1 : r.status;
  }
  getGc();
  const groups = GROUPS.concat(await echoGroups());
  const rows: BenchResult[] = [];
  const skipped: string[] = [];
  let failed = 0;
  for (const g of groups) {
    if (o.only.length > 0 ? o.only.indexOf(g.id) < 0 : g.explicit === true) continue;
    let r: BenchResult[] | string;
    try {
      r = await g.run(o);
    } catch (e) {
      r = 'error: ' + (e instanceof Error ? e.stack || e.message : String(e));
      failed++;
    }
    if (typeof r === 'string') {
      skipped.push(g.id + ': ' + r);
      if (o.json) process.stderr.write('bench ' + g.id + ' skipped: ' + r + '\n');
      continue;
    }
    for (const row of r) {
      rows.push(row);
      if (o.json) process.stdout.write(JSON.stringify(row) + '\n');
    }
  }
  if (!o.json) printTable(rows, skipped);
  return failed > 0 ? 1 : 0;
}
