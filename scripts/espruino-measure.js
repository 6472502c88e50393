/*
 * espruino-measure.js — what `npm run test:espruino` and `npm run budget`
 * run for each bundle in Espruino's interpreter (scripts/espruino-run.js):
 * the targets (one per board bundle, plus the generic bundle), the peer's
 * configuration, the fallbacks when a build has no room, and the JSON
 * figure lines. dist/espruino/measured.json keeps the last results, keyed
 * by target, with the sha256 of the bundle they were measured on.
 *
 * Per board whose features enable the DHCP client or the DNS resolver
 * (scripts/client-cost.js), runTarget also loads each variant bundle (the
 * same without that client, from `npm run build`) in the board's build:
 * load runs only, about a third of a second each. The result carries
 * jsvarsDhcp / jsvarsDns (one instance, from the board's own load run) and
 * variants.<dhcp|dns> = { bundle, bundleSha, jsvarsModule, jsvarsModuleWith, ok,
 * interpreter }.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { interpreterFor, runInEspruino, INTERPRETERS } from './espruino-run.js';
import { profileOf, fileSha } from './boards-load.js';
import { clientsOf, variantFile } from './client-cost.js';

/** where the last measurements are kept */
export function measuredFile(root) {
  return join(root, 'dist', 'espruino', 'measured.json');
}

/** ms a step may take (a 64 KB transfer in a 32-bit board build on a loaded machine) */
export const STEP_MS = 120000;
/** ms one interpreter run may take */
export const RUN_MS = 600000;


/** The peer: small pools, room for the scenario's connections (not counted against the board). */
function peerConfig(tcp, frag) {
  return {
    skbSmallCount: 5, skbSmallSize: 1600, skbLargeCount: frag ? 1 : 0, skbLargeSize: 4224, rxRingSize: 8, napiBudget: 4,
    txQueueLen: 4, timerMax: 32, timerSlots: 32, arpTableSize: 2, arpQueueLen: 2, routeTableSize: 2, ipAddrMax: 1,
    reasmSlots: frag ? 1 : 0, reasmMaxBytes: 4096, reasmMaxFrags: 8, maxSockets: 8, sockRcvQueueLen: 4, sockRcvBufBytes: 4096,
    tcpMaxSockets: tcp ? 5 : 0, tcpSndBuf: 1024, tcpRcvBuf: 2048, tcpSynQueue: tcp ? 2 : 0, tcpAcceptQueue: 2,
    tcpTimeWaitSlots: tcp ? 4 : 0, tcpWindowScaling: false,
  };
}

/** The generic bundle runs the Pico's pools with what its board bundle leaves out (large skb, reassembly, TCP). */
const GENERIC_OVER = { skbLargeCount: 1, reasmSlots: 1, tcpMaxSockets: 3, tcpSynQueue: 2, tcpTimeWaitSlots: 3 };

/**
 * The targets: one per board bundle, plus the generic bundle. `clients`:
 * the optional clients (scripts/client-cost.js) a board's features enable,
 * with `file`, its variant bundle without that client; measured for the
 * board bundles only (the generic bundle has no board-sized build).
 */
export function targets(boards) {
  const out = [];
  out.push({
    id: 'generic', file: 'dist/espruino/slabnet.min.js', chip: 'enc28j60', board: 'espruino-pico-enc28j60', boardOver: GENERIC_OVER,
    tcp: true, frag: true, jsVars: 0, spiHz: 10000000, mustFit: false, profile: 'full', flash: 0, clients: [],
  });
  for (const b of boards) {
    // a board with a compact part ships the compact stack: scripts/espruino-compact.js runs and measures it
    if (b.codeFlashBytes <= 0 || b.compact !== undefined) continue;
    const f = b.features || {};
    const tcp = f.tcp !== false;
    out.push({
      id: b.id, file: `dist/espruino/${b.id}.min.js`, chip: b.chip, board: null, boardOver: null, tcp,
      frag: f.reassembly !== false && f.fragmentOut !== false, jsVars: b.jsVars, spiHz: b.spi ? b.spi.baud : 10000000,
      mustFit: typeof b.cannotFitYet !== 'string', cannotFitYet: b.cannotFitYet, profile: profileOf(b), flash: b.codeFlashBytes,
      board0: b,
      // the clients its features enable, each with its variant bundle (the same without it)
      clients: clientsOf(f).map((c) => Object.assign({ file: variantFile(b.id, c.key) }, c)),
    });
  }
  return out;
}

