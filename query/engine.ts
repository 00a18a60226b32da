/**
 * `createQueryEngine(store)`: the QueryEngine of query/types.ts over one store.
 * Each query is parsed, its selectors' samples are loaded once for the whole range,
 * then it is evaluated step by step (query/eval.ts).
 */
import type { Labels, Store } from '../storage/store.js';
import type { Call, Expr, MatrixSelector } from './ast.js';
import { planTiers, withWatermarkMemo } from './tiers.js';
import type { TierPlan, TierSource } from './tiers.js';
import { evaluate } from './eval.js';
import type { EvalContext } from './eval.js';
import { parseQuery, parseQueryCached, typeOf } from './parse.js';
import { SampleSource, matcherTest, seriesMetric } from './select.js';
import { QueryError } from './types.js';
import type { InstantSample, Point, QueryEngine, QueryOptions, QueryResult, RangeSeries, SeriesQuery } from './types.js';
import { dropName, labelsKey } from './values.js';

const SORTS: ReadonlySet<string> = new Set(['sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc']);

/** True when `e` calls one of `funcs` anywhere. */
function callsAny(e: Expr, funcs: ReadonlySet<string>): boolean {
  switch (e.kind) {
    case 'call':
      return funcs.has(e.func) || e.args.some((a) => callsAny(a, funcs));
    case 'aggregate':
      return callsAny(e.expr, funcs) || (e.param !== undefined && callsAny(e.param, funcs));
    case 'binary':
      return callsAny(e.lhs, funcs) || callsAny(e.rhs, funcs);
    case 'unary':
    case 'paren':
    case 'subquery':
      return callsAny(e.expr, funcs);
    default:
      return false;
  }
}

/** Throws Prometheus' error when two results share a label set (after names were dropped). */
function distinct(metrics: readonly Labels[]): void {
  const seen = new Set<string>();
  for (const m of metrics) {
    const k = labelsKey(m);
    if (seen.has(k)) throw new QueryError('execution', 'vector cannot contain metrics with the same labelset');
    seen.add(k);
  }
}

/** Engine-wide settings. */
export interface EngineOptions {
  /** Default query timeout, ms. @default 120_000 (Prometheus' 2 minutes) */
  readonly timeoutMs?: number;
  /** Default lookback delta, ms. @default 300_000 */
  readonly lookbackMs?: number;
  /**
   * Most raw samples (and tier rows, and subquery points) one query may hold.
   * Prometheus allows 50,000,000 at 16 bytes each; a sample read through the Store is an
   * object of ~50 bytes before it is packed, so Larder, a side process, allows less.
   * @default 5_000_000
   */
  readonly maxSamples?: number;
  /** Step of subqueries written without one, ms (Prometheus' global evaluation interval). @default 60_000 */
  readonly subqueryStepMs?: number;
  /** Rollup tiers to answer `*_over_time` and `rate`/`increase` from (query/tiers.ts); none = raw only. */
  readonly tiers?: TierSource;
}

/**
 * A range query yields to the event loop every so many steps, or after so many ms of
 * evaluation. A scrape of /metrics takes several turns of the loop, each waiting for the
 * next yield: at 10 ms its median was 22–42 ms while the query bench's B ran back to
 * back, at 2 ms 15 ms.
 */
const YIELD_EVERY_STEPS = 256;
const YIELD_AFTER_MS = 2;

/** How long a tier's watermark is reused (query/tiers.ts withWatermarkMemo). */
const WATERMARK_TTL_MS = 1000;

/** Most points per series of a range query (Prometheus' limit). */
export const MAX_POINTS_PER_SERIES = 11_000;

const MAX_TIME = 8.64e15;

function checkTime(what: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_TIME) throw new QueryError('bad_data', `invalid ${what}: ${String(v)}`);
}

/** Throws Prometheus' bad_data error when `expr` cannot be a range query's expression (a range vector or a string). */
function checkRangeQueryType(expr: Expr): void {
  const t = typeOf(expr);
  if (t !== 'scalar' && t !== 'vector') throw new QueryError('bad_data', `invalid expression type "${t === 'matrix' ? 'range vector' : t}" for range query, must be Scalar or instant Vector`, 'query');
}

