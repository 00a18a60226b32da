/**
 * Runs PromQL's own test scripts (../shared/reference/promqltest/) against the engine
 * over a real store: each `load` is written with `resolveSeries`/`writeSamples`,
 * `clear` drops every sample chunk, each `eval` goes through `createQueryEngine`.
 * Results are compared as the corpus README says: labels exactly, floats within 1e-6
 * relative, NaN equal to NaN, order only under `expect ordered`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { createQueryEngine } from '../../query/engine.js';
import type { Expr, VectorSelector } from '../../query/ast.js';
import { functionSignature } from '../../query/function-types.js';
import { parseQuery } from '../../query/parse.js';
import { matcherTest } from '../../query/select.js';
import { QueryError } from '../../query/types.js';
import type { QueryResult } from '../../query/types.js';
import { labelsKey, staleNaN } from '../../query/values.js';
import type { Labels, Sample, Store } from '../../storage/store.js';
import { parseScript } from './promqltest-script.js';
import type { EvalCommand, Expectation, LoadCommand, ScriptSeries } from './promqltest-script.js';

/** The corpus, relative to the repository root (as CI sees it). */
export const CORPUS_DIR = '../shared/reference/promqltest/testdata';

/** Files in scope (README.md of the corpus), and the optional one. */
export const IN_SCOPE_FILES = [
  'aggregators',
  'at_modifier',
  'collision',
  'functions',
  'histograms',
  'literals',
  'name_label_dropping',
  'operators',
  'range_queries',
  'selectors',
  'staleness',
  'subquery',
  'trig_functions',
] as const;
/** Files the README calls optional (experimental aggregations). */
export const OPTIONAL_FILES = ['limit'] as const;
/** Files out of scope per the README (native histograms, experimental features). */
export const OUT_OF_SCOPE_FILES = ['native_histograms', 'start_timestamps', 'extended_vectors', 'fill-modifier', 'info', 'type_and_unit', 'duration_expression'] as const;

/** How one `eval` ended. */
export type CaseStatus = 'passed' | 'failed' | 'skipped';

/** One `eval` case and how it ended. */
export interface CaseOutcome {
  readonly line: number;
  readonly query: string;
  readonly status: CaseStatus;
  /** Why it failed or was skipped. */
  readonly reason?: string;
}

/** The counts of one script file. */
export interface FileReport {
  readonly file: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly cases: readonly CaseOutcome[];
}

/** Grammar nodes of features Prometheus 3 gates behind `--enable-feature`. */
const EXPERIMENTAL_NODES = new Set(['LimitK', 'LimitRatio', 'Info', 'FillModifier', 'FillClause', 'FillLeftClause', 'FillRightClause', 'Fill', 'FillLeft', 'FillRight', 'DurationStep', 'DurationRange', 'DurationMaxOf', 'DurationMinOf', 'Anchored', 'AnchoredExpr', 'Smoothed', 'SmoothedExpr']);

/** Functions of experimental features the engine's signature table does not know. */
const EXPERIMENTAL_FUNCTIONS = new Set(['histogram_quantiles', 'step', 'range', 'start', 'end', 'min_of', 'max_of', 'info']);

/** Why `query` is out of scope, or undefined. */
export function experimentalFeature(query: string): string | undefined {
  const tree = parser.parse(query);
  let why: string | undefined;
  tree.iterate({
    enter: (n) => {
      if (why !== undefined) return false;
      if (EXPERIMENTAL_NODES.has(n.name)) why = `uses ${n.name}, gated behind --enable-feature in Prometheus 3`;
      else if (n.name === 'FunctionIdentifier') {
        const name = query.slice(n.from, n.to);
        // PROMQLTEST_EXPERIMENTAL=1 runs the experimental functions the engine implements too.
        if (functionSignature(name)?.experimental === true && process.env['PROMQLTEST_EXPERIMENTAL'] !== '1') why = `calls experimental function ${name}()`;
        if (EXPERIMENTAL_FUNCTIONS.has(name)) why = `calls ${name}(), experimental in Prometheus 3`;
      } else if (n.name === 'DurationExpr' || n.name === 'OffsetDurationExpr') {
        const text = query.slice(n.from, n.to);
        if (/[-+*/%^()]/.test(text.replace(/^-/, ''))) why = 'uses a duration expression (experimental)';
      }
      return undefined;
    },
  });
  return why;
}

