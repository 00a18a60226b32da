/**
 * `rate`, `increase` and `delta` with Prometheus 3's extrapolation, over index bounds of
 * a series' samples: a range query over a plain range selector reads the loaded
 * Float64Arrays in place instead of copying each window into arrays at every step.
 */
import { lastAtOrBefore } from './select.js';
import type { LoadedSeries } from './select.js';
import type { VSample } from './values.js';

/** Prometheus 3's extrapolated rate, increase or delta of samples `lo..hi` (inclusive) over `(t - rangeMs, t]`. */
export function extrapolatedRate(ts: ArrayLike<number>, vs: ArrayLike<number>, lo: number, hi: number, t: number, rangeMs: number, isCounter: boolean, isRate: boolean): number | undefined {
  const n = hi - lo + 1;
  if (n < 2) return undefined;
  const first = vs[lo]!;
  const last = vs[hi]!;
  let result = last - first;
  if (isCounter) {
    for (let i = lo + 1; i <= hi; i++) if (vs[i]! < vs[i - 1]!) result += vs[i - 1]!;
  }
  const rangeStart = t - rangeMs;
  const sampled = (ts[hi]! - ts[lo]!) / 1000;
  const avgGap = sampled / (n - 1);
  let toStart = (ts[lo]! - rangeStart) / 1000;
  let toEnd = (t - ts[hi]!) / 1000;
  const threshold = avgGap * 1.1;
  if (toStart >= threshold) toStart = avgGap / 2;
  if (isCounter && result > 0 && first >= 0) {
    const toZero = sampled * (first / result);
    if (toZero < toStart) toStart = toZero;
  }
  if (toEnd >= threshold) toEnd = avgGap / 2;
  let factor = (sampled + toStart + toEnd) / sampled;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

/** Prometheus' hint for `rate`/`increase` over a name that does not look like a counter's; undefined when it does. */
export function notCounterInfo(name: string): string | undefined {
  return /_(total|sum|count|bucket)$/.test(name) ? undefined : `PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${JSON.stringify(name)}`;
}

/**
 * `f(sel[rangeMs])` at `t` (its window ending at `end`, offset and `@` applied) for `f` one
 * of rate, increase, delta, over loaded series that hold no stale marker; Prometheus'
 * not-a-counter info goes to `warnings`.
 */
export function rateInPlace(f: string, series: readonly LoadedSeries[], end: number, rangeMs: number, t: number, warnings: string[]): VSample[] {
  const isCounter = f !== 'delta';
  const isRate = f === 'rate';
  const out: VSample[] = [];
  let checkedName: string | undefined;
  for (const s of series) {
    const hi = lastAtOrBefore(s.ts, end);
    if (hi < 0) continue;
    const lo = lastAtOrBefore(s.ts, end - rangeMs) + 1;
    const v = extrapolatedRate(s.ts, s.vs, lo, hi, end, rangeMs, isCounter, isRate);
    if (v === undefined) continue;
    out.push({ metric: s.metric, drop: true, value: v, ts: t });
    const name = s.metric['__name__'] ?? '';
    if (isCounter && name !== checkedName) {
      checkedName = name;
      const info = notCounterInfo(name);
      if (info !== undefined && !warnings.includes(info)) warnings.push(info);
    }
  }
  return out;
}
