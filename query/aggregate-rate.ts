/**
 * `sum`/`count`/`min`/`max` `by|without (…) (rate|increase|delta(sel[r]))` over a plain
 * selector (no stale marker, no tier), the shape of most dashboard panels, evaluated
 * without a VSample per series and without a group-key lookup per series: each series'
 * group is found once per query, and each step folds the series' rates into their groups
 * in series order. A range query's steps are evaluated in blocks (aggregateRateInPlace).
 * The values and the order of the groups are the generic path's (query/aggregations.ts),
 * which answers every other shape.
 */
import type { Aggregate, Call, Expr, MatrixSelector } from './ast.js';
import type { EvalContext } from './eval.js';
import { groupLabels } from './aggregations.js';
import { extrapolatedRate, notCounterInfo } from './rate.js';
import { atTime, lastAtOrBefore } from './select.js';
import type { LoadedSeries } from './select.js';
import { keyOn, keyWithout } from './values.js';
import type { VSample, Value } from './values.js';
import type { Labels } from '../storage/store.js';

const FUSED_OPS: ReadonlySet<string> = new Set(['sum', 'count', 'min', 'max']);
const RATE_FUNCS: ReadonlySet<string> = new Set(['rate', 'increase', 'delta']);

/** Each series' group (an index into `metrics`). */
interface Grouping {
  readonly groupOf: Int32Array;
  readonly metrics: Labels[];
}

/** Per loaded series list (one per selector and query), per aggregation node. */
const groupings = new WeakMap<readonly LoadedSeries[], Map<Aggregate, Grouping>>();

function groupingOf(e: Aggregate, series: readonly LoadedSeries[]): Grouping {
  let byAgg = groupings.get(series);
  if (byAgg === undefined) groupings.set(series, (byAgg = new Map()));
  let g = byAgg.get(e);
  if (g !== undefined) return g;
  const index = new Map<string, number>();
  const metrics: Labels[] = [];
  const groupOf = new Int32Array(series.length);
  for (let i = 0; i < series.length; i++) {
    const l = series[i]!.metric;
    const k = e.without ? keyWithout(l, e.grouping) : keyOn(l, e.grouping);
    let gi = index.get(k);
    if (gi === undefined) {
      index.set(k, (gi = metrics.length));
      metrics.push(groupLabels(l, e));
    }
    groupOf[i] = gi;
  }
  g = { groupOf, metrics };
  byAgg.set(e, g);
  return g;
}

function unparen(e: Expr): Expr {
  return e.kind === 'paren' ? unparen(e.expr) : e;
}

/**
 * Rate windows evaluated per block (series × steps, at most MAX_BLOCK_STEPS steps): about
 * a millisecond, so the engine still yields between blocks and scrapes are served.
 */
const BLOCK_WINDOWS = 32_768;
const MAX_BLOCK_STEPS = 64;

/** The answers of one aggregation at BLOCK_STEPS consecutive steps of a range query. */
interface Block {
  readonly t0: number;
  readonly stepMs: number;
  readonly results: VSample[][];
}

/** The last block computed, per aggregation node, per query (its EvalContext). */
const blocks = new WeakMap<EvalContext, Map<Aggregate, Block>>();

/**
 * The aggregation `e` at `t` when it has the fused shape (see the module comment) and its
 * selector's series are plain; undefined to let the generic path answer.
 *
 * On a range query's grid it answers a block of steps at once, series by series: each
 * series' arrays are walked once per block instead of once per step, which keeps them
 * in the CPU's cache (step by step, every step touched every series). The values are the
 * same, bit for bit: each (step, group) still adds its series' rates in series order.
 */
export function aggregateRateInPlace(e: Aggregate, t: number, ctx: EvalContext): Value | undefined {
  if (!FUSED_OPS.has(e.op) || e.param !== undefined) return undefined;
  if (!e.without && e.grouping.includes('__name__')) return undefined;
  const inner = unparen(e.expr);
  if (inner.kind !== 'call' || !RATE_FUNCS.has(inner.func) || ctx.tierPlans?.has(inner) === true) return undefined;
  const call: Call = inner;
  const m = call.args[0];
  if (m === undefined || m.kind !== 'matrix') return undefined;
  const series = ctx.source.plainSeries(m.vector);
  if (series === undefined) return undefined;

  const step = ctx.stepMs ?? 0;
  const onGrid = step > 0 && t >= ctx.startMs && t <= ctx.endMs && (t - ctx.startMs) % step === 0;
  let byAgg = blocks.get(ctx);
  const last = byAgg?.get(e);
  if (last !== undefined && step === last.stepMs) {
    const k = (t - last.t0) / step;
    if (Number.isInteger(k) && k >= 0 && k < last.results.length) return { type: 'vector', samples: last.results[k]! };
  }
  const steps = onGrid ? Math.max(1, Math.min(MAX_BLOCK_STEPS, Math.floor(BLOCK_WINDOWS / Math.max(1, series.length)), Math.floor((ctx.endMs - t) / step) + 1)) : 1;
  const results = evalBlock(e, call, m, series, t, step, steps, ctx);
  if (onGrid && steps > 1) {
    if (byAgg === undefined) blocks.set(ctx, (byAgg = new Map()));
    byAgg.set(e, { t0: t, stepMs: step, results });
  }
  return { type: 'vector', samples: results[0]! };
}

