/**
 * Answering `*_over_time` and `rate`/`increase` from a rollup tier instead of raw samples
 * (issue 13 item 3), as Thanos does for downsampled blocks: `min_over_time` → `min`,
 * `max_over_time` → `max`, `sum_over_time` → `sum`, `count_over_time` → `count`,
 * `avg_over_time` → `sum`/`count`, `rate`/`increase` → the counter `increase`.
 *
 * A tier answers a call `f(sel[range])` when its buckets tile every window exactly: the
 * range and the step are whole multiples of the bucket width and the first evaluation
 * time (less the offset) falls on a bucket edge. Buckets `[t-range, watermark)` come from
 * the tier; the samples from the watermark to `t` (not yet rolled up) from raw. Docs:
 * docs/promql.md.
 */
import { readTier } from '../rollup/read.js';
import type { RangePoint } from '../rollup/read.js';
import type { Tier } from '../rollup/tiers.js';
import type { Call, Expr } from './ast.js';

/** Where the engine finds the tiers and how far each is rolled up. */
export interface TierSource {
  /** The tier chain, finest first (rollup/tiers.ts). */
  readonly tiers: readonly Tier[];
  /** End of the last bucket rolled up, epoch ms (RollupEngine.watermark); undefined = none yet. */
  readonly watermark: (tier: string) => Promise<number | undefined>;
  /** The clock, for retention. @default Date.now */
  readonly now?: () => number;
}

/** The functions a tier can answer. */
export const TIERED_FUNCTIONS: ReadonlySet<string> = new Set(['min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'avg_over_time', 'rate', 'increase']);

/** A call answered from a tier. */
export interface TierPlan {
  readonly tier: Tier;
  /** Buckets before this are read from the tier, samples from here on from raw. */
  readonly watermarkMs: number;
}

/** The calls of `root` (outside subqueries) that a tier answers, and which tier. */
export async function planTiers(root: Expr, q: { startMs: number; endMs: number; stepMs: number }, source: TierSource): Promise<Map<Call, TierPlan>> {
  const plans = new Map<Call, TierPlan>();
  const calls: Call[] = [];
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'call':
        if (TIERED_FUNCTIONS.has(e.func) && e.args[0]?.kind === 'matrix' && e.args[0].vector.at === undefined) calls.push(e);
        else e.args.forEach(walk);
        return;
      case 'aggregate':
        walk(e.expr);
        if (e.param !== undefined) walk(e.param);
        return;
      case 'binary':
        walk(e.lhs);
        walk(e.rhs);
        return;
      case 'unary':
      case 'paren':
        walk(e.expr);
        return;
      default:
        // Subqueries evaluate at their own steps: raw answers them.
        return;
    }
  };
  walk(root);
  if (calls.length === 0) return plans;
  const now = (source.now ?? Date.now)();
  const watermarks = new Map<string, number | undefined>();
  for (const call of calls) {
    const m = call.args[0] as Extract<Expr, { kind: 'matrix' }>;
    const first = q.startMs - m.vector.offsetMs;
    // Coarsest first.
    for (const tier of [...source.tiers].sort((a, b) => b.resolutionMs - a.resolutionMs)) {
      const res = tier.resolutionMs;
      if (m.rangeMs % res !== 0 || q.stepMs % res !== 0 || ((first % res) + res) % res !== 0) continue;
      if (now - tier.retentionMs > first - m.rangeMs) continue;
      if (!watermarks.has(tier.name)) watermarks.set(tier.name, await source.watermark(tier.name));
      const wm = watermarks.get(tier.name);
      if (wm === undefined || wm <= first - m.rangeMs) continue;
      plans.set(call, { tier, watermarkMs: wm });
      break;
    }
  }
  return plans;
}

/** Tier buckets of some series, by series id, ordered by bucket start. */
export async function loadTierRows(store: Parameters<typeof readTier>[0], tier: string, ids: readonly number[], fromMs: number, toMs: number): Promise<Map<number, RangePoint[]>> {
  const out = new Map<number, RangePoint[]>();
  if (toMs <= fromMs) return out;
  for (const p of await readTier(store, tier, ids, fromMs, toMs)) {
    let a = out.get(p.seriesId);
    if (a === undefined) out.set(p.seriesId, (a = []));
    a.push(p);
  }
  return out;
}

/** A resetting counter's increase over a run of values from `prev`. */
function increaseFrom(prev: number | undefined, vs: readonly number[]): number {
  let total = 0;
  let last = prev;
  for (const v of vs) {
    if (last !== undefined && !Number.isNaN(v)) total += v >= last ? v - last : v;
    if (!Number.isNaN(v)) last = v;
  }
  return total;
}

/**
 * `func` over one window from whole buckets plus the raw samples after them; undefined
 * when the window holds no data.
 */
export function combine(func: string, buckets: readonly RangePoint[], rawVs: readonly number[], rangeMs: number): number | undefined {
  let count = 0;
  let sum = 0;
  let min = Number.NaN;
  let max = Number.NaN;
  let inc = 0;
  let prevLast: number | undefined;
  for (const b of buckets) {
    if (b.count === 0) continue;
    count += b.count;
    if (b.avg !== null) sum += b.avg * b.count;
    if (b.min !== null && (Number.isNaN(min) || b.min < min)) min = b.min;
    if (b.max !== null && (Number.isNaN(max) || b.max > max)) max = b.max;
    if (b.increase !== null) inc += b.increase;
    else if (b.last !== null) inc += increaseFrom(prevLast, [b.last]);
    if (b.last !== null) prevLast = b.last;
  }
  for (const v of rawVs) {
    count++;
    if (Number.isNaN(v)) continue;
    sum += v;
    if (Number.isNaN(min) || v < min) min = v;
    if (Number.isNaN(max) || v > max) max = v;
  }
  inc += increaseFrom(prevLast, rawVs);
  if (count === 0) return undefined;
  switch (func) {
    case 'min_over_time':
      return min;
    case 'max_over_time':
      return max;
    case 'sum_over_time':
      return sum;
    case 'count_over_time':
      return count;
    case 'avg_over_time':
      return sum / count;
    case 'increase':
      return inc;
    case 'rate':
      return inc / (rangeMs / 1000);
    default:
      return undefined;
  }
}
