/*
 * rollup.config.js — the Espruino bundles (DESIGN.md "Runtimes": Espruino).
 * Used by scripts/build-espruino.js (`npm run build`), which builds the
 * generic bundle and one per board, runs the Espruino construct checker
 * and enforces the flash budgets; `npx rollup -c` alone only bundles the
 * generic one.
 *
 * Per board: a generated entry (boardEntrySource) over src/espruino_board.ts
 * with the board's chip driver, and src/features.ts replaced by the board's
 * `features` (featuresPlugin), so `if (FEATURE_X)` folds and the dead code
 * goes. Every Espruino bundle (generic, per board, test kit, selftest) also
 * gets src/features.ts's RUNTIME_ESPRUINO = true (runtimeValues): the
 * native copy and checksum paths. Terser renames properties except the public names that
 * scripts/mangle-reserved.js lists (terserOptions).
 *
 * TypeScript target ES2019: keeps classes, arrow functions, let/const and
 * template literals (all fine on Espruino 2v29) but downlevels `?.` and
 * `??` and class fields to plain code. Terser (ecma 2015 output) mangles
 * and compresses without introducing newer syntax. Whatever the source
 * says, scripts/check-espruino.js has the last word on the output.
 */
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { sourceReservedNames, stringLiteralNames } from './scripts/mangle-reserved.js';
import { ESPRUINO_KEYWORDS, KEYWORD_IDENTIFIERS } from './scripts/check-espruino.js';

export const ESPRUINO_ENTRY = 'src/espruino.ts';
export const ESPRUINO_OUT = 'dist/espruino/slabnet.min.js';
const ROOT = dirname(fileURLToPath(import.meta.url));
const FEATURES_FILE = join(ROOT, 'src', 'features.ts');
const BOARD_ENTRY_ID = '\0slabnet-board-entry';

/** The FEATURE_ names declared in src/features.ts (one `export const FEATURE_X: boolean = true;` per line). */
export function featureNames() {
  const names = [];
  const re = /^export const (FEATURE_[A-Z0-9_]+): boolean = true;$/gm;
  const src = readFileSync(FEATURES_FILE, 'utf8');
  let m;
  while ((m = re.exec(src)) !== null) names.push(m[1]);
  return names;
}

/** A board's `features` key (camelCase) to its constant: fragmentOut → FEATURE_FRAGMENT_OUT. */
export function featureConst(key) {
  return 'FEATURE_' + key.replace(/([A-Z])/g, '_$1').toUpperCase();
}

/**
 * The FEATURE_ constants for a board's `features` object (absent keys on).
 * Throws on a key that names no constant in src/features.ts.
 */
export function resolveFeatures(features) {
  const names = featureNames();
  const out = {};
  for (const n of names) out[n] = true;
  if (features) {
    for (const k of Object.keys(features)) {
      const c = featureConst(k);
      if (!(c in out)) throw new Error(`unknown feature '${k}' (no ${c} in src/features.ts)`);
      out[c] = features[k] !== false;
    }
  }
  return out;
}

/** What every Espruino bundle sets the RUNTIME_ switches of src/features.ts to. */
const ESPRUINO_RUNTIME = { RUNTIME_ESPRUINO: true };

/**
 * The RUNTIME_ constants for an Espruino bundle: each one src/features.ts
 * declares (one `export const RUNTIME_X: boolean = false;` per line), with
 * its value from ESPRUINO_RUNTIME. Throws on a declared switch this build
 * does not know, so a new runtime switch cannot silently stay false here.
 */
export function runtimeValues() {
  const out = {};
  const re = /^export const (RUNTIME_[A-Z0-9_]+): boolean = false;$/gm;
  const src = readFileSync(FEATURES_FILE, 'utf8');
  let m;
  while ((m = re.exec(src)) !== null) {
    if (!(m[1] in ESPRUINO_RUNTIME)) throw new Error(`src/features.ts declares ${m[1]}: give its Espruino value in rollup.config.js ESPRUINO_RUNTIME`);
    out[m[1]] = ESPRUINO_RUNTIME[m[1]];
  }
  for (const k of Object.keys(ESPRUINO_RUNTIME)) if (!(k in out)) throw new Error(`rollup.config.js ESPRUINO_RUNTIME names ${k}, which src/features.ts does not declare`);
  return out;
}

