/**
 * The daily summary (the seed's `daily_summaries` row): per metric name the day's
 * min/avg/max and p95 for gauges, the day's increase and rate for counters (cumulative
 * values have no meaningful average), and the day's totals of business counters, from
 * the 5-minute (or finest) tier, never from raw. The p95 is over that tier's bucket
 * averages (nearest rank), which is what a dashboard of the day shows; a per-sample p95
 * would need raw data the summary deliberately does not scan.
 */
import type { SqlExecutor } from '../storage/store.js';
import { ident, Params, tsMs } from './sql.js';

/** A gauge's (or any non-counter's) line in the summary. */
export interface GaugeDaySummary {
  readonly min: number | null;
  readonly avg: number | null;
  readonly max: number | null;
  readonly p95: number | null;
  readonly samples: number;
}

/**
 * A counter's line (counters, and histogram/summary `_bucket`/`_count`/`_sum` series):
 * what it counted during the day, summed over its label sets, resets handled as in the
 * tiers, and that as a per-second rate over the day (increase / 86400).
 */
export interface CounterDaySummary {
  readonly increase: number;
  readonly rate: number;
  readonly samples: number;
}

/** One metric's line in the summary. */
export type MetricDaySummary = GaugeDaySummary | CounterDaySummary;

/** The JSON saved for one day. */
export interface DailySummary {
  readonly date: string;
  /** Tier the figures come from. */
  readonly tier: string;
  readonly metrics: Record<string, MetricDaySummary>;
  /** Business counter name → the day's increase, summed over its label sets. */
  readonly businessTotals: Record<string, number>;
}

/** Nearest-rank percentile of sorted values. */
export function nearestRank(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The UTC date `YYYY-MM-DD` of a time. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Which counters are business counters, whose day totals the summary keeps. */
export interface BusinessCounterSelection {
  /** Names starting with this; '' selects none by prefix. */
  readonly businessPrefix: string;
  /** These names, whatever their prefix. @default [] */
  readonly businessCounters?: Iterable<string>;
}

/** The test `selection` describes. */
export function businessCounterTest(selection: BusinessCounterSelection): (name: string) => boolean {
  const names = new Set(selection.businessCounters ?? []);
  const prefix = selection.businessPrefix;
  return (name) => names.has(name) || (prefix !== '' && name.startsWith(prefix));
}

const DAY_SECONDS = 86_400;

/** Builds the summary of the UTC day starting at `dayStart` from the chunks of one tier. */
export async function buildDailySummary(ex: SqlExecutor, opts: { tier: string; chunks: readonly string[]; dayStart: number } & BusinessCounterSelection): Promise<DailySummary> {
  const isBusiness = businessCounterTest(opts);
  const d = ex.dialect;
  const rows: { name: string; type: string; count: number; sum: number | null; min: number | null; max: number | null; increase: number | null }[] = [];
  for (const c of opts.chunks) {
    const p = new Params(d);
    const r = await ex.query(
      `SELECT se.name, se.type, r.count, r.sum, r.min, r.max, r.increase, ${tsMs(d, 'r.ts')} AS t FROM ${ident(c)} r JOIN series se ON se.id = r.series_id
       WHERE r.ts >= ${p.time(opts.dayStart)} AND r.ts < ${p.time(opts.dayStart + 86_400_000)}`,
      p.values,
    );
    for (const x of r) {
      const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
      rows.push({ name: String(x['name']), type: String(x['type']), count: Number(x['count'] ?? 0), sum: n(x['sum']), min: n(x['min']), max: n(x['max']), increase: n(x['increase']) });
    }
  }
  const acc = new Map<string, { min: number; max: number; sum: number; count: number; avgs: number[]; increase: number | null }>();
  const business: Record<string, number> = {};
  for (const r of rows) {
    let a = acc.get(r.name);
    if (!a) acc.set(r.name, (a = { min: Infinity, max: -Infinity, sum: 0, count: 0, avgs: [], increase: null }));
    // The tier gives counter-like series an increase (0 at least) and others NULL.
    if (r.increase !== null) a.increase = (a.increase ?? 0) + r.increase;
    if (r.min !== null) a.min = Math.min(a.min, r.min);
    if (r.max !== null) a.max = Math.max(a.max, r.max);
    if (r.sum !== null && r.count > 0) {
      a.sum += r.sum;
      a.count += r.count;
      a.avgs.push(r.sum / r.count);
    }
    if (r.type === 'counter' && r.increase !== null && isBusiness(r.name)) business[r.name] = (business[r.name] ?? 0) + r.increase;
  }
  const metrics: Record<string, MetricDaySummary> = {};
  for (const name of [...acc.keys()].sort()) {
    const a = acc.get(name)!;
    if (a.increase !== null) {
      metrics[name] = { increase: a.increase, rate: a.increase / DAY_SECONDS, samples: a.count };
      continue;
    }
    a.avgs.sort((x, y) => x - y);
    metrics[name] = {
      min: Number.isFinite(a.min) ? a.min : null,
      avg: a.count > 0 ? a.sum / a.count : null,
      max: Number.isFinite(a.max) ? a.max : null,
      p95: nearestRank(a.avgs, 0.95),
      samples: a.count,
    };
  }
  return { date: utcDate(opts.dayStart), tier: opts.tier, metrics, businessTotals: business };
}
