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
  type Acc = { id: number; ts: number; buckets: Bucket[]; count: number | null; sum: number | null };
  /** Per series, parsed once: its role, its group's key and the `_count` id standing for it. */
  type Role = { kind: 'bucket' | 'count' | 'sum'; key: string; id: number; le: number } | null;
  const roles = new Map<number, Role>();
  const roleOf = (seriesId: number): Role => {
    let r = roles.get(seriesId);
    if (r !== undefined) return r;
    r = null;
    const s = series.get(seriesId);
    if (s && s.type === 'histogram') {
      const kind = s.name.endsWith('_bucket') ? 'bucket' : s.name.endsWith('_count') ? 'count' : s.name.endsWith('_sum') ? 'sum' : undefined;
      if (kind !== undefined) {
        const key = keyOf(s.name.slice(0, -(kind.length + 1)), s.labels, kind === 'bucket' ? 'le' : undefined);
        const id = countIds.get(key);
        if (id !== undefined) r = { kind, key, id, le: kind === 'bucket' ? parseLe(s.labels['le'] ?? '') : Number.NaN };
      }
    }
    roles.set(seriesId, r);
    return r;
  };
  const groups = new Map<string, Acc>();
  for (const r of rows) {
    const role = roleOf(r.seriesId);
    if (role === null) continue;
    const gk = `${role.key}\u0002${r.ts}`;
    let a = groups.get(gk);
    if (!a) groups.set(gk, (a = { id: role.id, ts: r.ts, buckets: [], count: null, sum: null }));
    if (role.kind === 'bucket') {
      if (!Number.isNaN(role.le) && r.increase !== null) a.buckets.push({ le: role.le, count: r.increase });
    } else if (role.kind === 'count') a.count = r.increase;
    else a.sum = r.increase;
  }
  const out: QuantileRow[] = [];
  for (const a of groups.values()) {
    out.push({
      seriesId: a.id,
      ts: a.ts,
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