/**
 * The next larger build, preferring a board-sized one with the same JsVar
 * size (blocksize) as `interp`, then any larger board-sized one, then the
 * stock build; null when there is none. A different
 * blocksize changes how many JsVars a typed array's bytes take (about
 * bytes / (blocksize - 1.5)), so the row says which build measured it.
 */
function largerBuild(interp) {
  const i = INTERPRETERS.findIndex((x) => x.file === interp);
  const bs = (f) => (f === 'espruino_v16383' ? 14 : f === 'espruino' ? 27 : 13);
  for (let k = i + 1; k < INTERPRETERS.length; k++) if (bs(INTERPRETERS[k].file) === bs(interp)) return INTERPRETERS[k].file;
  for (let k = i + 1; k < INTERPRETERS.length; k++) if (INTERPRETERS[k].jsVars > 0) return INTERPRETERS[k].file;
  // last: the stock build (its store grows; its JsVars are 27 bytes, so a
  // typed array's bytes take about half as many: the transient JsVars of the
  // traffic, mostly small strings and objects, are what is taken from it)
  return interp !== 'espruino' ? 'espruino' : null;
}

/**
 * Run target t. Board builds: first a load run in the board's own build
 * (module, chip model, default stack brought up, no traffic): the module
 * and stack JsVars, and whether they fit there at all (`ownBuildOom`).
 * Then the traffic: board and peer in the board's build; out of memory →
 * the peer in a second interpreter; still out of memory → in a larger
 * build. The board's peak = module + stack (own build) + the traffic's
 * transient JsVars (from whichever build ran it).
 */
