/** `histogram_quantile` over classic (`le`-labelled) buckets, as Prometheus 3 computes it. */
import { labelsKey } from './values.js';
import type { VSample } from './values.js';
import type { Labels } from '../storage/store.js';

interface Bucket {
  upper: number;
  count: number;
}

/** Parses an `le` value as Prometheus does (floats, `+Inf`). */
function parseLe(s: string): number | undefined {
  const t = s.trim().toLowerCase();
  if (t === '+inf' || t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return Number.NaN;
  if (!/^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[-+]?[0-9]+)?$/.test(t) && !/^[-+]?0x[0-9a-f]+$/.test(t)) return undefined;
  return Number(t);
}

/** Bucket sets of `v`, grouped by every label but `le` (the name included). */
function bucketSets(v: readonly VSample[], warnings: string[]): Map<string, { metric: Labels; buckets: Bucket[] }> {
  const groups = new Map<string, { metric: Labels; buckets: Bucket[] }>();
  for (const s of v) {
    const le = s.metric['le'] ?? '';
    const upper = parseLe(le);
    if (upper === undefined) {
      warnings.push(`PromQL warning: bucket label "le" is missing or has a malformed value of "${le}" for metric name "${s.metric['__name__'] ?? ''}"`);
      continue;
    }
    // Grouped by name too: two names with equal labels collide once names are dropped.
    const { le: _le, ...rest } = s.metric;
    const k = labelsKey(rest);
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = { metric: rest, buckets: [] }));
    g.buckets.push({ upper, count: s.value });
  }
  return groups;
}

/** Sorted by upper bound, equal bounds summed, counts made monotonic: [buckets, whether they had to be]. */
function normalise(input: readonly Bucket[]): [Bucket[], boolean] {
  const sorted = [...input].sort((a, b) => a.upper - b.upper);
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last.upper === b.upper) last.count += b.count;
    else buckets.push({ ...b });
  }
  let fixed = false;
  let max = Number.NaN;
  for (const b of buckets) {
    if (Number.isNaN(max) || b.count > max) max = b.count;
    else if (b.count < max) {
      b.count = max;
      fixed = true;
    }
  }
  return [buckets, fixed];
}

/** The q-quantile of each bucket set in `v` (grouped by labels other than `le`). */
export function histogramQuantile(q: number, v: readonly VSample[], t: number, warnings: string[]): VSample[] {
  const groups = bucketSets(v, warnings);
  if (Number.isNaN(q) || q < 0 || q > 1) warnings.push(`PromQL warning: quantile value should be between 0 and 1, got ${q}`);
  const out: VSample[] = [];
  for (const g of groups.values()) {
    const [value, fixed] = bucketQuantile(q, g.buckets);
    if (fixed) warnings.push(`PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name "${g.metric['__name__'] ?? ''}"`);
    out.push({ metric: g.metric, value, ts: t, drop: true });
  }
  return out;
}

/** [quantile, whether the counts had to be made monotonic]. */
export function bucketQuantile(q: number, input: Bucket[]): [number, boolean] {
  if (Number.isNaN(q)) return [Number.NaN, false];
  if (q < 0) return [-Infinity, false];
  if (q > 1) return [Infinity, false];
  // Buckets with the same upper bound (e.g. `1` and `1.0`) are summed.
  const [buckets, fixed] = normalise(input);
  if (buckets.length === 0 || buckets[buckets.length - 1]!.upper !== Infinity) return [Number.NaN, false];
  if (buckets.length < 2) return [Number.NaN, fixed];
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0 || Number.isNaN(observations)) return [Number.NaN, fixed];
  let rank = q * observations;
  let b = buckets.findIndex((x) => x.count >= rank);
  if (b < 0) b = buckets.length - 1;
  if (b === buckets.length - 1) return [buckets[buckets.length - 2]!.upper, fixed];
  if (b === 0 && buckets[0]!.upper <= 0) return [buckets[0]!.upper, fixed];
  let start = 0;
  const end = buckets[b]!.upper;
  let count = buckets[b]!.count;
  if (b > 0) {
    start = buckets[b - 1]!.upper;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return [start + (end - start) * (rank / count), fixed];
}

/** The share of observations between `lower` and `upper` in each bucket set of `v`. */
export function histogramFraction(lower: number, upper: number, v: readonly VSample[], t: number, warnings: string[]): VSample[] {
  const out: VSample[] = [];
  for (const g of bucketSets(v, warnings).values()) out.push({ metric: g.metric, value: bucketFraction(lower, upper, g.buckets), ts: t, drop: true });
  return out;
}

/**
 * Fraction of the observations in `[lower, upper]`, interpolating linearly inside a
 * bucket. The first bucket starts at 0 when its upper bound is positive (as for
 * quantiles), else at -Inf, where its observations count as lying at -Inf.
 */
export function bucketFraction(lower: number, upper: number, input: readonly Bucket[]): number {
  const [buckets] = normalise(input);
  if (buckets.length === 0 || buckets[buckets.length - 1]!.upper !== Infinity) return Number.NaN;
  const count = buckets[buckets.length - 1]!.count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return Number.NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = count;
  let upperRank = count;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    const lb = i > 0 ? buckets[i - 1]!.upper : b.upper > 0 ? 0 : -Infinity;
    const ub = b.upper;
    const at = (x: number): number => (lb === -Infinity ? b.count : ub === Infinity ? rank : rank + ((b.count - rank) * (x - lb)) / (ub - lb));
    if (!lowerSet && lb >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lb >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lb < lower && ub > lower) {
      lowerRank = at(lower);
      lowerSet = true;
    }
    if (!upperSet && lb < upper && ub > upper) {
      upperRank = at(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  return (Math.min(upperRank, count) - Math.min(lowerRank, count)) / count;
}