/** A QueryEngine over `store`. */
export function createQueryEngine(store: Store, opts: EngineOptions = {}): QueryEngine {
  const tierSource = opts.tiers === undefined ? undefined : withWatermarkMemo(opts.tiers, WATERMARK_TTL_MS);
  const defaults = {
    timeoutMs: opts.timeoutMs ?? 120_000,
    lookbackMs: opts.lookbackMs ?? 300_000,
    maxSamples: opts.maxSamples ?? 5_000_000,
    subqueryStepMs: opts.subqueryStepMs ?? 60_000,
  };

  async function prepare(expr: Expr, startMs: number, endMs: number, stepMs: number, q: QueryOptions | undefined): Promise<EvalContext> {
    const timeoutMs = q?.timeoutMs ?? defaults.timeoutMs;
    const lookbackMs = q?.lookbackMs ?? defaults.lookbackMs;
    if (!(timeoutMs > 0)) throw new QueryError('bad_data', `invalid timeout ${String(timeoutMs)}`);
    if (!(lookbackMs > 0)) throw new QueryError('bad_data', `invalid lookback delta ${String(lookbackMs)}`);
    const deadline = Date.now() + timeoutMs;
    let ticks = 0;
    const checkDeadline = (): void => {
      if ((++ticks & 63) === 0 && Date.now() > deadline) throw new QueryError('timeout', 'query timed out in expression evaluation');
    };
    const tierPlans = tierSource !== undefined && q?.rawOnly !== true ? await planTiers(expr, { startMs, endMs, stepMs }, tierSource) : new Map<Call, TierPlan>();
    const tiered = new Map([...tierPlans].map(([call, plan]) => [(call.args[0] as MatrixSelector).vector, plan]));
    const source = await SampleSource.load(store, expr, { startMs, endMs, lookbackMs, subqueryStepMs: defaults.subqueryStepMs, maxSamples: defaults.maxSamples, tiered }, () => {
      if (Date.now() > deadline) throw new QueryError('timeout', 'query timed out in query execution');
    });
    let points = source.loadedSamples;
    const countPoints = (n: number): void => {
      points += n;
      if (points > defaults.maxSamples) throw new QueryError('execution', `query processing would load too many samples into memory in query execution (more than ${defaults.maxSamples})`);
    };
    return { source, startMs, endMs, stepMs, lookbackMs, subqueryStepMs: defaults.subqueryStepMs, checkDeadline, countPoints, warnings: [], tierPlans };
  }

  const finish = (ctx: EvalContext): string[] => [...new Set(ctx.warnings)];

  // Parsed queries by text (query/parse.ts): the rule evaluator asks the same few dozen
  // every interval, and parsing was a fifth of its main-thread time.
  const parse = parseQueryCached;

  const engine: QueryEngine = {
    async instant(query: string, timeMs: number, q?: QueryOptions): Promise<QueryResult> {
      checkTime('time', timeMs);
      const expr = parse(query);
      const ctx = await prepare(expr, timeMs, timeMs, 0, q);
      const v = evaluate(expr, timeMs, ctx);
      switch (v.type) {
        case 'scalar':
        case 'string':
          return { value: { type: v.type, timeMs, value: v.value } as QueryResult['value'], warnings: finish(ctx) };
        case 'vector': {
          const samples = v.samples.map((s): InstantSample => ({ metric: s.drop === true ? dropName(s.metric) : s.metric, timeMs, value: s.value }));
          distinct(samples.map((s) => s.metric));
          return { value: { type: 'vector', samples }, warnings: finish(ctx) };
        }
        case 'matrix': {
          const series = v.series.map((s): RangeSeries => ({ metric: s.drop === true ? dropName(s.metric) : s.metric, points: s.ts.map((t, i): Point => ({ timeMs: t, value: s.vs[i]! })) }));
          distinct(series.map((s) => s.metric));
          return { value: { type: 'matrix', series }, warnings: finish(ctx) };
        }
      }
    },

    async range(query: string, startMs: number, endMs: number, stepMs: number, q?: QueryOptions): Promise<QueryResult> {
      checkTime('start', startMs);
      checkTime('end', endMs);
      if (endMs < startMs) throw new QueryError('bad_data', 'end timestamp must not be before start time');
      if (!(stepMs > 0) || !Number.isFinite(stepMs)) throw new QueryError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
      if ((endMs - startMs) / stepMs > MAX_POINTS_PER_SERIES) {
        throw new QueryError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
      }
      const expr = parse(query);
      checkRangeQueryType(expr);
      const ctx = await prepare(expr, startMs, endMs, stepMs, q);
      if (callsAny(expr, SORTS)) ctx.warnings.push('PromQL warning: sort is ineffective for range queries since results are always ordered by labels');
      const series = new Map<string, { metric: Labels; points: Point[] }>();
      let lastYield = Date.now();
      let step = 0;
      for (let ts = startMs; ts <= endMs; ts += stepMs) {
        // Evaluation is synchronous: hand the event loop back now and then, so that
        // scrapes and other requests are served while a long range query runs.
        if (++step % YIELD_EVERY_STEPS === 0 || Date.now() - lastYield > YIELD_AFTER_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = Date.now();
        }
        ctx.checkDeadline();
        const v = evaluate(expr, ts, ctx);
        if (v.type === 'scalar') {
          let s = series.get('');
          if (s === undefined) series.set('', (s = { metric: {}, points: [] }));
          s.points.push({ timeMs: ts, value: v.value });
        } else if (v.type === 'vector') {
          for (const x of v.samples) {
            const metric = x.drop === true ? dropName(x.metric) : x.metric;
            const k = labelsKey(metric);
            let s = series.get(k);
            if (s === undefined) series.set(k, (s = { metric, points: [] }));
            // Series that only differ by a dropped name merge, unless they meet at one step.
            if (s.points.length > 0 && s.points[s.points.length - 1]!.timeMs === ts) throw new QueryError('execution', 'vector cannot contain metrics with the same labelset');
            s.points.push({ timeMs: ts, value: x.value });
          }
        }
      }
      const out = [...series.values()].sort((a, b) => (labelsKey(a.metric) < labelsKey(b.metric) ? -1 : 1));
      return { value: { type: 'matrix', series: out }, warnings: finish(ctx) };
    },

    async series(sq: SeriesQuery): Promise<Labels[]> {
      return seriesMatching(store, sq);
    },

    async labelNames(sq: SeriesQuery): Promise<string[]> {
      const names = new Set<string>();
      for (const l of await seriesMatching(store, { ...sq, limit: 0 })) for (const k of Object.keys(l)) names.add(k);
      const out = [...names].sort();
      return sq.limit !== undefined && sq.limit > 0 ? out.slice(0, sq.limit) : out;
    },

    async labelValues(name: string, sq: SeriesQuery): Promise<string[]> {
      const values = new Set<string>();
      for (const l of await seriesMatching(store, { ...sq, limit: 0 })) {
        const v = l[name];
        if (v !== undefined && v !== '') values.add(v);
      }
      const out = [...values].sort();
      return sq.limit !== undefined && sq.limit > 0 ? out.slice(0, sq.limit) : out;
    },
  };
  return {
    instant: (query, timeMs, q) => guard(() => engine.instant(query, timeMs, q)),
    range: (query, startMs, endMs, stepMs, q) => guard(() => engine.range(query, startMs, endMs, stepMs, q)),
    series: (sq) => guard(() => engine.series(sq)),
    labelNames: (sq) => guard(() => engine.labelNames(sq)),
    labelValues: (name, sq) => guard(() => engine.labelValues(name, sq)),
  };
}