/** Every vector selector of an expression. */
function selectors(e: Expr, out: VectorSelector[] = []): VectorSelector[] {
  switch (e.kind) {
    case 'vector':
      out.push(e);
      break;
    case 'matrix':
      out.push(e.vector);
      break;
    case 'subquery':
    case 'paren':
    case 'unary':
      selectors(e.expr, out);
      break;
    case 'aggregate':
      selectors(e.expr, out);
      if (e.param !== undefined) selectors(e.param, out);
      break;
    case 'binary':
      selectors(e.lhs, out);
      selectors(e.rhs, out);
      break;
    case 'call':
      for (const a of e.args) selectors(a, out);
      break;
    default:
      break;
  }
  return out;
}

/** True when a selector of `query` matches one of `series` (or the query does not parse). */
function readsAny(query: string, series: readonly Labels[]): boolean {
  let e: Expr;
  try {
    e = parseQuery(query);
  } catch {
    return true;
  }
  return selectors(e).some((sel) => {
    const tests = sel.matchers.map(matcherTest);
    return series.some((l) => tests.every((t) => t(l)));
  });
}

/** Floats equal as Prometheus' tests compare them (go-test/almost, epsilon 1e-6). */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  const minNormal = 2.2250738585072014e-308;
  const diff = Math.abs(a - b);
  const absSum = Math.abs(a) + Math.abs(b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < 1e-6 * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < 1e-6;
}

