/**
 * A parsed expression back to text and to JSON, as Prometheus 3 does for
 * `/api/v1/format_query` (its canonical `String()` form, split over lines by its
 * prettier when a node is longer than 100 characters) and `/api/v1/parse_query` (its
 * `translateAST` tree for the UI's tree view). Pure.
 */
import type { LabelMatcher } from '../storage/store.js';
import type { AtModifier, Expr, VectorMatching, VectorSelector } from './ast.js';
import { functionSignature } from './function-types.js';

/** Prometheus' prettier splits a node longer than this. */
const MAX_CHARACTERS_PER_LINE = 100;
const INDENT = '  ';

const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Go's strconv.Quote for the strings PromQL holds (control characters as Go escapes them). */
export function goQuote(s: string): string {
  const named: Record<string, string> = { '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u000b': '\\v', '"': '\\"', '\\': '\\\\' };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (named[ch] !== undefined) out += named[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits, never an exponent. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  if (!/e/i.test(s)) return s;
  // Shortest round-trip digits and exponent, then placed without an exponent.
  const [mant, expText] = v.toExponential().split('e') as [string, string];
  const neg = mant.startsWith('-');
  const digits = mant.replace(/^-/, '').replace('.', '');
  const exp = Number(expText);
  let body: string;
  if (exp >= 0) body = digits.length - 1 <= exp ? digits + '0'.repeat(exp - (digits.length - 1)) : `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  else body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  return (neg ? '-' : '') + body;
}

/** Prometheus' model.Duration text: `1h30m`, `90d` (years and weeks only when exact), `0s`. */
export function formatPromDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  const unit = (name: string, mult: number, exact: boolean): void => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${name}`;
      rest -= v * mult;
    }
  };
  unit('y', 365 * 86_400_000, true);
  unit('w', 7 * 86_400_000, true);
  unit('d', 86_400_000, false);
  unit('h', 3_600_000, false);
  unit('m', 60_000, false);
  unit('s', 1000, false);
  unit('ms', 1, false);
  return out;
}

function labelList(names: readonly string[]): string {
  return names.map((n) => (LEGACY_LABEL.test(n) ? n : goQuote(n))).join(', ');
}

function matcherText(m: LabelMatcher): string {
  return `${LEGACY_LABEL.test(m.label) ? m.label : goQuote(m.label)}${m.op}${goQuote(m.value)}`;
}

function atText(at: AtModifier | undefined): string {
  if (at === undefined) return '';
  if (at.kind === 'start') return ' @ start()';
  if (at.kind === 'end') return ' @ end()';
  return ` @ ${(at.ms / 1000).toFixed(3)}`;
}

function offsetText(ms: number): string {
  return ms > 0 ? ` offset ${formatPromDuration(ms)}` : ms < 0 ? ` offset -${formatPromDuration(-ms)}` : '';
}

/** The selector without `@` and offset: name and sorted matchers (the name's own `__name__` matcher left out). */
function selectorText(v: VectorSelector): string {
  const ms = v.matchers.filter((m) => !(m.label === '__name__' && m.op === '=' && m.value === v.name && m.value !== '')).map(matcherText);
  ms.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return (v.name ?? '') + (ms.length > 0 ? `{${ms.join(',')}}` : '');
}

function matchingText(m: VectorMatching | undefined): string {
  if (m === undefined) return '';
  const grouped = m.card === 'many-to-one' || m.card === 'one-to-many';
  let out = m.labels.length > 0 || m.on || grouped ? ` ${m.on ? 'on' : 'ignoring'} (${labelList(m.labels)})` : '';
  if (grouped) out += ` group_${m.card === 'many-to-one' ? 'left' : 'right'} (${labelList(m.include)})`;
  return out;
}

function aggregatePrefix(e: Extract<Expr, { kind: 'aggregate' }>): string {
  if (e.without) return `${e.op} without (${labelList(e.grouping)}) `;
  if (e.grouping.length > 0) return `${e.op} by (${labelList(e.grouping)}) `;
  return e.op;
}

function subquerySuffix(e: Extract<Expr, { kind: 'subquery' }>): string {
  return `[${formatPromDuration(e.rangeMs)}:${e.stepMs !== 0 ? formatPromDuration(e.stepMs) : ''}]${atText(e.at)}${offsetText(e.offsetMs)}`;
}

/** Prometheus' canonical one-line form of an expression (its `String()`). */
export function exprString(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return formatFloat(e.value);
    case 'string':
      return goQuote(e.value);
    case 'vector':
      return selectorText(e) + atText(e.at) + offsetText(e.offsetMs);
    case 'matrix':
      return `${selectorText(e.vector)}[${formatPromDuration(e.rangeMs)}]${atText(e.vector.at)}${offsetText(e.vector.offsetMs)}`;
    case 'subquery':
      return exprString(e.expr) + subquerySuffix(e);
    case 'call':
      return `${e.func}(${e.args.map(exprString).join(', ')})`;
    case 'aggregate':
      return `${aggregatePrefix(e)}(${e.param !== undefined ? `${exprString(e.param)}, ` : ''}${exprString(e.expr)})`;
    case 'binary':
      return `${exprString(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''}${matchingText(e.matching)} ${exprString(e.rhs)}`;
    case 'unary':
      return e.op + exprString(e.expr);
    case 'paren':
      return `(${exprString(e.expr)})`;
  }
}

