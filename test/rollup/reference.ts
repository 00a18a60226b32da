/**
 * An independent model of what every tier must hold, computed straight from raw
 * samples for each resolution (the engine builds each tier from the one below, so
 * agreement also proves the chaining exact).
 */
import { increase } from '../../rollup/counter.js';
import { histogramQuantile, parseLe } from '../../rollup/quantile.js';
import type { SeriesDef } from '../../storage/store.js';

export interface RefRow {
  series: number;
  ts: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  first: number;
  last: number;
  increase: number | null;
}

export interface RefQuantile {
  series: number;
  ts: number;
  count: number | null;
  sum: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

function counterLike(d: SeriesDef): boolean {
  return d.type === 'counter' || ((d.type === 'histogram' || d.type === 'summary') && /_(bucket|count|sum)$/.test(d.name));
}

/** Rows of one tier: buckets of `res` ms before `until`. */
export function referenceRows(series: readonly SeriesDef[], samples: readonly { series: number; ts: number; value: number }[], res: number, until: number): RefRow[] {
  const out: RefRow[] = [];
  series.forEach((def, si) => {
    const mine = samples.filter((s) => s.series === si).sort((a, b) => a.ts - b.ts);
    const buckets = new Map<number, number[]>();
    for (const s of mine) {
      const b = Math.floor(s.ts / res) * res;
      if (b + res > until) continue;
      if (!buckets.has(b)) buckets.set(b, []);
      buckets.get(b)!.push(s.value);
    }
    for (const [b, values] of [...buckets].sort((x, y) => x[0] - y[0])) {
      const before = mine.filter((s) => s.ts < b);
      const prev = before.length ? before[before.length - 1]!.value : undefined;
      out.push({
        series: si,
        ts: b,
        count: values.length,
        sum: values.reduce((a, v) => a + v, 0),
        min: Math.min(...values),
        max: Math.max(...values),
        first: values[0]!,
        last: values[values.length - 1]!,
        increase: counterLike(def) ? increase(values, prev) : null,
      });
    }
  });
  return out;
}

/** Quantile rows of one tier, from its rows. `countIndex` is the `_count` series standing for the histogram. */
export function referenceQuantiles(series: readonly SeriesDef[], rows: readonly RefRow[], countIndex: number, sumIndex: number): RefQuantile[] {
  const byTs = new Map<number, RefRow[]>();
  for (const r of rows) {
    if (!byTs.has(r.ts)) byTs.set(r.ts, []);
    byTs.get(r.ts)!.push(r);
  }
  const out: RefQuantile[] = [];
  for (const [ts, rs] of [...byTs].sort((a, b) => a[0] - b[0])) {
    const buckets = rs.filter((r) => series[r.series]!.name.endsWith('_bucket')).map((r) => ({ le: parseLe(series[r.series]!.labels['le']!), count: r.increase! }));
    if (buckets.length === 0) continue;
    const q = (x: number): number | null => {
      const v = histogramQuantile(x, buckets);
      return Number.isFinite(v) ? v : null;
    };
    out.push({
      series: countIndex,
      ts,
      count: rs.find((r) => r.series === countIndex)?.increase ?? null,
      sum: rs.find((r) => r.series === sumIndex)?.increase ?? null,
      p50: q(0.5),
      p95: q(0.95),
      p99: q(0.99),
    });
  }
  return out;
}
