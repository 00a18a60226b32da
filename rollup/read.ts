/**
 * Tier-aware reads: the cheapest tier that covers a window at a step, and the seed's
 * getMetricStats answered from a tier (with raw samples only for the edges the tier's
 * buckets do not cover). Every answer says which tier produced it.
 */
import { isStaleNaN } from '../storage/stale.js';
import type { LabelMatcher, MetricStats, SeriesInfo, Store, TierColumn } from '../storage/store.js';
import { readTierRowsBySql } from '../storage/tier-rows.js';
import { matchSeries } from '../storage/store-common.js';
import type { Tier } from './tiers.js';

/**
 * The coarsest tier whose buckets are no wider than `stepMs` and whose retention
 * still holds `fromMs`; undefined means raw samples answer. When raw no longer holds
 * `fromMs` either (`rawRetentionMs` given), the finest tier that does answers, at a
 * coarser step than asked rather than with missing data.
 */
export function chooseTier(tiers: readonly Tier[], q: { fromMs: number; stepMs: number; nowMs: number; rawRetentionMs?: number }): Tier | undefined {
  let best: Tier | undefined;
  for (const t of tiers) if (t.resolutionMs <= q.stepMs && q.nowMs - t.retentionMs <= q.fromMs) best = t;
  if (best || q.rawRetentionMs === undefined || q.nowMs - q.rawRetentionMs <= q.fromMs) return best;
  return tiers.find((t) => q.nowMs - t.retentionMs <= q.fromMs);
}

/** One point of a range read. */
export interface RangePoint {
  readonly seriesId: number;
  /** Bucket start (or sample time for raw). */
  readonly ts: number;
  readonly count: number;
  readonly avg: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly last: number | null;
  /** Counter increase in the bucket (null for gauges and raw). */
  readonly increase: number | null;
}

/** A range read's answer. */
export interface RangeResult {
  /** `raw` or the tier name. */
  readonly answeredBy: string;
  readonly series: readonly SeriesInfo[];
  readonly points: readonly RangePoint[];
}

async function seriesOf(store: Store, name: string, matchers: readonly LabelMatcher[] | undefined): Promise<SeriesInfo[]> {
  const all = (await store.listSeries()).filter((s) => s.name === name);
  return matchers && matchers.length > 0 ? matchSeries(all, matchers) : all;
}

/** RangePoint values a caller may ask readTier for; those not asked read null. */
export type RangeField = 'avg' | 'min' | 'max' | 'last' | 'increase';

const ALL_FIELDS: readonly RangeField[] = ['avg', 'min', 'max', 'last', 'increase'];

/** The tier columns behind some RangePoint fields (count always: avg and empty buckets need it). */
function columnsFor(fields: readonly RangeField[]): TierColumn[] {
  const cols: TierColumn[] = ['count'];
  for (const f of fields) {
    const c = f === 'avg' ? 'sum' : f;
    if (!cols.includes(c)) cols.push(c);
  }
  return cols;
}

/**
 * Rows of one tier for some series in `[from, to)`, ordered by series then bucket start,
 * read as packed columns (Store.readTierRows, or the same SQL through `query` for a
 * store without it) and made into points here. `fields` (default all) names the values
 * the caller uses; the others are not read and come back null.
 */
export async function readTier(store: Store, tier: string, ids: readonly number[], fromMs: number, toMs: number, fields: readonly RangeField[] = ALL_FIELDS): Promise<RangePoint[]> {
  if (ids.length === 0) return [];
  const q = { tier, seriesIds: ids, fromMs, toMs, columns: columnsFor(fields) };
  const r = store.readTierRows ? await store.readTierRows(q) : await readTierRowsBySql(store, q);
  // One pass, no per-value calls: ~45k rows on a 30-day overview refresh.
  const col = (c: TierColumn): { v: Float64Array | undefined; bit: number } => {
    const i = r.columns.indexOf(c);
    return i < 0 ? { v: undefined, bit: 0 } : { v: r.values[i], bit: 1 << i };
  };
  const [count, sum, min, max, last, inc] = [col('count'), col('sum'), col('min'), col('max'), col('last'), col('increase')];
  const { seriesIds, ts, nulls } = r;
  const get = (c: { v: Float64Array | undefined; bit: number }, i: number, bits: number): number | null => (c.v === undefined || (bits & c.bit) !== 0 ? null : c.v[i]!);
  const out = new Array<RangePoint>(seriesIds.length);
  for (let i = 0; i < out.length; i++) {
    const bits = nulls[i]!;
    const n = get(count, i, bits) ?? 0;
    const s = get(sum, i, bits);
    out[i] = { seriesId: seriesIds[i]!, ts: ts[i]!, count: n, avg: s !== null && n > 0 ? s / n : null, min: get(min, i, bits), max: get(max, i, bits), last: get(last, i, bits), increase: get(inc, i, bits) };
  }
  return out;
}