/**
 * Rollup plugin (after typescript): replaces the compiled src/features.ts by
 * the board's constants and the Espruino runtime switches (runtimeValues), so
 * `if (FEATURE_X)` and `if (RUNTIME_ESPRUINO)` fold and the dead code goes.
 */
function featuresPlugin(values) {
  const all = Object.assign({}, values, runtimeValues());
  return {
    name: 'slabnet-features',
    transform(code, id) {
      if (id !== FEATURES_FILE) return null;
      let out = '';
      for (const n of Object.keys(all)) out += `export const ${n} = ${all[n] ? 'true' : 'false'};\n`;
      return { code: out, map: null };
    },
  };
}

/**
 * The generated entry of a per-board bundle: src/espruino_board.ts plus the
 * board, its chip driver when drivers/<chip>/driver.ts exists, a
 * createBoardStack bound to the board, and the optional exports its
 * features enable. exportName: the board's export in boards/<id>.ts.
 */
export function boardEntrySource(board, exportName, values) {
  const f = (p) => JSON.stringify(join(ROOT, p));
  const lines = [
    `import { createStackFor } from ${f('src/espruino_board.ts')};`,
    `import { ${exportName} as B } from ${f('boards/' + board.id + '.ts')};`,
    `export * from ${f('src/espruino_board.ts')};`,
    'export const BOARD = B;',
    '/** createBoardStack(null | this board id, overrides | null, clock?) */',
    'export function createBoardStack(id, over, clock) { return createStackFor(B, id, over, clock); }',
  ];
  const driver = join('drivers', board.chip, 'driver.ts');
  if (board.chip !== 'host' && existsSync(join(ROOT, driver))) lines.push(`export * from ${f(driver)};`);
  // errno constants always; errnoName (a string per code) only with FEATURE_ERRNO_NAMES
  if (values.FEATURE_ERRNO_NAMES) lines.push(`export * from ${f('src/core/errno.ts')};`);
  else lines.push(`export { ${errnoConsts().join(', ')} } from ${f('src/core/errno.ts')};`);
  if (values.FEATURE_ARP_DUMP) lines.push(`export { arpDump } from ${f('src/link/arp.ts')};`);
  if (values.FEATURE_DGRAM_FACADE) lines.push(`export { createSocket as dgramCreateSocket } from ${f('src/socket/dgram.ts')};`);
  if (values.FEATURE_TCP) {
    // SOCK_STREAM calls, the node-style net facade, the Espruino NetworkJS adapter
    lines.push(`export { listen, accept, shutdown } from ${f('src/socket/socket.ts')};`);
    lines.push(`export { SO_KEEPALIVE, SO_LINGER, SOL_TCP, TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, SHUT_RD, SHUT_WR, SHUT_RDWR } from ${f('src/socket/sock.ts')};`);
    lines.push(`export { createServer as netCreateServer, connect as netConnect, createConnection as netCreateConnection } from ${f('src/socket/net.ts')};`);
    lines.push(`export { networkJs, NetworkJs } from ${f('src/socket/networkjs.ts')};`);
  }
  if (values.FEATURE_DHCP) {
    lines.push(`export { DhcpClient, DHCP_EV_BOUND, DHCP_EV_RENEWED, DHCP_EV_LOST, DHCP_EV_CONFLICT, DHCP_EV_NAK, DHCP_EV_RELEASED } from ${f('src/apps/dhcp_client.ts')};`);
  }
  if (values.FEATURE_DNS) lines.push(`export { DnsResolver } from ${f('src/apps/dns_resolver.ts')};`);
  if (values.FEATURE_UDP_SERVICES) {
    lines.push(`export { ServiceMux } from ${f('src/apps/service.ts')};`);
    lines.push(`export { UdpEchoService, ECHO_PORT } from ${f('src/apps/echo.ts')};`);
    lines.push(`export { UdpDiscardService, DISCARD_PORT } from ${f('src/apps/discard.ts')};`);
  }
  // setup(opts, cb) (src/setup_general.ts, the contract of src/compact/setup.ts) with this board and its chip's driver
  const sd = { w5500: ['attachW5500', 'W5500_STAT_NAMES'], enc28j60: ['attachEnc28j60', 'ENC28J60_STAT_NAMES'] }[board.chip];
  if (values.FEATURE_DHCP && values.FEATURE_TCP && sd !== undefined && existsSync(join(ROOT, driver))) {
    lines.push(
      `import { setupGeneralFor, ${sd[1]} as sN } from ${f('src/setup_general.ts')};`,
      `import { ${sd[0]} as sA } from ${f(driver)};`,
      `const SETUP_CHIP = { chip: ${JSON.stringify(board.chip)}, attach: sA, statNames: sN };`,
      '/** setup(opts, callback): the one-call start (docs/API.md) */',
      'export function setup(o, cb) { return setupGeneralFor(B, SETUP_CHIP, o, cb); }',
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * The generated entry of a compact board bundle (src/compact/, the small
 * boards' `full` and `tiny` profiles): the board, compactStack bound to it,
 * the compact stack's API, its chip driver and the Espruino SPI/IRQ
 * adapters; TCP, DHCP and DNS as the profile's features say.
 */
export function compactEntrySource(board, exportName, values) {
  const f = (p) => JSON.stringify(join(ROOT, p));
  const lines = [
    `import { compactStackFor } from ${f('src/compact/board.ts')};`,
    `import { ${exportName} as B } from ${f('boards/' + board.id + '.ts')};`,
    'export const BOARD = B;',
    '/** compactStack(overrides | null, mac, clock?) */',
    'export function compactStack(over, mac, clock) { return compactStackFor(B, over, mac, clock); }',
    `export { EspruinoMsClock } from ${f('src/compact/board.ts')};`,
    `export { netCreate, netInput, netRxFrame, netAttach, netTick, netSetIp, netStats, udpOpen, udpClose, udpSendTo, CNT_NAMES } from ${f('src/compact/net.ts')};`,
    `export { networkJsCompact } from ${f('src/compact/networkjs.ts')};`,
    `export { espruinoSpiBus, espruinoIrqLine } from ${f('drivers/espruino/spi.ts')};`,
  ];
  if (board.chip === 'enc28j60') lines.push(`export { encAttach, encPoll, encLinkUp } from ${f('src/compact/enc28j60.ts')};`);
  if (board.chip === 'w5500') lines.push(`export { w5500Attach, w5500Poll, w5500LinkUp } from ${f('src/compact/w5500.ts')};`);
  if (values.FEATURE_TCP) lines.push(`export { tcpListen, tcpConnect, tcpAccept, tcpRecv, tcpSend, tcpClose, tcpState } from ${f('src/compact/tcp.ts')};`);
  if (values.FEATURE_DHCP) lines.push(`export { dhcpStart, dhcpRelease } from ${f('src/compact/dhcp.ts')};`);
  if (values.FEATURE_DNS) lines.push(`export { dnsLookup } from ${f('src/compact/dns.ts')};`);
  // setup(opts, cb) (src/compact/setup.ts) with this board and its chip's driver
  if (board.compact.noSetup !== undefined) return lines.join('\n') + '\n';
  const drv = board.chip === 'enc28j60' ? ['enc', 'src/compact/enc28j60.ts', 'ENC_CNT_NAMES'] : ['w5500', 'src/compact/w5500.ts', 'W5500_CNT_NAMES'];
  lines.push(
    `import { setupFor } from ${f('src/compact/setup.ts')};`,
    `import { ${drv[0]}Attach as cA, ${drv[0]}Poll as cP, ${drv[0]}LinkUp as cL, ${drv[2]} as cN } from ${f(drv[1])};`,
    `const CHIP = { chip: ${JSON.stringify(board.chip)}, attach: cA, poll: cP, linkUp: cL, cntNames: cN };`,
    '/** setup(opts, callback): the one-call start (docs/API.md) */',
    'export function setup(o, cb) { return setupFor(B, CHIP, o, cb); }',
  );
  return lines.join('\n') + '\n';
}

/** The features of a compact profile: 'full' = TCP, DHCP and DNS; 'tiny' = DHCP and DNS without TCP. */
export function compactFeatures(profile) {
  return { tcp: profile === 'full', dhcp: true, dns: true };
}

/** The E* constants of src/core/errno.ts. */
function errnoConsts() {
  const names = [];
  const re = /^export const (E[A-Z0-9]+) = /gm;
  const src = readFileSync(join(ROOT, 'src', 'core', 'errno.ts'), 'utf8');
  let m;
  while ((m = re.exec(src)) !== null) names.push(m[1]);
  return names;
}

/**
 * One-line integer helpers inlined at their call sites in the Espruino
 * bundles: in Espruino's interpreter every call costs a scope and its
 * argument JsVars (a TCP segment makes ~90 s32 and ~25 seqDiff calls),
 * while terser's own inlining above level 1 produces code Espruino cannot
 * run (issue 6). Each is the JavaScript meaning of its source in
 * src/core/bits.ts / src/transport/tcp/tcp.ts (bits.ts explains the forms
 * Lua needs; Lua is built from the source, not from these bundles):
 *   s32(x) = x | 0      u32(x) = x >>> 0      seqDiff(b, a) = (b - a) | 0
 *   before(a, b) = ((a - b) | 0) < 0          after(a, b) = (-(a - b) | 0) < 0
 * Each argument appears once, in its own parentheses, in its order.
 * The forms: [text for the callee, text between the arguments, text for the closing parenthesis].
 */
const INLINE_HELPERS = {
  'core/bits': {
    s32: [1, '(0|', null, '))'],
    u32: [1, '(', null, ')>>>0)'],
    before: [2, '((', ')-(', ')|0)<0)'],
    after: [2, '((-(', ')-(', '))|0)<0)'],
  },
  'tcp/tcp': {
    seqDiff: [2, '(0|(', ')-(', ')))'],
  },
};

/**
 * Rollup plugin (after typescript): rewrites the calls of INLINE_HELPERS in
 * every module that imports them (by their local names), by text edits at
 * the callee, between the arguments and at the closing parenthesis, so
 * nested calls compose. A call with the wrong argument count or a spread
 * stays a call.
 */
export function inlineHelpersPlugin() {
  const homes = Object.keys(INLINE_HELPERS);
  return {
    name: 'slabnet-inline-helpers',
    transform(code, id) {
      if (!id.startsWith(ROOT) || id.endsWith('/core/bits.ts')) return null;
      let ast;
      try {
        ast = acorn.parse(code, { ecmaVersion: 2020, sourceType: 'module' });
      } catch (e) {
        return null;
      }
      // local name -> form, from this module's imports of the helpers' homes
      const local = {};
      let any = false;
      for (const n of ast.body) {
        if (n.type !== 'ImportDeclaration') continue;
        const src = String(n.source.value).replace(/\.(ts|js)$/, '');
        const home = homes.find((h) => src.endsWith('/' + h) || (h === 'tcp/tcp' && src === './tcp' && id.includes('/tcp/')));
        if (home === undefined) continue;
        for (const s of n.specifiers) {
          if (s.type !== 'ImportSpecifier') continue;
          const f = INLINE_HELPERS[home][s.imported.name];
          if (f !== undefined) {
            local[s.local.name] = f;
            any = true;
          }
        }
      }
      // tcp.ts calls its own seqDiff too
      if (id.endsWith('/transport/tcp/tcp.ts')) {
        for (const k of Object.keys(INLINE_HELPERS['tcp/tcp'])) local[k] = INLINE_HELPERS['tcp/tcp'][k];
        any = true;
      }
      if (!any) return null;
      const edits = [];
      walk.simple(ast, {
        CallExpression(c) {
          if (c.callee.type !== 'Identifier' || !Object.prototype.hasOwnProperty.call(local, c.callee.name)) return;
          const [argc, head, sep, tail] = local[c.callee.name];
          if (c.arguments.length !== argc || c.arguments.some((a) => a.type === 'SpreadElement')) return;
          if (code[c.end - 1] !== ')') return;
          edits.push([c.callee.start, c.callee.end, head]);
          if (argc === 2) edits.push([c.arguments[0].end, c.arguments[1].start, sep]);
          edits.push([c.end - 1, c.end, tail]);
        },
      });
      if (edits.length === 0) return null;
      edits.sort((a, b) => b[0] - a[0]);
      let out = code;
      for (const [a, b, t] of edits) out = out.slice(0, a) + t + out.slice(b);
      return { code: out, map: null };
    },
  };
}

/** Board fields only the build, the budget and the docs read: not shipped in a bundle. */
const BUILD_ONLY_BOARD_FIELDS = ['cannotFitYet', 'budgetNote', 'enforceBudget'];

/**
 * Rollup plugin (after typescript): drops the build-only fields from the
 * board object literals of boards/<id>.ts (their notes are a few hundred
 * bytes of strings a board program never reads). A per-board bundle also
 * drops `features`: its features are compiled in (the generic bundle's
 * boardConfig still reads them).
 */
function boardDataPlugin(perBoard, compact) {
  // a compact bundle reads only the board's `compact` part: the general stack's config goes too
  const drop = perBoard ? BUILD_ONLY_BOARD_FIELDS.concat(compact ? ['features', 'config'] : ['features']) : BUILD_ONLY_BOARD_FIELDS;
  const boardsDir = join(ROOT, 'boards') + '/';
  return {
    name: 'slabnet-board-data',
    transform(code, id) {
      if (!id.startsWith(boardsDir) || id.endsWith('/index.ts') || id.endsWith('/board.ts')) return null;
      const cuts = [];
      walk.simple(acorn.parse(code, { ecmaVersion: 2020, sourceType: 'module' }), {
        ObjectExpression(o) {
          const ps = o.properties;
          const keyOf = (p) => p.type === 'Property' && p.key && (p.key.type === 'Identifier' ? p.key.name : p.key.value);
          // compact.noSetup is a note for the build and the docs, not for the board
          for (let i = 0; i < ps.length; i++) if (keyOf(ps[i]) === 'noSetup') cuts.push([ps[i].start, i + 1 < ps.length ? ps[i + 1].start : o.end - 1]);
          // only the board object's own fields (the one with an `id`): `compact.config` stays
          if (!ps.some((p) => keyOf(p) === 'id')) return;
          for (let i = 0; i < ps.length; i++) {
            if (drop.indexOf(keyOf(ps[i])) >= 0) cuts.push([ps[i].start, i + 1 < ps.length ? ps[i + 1].start : o.end - 1]);
          }
        },
      });
      if (cuts.length === 0) return null;
      cuts.sort((a, b) => b[0] - a[0]);
      let out = code;
      for (const [a, b] of cuts) out = out.slice(0, a) + out.slice(b);
      return { code: out, map: null };
    },
  };
}

function boardEntryPlugin(source) {
  return {
    name: 'slabnet-board-entry',
    resolveId(id) {
      return id === BOARD_ENTRY_ID ? id : null;
    },
    load(id) {
      return id === BOARD_ENTRY_ID ? source : null;
    },
  };
}

/**
 * laxTypes: type errors become warnings (for building while other layers are mid-edit).
 * target: undefined = the generic bundle (src/espruino.ts, every feature on);
 * or { board, exportName } = that board's bundle with its features;
 * or { board, exportName, compact: 'full' | 'tiny' } = its compact bundle.
 */
export function espruinoInputOptions(laxTypes, target) {
  const compact = target ? target.compact : undefined;
  const values = resolveFeatures(target ? (compact ? compactFeatures(compact) : target.board.features) : undefined);
  const extra = [featuresPlugin(values), boardDataPlugin(target !== undefined && target !== null, compact !== undefined), inlineHelpersPlugin()];
  if (target) extra.unshift(boardEntryPlugin(compact ? compactEntrySource(target.board, target.exportName, values) : boardEntrySource(target.board, target.exportName, values)));
  return {
    input: target ? BOARD_ENTRY_ID : ESPRUINO_ENTRY,
    treeshake: { moduleSideEffects: false },
    plugins: [
      typescript({
        tsconfig: false,
        include: ['src/**/*.ts', 'drivers/**/*.ts', 'boards/**/*.ts'],
        exclude: ['src/cli/**', 'src/host/**', 'drivers/host/**', 'test/**', 'bench/**', 'src/testkit/lan_peer.ts'],
        compilerOptions: {
          target: 'ES2019',
          module: 'ESNext',
          moduleResolution: 'bundler',
          lib: ['ES2020'],
          types: [],
          strict: true,
          skipLibCheck: true,
          isolatedModules: true,
          useDefineForClassFields: false,
          importHelpers: false,
          noEmitOnError: laxTypes !== true,
          sourceMap: false,
          declaration: false,
        },
      }),
      ...extra,
    ],
    onwarn(w, warn) {
      // a circular import between layers is fine (type-only cycles through Stack)
      if (w.code === 'CIRCULAR_DEPENDENCY') return;
      warn(w);
    },
  };
}

/**
 * Rollup output plugin (before terser): adds the chunk's export names and
 * its identifier-like string literals to `reserved` (scripts/mangle-reserved.js
 * rules 3 and 4), which terser reads when it runs next.
 */
function reserveChunkNames(reserved) {
  return {
    name: 'slabnet-reserve-names',
    renderChunk(code, chunk) {
      for (const n of chunk.exports) reserved.push(n);
      for (const n of stringLiteralNames(code, acorn, walk)) reserved.push(n);
      return null;
    },
  };
}

/**
 * Terser options for the Espruino bundles. mangleProps: rename the
 * properties not in scripts/mangle-reserved.js's list (their names are
 * internal to the bundle); `reserved` is filled by reserveChunkNames.
 * Compress: 3 passes; `unsafe_arrows` (function expressions that use no
 * `this`/`arguments` become arrows: the bundle never `new`s a function
 * expression, classes are classes); keep_fargs false (unused trailing
 * parameters go; nothing reads Function.length). Measured on the Pico
 * bundle: passes 3 -16 bytes, unsafe_arrows -490, property renaming ~ -11%.
 *
 * `inline: 1` (default 3), because Espruino 2v29 does not hoist `var`
 * (../shared/espruino/README.md): a binding exists only once its `var`
 * statement has run. Inlining a function that has parameters (level 2) or
 * vars (level 3) turns them into `var` declarations that terser 5
 * (inline.js flatten_fn) inserts AFTER the statement holding the inlined
 * call: `c=Xs(n(p=o,d=e.tr[s])?p:d, ...);var p,d;` (seqMin in tcpAck,
 * mssIndex in tcpSendCookieSynAck). There `p=o` assigned the bundle's
 * top-level `const p`: TypeError "Assignment to a constant" at the first
 * TCP handshake. Level 1 inlines only functions whose parameters are unused
 * and that declare no vars, so it never adds a `var`. scripts/check-espruino.js
 * ("use before declaration") rejects any such bundle. Tried, measured with
 * `npm run build` (bytes: generic / Pico / WiFi / Original / ESP32):
 *   inline 3 (default)     134126 / 47816 / 59203 / 48056 / 117266: 14 findings
 *                          (p, d, f; generic and ESP32 bundles, the TCP ones)
 *   inline 2               identical to 3, the same 14 findings
 *   hoist_vars: true       byte-identical, 14 findings (terser hoists a scope's
 *                          vars before it optimizes the body, where inlining adds
 *                          them; and only with 2+ var statements)
 *   collapse_vars: false   +334 / +142 / +129 / +142 / +327, 20 findings
 *   join_vars: false       +2764 / +916 / +1210 / +916 / +2460, 14 findings
 *   inline 1 (chosen)      +10 / +36 / +36 / +36 / +30: clean
 */
/** reserved plus Espruino's keywords, in place (reserveChunkNames fills the same array later). */
function withKeywords(reserved) {
  for (const k of ESPRUINO_KEYWORDS) reserved.push(k);
  return reserved;
}

export function terserOptions(mangleProps, reserved) {
  return {
    ecma: 2015,
    module: false,
    toplevel: true,
    compress: {
      passes: 3, ecma: 2015, unsafe_math: false, unsafe_arrows: true, pure_getters: false, keep_fargs: false, inline: 1,
    },
    // never produce a name Espruino's lexer reads as a keyword (scripts/check-espruino.js
    // would reject it): `x.of`/`{of(){}}` as a property, `of`/`let`/`static` as a variable
    mangle: mangleProps
      ? { toplevel: true, reserved: Array.from(KEYWORD_IDENTIFIERS), properties: { builtins: false, keep_quoted: 'strict', reserved: withKeywords(reserved) } }
      : { toplevel: true, reserved: Array.from(KEYWORD_IDENTIFIERS) },
    format: { comments: false, ecma: 2015 },
  };
}

/**
 * file: output path (default: the generic bundle). mangleProps: rename
 * internal properties (default true; `--no-mangle-props` in the build).
 */
export function espruinoOutputOptions(file, mangleProps) {
  const props = mangleProps !== false;
  const reserved = props ? Array.from(sourceReservedNames(ROOT)) : [];
  return {
    file: file || ESPRUINO_OUT,
    format: 'cjs',
    exports: 'named',
    esModule: false,
    strict: false,
    // a namespace import (selftest's `import * as`) would be Object.freeze({...}): Espruino has no Object.freeze
    freeze: false,
    generatedCode: { preset: 'es5', symbols: false },
    plugins: props ? [reserveChunkNames(reserved), terser(terserOptions(true, reserved))] : [terser(terserOptions(false, reserved))],
  };
}

export default Object.assign(espruinoInputOptions(false), { output: espruinoOutputOptions() });
