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
import { readTierRowsBySql } from '../storage/tier-rows.js';
import type { Store, TierColumn, TierRows } from '../storage/store.js';
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

/**
 * `source` with each tier's watermark kept for `ttlMs` after it was read. A query over a
 * tier otherwise starts with its own store round trip (on SQLite a lock cycle, the most
 * of a one-series 30-day query's time). A watermark up to `ttlMs` old is still right:
 * the raw samples after it are kept far longer than that, so the query reads a little
 * more raw instead of the tier's newest buckets. (When a new host joins a shared store
 * its lower watermark is seen up to `ttlMs` late.)
 */
export function withWatermarkMemo(source: TierSource, ttlMs: number): TierSource {
  const now = (): number => performance.now();
  const memo = new Map<string, { at: number; value: Promise<number | undefined> }>();
  return {
    ...source,
    watermark: (tier: string) => {
      const hit = memo.get(tier);
      if (hit !== undefined && now() - hit.at < ttlMs) return hit.value;
      const value = source.watermark(tier);
      memo.set(tier, { at: now(), value });
      // A failed read is not kept.
      value.catch(() => memo.delete(tier));
      return value;
    },
  };
}

/** The functions a tier can answer. */
export const TIERED_FUNCTIONS: ReadonlySet<string> = new Set(['min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'avg_over_time', 'rate', 'increase']);

/** A call answered from a tier. */
export interface TierPlan {
  readonly tier: Tier;
  /** Buckets before this are read from the tier, samples from here on from raw. */
  readonly watermarkMs: number;
  /** The function answered (which tier columns to read). */
  readonly func: string;
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
      plans.set(call, { tier, watermarkMs: wm, func: call.func });
      break;
    }
  }
  return plans;
}

/**
 * One series' buckets of a tier, as columns (views into the store's TierRows, no object
 * per bucket): `ts` the bucket starts in order; a column is undefined when the function
 * does not read it (`columnsFor`), and NULL where `nulls` has its bit (`bits`).
 */
export interface BucketColumns {
  readonly ts: Float64Array;
  readonly nulls: Uint8Array;
  readonly count: Float64Array | undefined;
  readonly sum: Float64Array | undefined;
  readonly min: Float64Array | undefined;
  readonly max: Float64Array | undefined;
  readonly last: Float64Array | undefined;
  readonly increase: Float64Array | undefined;
  readonly bits: Readonly<Record<TierColumn, number>>;
}

/** The tier columns `func` reads (combine): fewer columns, less to read and transfer. */
export function columnsFor(func: string): TierColumn[] {
  switch (func) {
    case 'min_over_time':
      return ['count', 'min'];
    case 'max_over_time':
      return ['count', 'max'];
    case 'sum_over_time':
    case 'avg_over_time':
      return ['count', 'sum'];
    case 'count_over_time':
      return ['count'];
    default:
      return ['count', 'last', 'increase'];
  }
}

/** Tier buckets of some series in `[fromMs, toMs)`, by series id, with the columns `func` needs. */
export async function loadTierRows(store: Store, tier: string, ids: readonly number[], fromMs: number, toMs: number, func: string): Promise<Map<number, BucketColumns>> {
  const out = new Map<number, BucketColumns>();
  if (toMs <= fromMs || ids.length === 0) return out;
  const q = { tier, seriesIds: ids, fromMs, toMs, columns: columnsFor(func) };
  return bucketsById(store.readTierRows !== undefined ? await store.readTierRows(q) : await readTierRowsBySql(store, q));
}

/** Rows of a tier read, by series id, as views of its columns (no copy). */
export function bucketsById(r: TierRows): Map<number, BucketColumns> {
  const out = new Map<number, BucketColumns>();
  const bits = {} as Record<TierColumn, number>;
  const col = (c: TierColumn): Float64Array | undefined => {
    const i = r.columns.indexOf(c);
    bits[c] = i < 0 ? 0 : 1 << i;
    return i < 0 ? undefined : r.values[i];
  };
  const [count, sum, min, max, last, increase] = [col('count'), col('sum'), col('min'), col('max'), col('last'), col('increase')];
  for (const c of r.columns) bits[c] ??= 0;
  const n = r.seriesIds.length;
  for (let i = 0; i < n; ) {
    const id = r.seriesIds[i]!;
    let j = i;
    while (j < n && r.seriesIds[j] === id) j++;
    const view = (a: Float64Array | undefined): Float64Array | undefined => a?.subarray(i, j);
    out.set(id, { ts: r.ts.subarray(i, j), nulls: r.nulls.subarray(i, j), count: view(count), sum: view(sum), min: view(min), max: view(max), last: view(last), increase: view(increase), bits });
    i = j;
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
 * `func` over one window from whole buckets `lo..hi-1` of `b` plus the raw samples after
 * them; undefined when the window holds no data.
 */
export function combine(func: string, b: BucketColumns, lo: number, hi: number, rawVs: readonly number[], rangeMs: number): number | undefined {
  let count = 0;
  let sum = 0;
  let min = Number.NaN;
  let max = Number.NaN;
  let inc = 0;
  let prevLast: number | undefined;
  const { nulls, bits } = b;
  // As readTier's RangePoints read them, to the last bit: a NULL is null, count ?? 0, avg = sum / count.
  const get = (c: Float64Array | undefined, bit: number, i: number): number | null => (c === undefined || (nulls[i]! & bit) !== 0 ? null : c[i]!);
  for (let i = lo; i < hi; i++) {
    const n = get(b.count, bits.count, i) ?? 0;
    if (n === 0) continue;
    count += n;
    const s = get(b.sum, bits.sum, i);
    const avg = s !== null && n > 0 ? s / n : null;
    if (avg !== null) sum += avg * n;
    const mn = get(b.min, bits.min, i);
    if (mn !== null && (Number.isNaN(min) || mn < min)) min = mn;
    const mx = get(b.max, bits.max, i);
    if (mx !== null && (Number.isNaN(max) || mx > max)) max = mx;
    const last = get(b.last, bits.last, i);
    const bi = get(b.increase, bits.increase, i);
    if (bi !== null) inc += bi;
    else if (last !== null) inc += increaseFrom(prevLast, [last]);
    if (last !== null) prevLast = last;
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
