/** Evaluates a call that a rollup tier answers (query/tiers.ts) at one step. */
import type { Call, MatrixSelector } from './ast.js';
import type { EvalContext } from './eval.js';
import { rangeFunction } from './functions.js';
import { combine } from './tiers.js';
import type { TierPlan } from './tiers.js';
import { isStaleNaN } from './values.js';
import type { VSample, Value } from './values.js';

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
    const buckets = s.buckets.filter((b) => b.ts >= start && b.ts < split);
    const ts: number[] = [];
    const vs: number[] = [];
    if (s.raw !== undefined) {
      for (let i = 0; i < s.raw.ts.length; i++) {
        const x = s.raw.ts[i]!;
        if (x > start && x >= split && x <= end && !isStaleNaN(s.raw.vs[i]!)) {
          ts.push(x);
          vs.push(s.raw.vs[i]!);
        }
      }
    }
    // No bucket in the window: raw holds all of it, with Prometheus' own arithmetic.
    const v = buckets.length === 0 ? (ts.length > 0 ? rangeFunction(e.func, ts, vs, end, m.rangeMs) : undefined) : combine(e.func, buckets, vs, m.rangeMs);
    if (buckets.length > 0) fromTier = true;
    if (v !== undefined) out.push({ metric: s.metric, value: v, ts: t, drop: true });
  }
  if (fromTier) ctx.warnings.push(`Larder: ${e.func}() read the ${plan.tier.name} rollup tier before ${new Date(plan.watermarkMs).toISOString()} (raw samples after)`);
  return { type: 'vector', samples: out };
}
