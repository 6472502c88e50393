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
 *   Math.imul/clz32/trunc, Number.isInteger/isFinite/isNaN/isSafeInteger,
 *   Object.freeze/seal/isFrozen/preventExtensions/is
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
 *   use before declaration  Espruino does not hoist `var` nor function declarations: a
 *                           binding exists only once its declaring statement has run, so
 *                           `p=o;...var p` assigns an OUTER `p` (a top-level const: TypeError)
 *                           and `f();function f(){}` is a ReferenceError. Rejected: a read,
 *                           assignment (`x=`, `x++`, `x+=`, for-in/of target), typeof or call
 *                           of a name at a source position before the `var` declarator or
 *                           function declaration that declares it in the SAME function scope
 *                           (or at the script's top level). A `var`/function declaration in a
 *                           block or loop belongs to the enclosing function. Per declarator,
 *                           as in Espruino: in `var a = q, q = 1` the `q` in a's initializer
 *                           is a finding; `var q = q` is not (the binding exists before its
 *                           initializer runs). Not findings: parameters (bound at entry),
 *                           names a let/const/class/catch parameter of an enclosing block
 *                           shadows (their TDZ is JavaScript's own rule), and uses inside a
 *                           nested function, arrow or method (they run later; each nested
 *                           function body is checked as its own scope). Only source order
 *                           is checked: a `var` in a branch that did not run is not caught.
 *   keyword-spelled names   Espruino's lexer turns 36 words into keyword tokens (LEX_R_*:
 *                           if else do while for break continue function return var let
 *                           const this throw try catch finally true false null undefined
 *                           new in instanceof switch case default delete typeof void
 *                           debugger class extends super static of), even where JavaScript
 *                           takes any name. Checked one case per file on the real 2v29
 *                           interpreter (test/build/espruino-check.test.ts lists the table):
 *                           rejected only where that fails:
 *                           - a class method, static method, getter or setter named by one
 *                             of the 36 (`class X{of(t){}}`: "Got of expected '}'"); a class
 *                             member with a string or number key (`class X{"a"(){}}`, any
 *                             name); a static method named `constructor` (Espruino makes it
 *                             the constructor);
 *                           - an object-literal getter/setter named by one of the 36
 *                             (`{get of(){}}`) or with a string/number key (`{get "a"(){}}`);
 *                             a shorthand property of one of them (`{of}`, `{undefined}`);
 *                           - `.name` followed by `/` or `/=` for the 36 except true, false,
 *                             null, undefined (`a.of/2`, `a.in/b/2`): the lexer reads a regex
 *                             after a keyword, so it is a SyntaxError or silently another value
 *                             (`a.of/b/2` gives a.of); likewise `this/2`;
 *                           - `of`, `let`, `static` as any identifier (variable, parameter,
 *                             function/class name, catch parameter, reference); `undefined`
 *                             as a binding (except a top-level `var` statement, a no-op in
 *                             both); `arguments` as an arrow-function parameter.
 *                           Allowed, as they work: `a.of`, `a.of = 1`, `a.of()`, `a.if*2`,
 *                           `{of: 1}`, `{of() {}}`, `{"of"() {}}`, `a.true/2`, and `get`, `set`,
 *                           `async`, `await`, `yield`, `with`, `constructor` wherever JavaScript
 *                           allows them (but a static method named `constructor`).
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
  // measured on 2v29: typeof Object.freeze/seal/isFrozen/preventExtensions/is === 'undefined'
  Object: new Set(['freeze', 'seal', 'isFrozen', 'preventExtensions', 'is']),
};

/* ---- names Espruino's lexer reads as keywords (jslex.c, RELEASE_2V29: LEX_R_IF ... LEX_R_OF) ---- */

export const ESPRUINO_KEYWORDS = new Set([
  'if', 'else', 'do', 'while', 'for', 'break', 'continue', 'function', 'return', 'var', 'let', 'const',
  'this', 'throw', 'try', 'catch', 'finally', 'true', 'false', 'null', 'undefined', 'new', 'in',
  'instanceof', 'switch', 'case', 'default', 'delete', 'typeof', 'void', 'debugger', 'class', 'extends',
  'super', 'static', 'of',
]);
/** After these keyword tokens a `/` is still a division (Espruino #2424); after the others it starts a regex. */
const KEYWORD_VALUES = new Set(['true', 'false', 'null', 'undefined']);
/** JavaScript identifiers (sloppy script) that Espruino's lexer reads as keywords: they fail as any identifier. */
export const KEYWORD_IDENTIFIERS = new Set(['of', 'let', 'static']);
const KEYWORD_NOTE = " (Espruino's lexer reads it as a keyword)";

