/**
 * `sum`/`count`/`min`/`max` `by|without (…) (rate|increase|delta(sel[r]))` over a plain
 * selector (no stale marker, no tier), the shape of most dashboard panels, evaluated at
 * one step without a VSample per series and without a group-key lookup per series: each
 * series' group is found once per query, each step folds the series' rates into their
 * groups in series order. The values and the order of the groups are the generic path's
 * (query/aggregations.ts), which answers every other shape.
 */
import type { Aggregate, Call, Expr } from './ast.js';
import type { EvalContext } from './eval.js';
import { KahanSum, groupLabels } from './aggregations.js';
import { extrapolatedRate, notCounterInfo } from './rate.js';
import { atTime, lastAtOrBefore } from './select.js';
import type { LoadedSeries } from './select.js';
import { keyOn, keyWithout } from './values.js';
import type { VSample, Value } from './values.js';
import type { Labels } from '../storage/store.js';

const FUSED_OPS: ReadonlySet<string> = new Set(['sum', 'count', 'min', 'max']);
const RATE_FUNCS: ReadonlySet<string> = new Set(['rate', 'increase', 'delta']);

/** Each series' group (an index into `metrics`), and where its last window ended (a search hint). */
interface Grouping {
  readonly groupOf: Int32Array;
  readonly metrics: Labels[];
  readonly hiHint: Int32Array;
  readonly loHint: Int32Array;
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
  g = { groupOf, metrics, hiHint: new Int32Array(series.length).fill(-1), loHint: new Int32Array(series.length).fill(-1) };
  byAgg.set(e, g);
  return g;
}

/** Index of the last element `<= t` (or -1), walking from `hint` when it is close, else by bisection. */
function seek(a: Float64Array, t: number, hint: number): number {
  const n = a.length;
  if (hint >= 0 && hint < n && a[hint]! <= t) {
    let i = hint;
    for (let k = 0; k < 8; k++) {
      if (i + 1 >= n || a[i + 1]! > t) return i;
      i++;
    }
  }
  return lastAtOrBefore(a, t);
}

function unparen(e: Expr): Expr {
  return e.kind === 'paren' ? unparen(e.expr) : e;
}

/**
 * The aggregation `e` at `t` when it has the fused shape (see the module comment) and its
 * selector's series are plain; undefined to let the generic path answer.
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
  const g = groupingOf(e, series);
  const sel = m.vector;
  const end = (sel.at !== undefined ? atTime(sel.at, ctx.startMs, ctx.endMs) : t) - sel.offsetMs;
  const rangeMs = m.rangeMs;
  const f = call.func;
  const isCounter = f !== 'delta';
  const isRate = f === 'rate';
  const n = g.metrics.length;
  const counts = new Int32Array(n);
  const order: number[] = [];
  const sums: (KahanSum | undefined)[] = e.op === 'sum' ? new Array<KahanSum | undefined>(n) : [];
  const ext = e.op === 'min' || e.op === 'max' ? new Float64Array(n) : undefined;
  const isMin = e.op === 'min';
  let checkedName: string | undefined;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    const hi = seek(s.ts, end, g.hiHint[i]!);
    g.hiHint[i] = hi;
    if (hi < 0) continue;
    const before = seek(s.ts, end - rangeMs, g.loHint[i]!);
    g.loHint[i] = before;
    const v = extrapolatedRate(s.ts, s.vs, before + 1, hi, end, rangeMs, isCounter, isRate);
    if (v === undefined) continue;
    if (isCounter) {
      const name = s.metric['__name__'] ?? '';
      if (name !== checkedName) {
        checkedName = name;
        const info = notCounterInfo(name);
        if (info !== undefined && !ctx.warnings.includes(info)) ctx.warnings.push(info);
      }
    }
    const gi = g.groupOf[i]!;
    if (counts[gi]++ === 0) {
      order.push(gi);
      if (ext !== undefined) {
        ext[gi] = v;
        continue;
      }
      if (e.op === 'sum') sums[gi] = new KahanSum();
    }
    if (e.op === 'sum') sums[gi]!.add(v);
    else if (ext !== undefined) {
      const cur = ext[gi]!;
      if (isMin ? v < cur || Number.isNaN(cur) : v > cur || Number.isNaN(cur)) ext[gi] = v;
    }
  }
  const out: VSample[] = [];
  for (const gi of order) {
    const value = e.op === 'sum' ? sums[gi]!.value : e.op === 'count' ? counts[gi]! : ext![gi]!;
    out.push({ metric: g.metrics[gi]!, value, ts: t });
  }
  return { type: 'vector', samples: out };
}
