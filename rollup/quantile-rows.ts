/**
 * Per-bucket quantiles of histograms, pure: from a tier's `_bucket` increases, the
 * p50/p95/p99 of each label set without `le`, as histogram_quantile computes them.
 */
import type { Labels, SeriesInfo } from '../storage/store.js';
import { histogramQuantile, parseLe, type Bucket } from './quantile.js';

/** One tier row of a histogram series: its bucket start and the increase in it. */
export interface IncreaseRow {
  readonly seriesId: number;
  readonly ts: number;
  readonly increase: number | null;
}

/** A quantile row: the `_count` series of the label set stands for the histogram. */
export interface QuantileRow {
  readonly seriesId: number;
  readonly ts: number;
  readonly count: number | null;
  readonly sum: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

function keyOf(name: string, labels: Labels, drop?: string): string {
  return `${name}\u0000${Object.keys(labels).filter((k) => k !== drop).sort().map((k) => `${k}=${labels[k]}`).join('\u0001')}`;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * Groups histogram rows by family, label set without `le` and bucket start, and
 * computes the quantiles. Series that are not a histogram's `_bucket`, `_count` or
 * `_sum` are ignored; a label set with no `_count` series is skipped (it has no id to
 * stand for it). NaN/±Inf quantiles (no observations) become NULL.
 */
export function quantileRows(series: ReadonlyMap<number, SeriesInfo>, rows: readonly IncreaseRow[]): QuantileRow[] {
  const countIds = new Map<string, number>();
  for (const s of series.values()) {
    if (s.type === 'histogram' && s.name.endsWith('_count')) countIds.set(keyOf(s.name.slice(0, -6), s.labels), s.id);
  }
  type Acc = { buckets: Bucket[]; count: number | null; sum: number | null };
  const groups = new Map<string, Acc>();
  const acc = (family: string, labels: Labels, ts: number, drop?: string): { id: number | undefined; a: Acc } => {
    const k = keyOf(family, labels, drop);
    const gk = `${k}\u0002${ts}`;
    let a = groups.get(gk);
    if (!a) groups.set(gk, (a = { buckets: [], count: null, sum: null }));
    return { id: countIds.get(k), a };
  };
  const idOfGroup = new Map<string, { id: number; ts: number }>();
  for (const r of rows) {
    const s = series.get(r.seriesId);
    if (!s || s.type !== 'histogram') continue;
    let family: string;
    if (s.name.endsWith('_bucket')) family = s.name.slice(0, -7);
    else if (s.name.endsWith('_count')) family = s.name.slice(0, -6);
    else if (s.name.endsWith('_sum')) family = s.name.slice(0, -4);
    else continue;
    const isBucket = s.name.endsWith('_bucket');
    const { id, a } = acc(family, s.labels, r.ts, isBucket ? 'le' : undefined);
    if (id === undefined) continue;
    idOfGroup.set(`${keyOf(family, s.labels, isBucket ? 'le' : undefined)}\u0002${r.ts}`, { id, ts: r.ts });
    if (isBucket) {
      const le = parseLe(s.labels['le'] ?? '');
      if (!Number.isNaN(le) && r.increase !== null) a.buckets.push({ le, count: r.increase });
    } else if (s.name.endsWith('_count')) a.count = r.increase;
    else a.sum = r.increase;
  }
  const out: QuantileRow[] = [];
  for (const [gk, a] of groups) {
    const at = idOfGroup.get(gk);
    if (!at) continue;
    out.push({
      seriesId: at.id,
      ts: at.ts,
      count: a.count,
      sum: a.sum,
      p50: orNull(histogramQuantile(0.5, a.buckets)),
      p95: orNull(histogramQuantile(0.95, a.buckets)),
      p99: orNull(histogramQuantile(0.99, a.buckets)),
    });
  }
  out.sort((x, y) => x.seriesId - y.seriesId || x.ts - y.ts);
  return out;
}