export async function runTarget(root, dir, t, onCheck) {
  const interp = t.jsVars > 0 ? interpreterFor(t.jsVars) : 'espruino';
  const opts = (role) => runOpts(t, role);
  const bundle = join(root, t.file);
  const KIT = join(root, 'dist', 'espruino', 'testkit.min.js');
  const tries = [];
  let load = null;
  if (t.jsVars > 0) {
    load = await runInEspruino(dir, interp, bundle, KIT, opts('load'), RUN_MS);
    load.interpreter = interp;
    load.mode = 'load only';
    tries.push(load);
  }
  const ownBuildOom = load !== null && !load.ok;
  // the clients: each variant's load run in the same build (module JsVars without it)
  const variants = load !== null ? await measureVariants(root, dir, t, interp, load.ok ? load.jsvarsModule : undefined) : {};
  // 1. the board and the peer in the board's build
  let r = await runInEspruino(dir, interp, bundle, KIT, opts('both'), RUN_MS, undefined, onCheck);
  r.interpreter = interp;
  r.mode = 'one interpreter';
  tries.push(r);
  // 2. out of memory: the peer in a second interpreter
  if (r.oom) {
    r = await runInEspruino(dir, interp, bundle, KIT, opts('board'), RUN_MS, 'espruino', onCheck);
    r.interpreter = interp;
    r.mode = 'peer in a second interpreter';
    tries.push(r);
  }
  // 3. still out of memory (the board with the test kit and its chip model): larger builds
  let cur = interp;
  while (r.oom) {
    const big = largerBuild(cur);
    if (big === null) break;
    cur = big;
    r = await runInEspruino(dir, big, bundle, KIT, opts('board'), RUN_MS, 'espruino', onCheck);
    r.interpreter = big;
    r.mode = 'peer in a second interpreter, in a larger build (no room for the test kit in its own)';
    tries.push(r);
  }
  // the board's own figures: module and createBoardStack from the load run
  // in its own build, what the driver and bring-up add from the traffic run
  if (load !== null && load.ok) {
    const transient = r.jsvarsPeak !== undefined ? r.jsvarsPeak - r.jsvarsModule - r.jsvarsStack : undefined;
    const after = r.jsvarsAfter !== undefined ? r.jsvarsAfter - r.jsvarsModule - r.jsvarsStack : undefined;
    r.jsvarsModule = load.jsvarsModule;
    r.jsvarsStack = load.jsvarsStack + (r.jsvarsAttach !== undefined ? r.jsvarsAttach : 0);
    r.jsvarsPeak = transient !== undefined ? load.jsvarsModule + load.jsvarsStack + transient : undefined;
    r.jsvarsAfter = after !== undefined ? load.jsvarsModule + load.jsvarsStack + after : undefined;
    r.memFrom = `module and stack: ${interp}; traffic: ${r.interpreter}`;
  }
  clientFigures(r, load, variants);
  // the speed figures: the same scenario with the code in RAM (Modules.addCached) in the
  // stock build. Espruino's Linux build emulates flash with a file it reopens on every
  // read (a run from Storage is 3-5x slower for that alone); a board reads its flash as
  // memory. The run from Storage above keeps the memory figures; its timings stay as
  // *_storage figures.
  const sp = await runInEspruino(dir, 'espruino', bundle, KIT, Object.assign(opts('both'), { codeInRam: true }), RUN_MS);
  sp.interpreter = 'espruino';
  sp.mode = 'code in RAM (speed figures)';
  tries.push(sp);
  r.storageFigures = r.figures;
  r.figures = sp.figures;
  r.speedFrom = 'espruino, code in RAM';
  r.speedOk = sp.ok;
  if (!sp.ok) r.ok = false;
  return { r, tries, interp, ownBuildOom };
}

/**
 * The variant bundles of t's clients, each loaded ('load' run) in build
 * `interp`: { key: { bundle, bundleSha, jsvarsModule, jsvarsModuleWith,
 * ok, interpreter, ms } } (a missing file: { bundle, missing: true });
 * jsvarsModuleWith: the module JsVars of t's own bundle from the load run
 * of the same pass (what the client's module cost is taken from).
 */
export async function measureVariants(root, dir, t, interp, withModule) {
  const out = {};
  const KIT = join(root, 'dist', 'espruino', 'testkit.min.js');
  for (const c of t.clients || []) {
    const f = join(root, c.file);
    if (!existsSync(f)) {
      out[c.key] = { bundle: c.file, missing: true };
      continue;
    }
    const v = await runInEspruino(dir, interp, f, KIT, runOpts(t, 'load'), RUN_MS);
    out[c.key] = { bundle: c.file, bundleSha: fileSha(f), jsvarsModule: v.jsvarsModule, jsvarsModuleWith: withModule, ok: v.ok, interpreter: interp, ms: v.ms };
  }
  return out;
}

/** The ScenarioOptions of a run of target t in `role`. */
function runOpts(t, role) {
  return {
    chip: t.chip, board: t.board, boardOver: t.boardOver, peerOver: peerConfig(t.tcp, t.frag), frag: t.frag, tcp: t.tcp,
    tcpBytes: 65536, httpBytes: 16384, stepMs: STEP_MS, spiHz: t.spiHz, role, wireDirs: null,
  };
}

/** r.jsvarsDhcp / r.jsvarsDns (instance) from the load run, r.variants, r.clientErrors */
function clientFigures(r, load, variants) {
  r.variants = variants;
  if (load === null) return;
  if (load.ok && load.jsvarsDhcp !== undefined) r.jsvarsDhcp = load.jsvarsDhcp;
  if (load.ok && load.jsvarsDns !== undefined) r.jsvarsDns = load.jsvarsDns;
  r.clientErrors = load.clientErrors;
}

