#!/usr/bin/env node
/*
 * check-espruino.js — reject JavaScript that Espruino 2v29 cannot run.
 *
 * Parses the (minified) bundle with acorn and walks its AST with
 * acorn-walk. Every construct listed in DESIGN.md / docs/CODING.md as
 * failing on Espruino 2v29 is reported as `file:line:col: <construct>`
 * and makes the check fail. Used by scripts/build-espruino.js on
 * dist/espruino/slabnet.min.js; usable alone:
 *
 *   node scripts/check-espruino.js file.js [more.js ...]     (exit 1 on any finding)
 *
 * Rules (syntax-only, hence sound where noted):
 *   default parameter       any AssignmentPattern (parameters and destructuring defaults)
 *   rest / spread           RestElement, SpreadElement
 *   destructuring           ObjectPattern, ArrayPattern (declarations, parameters, assignments)
 *   labelled statement      any LabeledStatement (so labelled break/continue can never occur)
 *   Map/Set/...             a reference to the global Map, Set, Symbol, WeakMap, WeakSet,
 *                           WeakRef (an identifier in expression position; `x.Map` or
 *                           `{Map: 1}` are property names and are allowed)
 *   async/await, generator  async functions, await, generator functions, yield, for-await
 *   optional chaining       ChainExpression (`a?.b`, `a?.()`)
 *   exponent operator       `**` and `**=`
 *   computed key            computed keys in object literals and classes (`{[k]: v}`)
 *   class field             class property definitions, static blocks, #private names
 *                           (not in the list, but Espruino has no class-field syntax)
 *   BigInt, import()        BigInt literals, dynamic import, new.target / import.meta
 *   Array.from, copyWithin  `Array.from(...)`, `.copyWithin(...)` on anything
 *   Math.imul/clz32/trunc, Number.isInteger/isFinite/isNaN/isSafeInteger
 *                           also matched through computed access `Math["imul"]`
 *   class extends Error     `extends` of Error or any *Error global (TypeError, ...)
 *   .slice()                EVERY `.slice(` call is rejected unless its receiver is
 *                           syntactically a string: a string literal, a template literal,
 *                           `String(x)`, or a `+` expression with a string-literal
 *                           operand. Types are erased in the bundle, so an identifier
 *                           cannot be proven to be a string; a typed-array slice() on
 *                           Espruino returns a plain Array. Use `subarray` (views),
 *                           index loops (typed arrays) or `substring` (strings).
 *   .apply()                EVERY `.apply(` call (Espruino caps the argument count at 256
 *                           and cannot tell at parse time): call functions directly.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

const BANNED_GLOBALS = new Set(['Map', 'Set', 'Symbol', 'WeakMap', 'WeakSet', 'WeakRef']);
const BANNED_MEMBERS = {
  Math: new Set(['imul', 'clz32', 'trunc']),
  Number: new Set(['isInteger', 'isFinite', 'isNaN', 'isSafeInteger']),
  Array: new Set(['from']),
};

function propName(mem) {
  if (!mem.computed && mem.property.type === 'Identifier') return mem.property.name;
  if (mem.computed && mem.property.type === 'Literal' && typeof mem.property.value === 'string') return mem.property.value;
  return null;
}

function isStringExpr(n) {
  if (n.type === 'Literal' && typeof n.value === 'string') return true;
  if (n.type === 'TemplateLiteral') return true;
  if (n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name === 'String') return true;
  if (n.type === 'BinaryExpression' && n.operator === '+') return isStringExpr(n.left) || isStringExpr(n.right);
  return false;
}

/** Is this Identifier node used as a value reference (not a property name / key)? */
function isReference(node, parent) {
  if (parent === undefined) return true;
  switch (parent.type) {
    case 'MemberExpression':
      return parent.object === node || parent.computed;
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      if (parent.key === node && !parent.computed) return parent.shorthand === true && parent.value === node;
      return true;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return false;
    case 'ExportSpecifier':
    case 'ImportSpecifier':
      return false;
    default:
      return true;
  }
}

/**
 * Check JavaScript source text. Returns an array of findings
 * { construct, line, column, pos, text } (empty when clean). A parse
 * error is itself a finding.
 */
