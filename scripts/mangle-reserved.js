/*
 * mangle-reserved.js — the property names the Espruino bundles must NOT
 * rename (terser `mangle.properties.reserved`), for rollup.config.js.
 *
 * Renaming properties is safe only where both the writer and the reader of
 * a property are inside the bundle. Everything that meets code outside the
 * bundle keeps its name:
 *   1. every member of every `interface` and object type literal in the
 *      bundled sources (src/, drivers/, boards/ minus Node-only dirs): the
 *      contracts user objects implement or read — StackConfig keys, Board,
 *      NetDriver, Clock, handlers (onSocketEvent, onEchoReply, hook, ...),
 *      SpiBus, RemoteInfo, ...
 *   2. every non-private member (methods, fields, constructor parameter
 *      properties) of every class in the API modules (API_FILES below; only
 *      the methods for API_METHOD_FILES, plus API_FIELDS): the
 *      objects a board program or a user-written driver touches — Stack,
 *      SkbPool / SkbQueue (a driver reads st.pool.buf/data/tail), NetDevice,
 *      Mib / MibBlock, the socket event helpers, dgram, apps, drivers/.
 *   3. the bundle's export names (exports.socket, ...), added by the build;
 *   4. every identifier-like string literal in the bundle (a name used as
 *      o['x'] or built at run time), added by the build;
 *   5. JavaScript built-ins (terser's own list, `builtins: false`) and the
 *      Espruino API (ESPRUINO_NAMES).
 * Everything else (layer state such as ArpTable, Ipv4State, ReasmTable,
 * UdpTable fields) is renamed. test/build/espruino-check.test.ts runs each
 * bundle in Node (ARP, ping, UDP) to prove the renaming kept it working.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const SCAN = ['src', 'drivers', 'boards'];
const SKIP = /^(src\/(cli|host|sim)|drivers\/host|test|bench)(\/|$)/;
/** modules whose classes are public API (path prefixes, relative to the root) */
const API_FILES = [
  'src/stack.ts', 'src/config.ts', 'src/espruino.ts', 'src/espruino_board.ts',
  'src/core/skb.ts', 'src/core/mib.ts', 'src/core/clock.ts', 'src/core/rng.ts',
  'src/link/netdev.ts', 'src/socket/events.ts', 'src/socket/dgram.ts', 'src/socket/net.ts', 'src/socket/networkjs.ts', 'src/apps/', 'drivers/', 'boards/',
];
/** modules whose classes' METHODS are public (docs/CODING.md: the IfAddrTable,
 *  RouteTable and ARP table methods are entry points); their fields are internal */
const API_METHOD_FILES = ['src/link/ifaddr.ts', 'src/ipv4/route.ts', 'src/link/arp.ts', 'src/core/timer.ts'];
/** documented fields of otherwise internal state: st.icmp.echoHandler (the ping hook) */
const API_FIELDS = ['echoHandler'];
/** Espruino built-in methods and properties the bundle may call (SPI, Pin, E, NetworkJS). */
const ESPRUINO_NAMES = [
  'send', 'write', 'setup', 'read', 'set', 'reset', 'mode', 'getInfo', 'getTime', 'create', 'close', 'accept',
  'recv', 'on', 'emit', 'removeAllListeners', 'baud', 'sck', 'miso', 'mosi', 'order', 'bits', 'nss_pin',
  'data', 'count', 'edge', 'repeat', 'debounce', 'irq', 'state', 'time', 'lastTime', 'pin',
];

function files(dir, root, out) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    const rel = relative(root, p).split('\\').join('/');
    if (SKIP.test(rel)) continue;
    if (statSync(p).isDirectory()) files(p, root, out);
    else if (n.endsWith('.ts') && !n.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

function memberName(m) {
  const n = m.name;
  if (n === undefined) return null;
  if (ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isNumericLiteral(n)) return n.text;
  return null;
}

function isPrivate(m) {
  const mods = ts.canHaveModifiers(m) ? ts.getModifiers(m) || [] : [];
  return mods.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword);
}

/** The reserved property names from the sources (rules 1, 2, 5). */
export function sourceReservedNames(root) {
  const names = new Set(ESPRUINO_NAMES.concat(API_FIELDS));
  const list = [];
  for (const d of SCAN) files(join(root, d), root, list);
  for (const rel of list) {
    const api = API_FILES.some((p) => rel === p || (p.endsWith('/') && rel.startsWith(p)));
    const methodsOnly = !api && API_METHOD_FILES.includes(rel);
    const sf = ts.createSourceFile(rel, readFileSync(join(root, rel), 'utf8'), ts.ScriptTarget.ES2020, false, ts.ScriptKind.TS);
    const visit = (node) => {
      if (ts.isInterfaceDeclaration(node) || ts.isTypeLiteralNode(node)) {
        for (const m of node.members) {
          const n = memberName(m);
          if (n !== null) names.add(n);
        }
      } else if ((api || methodsOnly) && (ts.isClassDeclaration(node) || ts.isClassExpression(node))) {
        for (const m of node.members) {
          if (methodsOnly && !ts.isMethodDeclaration(m)) continue;
          if (ts.isConstructorDeclaration(m)) {
            for (const p of m.parameters) {
              if (ts.isParameterPropertyDeclaration(p, m) && !isPrivate(p) && ts.isIdentifier(p.name)) names.add(p.name.text);
            }
            continue;
          }
          if (isPrivate(m)) continue;
          const n = memberName(m);
          if (n !== null) names.add(n);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return names;
}

/** Identifier-like string literals in JavaScript code (rule 4). */
export function stringLiteralNames(code, acorn, walk) {
  const out = new Set();
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true });
  walk.full(ast, (n) => {
    if (n.type === 'Literal' && typeof n.value === 'string' && /^[A-Za-z_$][\w$]*$/.test(n.value)) out.add(n.value);
    if (n.type === 'TemplateElement' && /^[A-Za-z_$][\w$]*$/.test(n.value.cooked || '')) out.add(n.value.cooked);
  });
  return out;
}
