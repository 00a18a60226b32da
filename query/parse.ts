/**
 * PromQL text → typed AST (query/ast.ts), through the Prometheus team's lezer grammar,
 * with Prometheus' type checks. Every error is a QueryError('bad_data') naming the
 * position as Prometheus does (`line:col: parse error: …`).
 */
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import type { LabelMatcher } from '../storage/store.js';
import { COMPARISON_OPS, SET_OPS } from './ast.js';
import type { AggregateOp, AtModifier, BinaryOp, Expr, ValueType, VectorMatching, VectorSelector } from './ast.js';
import { functionSignature } from './function-types.js';
import { firstLexError, quoteRune } from './lex-errors.js';
import { compileAnchored } from './regex.js';
import { QueryError } from './types.js';

/** Longest query text accepted. */
export const MAX_QUERY_LENGTH = 64 * 1024;

class ParseError extends Error {
  constructor(
    readonly pos: number,
    message: string,
  ) {
    super(message);
  }
}

/** `line:col` of a character offset, 1-based as Prometheus prints it. */
function position(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - (before.lastIndexOf('\n') + 1) + 1;
  return `${line}:${col}`;
}

/**
 * Parses `text`; throws QueryError('bad_data') when it is not valid PromQL, its `param`
 * `query` (the HTTP API names the parameter; a caller with another one re-labels it).
 */
export function parseQuery(text: string): Expr {
  if (typeof text !== 'string') throw new QueryError('bad_data', 'query must be a string', 'query');
  if (text.length > MAX_QUERY_LENGTH) throw new QueryError('bad_data', `query is ${text.length} characters long, more than the ${MAX_QUERY_LENGTH} allowed`, 'query');
  try {
    const p = new Parser(text);
    return p.root();
  } catch (e) {
    if (e instanceof ParseError) throw new QueryError('bad_data', `${position(text, e.pos)}: parse error: ${e.message}`, 'query');
    throw e;
  }
}

/** Parsed queries kept by parseQueryCached (the least recently used dropped first), and the longest text kept. */
const MAX_CACHED_QUERIES = 512;
const MAX_CACHED_QUERY_CHARS = 4096;
const parsed = new Map<string, Expr>();
let misses = 0;

/**
 * How many texts parseQueryCached has parsed (not found kept) since the process started:
 * what tells that the rules' first evaluation parsed none of them again.
 */
export function queriesParsed(): number {
  return misses;
}

/**
 * parseQuery, kept by text: the rule loader parses every rule's expression when it
 * loads the files, and the rule evaluator and the engine ask the same ones every
 * interval. Kept in one cache for the process, so an expression is parsed once, at
 * load, and a rule's first evaluation (a minute later, V8 having dropped the parser's
 * compiled code meanwhile) does not parse it again. The AST is never changed after
 * parsing, so sharing one is safe. Errors are not kept: a bad query is parsed (and
 * refused) again each time.
 */
export function parseQueryCached(text: string): Expr {
  let expr = parsed.get(text);
  if (expr !== undefined) {
    // most recently used last, so the rules' expressions outlive one-off queries
    parsed.delete(text);
    parsed.set(text, expr);
    return expr;
  }
  misses++;
  expr = parseQuery(text);
  if (text.length <= MAX_CACHED_QUERY_CHARS) {
    if (parsed.size >= MAX_CACHED_QUERIES) parsed.delete(parsed.keys().next().value!);
    parsed.set(text, expr);
  }
  return expr;
}

/** The type of an expression's value. */
export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vector':
      return 'vector';
    case 'matrix':
    case 'subquery':
      return 'matrix';
    case 'call':
      return functionSignature(e.func)?.returns ?? 'vector';
    case 'aggregate':
      return 'vector';
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'unary':
    case 'paren':
      return typeOf(e.expr);
  }
}

const TYPE_NAMES: Record<ValueType, string> = { scalar: 'scalar', string: 'string', vector: 'instant vector', matrix: 'range vector' };