/** The aggregation at `steps` times `t0`, `t0 + stepMs`, …: one vector per time. */
function evalBlock(e: Aggregate, call: Call, m: MatrixSelector, series: readonly LoadedSeries[], t0: number, stepMs: number, steps: number, ctx: EvalContext): VSample[][] {
  const g = groupingOf(e, series);
  const sel = m.vector;
  const fixedEnd = sel.at !== undefined ? atTime(sel.at, ctx.startMs, ctx.endMs) - sel.offsetMs : undefined;
  const rangeMs = m.rangeMs;
  const f = call.func;
  const isCounter = f !== 'delta';
  const isRate = f === 'rate';
  const n = g.metrics.length;
  const op = e.op;
  const isMin = op === 'min';
  // Per (step, group), at s * n + gi: how many series answered, and the running value.
  const counts = new Int32Array(steps * n);
  const sums = new Float64Array(op === 'sum' || op === 'min' || op === 'max' ? steps * n : 0);
  const comp = new Float64Array(op === 'sum' ? steps * n : 0);
  // Per step, the groups in the order their first series answered (the generic path's order).
  const order: number[][] = Array.from({ length: steps }, () => []);
  let checkedName: string | undefined;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    const gi = g.groupOf[i]!;
    const ts = s.ts;
    const len = ts.length;
    // The last sample at or before the window's end, and the last one before its start:
    // found by bisection at the block's first step, then walked forward (steps only grow).
    let hi = -1;
    let before = -1;
    let warned = false;
    for (let k = 0; k < steps; k++) {
      const end = fixedEnd ?? t0 + k * stepMs - sel.offsetMs;
      if (k === 0) {
        hi = lastAtOrBefore(ts, end);
        before = lastAtOrBefore(ts, end - rangeMs);
      } else if (fixedEnd === undefined) {
        while (hi + 1 < len && ts[hi + 1]! <= end) hi++;
        while (before + 1 < len && ts[before + 1]! <= end - rangeMs) before++;
      }
      if (hi < 0) continue;
      const v = extrapolatedRate(ts, s.vs, before + 1, hi, end, rangeMs, isCounter, isRate);
      if (v === undefined) continue;
      if (isCounter && !warned) {
        warned = true;
        const name = s.metric['__name__'] ?? '';
        if (name !== checkedName) {
          checkedName = name;
          const info = notCounterInfo(name);
          if (info !== undefined && !ctx.warnings.includes(info)) ctx.warnings.push(info);
        }
      }
      const at = k * n + gi;
      if (counts[at]++ === 0) {
        order[k]!.push(gi);
        if (op === 'min' || op === 'max') {
          sums[at] = v;
          continue;
        }
      }
      if (op === 'sum') {
        // KahanSum.add (query/aggregations.ts), on the arrays.
        const sum = sums[at]!;
        const tt = sum + v;
        if (Math.abs(sum) >= Math.abs(v)) comp[at] += sum - tt + v;
        else comp[at] += v - tt + sum;
        sums[at] = tt;
      } else if (op !== 'count') {
        const cur = sums[at]!;
        if (isMin ? v < cur || Number.isNaN(cur) : v > cur || Number.isNaN(cur)) sums[at] = v;
      }
    }
  }
  const out: VSample[][] = [];
  for (let k = 0; k < steps; k++) {
    const t = t0 + k * stepMs;
    const vec: VSample[] = [];
    for (const gi of order[k]!) {
      const at = k * n + gi;
      const sum = sums[at]!;
      const value = op === 'sum' ? (Number.isFinite(sum) ? sum + comp[at]! : sum) : op === 'count' ? counts[at]! : sum;
      vec.push({ metric: g.metrics[gi]!, value, ts: t });
    }
    out.push(vec);
  }
  return out;
}