const fmt = (l: Labels): string => {
  const name = l['__name__'] ?? '';
  return `${name}{${Object.keys(l)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${JSON.stringify(l[k])}`)
    .join(', ')}}`;
};

/** Compares annotations with the `warn`/`info`/`no_*` expectations; a problem or undefined. */
function checkAnnotations(expects: readonly Expectation[], warnings: readonly string[]): string | undefined {
  for (const kind of ['warn', 'info'] as const) {
    const prefix = kind === 'warn' ? 'PromQL warning:' : 'PromQL info:';
    const got = warnings.filter((w) => w.startsWith(prefix));
    const lines = expects.filter((e) => e.type === kind);
    if (expects.some((e) => e.type === `no_${kind}`) && got.length > 0) return `unexpected ${kind} annotation: ${got.join('; ')}`;
    if (lines.length === 0) continue;
    // The engine's annotations carry no position: the trailing `(line:col)` is not compared.
    const matchers = lines.map((e) => {
      if (e.text === undefined) return (_w: string) => true;
      if (e.match === 'regex') {
        const re = new RegExp(e.text.replace(/\s*\\\([^()]*\\\)\s*$/, ''));
        return (w: string) => re.test(w);
      }
      const want = e.text.replace(/\s*\(\d+:\d+\)$/, '');
      return (w: string) => w === want;
    });
    for (let i = 0; i < lines.length; i++) if (!got.some(matchers[i]!)) return `expected ${kind} annotation ${lines[i]!.text ?? ''}, got ${got.length === 0 ? 'none' : got.join('; ')}`;
    for (const w of got) if (!matchers.some((m) => m(w))) return `unexpected ${kind} annotation: ${w}`;
  }
  return undefined;
}

/** Compares a result with the expected series; a problem or undefined. */
function compare(ev: EvalCommand, r: QueryResult): string | undefined {
  const v = r.value;
  const ordered = ev.expects.some((e) => e.type === 'ordered');
  const stringExpect = ev.expects.find((e) => e.type === 'string');
  if (stringExpect !== undefined) {
    if (v.type !== 'string') return `expected string, got ${v.type}`;
    return v.value === stringExpect.text ? undefined : `expected string ${JSON.stringify(stringExpect.text)}, got ${JSON.stringify(v.value)}`;
  }
  if (v.type === 'scalar') {
    if (ev.expected.length !== 1 || ev.expected[0]!.points.length !== 1) return `got scalar ${v.value}, expected ${ev.expected.length} series`;
    const want = ev.expected[0]!.points[0];
    return typeof want === 'number' && almostEqual(want, v.value) ? undefined : `expected scalar ${String(want)}, got ${v.value}`;
  }
  if (v.type === 'string') return 'got a string, expected series';
  if (ev.scalarExpected) return `expected scalar, got ${v.type}`;
  if (v.type === 'vector') {
    if (!ev.instant) return 'range query returned a vector';
    const got = new Map(v.samples.map((s, i) => [labelsKey(s.metric), { s, i }]));
    if (got.size !== v.samples.length) return 'result has duplicate label sets';
    if (got.size !== ev.expected.length) return `expected ${ev.expected.length} samples, got ${got.size}: ${v.samples.map((s) => `${fmt(s.metric)} ${s.value}`).join(', ')}`;
    let idx = -1;
    for (const e of ev.expected) {
      const g = got.get(labelsKey(e.metric));
      if (g === undefined) return `missing ${fmt(e.metric)}; got ${v.samples.map((s) => `${fmt(s.metric)} ${s.value}`).join(', ')}`;
      if (e.points.length !== 1 || typeof e.points[0] !== 'number') return `expected one value for ${fmt(e.metric)}`;
      if (!almostEqual(e.points[0], g.s.value)) return `${fmt(e.metric)}: expected ${e.points[0]}, got ${g.s.value}`;
      if (ordered) {
        if (g.i < idx) return `${fmt(e.metric)} out of order`;
        idx = g.i;
      }
    }
    return undefined;
  }
  // A matrix: a range query, or a range selector at an instant.
  let startMs = ev.startMs;
  let stepMs = ev.stepMs;
  if (ev.instant) {
    if (ev.rangeVector === undefined) {
      if (ev.expected.length === 0 && v.series.length === 0) return undefined;
      return 'a range vector result needs `expect range vector`';
    }
    startMs = ev.rangeVector.startMs;
    stepMs = ev.rangeVector.stepMs;
  }
  const got = new Map(v.series.map((s) => [labelsKey(s.metric), s]));
  if (got.size !== ev.expected.length) return `expected ${ev.expected.length} series, got ${got.size}: ${v.series.map((s) => fmt(s.metric)).join(', ')}`;
  for (const e of ev.expected) {
    const g = got.get(labelsKey(e.metric));
    if (g === undefined) return `missing series ${fmt(e.metric)}; got ${v.series.map((s) => fmt(s.metric)).join(', ')}`;
    const want: { t: number; v: number }[] = [];
    e.points.forEach((p, i) => {
      if (typeof p === 'number') want.push({ t: startMs + i * stepMs, v: p });
    });
    const gotPts = g.points.map((p) => `${p.timeMs / 1000}s:${p.value}`).join(' ');
    if (want.length !== g.points.length) return `${fmt(e.metric)}: expected ${want.length} points, got ${g.points.length}: ${gotPts}`;
    for (let i = 0; i < want.length; i++) {
      const p = g.points[i]!;
      if (p.timeMs !== want[i]!.t || !almostEqual(want[i]!.v, p.value)) return `${fmt(e.metric)}: expected ${want[i]!.v}@${want[i]!.t / 1000}s, got ${gotPts}`;
    }
  }
  return undefined;
}

function hasNameless(s: ScriptSeries): boolean {
  return s.metric['__name__'] === undefined;
}

/** The state of the store between `clear`s. */
interface Loaded {
  /** Label sets of the native-histogram series loaded. */
  histograms: Labels[];
  problems: string[];
  /** Names of the native histograms `load_with_nhcb` adds (the classic family names). */
  nhcb: Set<string>;
}

const emptyState = (): Loaded => ({ histograms: [], problems: [], nhcb: new Set() });

async function load(store: Store, cmd: LoadCommand, state: Loaded): Promise<void> {
  state.problems.push(...cmd.errors);
  const samples: Sample[] = [];
  for (const s of cmd.series) {
    if (s.histogram) {
      state.histograms.push(s.metric);
      continue;
    }
    if (hasNameless(s)) {
      state.problems.push(`line ${cmd.line}: series ${fmt(s.metric)} has no metric name`);
      continue;
    }
    const { __name__: name, ...labels } = s.metric;
    if (cmd.withNhcb && name!.endsWith('_bucket')) state.nhcb.add(name!.slice(0, -'_bucket'.length));
    let id: number;
    try {
      [id] = (await store.resolveSeries([{ name: name!, labels, type: 'untyped' }])) as [number];
    } catch (e) {
      state.problems.push(`line ${cmd.line}: the store refuses ${fmt(s.metric)}: ${(e as Error).message}`);
      continue;
    }
    s.points.forEach((p, i) => {
      if (p === 'missing') return;
      samples.push({ seriesId: id, timeMs: i * cmd.intervalMs, value: p === 'stale' ? staleNaN() : p });
    });
  }
  for (let i = 0; i < samples.length; i += 10_000) await store.writeSamples(samples.slice(i, i + 10_000));
}

/** Why a case is skipped, or undefined when it runs. */
function skipReason(file: string, ev: EvalCommand, state: Loaded): string | undefined {
  if ((OUT_OF_SCOPE_FILES as readonly string[]).includes(file)) return 'file out of scope (corpus README)';
  if (ev.errors.length > 0) return `expected result unreadable: ${ev.errors.join('; ')}`;
  if (ev.hasHistogram) return 'expects native histograms';
  if (state.histograms.length > 0 && readsAny(ev.query, state.histograms)) return 'reads native histograms';
  if (/\b(min_of|max_of)\s*\(/.test(ev.query)) return 'uses a duration expression function (experimental in Prometheus 3)';
  const exp = experimentalFeature(ev.query);
  if (exp !== undefined) return exp;
  for (const n of state.nhcb) if (new RegExp(`(^|[^a-zA-Z0-9_:])${n}(?![a-zA-Z0-9_:])`).test(ev.query)) return `reads ${n}, a native histogram (load_with_nhcb)`;
  if (state.problems.length > 0) return `data not loadable: ${state.problems[0]!}`;
  return undefined;
}

async function runEval(store: Store, ev: EvalCommand): Promise<CaseOutcome> {
  const engine = createQueryEngine(store, { timeoutMs: 20_000 });
  const base = { line: ev.line, query: ev.query };
  let r: QueryResult;
  const failExpect = ev.expects.find((e) => e.type === 'fail');
  try {
    r = ev.instant ? await engine.instant(ev.query, ev.atMs) : await engine.range(ev.query, ev.startMs, ev.endMs, ev.stepMs);
  } catch (e) {
    if (!(e instanceof QueryError)) return { ...base, status: 'failed', reason: `crashed: ${(e as Error).stack ?? String(e)}` };
    if (failExpect === undefined) return { ...base, status: 'failed', reason: `unexpected error: ${e.type}: ${e.message}` };
    if (failExpect.text !== undefined) {
      const ok = failExpect.match === 'regex' ? new RegExp(failExpect.text).test(e.message) : e.message === failExpect.text.replace(/^"(.*)"$/, '$1');
      if (!ok) return { ...base, status: 'failed', reason: `error ${JSON.stringify(e.message)} does not match ${failExpect.match ?? ''} ${failExpect.text}` };
    }
    return { ...base, status: 'passed' };
  }
  if (failExpect !== undefined) return { ...base, status: 'failed', reason: 'expected an error, the query succeeded' };
  const problem = compare(ev, r) ?? checkAnnotations(ev.expects, r.warnings);
  return problem === undefined ? { ...base, status: 'passed' } : { ...base, status: 'failed', reason: problem };
}

/** Drops every sample: the store is empty again for the next file (series rows stay, without data). */
export async function clearStore(store: Store): Promise<void> {
  await store.dropChunksBefore('samples', 253_402_300_799_999);
}

/** Runs one script over `store` (which must hold no samples). */
export async function runFile(path: string, store: Store): Promise<FileReport> {
  const file = basename(path).replace(/\.test$/, '');
  const cmds = parseScript(readFileSync(path, 'utf8'));
  const cases: CaseOutcome[] = [];
  let state = emptyState();
  const outOfScope = (OUT_OF_SCOPE_FILES as readonly string[]).includes(file);
  let dirty = false;
  for (const c of cmds) {
    if (c.kind === 'clear') {
      if (dirty) await clearStore(store);
      dirty = false;
      state = emptyState();
    } else if (c.kind === 'load') {
      if (outOfScope) continue;
      await load(store, c, state);
      dirty = true;
    } else {
      const why = skipReason(file, c, state);
      if (why !== undefined) cases.push({ line: c.line, query: c.query, status: 'skipped', reason: why });
      else cases.push(await runEval(store, c));
    }
  }
  if (dirty) await clearStore(store);
  const count = (s: CaseStatus): number => cases.filter((x) => x.status === s).length;
  return { file, passed: count('passed'), failed: count('failed'), skipped: count('skipped'), cases };
}