/** The first character after pos that is not white space or inside a comment ('' at the end). */
function nextSignificantChar(code, pos) {
  let i = pos;
  for (;;) {
    while (i < code.length && /\s/.test(code[i])) i++;
    if (code.startsWith('//', i)) {
      while (i < code.length && code[i] !== '\n' && code[i] !== '\r' && code[i] !== '\u2028' && code[i] !== '\u2029') i++;
    } else if (code.startsWith('/*', i)) {
      const e = code.indexOf('*/', i + 2);
      i = e < 0 ? code.length : e + 2;
    } else return i < code.length ? code[i] : '';
  }
}

/** Is this Identifier the name a declaration binds (var/let/const, parameter, function, class, catch)? */
function isBindingName(node, parent) {
  if (parent === undefined) return false;
  switch (parent.type) {
    case 'VariableDeclarator':
      return parent.id === node;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return parent.id === node || parent.params.includes(node);
    case 'ClassDeclaration':
    case 'ClassExpression':
      return parent.id === node;
    case 'CatchClause':
      return parent.param === node;
    default:
      return false;
  }
}

/**
 * `var undefined` as a statement at the top level of the script: a no-op in
 * JavaScript (the global is read-only) and in Espruino alike. ancestors ends
 * with the Identifier, its VariableDeclarator, its VariableDeclaration.
 */
function isTopLevelVarStatement(ancestors) {
  const n = ancestors.length;
  const decl = ancestors[n - 3];
  if (decl === undefined || decl.type !== 'VariableDeclaration' || decl.kind !== 'var') return false;
  const holder = ancestors[n - 4];
  if (holder !== undefined && /^For/.test(holder.type) && (holder.init === decl || holder.left === decl)) return false;
  for (let i = 0; i < n - 3; i++) {
    const t = ancestors[i].type;
    if (FUNCTION_TYPES.has(t) || t === 'StaticBlock' || t === 'PropertyDefinition') return false;
  }
  return true;
}

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

/* ---- use before declaration: Espruino 2v29 does not hoist var / function declarations ---- */

const HOIST_MESSAGE = ' used before its declaration (Espruino does not hoist var/function)';
const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** Calls fn on each child node of n (any property holding a node or an array of nodes). */
function forEachChild(n, fn) {
  for (const k of Object.keys(n)) {
    if (k === 'loc') continue;
    const v = n[k];
    if (Array.isArray(v)) {
      for (const c of v) if (c !== null && typeof c === 'object' && typeof c.type === 'string') fn(c);
    } else if (v !== null && typeof v === 'object' && typeof v.type === 'string') fn(v);
  }
}

/** The Identifier nodes a binding pattern declares. */
function patternIds(p, out) {
  if (p === null || p === undefined) return out;
  switch (p.type) {
    case 'Identifier':
      out.push(p);
      break;
    case 'AssignmentPattern':
      patternIds(p.left, out);
      break;
    case 'RestElement':
      patternIds(p.argument, out);
      break;
    case 'ArrayPattern':
      for (const e of p.elements) patternIds(e, out);
      break;
    case 'ObjectPattern':
      for (const pr of p.properties) patternIds(pr.type === 'RestElement' ? pr : pr.value, out);
      break;
    default:
      break;
  }
  return out;
}

/**
 * The var and function-declaration bindings of one function body (or the
 * program), nested functions excluded, blocks and loops included: name →
 * source position where Espruino creates it (the var declarator's name, the
 * `function` keyword), the earliest when declared more than once.
 */
function hoistedDecls(body) {
  const decls = new Map();
  const note = (name, pos) => {
    const p = decls.get(name);
    if (p === undefined || pos < p) decls.set(name, pos);
  };
  const visit = (n) => {
    if (n.type === 'FunctionDeclaration') {
      if (n.id) note(n.id.name, n.start);
      return;
    }
    if (FUNCTION_TYPES.has(n.type)) return;
    if (n.type === 'VariableDeclaration' && n.kind === 'var') {
      for (const d of n.declarations) for (const id of patternIds(d.id, [])) note(id.name, id.start);
    }
    forEachChild(n, visit);
  };
  visit(body);
  return decls;
}

/** Adds the let/const/class names declared directly in a statement list to `set`. */
function lexicalNames(stmts, set) {
  for (const s of stmts) {
    if (s.type === 'VariableDeclaration' && s.kind !== 'var') {
      for (const d of s.declarations) for (const id of patternIds(d.id, [])) set.add(id.name);
    } else if (s.type === 'ClassDeclaration' && s.id) set.add(s.id.name);
  }
  return set;
}