/**
 * The clients of target t alone (for `npm run budget` when only they are
 * stale): a load run of the board's bundle (instance JsVars, module JsVars
 * with the clients) and of each variant, all in the board's own build.
 * Returns { jsvarsModule, jsvarsDhcp, jsvarsDns, variants, clientErrors, ok }.
 */
export async function measureClients(root, dir, t) {
  const interp = t.jsVars > 0 ? interpreterFor(t.jsVars) : 'espruino';
  const load = await runInEspruino(dir, interp, join(root, t.file), join(root, 'dist', 'espruino', 'testkit.min.js'), runOpts(t, 'load'), RUN_MS);
  const r = { jsvarsModule: load.ok ? load.jsvarsModule : undefined, ok: load.ok };
  clientFigures(r, load, await measureVariants(root, dir, t, interp, r.jsvarsModule));
  return r;
}

/** The measured.json entry of target t from run r (runTarget's). */
export function measuredEntry(root, t, r, ownBuildOom, lines) {
  const e = {
    board: t.id, interpreter: r.interpreter, mode: r.mode, ok: r.ok, ownBuildOom, checks: r.checks, figures: lines,
    jsvarsModule: r.jsvarsModule, jsvarsStack: r.jsvarsStack, jsvarsAfter: r.jsvarsAfter, jsvarsPeak: r.jsvarsPeak,
    bundle: t.file, bundleSha: fileSha(join(root, t.file)), at: new Date().toISOString(),
  };
  if ((t.clients || []).length > 0) {
    e.jsvarsDhcp = r.jsvarsDhcp;
    e.jsvarsDns = r.jsvarsDns;
    e.variants = r.variants;
    e.clientErrors = r.clientErrors;
  }
  return e;
}

/**
 * Whether measured.json's entry m lacks t's client figures or measured
 * variants other than the current files (then `npm run budget` measures
 * the clients again: load runs only).
 */
export function clientsStale(root, t, m) {
  for (const c of t.clients || []) {
    const failed = (m.clientErrors || []).some((e) => e.phase === c.phase);
    if (m[c.measuredField] === undefined && !failed) return true;
    const v = m.variants && m.variants[c.key];
    const f = join(root, c.file);
    if (!v || v.missing || !existsSync(f) || v.bundleSha !== fileSha(f)) return true;
  }
  return false;
}

export function figureLines(t, r) {
  const base = { board: t.id, interpreter: r.interpreter };
  const out = [];
  // speed: the run with the code in RAM (runTarget); the same figures from Storage as *_storage
  const speedBase = r.speedFrom !== undefined ? { board: t.id, interpreter: r.speedFrom } : base;
  for (const f of r.figures) out.push(Object.assign({ name: f.name, value: f.value, unit: f.unit }, speedBase));
  for (const f of r.storageFigures || []) out.push(Object.assign({ name: f.name.replace(/_ms$/, '_storage_ms'), value: f.value, unit: f.unit }, base));
  const j = (name, v) => {
    if (v !== undefined) out.push(Object.assign({ name, value: v, unit: 'jsvars' }, base));
  };
  j('espruino_jsvars_module', r.jsvarsModule);
  j('espruino_jsvars_stack', r.jsvarsStack);
  j('espruino_jsvars_after_traffic', r.jsvarsAfter);
  j('espruino_jsvars_peak', r.jsvarsPeak);
  if (t.jsVars > 0) j('espruino_jsvars_total', t.jsVars);
  // per client: its module JsVars (the bundle's less its variant's) and one instance's
  for (const c of t.clients || []) {
    const v = r.variants && r.variants[c.key];
    if (v && v.ok && v.jsvarsModule !== undefined && v.jsvarsModuleWith !== undefined) j(`espruino_jsvars_${c.key}_module`, v.jsvarsModuleWith - v.jsvarsModule);
    j(`espruino_jsvars_${c.key}_instance`, r[c.measuredField]);
  }
  return out;
}

