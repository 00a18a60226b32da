/**
 * histogram_quantile exactly as Prometheus computes it for classic histograms
 * (promql/quantile.go, v2.42: bucketQuantile, coalesceBuckets, ensureMonotonic).
 * https://github.com/prometheus/prometheus/blob/v2.42.0/promql/quantile.go
 */

/** One cumulative bucket: upper bound `le` and the count of observations ≤ it. */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/** Parses an `le` label value as Prometheus does (`+Inf`, `1e-3`, `0.5`); NaN when not a number. */
export function parseLe(le: string): number {
  const s = le.trim();
  if (s === '+Inf' || s === 'Inf' || s === '+inf' || s === 'inf') return Infinity;
  if (s === '-Inf' || s === '-inf') return -Infinity;
  return s === '' ? NaN : Number(s);
}

/**
 * The q-quantile of a classic histogram. Buckets may come in any order and may repeat
 * an upper bound (their counts are added, as coalesceBuckets does). Returns NaN with
 * fewer than two buckets, no +Inf bucket or no observations; -Inf for q < 0, +Inf
 * for q > 1; the second-highest bound when the rank falls in the +Inf bucket; and
 * linear interpolation inside the bucket otherwise (the lowest bucket starting at 0
 * unless its bound is ≤ 0).
 */
export function histogramQuantile(q: number, input: readonly Bucket[]): number {
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (Number.isNaN(q)) return NaN;
  const sorted = [...input].filter((b) => !Number.isNaN(b.le)).sort((a, b) => a.le - b.le);
  // coalesceBuckets: same upper bound → one bucket with the counts added.
  const buckets: { le: number; count: number }[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last && last.le === b.le) last.count += b.count;
    else buckets.push({ le: b.le, count: b.count });
  }
  if (buckets.length < 2) return NaN;
  if (buckets[buckets.length - 1]!.le !== Infinity) return NaN;
  // ensureMonotonic: a cumulative count never decreases (rounding in increase() can make it).
  let max = -Infinity;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0 || Number.isNaN(observations)) return NaN;
  let rank = q * observations;
  // sort.Search over all but the last bucket: the first whose count reaches the rank.
  let b = buckets.length - 1;
  for (let i = 0; i < buckets.length - 1; i++) {
    if (buckets[i]!.count >= rank) {
      b = i;
      break;
    }
  }
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.le;
  if (b === 0 && buckets[0]!.le <= 0) return buckets[0]!.le;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.le;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.le;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}
