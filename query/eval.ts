/**
 * Evaluates a parsed query at one instant (query/engine.ts calls it once per step),
 * over the samples query/select.ts loaded up front.
 */
import type { Call, Expr, Subquery, VectorSelector } from './ast.js';
import type { TierPlan } from './tiers.js';
import { evalAggregate } from './aggregations.js';
import { evalBinary } from './binary.js';
import { evalCall } from './functions.js';
import { atTime } from './select.js';
import type { SampleSource } from './select.js';
import { QueryError } from './types.js';
import { labelsKey } from './values.js';
import type { MSeries, VSample, Value } from './values.js';

/** What every step of one query shares. */
export interface EvalContext {
  readonly source: SampleSource;
  readonly startMs: number;
  readonly endMs: number;
  /** The range query's step (0 for an instant query): its steps are startMs + k × stepMs. */
  readonly stepMs?: number;
  readonly lookbackMs: number;
  /** Step of subqueries written without one (`x[5m:]`). */
  readonly subqueryStepMs: number;
  /** Throws QueryError('timeout') once the deadline passed. */
  readonly checkDeadline: () => void;
  /** Warnings and infos, as the API shows them (deduplicated by the engine). */
  readonly warnings: string[];
  /** Counts points subqueries hold; throws once the query's sample budget is spent. */
  readonly countPoints: (n: number) => void;
  /** Calls a rollup tier answers (query/tiers.ts). */
  readonly tierPlans?: ReadonlyMap<Call, TierPlan>;
}

/** The value of `e` at time `t` (ms). */
export function evaluate(e: Expr, t: number, ctx: EvalContext): Value {
  switch (e.kind) {
    case 'number':
      return { type: 'scalar', value: e.value };
    case 'string':
      return { type: 'string', value: e.value };
    case 'paren':
      return evaluate(e.expr, t, ctx);
    case 'vector':
      return { type: 'vector', samples: ctx.source.instant(e, selectorTime(e, t, ctx), ctx.lookbackMs) };
    case 'matrix':
      return { type: 'matrix', series: ctx.source.range(e.vector, selectorTime(e.vector, t, ctx), e.rangeMs) };
    case 'subquery':
      return { type: 'matrix', series: evalSubquery(e, t, ctx) };
    case 'unary': {
      const v = evaluate(e.expr, t, ctx);
      if (e.op === '+') return v;
      if (v.type === 'scalar') return { type: 'scalar', value: -v.value };
      if (v.type === 'vector') return checkDistinct({ type: 'vector', samples: v.samples.map((s) => ({ metric: s.metric, drop: true, value: -s.value, ts: t })) });
      throw new QueryError('execution', `unary minus on ${v.type}`);
    }
    case 'binary':
      return evalBinary(e, evaluate(e.lhs, t, ctx), evaluate(e.rhs, t, ctx), t);
    case 'aggregate':
      return evalAggregate(e, t, ctx);
    case 'call':
      return evalCall(e, t, ctx);
  }
}

/** The time a selector reads at: `@` if set, else `t`; then the offset. */
function selectorTime(sel: VectorSelector, t: number, ctx: EvalContext): number {
  return (sel.at !== undefined ? atTime(sel.at, ctx.startMs, ctx.endMs) : t) - sel.offsetMs;
}

/** The points of a subquery at `t`: the inner expression at every multiple of the step in `(T - range, T]`. */
export function evalSubquery(e: Subquery, t: number, ctx: EvalContext): MSeries[] {
  const T = (e.at !== undefined ? atTime(e.at, ctx.startMs, ctx.endMs) : t) - e.offsetMs;
  const step = e.stepMs > 0 ? e.stepMs : ctx.subqueryStepMs;
  const lo = T - e.rangeMs;
  let first = Math.ceil(lo / step) * step;
  if (first === lo) first += step;
  const series = new Map<string, { metric: VSample['metric']; ts: number[]; vs: number[]; drop?: boolean }>();
  for (let u = first; u <= T; u += step) {
    ctx.checkDeadline();
    const v = evaluate(e.expr, u, ctx);
    if (v.type !== 'vector') throw new QueryError('execution', `subquery over ${v.type}`);
    ctx.countPoints(v.samples.length);
    for (const s of v.samples) {
      const k = labelsKey(s.metric);
      let out = series.get(k);
      if (out === undefined) series.set(k, (out = { metric: s.metric, ts: [], vs: [], ...(s.drop === true ? { drop: true } : {}) }));
      out.ts.push(u);
      out.vs.push(s.value);
    }
  }
  return [...series.values()];
}

/** Prometheus' rule: a function or operator must not yield two series with one label set. */
export function checkDistinct(v: Value): Value {
  if (v.type !== 'vector' || v.samples.length < 2) return v;
  const seen = new Set<string>();
  for (const s of v.samples) {
    const k = labelsKey(s.metric);
    if (seen.has(k)) throw new QueryError('execution', `vector cannot contain metrics with the same labelset`);
    seen.add(k);
  }
  return v;
}