/**
 * Calls report(identifier) for every reference to a var / function
 * declaration of the same function scope that comes before the declaration
 * in the source. ctx: decls (this function's hoistedDecls), params (bound at
 * entry), blocks (the lexical names of the enclosing blocks inside this
 * function, innermost last).
 */
function findUseBeforeDeclaration(ast, report) {
  const ref = (id, ctx) => {
    const name = id.name;
    for (let i = ctx.blocks.length - 1; i >= 0; i--) if (ctx.blocks[i].has(name)) return;
    if (ctx.params.has(name)) return;
    const pos = ctx.decls.get(name);
    if (pos !== undefined && id.start < pos) report(id);
  };
  const inBlock = (ctx, names, fn) => {
    ctx.blocks.push(names);
    fn();
    ctx.blocks.pop();
  };
  // a binding pattern (declaration): its names are not references, its defaults and computed keys are
  const binding = (p, ctx) => {
    if (p === null || p === undefined) return;
    switch (p.type) {
      case 'Identifier':
        break;
      case 'AssignmentPattern':
        binding(p.left, ctx);
        walk(p.right, ctx);
        break;
      case 'RestElement':
        binding(p.argument, ctx);
        break;
      case 'ArrayPattern':
        for (const e of p.elements) binding(e, ctx);
        break;
      case 'ObjectPattern':
        for (const pr of p.properties) {
          if (pr.type === 'RestElement') binding(pr, ctx);
          else {
            if (pr.computed) walk(pr.key, ctx);
            binding(pr.value, ctx);
          }
        }
        break;
      default:
        walk(p, ctx);
    }
  };
  const fnScope = (fn) => {
    const params = new Set();
    for (const p of fn.params) for (const id of patternIds(p, [])) params.add(id.name);
    // parameter defaults cannot see the body's vars
    const pctx = { decls: new Map(), params, blocks: [] };
    for (const p of fn.params) binding(p, pctx);
    const ctx = { decls: fn.body.type === 'BlockStatement' ? hoistedDecls(fn.body) : new Map(), params, blocks: [] };
    walk(fn.body, ctx);
  };
  const walk = (n, ctx) => {
    switch (n.type) {
      case 'Identifier':
        ref(n, ctx);
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        fnScope(n); // runs later: its uses of this scope's names do not count here
        return;
      case 'VariableDeclaration':
        for (const d of n.declarations) {
          binding(d.id, ctx);
          if (d.init) walk(d.init, ctx);
        }
        return;
      case 'MemberExpression':
        walk(n.object, ctx);
        if (n.computed) walk(n.property, ctx);
        return;
      case 'Property':
      case 'MethodDefinition':
      case 'PropertyDefinition':
        if (n.computed) walk(n.key, ctx);
        if (n.value) walk(n.value, ctx);
        return;
      case 'LabeledStatement':
        walk(n.body, ctx);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'MetaProperty':
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
      case 'ExportSpecifier':
        return;
      case 'BlockStatement':
      case 'StaticBlock':
        inBlock(ctx, lexicalNames(n.body, new Set()), () => {
          for (const s of n.body) walk(s, ctx);
        });
        return;
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const d = n.type === 'ForStatement' ? n.init : n.left;
        const names = d && d.type === 'VariableDeclaration' ? lexicalNames([d], new Set()) : new Set();
        inBlock(ctx, names, () => forEachChild(n, (c) => walk(c, ctx)));
        return;
      }
      case 'SwitchStatement': {
        walk(n.discriminant, ctx);
        const names = new Set();
        for (const c of n.cases) lexicalNames(c.consequent, names);
        inBlock(ctx, names, () => {
          for (const c of n.cases) forEachChild(c, (x) => walk(x, ctx));
        });
        return;
      }
      case 'CatchClause': {
        const names = new Set();
        for (const id of patternIds(n.param, [])) names.add(id.name);
        inBlock(ctx, names, () => {
          if (n.param) binding(n.param, ctx);
          walk(n.body, ctx);
        });
        return;
      }
      case 'ClassDeclaration':
      case 'ClassExpression': {
        if (n.superClass) walk(n.superClass, ctx);
        inBlock(ctx, new Set(n.id ? [n.id.name] : []), () => walk(n.body, ctx));
        return;
      }
      default:
        forEachChild(n, (c) => walk(c, ctx));
    }
  };
  // the top level of the script is a scope of its own (its function declarations are not hoisted either)
  const top = { decls: hoistedDecls(ast), params: new Set(), blocks: [lexicalNames(ast.body, new Set())] };
  for (const s of ast.body) walk(s, top);
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
  // end: where the `near:` text stops (default: the node's end), at most 60 characters on
  const add = (node, construct, end) => {
    findings.push({
      construct,
      line: node.loc.start.line,
      column: node.loc.start.column + 1,
      pos: node.start,
      text: code.slice(node.start, Math.min(end === undefined ? node.end : end, node.start + 60)),
    });
  };
  // a name Espruino cannot take in that position: the finding reads as its own message
  const addName = (node, construct, end) => {
    add(node, construct, end);
    findings[findings.length - 1].message = construct;
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
        else if (node.kind === 'get' || node.kind === 'set') {
          const what = node.kind === 'get' ? 'getter' : 'setter';
          if (node.key.type === 'Literal') addName(node.key, what + ' with a ' + typeof node.key.value + ' key (Espruino takes only a plain name after get/set)', node.end);
          else if (ESPRUINO_KEYWORDS.has(node.key.name)) addName(node.key, what + " name '" + node.key.name + "'" + KEYWORD_NOTE, node.end);
        } else if (node.shorthand && node.key.type === 'Identifier' && ESPRUINO_KEYWORDS.has(node.key.name)) {
          addName(node, "shorthand property '" + node.key.name + "'" + KEYWORD_NOTE);
        }
        break;
      case 'MethodDefinition':
        if (node.computed) add(node, 'computed key');
        else if (node.key.type === 'Literal') {
          addName(node.key, 'class member with a ' + typeof node.key.value + ' key (Espruino takes only a plain name)', node.end);
        } else if (node.key.type === 'Identifier') {
          const what = (node.static ? 'static ' : '') + (node.kind === 'get' ? 'getter' : node.kind === 'set' ? 'setter' : 'method');
          if (ESPRUINO_KEYWORDS.has(node.key.name)) addName(node.key, what + " name '" + node.key.name + "'" + KEYWORD_NOTE, node.end);
          else if (node.static && node.kind === 'method' && node.key.name === 'constructor') {
            addName(node.key, "static method named 'constructor' (Espruino makes it the class constructor)", node.end);
          }
        }
        break;
      case 'ThisExpression':
        if (nextSignificantChar(code, node.end) === '/') addName(node, "'this' followed by '/' (Espruino's lexer reads a regex after a keyword, not a division)", node.end + 20);
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
        if (KEYWORD_IDENTIFIERS.has(node.name) && isReference(node, parent) && !(parent && parent.type === 'Property' && parent.shorthand)) {
          addName(node, "identifier '" + node.name + "'" + KEYWORD_NOTE);
        } else if (node.name === 'undefined' && isBindingName(node, parent) && !isTopLevelVarStatement(ancestors)) {
          addName(node, "binding named 'undefined'" + KEYWORD_NOTE);
        } else if (node.name === 'arguments' && parent && parent.type === 'ArrowFunctionExpression' && parent.params.includes(node)) {
          addName(node, "arrow parameter named 'arguments' (Espruino rejects it)");
        }
        break;
      case 'MemberExpression': {
        const name = propName(node);
        if (name === null) break;
        if (node.object.type === 'Identifier' && Object.prototype.hasOwnProperty.call(BANNED_MEMBERS, node.object.name)) {
          if (BANNED_MEMBERS[node.object.name].has(name)) add(node, node.object.name + '.' + name);
        }
        if (name === 'copyWithin') add(node, 'copyWithin');
        if (!node.computed && ESPRUINO_KEYWORDS.has(name) && !KEYWORD_VALUES.has(name) && nextSignificantChar(code, node.property.end) === '/') {
          addName(node.property, "'." + name + "' followed by '/' (Espruino's lexer reads a regex after a keyword, not a division)", node.end + 20);
        }
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
  findUseBeforeDeclaration(ast, (id) => {
    add(id, id.name + HOIST_MESSAGE);
    findings[findings.length - 1].message = id.name + HOIST_MESSAGE;
  });
  findings.sort((a, b) => a.pos - b.pos);
  return findings;
}

/**
 * Format findings as `file:line:col: Espruino 2v29 lacks: construct   near: text`,
 * or `file:line:col: message   near: text` for a finding with a message
 * (`x used before its declaration (Espruino does not hoist var/function)`,
 * `method name 'of' (Espruino's lexer reads it as a keyword)`).
 */
export function formatFindings(file, findings) {
  return findings.map((f) => `${file}:${f.line}:${f.column}: ${f.message || 'Espruino 2v29 lacks: ' + f.construct}   near: ${f.text.replace(/\s+/g, ' ')}`);
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