/** A range read of every series named `name` (and matching `matchers`) at the cheapest tier for `stepMs`. */
export async function readRange(
  store: Store,
  tiers: readonly Tier[],
  q: { name: string; matchers?: readonly LabelMatcher[]; fromMs: number; toMs: number; stepMs: number; nowMs?: number; rawRetentionMs?: number },
): Promise<RangeResult> {
  if (!(q.toMs > q.fromMs)) throw new RangeError(`readRange ${q.name}: toMs (${q.toMs}) must be after fromMs (${q.fromMs})`);
  if (!(q.stepMs > 0)) throw new RangeError(`readRange ${q.name}: stepMs must be positive, got ${q.stepMs}`);
  const tier = chooseTier(tiers, { fromMs: q.fromMs, stepMs: q.stepMs, nowMs: q.nowMs ?? Date.now(), ...(q.rawRetentionMs !== undefined ? { rawRetentionMs: q.rawRetentionMs } : {}) });
  const series = await seriesOf(store, q.name, q.matchers);
  if (!tier) {
    const raw = await store.readSamples({ seriesIds: series.map((s) => s.id), fromMs: q.fromMs, toMs: q.toMs });
    // A stale marker (storage/stale.ts) ends a series; it is no point.
    const points = raw.samples.filter((s) => !isStaleNaN(s.value)).map((s) => {
      const v = Number.isNaN(s.value) ? null : s.value;
      return { seriesId: s.seriesId, ts: s.timeMs, count: 1, avg: v, min: v, max: v, last: v, increase: null };
    });
    return { answeredBy: 'raw', series, points };
  }
  return { answeredBy: tier.name, series, points: await readTier(store, tier.name, series.map((s) => s.id), q.fromMs, q.toMs) };
}

/** getMetricStats with the tier that answered and the edges raw samples filled in. */
export interface TieredMetricStats extends MetricStats {
  readonly answeredBy: string;
  /** Part of the window the tier answered, `[fromMs, toMs)`; raw samples answer the rest. */
  readonly tierSpan: { readonly fromMs: number; readonly toMs: number } | null;
}

/**
 * The seed's getMetricStats(name, hours) from the coarsest tier whose buckets fit the
 * window at least four times over (and still hold its start), raw samples answering
 * the two edges the whole buckets leave (the head before the first bucket and the tail
 * after the tier's watermark). Without such a tier, raw answers all of it.
 */
export async function getMetricStatsTiered(store: Store, tiers: readonly Tier[], name: string, hours: number, nowMs: number, watermark: (tier: string) => Promise<number | undefined>): Promise<TieredMetricStats> {
  if (!(hours > 0)) throw new RangeError(`getMetricStats ${name}: hours must be positive, got ${hours}`);
  const fromMs = nowMs - hours * 3_600_000;
  const tier = chooseTier(tiers, { fromMs, stepMs: (hours * 3_600_000) / 4, nowMs });
  const wm = tier ? await watermark(tier.name) : undefined;
  let span: { fromMs: number; toMs: number } | null = null;
  if (tier && wm !== undefined) {
    const a = Math.ceil(fromMs / tier.resolutionMs) * tier.resolutionMs;
    const b = Math.min(wm, Math.floor(nowMs / tier.resolutionMs) * tier.resolutionMs);
    if (b > a) span = { fromMs: a, toMs: b };
  }
  const series = await seriesOf(store, name, undefined);
  const ids = series.map((s) => s.id);
  let count = 0;
  let sum = 0;
  let valued = 0;
  let min = Infinity;
  let max = -Infinity;
  let first = Infinity;
  let last = -Infinity;
  const addRaw = async (a: number, b: number): Promise<void> => {
    if (b <= a || ids.length === 0) return;
    const r = await store.readSamples({ seriesIds: ids, fromMs: a, toMs: b });
    for (const s of r.samples) {
      if (isStaleNaN(s.value)) continue; // a marker is no sample
      count++;
      first = Math.min(first, s.timeMs);
      last = Math.max(last, s.timeMs);
      if (Number.isNaN(s.value)) continue;
      valued++;
      sum += s.value;
      min = Math.min(min, s.value);
      max = Math.max(max, s.value);
    }
  };
  if (span && tier) {
    await addRaw(fromMs, span.fromMs);
    for (const p of await readTier(store, tier.name, ids, span.fromMs, span.toMs, ['avg', 'min', 'max'])) {
      if (p.count === 0) continue;
      count += p.count;
      valued += p.count;
      if (p.avg !== null) sum += p.avg * p.count;
      if (p.min !== null) min = Math.min(min, p.min);
      if (p.max !== null) max = Math.max(max, p.max);
      first = Math.min(first, p.ts);
      last = Math.max(last, p.ts);
    }
    await addRaw(span.toMs, nowMs + 1);
  } else {
    await addRaw(fromMs, nowMs + 1);
  }
  return {
    name,
    hours,
    count,
    avg: valued > 0 ? sum / valued : null,
    min: valued > 0 ? min : null,
    max: valued > 0 ? max : null,
    firstMs: Number.isFinite(first) ? first : null,
    lastMs: Number.isFinite(last) ? last : null,
    answeredBy: span && tier ? tier.name : 'raw',
    tierSpan: span,
  };
}