const BINARY_OPS: Record<string, BinaryOp> = {
  Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^', Atan2: 'atan2',
  Eql: '==', Neq: '!=', Lss: '<', Gtr: '>', Lte: '<=', Gte: '>=', And: 'and', Or: 'or', Unless: 'unless',
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** A Prometheus duration (`1h30m`, `500ms`) or a number of seconds, in ms. */
export function parseDuration(s: string): number | undefined {
  if (/^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(s)) {
    const v = Number(s) * 1000;
    return Number.isFinite(v) ? Math.round(v) : undefined;
  }
  const re = /([0-9]+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let last = '';
  let m: RegExpExecArray | null;
  let matched = 0;
  const order = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  while ((m = re.exec(s)) !== null) {
    const unit = m[2]!;
    if (last !== '' && order.indexOf(unit) <= order.indexOf(last)) return undefined;
    last = unit;
    total += Number(m[1]) * UNITS[unit]!;
    matched = re.lastIndex;
  }
  return matched === s.length && s.length > 0 ? total : undefined;
}

/** A PromQL number literal (decimal, hex, Inf, NaN, or a duration as seconds). */
function parseNumber(s: string): number | undefined {
  const lower = s.toLowerCase();
  let sign = 1;
  let body = lower;
  if (body.startsWith('-') || body.startsWith('+')) {
    sign = body.startsWith('-') ? -1 : 1;
    body = body.slice(1);
  }
  if (body === 'inf') return sign * Infinity;
  if (body === 'nan') return Number.NaN;
  if (/^0x[0-9a-f]+$/.test(body)) return sign * Number.parseInt(body.slice(2), 16);
  if (/^([0-9]+\.?[0-9]*|\.[0-9]+)(e[-+]?[0-9]+)?$/.test(body)) return sign * Number(body);
  const d = parseDuration(body);
  return d === undefined ? undefined : (sign * d) / 1000;
}

/** A PromQL string literal's value (Go escapes in "…" and '…', none in `…`). */
function unquote(raw: string, pos: number): string {
  const q = raw[0];
  if (raw.length < 2 || raw[raw.length - 1] !== q) throw new ParseError(pos, 'unterminated quoted string');
  const body = raw.slice(1, -1);
  if (q === '`') return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (n !== undefined && simple[n] !== undefined) out += simple[n];
    else if (n === 'x' || n === 'u' || n === 'U') {
      const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new ParseError(pos, `invalid escape sequence in ${raw}`);
      out += n === 'x' ? String.fromCharCode(Number.parseInt(hex, 16)) : String.fromCodePoint(Number.parseInt(hex, 16));
      i += len;
    } else if (n !== undefined && /[0-7]/.test(n)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new ParseError(pos, `invalid escape sequence in ${raw}`);
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else throw new ParseError(pos, `unknown escape sequence in ${raw}`);
  }
  return out;
}

/**
 * Prometheus accepts a number with a trailing dot (`2.`, `1./6.`); the lezer grammar
 * does not. The dot becomes a space, so every position stays where it was.
 */
function trailingDots(text: string): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== '') {
      if (c === '\\' && quote !== '`') {
        out += c + (text[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === quote) quote = '';
      out += c;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '#') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop);
      i = stop - 1;
      continue;
    } else if (/[0-9]/.test(c) && !/[a-zA-Z0-9_:.]/.test(text[i - 1] ?? ' ')) {
      let j = i;
      while (j < text.length && /[0-9]/.test(text[j]!)) j++;
      if (text[j] === '.' && !/[0-9a-zA-Z_]/.test(text[j + 1] ?? ' ')) {
        out += `${text.slice(i, j)} `;
        i = j;
        continue;
      }
      out += text.slice(i, j);
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}

class Parser {
  constructor(private readonly text: string) {}

  private src(n: SyntaxNode): string {
    return this.text.slice(n.from, n.to);
  }

  private children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c !== null; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c);
    return out;
  }

  root(): Expr {
    // Only blanks and comments: lezer reports a syntax error at the end, Prometheus this.
    if (/^(?:\s|#[^\n]*)*$/.test(this.text)) throw new ParseError(0, 'no expression found in input');
    const tree = parser.parse(trailingDots(this.text));
    const top = tree.topNode;
    // The first syntax error, if any, wins (lezer recovers; Prometheus stops).
    let err: SyntaxNode | undefined;
    tree.iterate({
      enter: (n) => {
        if (err !== undefined) return false;
        if (n.type.isError) err = n.node;
        return undefined;
      },
    });
    if (err !== undefined) this.syntaxError(err);
    const kids = this.children(top);
    if (kids.length === 0) throw new ParseError(0, 'no expression found in input');
    if (kids.length > 1) throw new ParseError(kids[1]!.from, `unexpected ${this.describe(kids[1]!)}`);
    const e = this.expr(kids[0]!);
    this.check(e, kids[0]!.from);
    return e;
  }

  private describe(n: SyntaxNode): string {
    const s = this.src(n);
    return s === '' ? 'end of input' : JSON.stringify(s.length > 20 ? `${s.slice(0, 20)}…` : s);
  }

  private syntaxError(n: SyntaxNode): never {
    const end = this.text.trimEnd().length;
    const rest = this.text.slice(n.from);
    const p = n.from >= end ? this.text.length : n.from + (rest.length - rest.trimStart().length);
    // Prometheus' lexer runs ahead of its parser: an unclosed or stray bracket, an
    // unterminated string or a character it cannot take is reported where it is.
    const lex = firstLexError(this.text);
    if (lex !== undefined && lex.at <= p) throw new ParseError(lex.pos, lex.message);
    if (p >= end) throw new ParseError(this.text.length, 'unexpected end of input');
    const ch = this.text[p]!;
    // lezer knows function names as tokens: `nope(` is a syntax error at the parenthesis.
    if (ch === '(') {
      const m = /([a-zA-Z_][a-zA-Z0-9_]*)\s*$/.exec(this.text.slice(0, p));
      if (m !== null) throw new ParseError(p - m[0].length, `unknown function with name ${JSON.stringify(m[1])}`);
    }
    const token = /^([a-zA-Z_:][a-zA-Z0-9_:]*|[0-9][a-zA-Z0-9_.]*|\.[0-9][a-zA-Z0-9_.]*)/.exec(this.text.slice(p))?.[0];
    if (token === undefined) throw new ParseError(p, `unexpected character: ${quoteRune(ch)}`);
    throw new ParseError(p, `unexpected ${/^[a-zA-Z_:]/.test(token) ? 'identifier' : 'number'} ${JSON.stringify(token)}`);
  }

  private expr(n: SyntaxNode): Expr {
    const k = this.children(n);
    switch (n.name) {
      case 'NumberDurationLiteral': {
        const v = parseNumber(this.src(n));
        if (v === undefined) throw new ParseError(n.from, `invalid number ${JSON.stringify(this.src(n))}`);
        return { kind: 'number', value: v };
      }
      case 'StringLiteral':
        return { kind: 'string', value: unquote(this.src(n), n.from) };
      case 'ParenExpr':
        return { kind: 'paren', expr: this.expr(k[0]!) };
      case 'UnaryExpr': {
        const op = this.src(k[0]!) as '-' | '+';
        const inner = this.expr(k[1]!);
        // Fold a signed literal as Prometheus does.
        if (inner.kind === 'number') return { kind: 'number', value: op === '-' ? -inner.value : inner.value };
        return { kind: 'unary', op, expr: inner };
      }
      case 'VectorSelector':
        return this.vectorSelector(n, k);
      case 'MatrixSelector': {
        const v = this.expr(k[0]!);
        if (v.kind !== 'vector') throw new ParseError(k[0]!.from, 'ranges only allowed for vector selectors');
        if (v.offsetMs !== 0 || v.at !== undefined) throw new ParseError(k[0]!.from, 'no offset or @ modifiers allowed before range');
        return { kind: 'matrix', vector: v, rangeMs: this.duration(k[1]!, true) };
      }
      case 'SubqueryExpr': {
        const inner = this.expr(k[0]!);
        const rangeMs = this.duration(k[1]!, true);
        const stepMs = k[2] !== undefined ? this.duration(k[2], true) : 0;
        return { kind: 'subquery', expr: inner, rangeMs, stepMs, offsetMs: 0, at: undefined };
      }
      case 'OffsetExpr': {
        const inner = this.expr(k[0]!);
        const d = this.signedDuration(k[2]!);
        this.applyModifier(inner, k[0]!.from, (t) => {
          if (t.offsetMs !== 0) throw new ParseError(k[1]!.from, 'offset may not be set multiple times');
          t.offsetMs = d;
        }, 'offset');
        return inner;
      }
      case 'StepInvariantExpr': {
        const inner = this.expr(k[0]!);
        const at = this.atModifier(k[2]!);
        this.applyModifier(inner, k[0]!.from, (t) => {
          if (t.at !== undefined) throw new ParseError(k[1]!.from, '@ <timestamp> may not be set multiple times');
          t.at = at;
        }, '@');
        return inner;
      }
      case 'FunctionCall': {
        const name = this.src(k[0]!);
        const args = this.children(k[1]!).map((a) => this.expr(a));
        return { kind: 'call', func: name, args, pos: n.from };
      }
      case 'AggregateExpr':
        return this.aggregate(n, k);
      case 'BinaryExpr':
        return this.binary(k);
      default:
        throw new ParseError(n.from, `unexpected ${this.describe(n)}`);
    }
  }

  /**
   * The lezer grammar binds `offset` and `@` looser than binary and unary operators;
   * Prometheus binds them to the selector or subquery right before them.
   */
  private applyModifier(e: Expr, pos: number, set: (t: VectorSelector | Extract<Expr, { kind: 'subquery' }>) => void, what: string): void {
    if (e.kind === 'vector' || e.kind === 'subquery') set(e);
    else if (e.kind === 'matrix') set(e.vector);
    else if (e.kind === 'binary') this.applyModifier(e.rhs, pos, set, what);
    else if (e.kind === 'unary') this.applyModifier(e.expr, pos, set, what);
    else throw new ParseError(pos, `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`);
  }

  private atModifier(n: SyntaxNode): AtModifier {
    if (n.name === 'AtModifierPreprocessors') return this.src(n).startsWith('start') ? { kind: 'start' } : { kind: 'end' };
    const v = parseNumber(this.src(n));
    if (v === undefined || !Number.isFinite(v)) throw new ParseError(n.from, `timestamp out of bounds for @ modifier: ${this.src(n)}`);
    return { kind: 'time', ms: Math.round(v * 1000) };
  }

  private signedDuration(n: SyntaxNode): number {
    const k = this.children(n);
    if (k.length === 2 && k[0]!.name === 'UnaryOp') {
      const d = this.signedDuration(k[1]!);
      return this.src(k[0]!) === '-' ? -d : d;
    }
    return this.duration(n, false);
  }

  private duration(n: SyntaxNode, positive: boolean): number {
    const s = this.src(n).trim();
    const d = parseDuration(s);
    if (d === undefined) throw new ParseError(n.from, `unexpected ${JSON.stringify(s)} in duration, expected a duration like 5m`);
    if (positive && d <= 0) throw new ParseError(n.from, `duration must be greater than 0`);
    return d;
  }

  private vectorSelector(n: SyntaxNode, k: SyntaxNode[]): VectorSelector {
    let name: string | undefined;
    const matchers: LabelMatcher[] = [];
    for (const c of k) {
      if (c.name === 'Identifier') name = this.src(c);
      else if (c.name === 'LabelMatchers') {
        for (const m of this.children(c)) {
          if (m.name === 'QuotedLabelName') {
            if (name !== undefined) throw new ParseError(m.from, 'metric name must not be set twice');
            name = unquote(this.src(m), m.from);
            continue;
          }
          const parts = this.children(m);
          const label = parts[0]!.name === 'QuotedLabelName' ? unquote(this.src(parts[0]!), parts[0]!.from) : this.src(parts[0]!);
          const op = this.src(parts[1]!) as LabelMatcher['op'];
          const value = unquote(this.src(parts[2]!), parts[2]!.from);
          if (op === '=~' || op === '!~') {
            try {
              compileAnchored(value);
            } catch {
              throw new ParseError(parts[2]!.from, `invalid regular expression ${JSON.stringify(value)}`);
            }
          }
          matchers.push({ label, op, value });
        }
      }
    }
    if (name !== undefined) {
      if (matchers.some((m) => m.label === '__name__')) throw new ParseError(n.from, 'metric name must not be set twice');
      matchers.unshift({ label: '__name__', op: '=', value: name });
    }
    const nonEmpty = matchers.some((m) => !matchesEmpty(m));
    if (!nonEmpty) throw new ParseError(n.from, 'vector selector must contain at least one non-empty matcher');
    return { kind: 'vector', name, matchers, offsetMs: 0, at: undefined, pos: n.from };
  }

  private aggregate(n: SyntaxNode, k: SyntaxNode[]): Expr {
    const op = this.src(k[0]!).toLowerCase() as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let body: SyntaxNode | undefined;
    for (const c of k.slice(1)) {
      if (c.name === 'AggregateModifier') {
        const mk = this.children(c);
        without = mk[0]!.name === 'Without';
        grouping = mk[1] !== undefined ? this.children(mk[1]).map((l) => this.labelName(l)) : [];
      } else if (c.name === 'FunctionCallBody') body = c;
    }
    const args = body !== undefined ? this.children(body).map((a) => this.expr(a)) : [];
    const needsParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values' || op === 'limitk' || op === 'limit_ratio';
    if (args.length !== (needsParam ? 2 : 1)) throw new ParseError(n.from, `wrong number of arguments for aggregate expression provided, expected ${needsParam ? 2 : 1}, got ${args.length}`);
    return { kind: 'aggregate', op, expr: args[args.length - 1]!, param: needsParam ? args[0] : undefined, grouping, without, pos: n.from };
  }

  private labelName(n: SyntaxNode): string {
    const s = this.src(n);
    return s.startsWith('"') || s.startsWith("'") || s.startsWith('`') ? unquote(s, n.from) : s;
  }

  private binary(k: SyntaxNode[]): Expr {
    const lhs = this.expr(k[0]!);
    const rhs = this.expr(k[k.length - 1]!);
    const op = BINARY_OPS[k[1]!.name];
    if (op === undefined) throw new ParseError(k[1]!.from, `unexpected ${this.describe(k[1]!)}`);
    let returnBool = false;
    let matching: VectorMatching | undefined;
    for (const c of k.slice(2, -1)) {
      if (c.name === 'BoolModifier') returnBool = true;
      else if (c.name === 'MatchingModifierClause') {
        const mk = this.children(c);
        const on = mk[0]!.name === 'On';
        const labels = mk[1] !== undefined && mk[1].name === 'GroupingLabels' ? this.children(mk[1]).map((l) => this.labelName(l)) : [];
        let card: VectorMatching['card'] = 'one-to-one';
        let include: string[] = [];
        const g = mk.find((x) => x.name === 'GroupLeft' || x.name === 'GroupRight');
        if (g !== undefined) {
          card = g.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many';
          const gl = mk[mk.indexOf(g) + 1];
          if (gl !== undefined && gl.name === 'GroupingLabels') include = this.children(gl).map((l) => this.labelName(l));
        }
        if (SET_OPS.has(op) && g !== undefined) throw new ParseError(g.from, `no grouping allowed for "${op}" operation`);
        for (const l of include) if (on && labels.includes(l)) throw new ParseError(c.from, `label "${l}" must not occur in ON and GROUP clause at once`);
        matching = { on, labels, card, include };
      }
    }
    if (SET_OPS.has(op)) matching = { on: matching?.on ?? false, labels: matching?.labels ?? [], card: 'many-to-many', include: [] };
    return { kind: 'binary', op, lhs, rhs, returnBool, matching };
  }

  /** Prometheus' type checks (parser.checkAST). */
  private check(e: Expr, pos: number): void {
    const p = 'pos' in e ? e.pos : pos;
    switch (e.kind) {
      case 'paren':
      case 'unary':
        this.check(e.expr, pos);
        if (e.kind === 'unary') {
          const t = typeOf(e.expr);
          if (t !== 'scalar' && t !== 'vector') throw new ParseError(pos, `unary expression only allowed on expressions of type scalar or instant vector, got "${TYPE_NAMES[t]}"`);
        }
        return;
      case 'subquery': {
        this.check(e.expr, pos);
        const t = typeOf(e.expr);
        if (t !== 'vector') throw new ParseError(pos, `subquery is only allowed on instant vector, got ${TYPE_NAMES[t]} instead`);
        return;
      }
      case 'call': {
        const s = functionSignature(e.func);
        if (s === undefined) throw new ParseError(p, `unknown function with name "${e.func}"`);
        const min = s.args.length - s.optional;
        if (e.args.length < min || (!s.variadic && e.args.length > s.args.length)) {
          throw new ParseError(p, `expected ${s.optional > 0 || s.variadic ? 'at least ' : ''}${min} argument(s) in call to "${e.func}", got ${e.args.length}`);
        }
        e.args.forEach((a, i) => {
          this.check(a, pos);
          const want = s.args[Math.min(i, s.args.length - 1)]!;
          const got = typeOf(a);
          if (want !== got) throw new ParseError(p, `expected type ${TYPE_NAMES[want]} in call to function "${e.func}", got ${TYPE_NAMES[got]}`);
        });
        return;
      }
      case 'aggregate': {
        this.check(e.expr, pos);
        const t = typeOf(e.expr);
        if (t !== 'vector') throw new ParseError(p, `expected type instant vector in aggregation expression, got ${TYPE_NAMES[t]}`);
        if (e.param !== undefined) {
          this.check(e.param, pos);
          const want = e.op === 'count_values' ? 'string' : 'scalar';
          const got = typeOf(e.param);
          if (got !== want) throw new ParseError(p, `expected type ${TYPE_NAMES[want]} in aggregation parameter, got ${TYPE_NAMES[got]}`);
        }
        return;
      }
      case 'binary': {
        this.check(e.lhs, pos);
        this.check(e.rhs, pos);
        const lt = typeOf(e.lhs);
        const rt = typeOf(e.rhs);
        if (e.returnBool && !COMPARISON_OPS.has(e.op)) throw new ParseError(pos, 'bool modifier can only be used on comparison operators');
        if ((lt !== 'scalar' && lt !== 'vector') || (rt !== 'scalar' && rt !== 'vector')) throw new ParseError(pos, 'binary expression must contain only scalar and instant vector types');
        if (COMPARISON_OPS.has(e.op) && lt === 'scalar' && rt === 'scalar' && !e.returnBool) throw new ParseError(pos, 'comparisons between scalars must use BOOL modifier');
        if (SET_OPS.has(e.op) && (lt !== 'vector' || rt !== 'vector')) throw new ParseError(pos, `set operator "${e.op}" not allowed in binary scalar expression`);
        if (e.matching !== undefined && !SET_OPS.has(e.op) && (lt !== 'vector' || rt !== 'vector')) {
          if (e.matching.labels.length > 0 || e.matching.on) throw new ParseError(pos, 'vector matching only allowed between instant vectors');
        }
        return;
      }
      default:
        return;
    }
  }
}

/** True when the matcher accepts the empty string (a missing label). */
export function matchesEmpty(m: LabelMatcher): boolean {
  switch (m.op) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return compileAnchored(m.value).test('');
    case '!~':
      return !compileAnchored(m.value).test('');
  }
}