/** Prometheus' prettier (`Pretty(level)`): a node longer than 100 characters is split, its children indented. */
export function prettyExpr(e: Expr, level = 0): string {
  const pad = INDENT.repeat(level);
  const one = exprString(e);
  const split = one.length > MAX_CHARACTERS_PER_LINE;
  switch (e.kind) {
    case 'aggregate': {
      if (!split) return pad + one;
      const param = e.param !== undefined ? `${prettyExpr(e.param, level + 1)},\n` : '';
      return `${pad}${aggregatePrefix(e)}(\n${param}${prettyExpr(e.expr, level + 1)}\n${pad})`;
    }
    case 'binary':
      if (!split) return pad + one;
      return `${prettyExpr(e.lhs, level + 1)}\n${pad}${e.op}${e.returnBool ? ' bool' : ''}${matchingText(e.matching)}\n${prettyExpr(e.rhs, level + 1)}`;
    case 'call':
      if (!split) return pad + one;
      return `${pad}${e.func}(\n${e.args.map((a) => prettyExpr(a, level + 1)).join(',\n')}\n${pad})`;
    case 'paren':
      if (!split) return pad + one;
      return `${pad}(\n${prettyExpr(e.expr, level + 1)}\n${pad})`;
    case 'subquery':
      // As Prometheus: a subquery that fits is not indented.
      return split ? prettyExpr(e.expr, level) + subquerySuffix(e) : one;
    case 'unary':
      return pad + e.op + prettyExpr(e.expr, level).trim();
    default:
      return pad + one;
  }
}

/** Prometheus' `translateAST` (web/api/v1/translate_ast.go): the tree `/api/v1/parse_query` answers. */
export function exprJson(e: Expr): unknown {
  switch (e.kind) {
    case 'number':
      return { type: 'numberLiteral', val: formatFloat(e.value) };
    case 'string':
      return { type: 'stringLiteral', val: e.value };
    case 'vector':
      return { type: 'vectorSelector', name: e.name ?? '', offset: e.offsetMs, matchers: matchersJson(e), ...atJson(e.at), anchored: false, smoothed: false };
    case 'matrix':
      return { type: 'matrixSelector', name: e.vector.name ?? '', range: e.rangeMs, offset: e.vector.offsetMs, matchers: matchersJson(e.vector), ...atJson(e.vector.at), anchored: false, smoothed: false };
    case 'subquery':
      return { type: 'subquery', expr: exprJson(e.expr), range: e.rangeMs, offset: e.offsetMs, step: e.stepMs, ...atJson(e.at), alignEvalTime: false };
    case 'call': {
      const sig = functionSignature(e.func);
      return {
        type: 'call',
        func: { name: e.func, argTypes: sig?.args ?? [], variadic: sig === undefined ? 0 : sig.variadic ? -1 : sig.optional, returnType: sig?.returns ?? 'vector' },
        args: e.args.map(exprJson),
      };
    }
    case 'aggregate':
      return { type: 'aggregation', op: e.op, expr: exprJson(e.expr), param: e.param === undefined ? null : exprJson(e.param), grouping: [...e.grouping], without: e.without };
    case 'binary': {
      const m = e.matching;
      const matching = m === undefined ? null : { card: m.card, labels: [...m.labels], on: m.on, include: [...m.include], fillValues: { lhs: null, rhs: null } };
      return { type: 'binaryExpr', op: e.op, lhs: exprJson(e.lhs), rhs: exprJson(e.rhs), matching, bool: e.returnBool };
    }
    case 'unary':
      return { type: 'unaryExpr', op: e.op, expr: exprJson(e.expr) };
    case 'paren':
      return { type: 'parenExpr', expr: exprJson(e.expr) };
  }
}

/** Matchers as Prometheus lists them: the metric name's matcher last (its parser appends it). */
function matchersJson(v: VectorSelector): { name: string; value: string; type: string }[] {
  const isName = (m: LabelMatcher): boolean => v.name !== undefined && m.label === '__name__' && m.op === '=' && m.value === v.name;
  const named = v.matchers.find(isName);
  const ordered = named === undefined ? v.matchers : [...v.matchers.filter((m) => m !== named), named];
  return ordered.map((m) => ({ name: m.label, value: m.value, type: m.op }));
}

function atJson(at: AtModifier | undefined): { timestamp: number | null; startOrEnd: 'start' | 'end' | null } {
  if (at === undefined) return { timestamp: null, startOrEnd: null };
  if (at.kind === 'time') return { timestamp: at.ms, startOrEnd: null };
  return { timestamp: null, startOrEnd: at.kind };
}