export function checkCode(code, sourceType) {
  const findings = [];
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: sourceType || 'script', locations: true, allowHashBang: true, allowReturnOutsideFunction: true });
  } catch (e) {
    const loc = e.loc || { line: 0, column: 0 };
    return [{ construct: 'parse error: ' + e.message, line: loc.line, column: loc.column, pos: e.pos || 0, text: '' }];
  }
  const add = (node, construct) => {
    findings.push({
      construct,
      line: node.loc.start.line,
      column: node.loc.start.column + 1,
      pos: node.start,
      text: code.slice(node.start, Math.min(node.end, node.start + 60)),
    });
  };
  const fnCheck = (node) => {
    if (node.async) add(node, 'async function');
    if (node.generator) add(node, 'generator function');
  };

  walk.fullAncestor(ast, (node, _state, ancestors) => {
    const parent = ancestors.length >= 2 ? ancestors[ancestors.length - 2] : undefined;
    switch (node.type) {
      case 'AssignmentPattern': {
        const isParam = parent !== undefined && /Function/.test(parent.type) && parent.params.includes(node);
        add(node, isParam ? 'default parameter' : 'default value in destructuring');
        break;
      }
      case 'RestElement':
        add(node, 'rest element (...)');
        break;
      case 'SpreadElement':
        add(node, 'spread (...)');
        break;
      case 'ObjectPattern':
      case 'ArrayPattern':
        add(node, 'destructuring');
        break;
      case 'LabeledStatement':
        add(node, 'labelled statement (labelled break/continue)');
        break;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        fnCheck(node);
        break;
      case 'AwaitExpression':
        add(node, 'await');
        break;
      case 'YieldExpression':
        add(node, 'yield (generator)');
        break;
      case 'ForOfStatement':
        if (node.await) add(node, 'for await');
        break;
      case 'ChainExpression':
        add(node, 'optional chaining (?.)');
        break;
      case 'BinaryExpression':
        if (node.operator === '**') add(node, 'exponent operator (**)');
        break;
      case 'AssignmentExpression':
        if (node.operator === '**=') add(node, 'exponent operator (**=)');
        break;
      case 'Property':
        if (node.computed) add(node, 'computed key');
        break;
      case 'MethodDefinition':
        if (node.computed) add(node, 'computed key');
        break;
      case 'PropertyDefinition':
        add(node, node.computed ? 'computed key' : 'class field');
        break;
      case 'StaticBlock':
        add(node, 'class static block');
        break;
      case 'PrivateIdentifier':
        add(node, 'private name (#x)');
        break;
      case 'ImportExpression':
        add(node, 'dynamic import()');
        break;
      case 'MetaProperty':
        add(node, node.meta.name + '.' + node.property.name);
        break;
      case 'Literal':
        if (node.bigint !== undefined) add(node, 'BigInt literal');
        break;
      case 'ClassDeclaration':
      case 'ClassExpression': {
        const sc = node.superClass;
        if (sc && sc.type === 'Identifier' && /^(\w*Error)$/.test(sc.name)) add(node, 'class extends ' + sc.name);
        break;
      }
      case 'Identifier':
        if (BANNED_GLOBALS.has(node.name) && isReference(node, parent)) add(node, node.name);
        break;
      case 'MemberExpression': {
        const name = propName(node);
        if (name === null) break;
        if (node.object.type === 'Identifier' && Object.prototype.hasOwnProperty.call(BANNED_MEMBERS, node.object.name)) {
          if (BANNED_MEMBERS[node.object.name].has(name)) add(node, node.object.name + '.' + name);
        }
        if (name === 'copyWithin') add(node, 'copyWithin');
        if (parent !== undefined && parent.type === 'CallExpression' && parent.callee === node) {
          if (name === 'slice' && !isStringExpr(node.object)) add(node, '.slice() on a value not provably a string (typed-array slice returns an Array on Espruino)');
          if (name === 'apply') add(node, '.apply() (argument count limited on Espruino)');
        }
        break;
      }
      default:
        break;
    }
  });
  findings.sort((a, b) => a.pos - b.pos);
  return findings;
}

/** Format findings as `file:line:col: construct  | text`. */
export function formatFindings(file, findings) {
  return findings.map((f) => `${file}:${f.line}:${f.column}: Espruino 2v29 lacks: ${f.construct}   near: ${f.text.replace(/\s+/g, ' ')}`);
}

/** Check a file; prints findings to stderr; returns the number of findings. */
export function checkFile(file) {
  const code = readFileSync(file, 'utf8');
  const f = checkCode(code, 'script');
  for (const l of formatFindings(file, f)) process.stderr.write(l + '\n');
  return f.length;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: node scripts/check-espruino.js file.js [...]\n');
    process.exit(2);
  }
  let n = 0;
  for (const f of files) n += checkFile(f);
  if (n > 0) {
    process.stderr.write(`check-espruino: FAILED: ${n} unsupported construct(s)\n`);
    process.exit(1);
  }
  process.stdout.write(`check-espruino: ${files.join(', ')}: clean\n`);
}
