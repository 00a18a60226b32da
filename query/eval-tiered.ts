/** Evaluates a call that a rollup tier answers (query/tiers.ts) at one step. */
import type { Call, MatrixSelector } from './ast.js';
import type { EvalContext } from './eval.js';
import { rangeFunction } from './functions.js';
import { combine } from './tiers.js';
import type { TierPlan } from './tiers.js';
import { isStaleNaN } from './values.js';
import type { VSample, Value } from './values.js';

/** The calls whose tier each query (by its warning list) was told of: the text is built once per call, not per step. */
const warned = new WeakMap<string[], Set<Call>>();

/** `f(sel[range])` at `t` from the tier's buckets before the watermark and raw samples after it. */
export function evalTiered(e: Call, plan: TierPlan, t: number, ctx: EvalContext): Value {
  const m = e.args[0] as MatrixSelector;
  const end = t - m.vector.offsetMs;
  const start = end - m.rangeMs;
  // Whole buckets [start, split) come from the tier.
  const split = Math.min(Math.max(plan.watermarkMs, start), end);
  const out: VSample[] = [];
  let fromTier = false;
  for (const s of ctx.source.tiered(m.vector)) {
    const b = s.buckets;
    const lo = b === undefined ? 0 : firstAtOrAfter(b.ts, (x) => x, start);
    const hi = b === undefined ? 0 : firstAtOrAfter(b.ts, (x) => x, split);
    const ts: number[] = [];
    const vs: number[] = [];
    if (s.raw !== undefined) {
      const rts = s.raw.ts;
      // Samples in (start, end] from the split on.
      const lo = Math.max(firstAtOrAfter(rts, (x) => x, split), firstAtOrAfter(rts, (x) => x, start + 1));
      for (let i = lo; i < rts.length && rts[i]! <= end; i++) {
        if (isStaleNaN(s.raw.vs[i]!)) continue;
        ts.push(rts[i]!);
        vs.push(s.raw.vs[i]!);
      }
    }
    // No bucket in the window: raw holds all of it, with Prometheus' own arithmetic.
    const v = b === undefined || hi <= lo ? (ts.length > 0 ? rangeFunction(e.func, ts, vs, end, m.rangeMs) : undefined) : combine(e.func, b, lo, hi, vs, m.rangeMs);
    if (b !== undefined && hi > lo) fromTier = true;
    if (v !== undefined) out.push({ metric: s.metric, value: v, ts: t, drop: true });
  }
  let told = warned.get(ctx.warnings);
  if (told === undefined) warned.set(ctx.warnings, (told = new Set()));
  if (fromTier && !told.has(e)) {
    told.add(e);
    ctx.warnings.push(`Larder: ${e.func}() read the ${plan.tier.name} rollup tier before ${new Date(plan.watermarkMs).toISOString()} (raw samples after)`);
  }
  return { type: 'vector', samples: out };
}

/** Index of the first element whose key is `>= t` (the length when none). */
function firstAtOrAfter<T>(a: ArrayLike<T>, key: (x: T) => number, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(a[mid]!) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