/**
 * Every rejection is a QueryError: a failed store read is `internal` (as Prometheus
 * answers a storage error), a too deep expression `execution`.
 */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof QueryError) throw e;
    if (e instanceof RangeError && /call stack/i.test(e.message)) throw new QueryError('execution', 'expression nested too deeply to evaluate');
    throw new QueryError('internal', e instanceof Error ? e.message : String(e));
  }
}

/** Label sets (with `__name__`) of the series matching any selector with samples in the range. */
async function seriesMatching(store: Store, sq: SeriesQuery): Promise<Labels[]> {
  checkTime('start', sq.startMs);
  checkTime('end', sq.endMs);
  const selectors = sq.match.map((m) => {
    let e: Expr;
    try {
      e = parseQuery(m);
    } catch (err) {
      if (err instanceof QueryError) throw new QueryError('bad_data', err.message, 'match[]');
      throw err;
    }
    if (e.kind !== 'vector') throw new QueryError('bad_data', `${m} is not a series selector`, 'match[]');
    return e.matchers.map(matcherTest);
  });
  const all = await store.listSeries();
  const matched = all
    .map((s) => ({ id: s.id, metric: seriesMetric(s.name, s.labels) }))
    .filter((s) => selectors.length === 0 || selectors.some((tests) => tests.every((t) => t(s.metric))));
  if (matched.length === 0) return [];
  // Only series with a sample in the range: one read of at most one sample per series (an
  // index probe), rather than every sample of the range.
  const withData = new Set<number>();
  const from = Math.max(0, sq.startMs);
  const to = Math.min(sq.endMs + 1, 253_402_300_799_999);
  if (to > from) {
    for (const s of matched) {
      const r = await store.readSamples({ seriesIds: [s.id], fromMs: from, toMs: to, limit: 1 });
      if (r.samples.length > 0) withData.add(s.id);
    }
  }
  const out = matched.filter((s) => withData.has(s.id)).map((s) => s.metric);
  out.sort((a, b) => (labelsKey(a) < labelsKey(b) ? -1 : 1));
  return sq.limit !== undefined && sq.limit > 0 ? out.slice(0, sq.limit) : out;
}
