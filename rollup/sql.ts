/**
 * SQL generation for the rollups, pure: the helpers both dialects use (placeholders,
 * times, identifiers, the counter-like rule) and the PostgreSQL rollup statements
 * (SQLite folds its slices in the worker: sqlite-fold-task.ts). Times are epoch ms
 * INTEGER `ts` on SQLite and `timestamptz` `ts` on PostgreSQL (docs/storage.md);
 * parameters are always epoch ms, converted in SQL. NaN is treated as missing (SQLite
 * stores it as NULL; on PostgreSQL it is mapped to NULL so aggregates agree); stale
 * markers are not read at all (storage/stale.ts), as if the series had no sample there.
 */
import type { Dialect, SqlValue } from '../storage/store.js';
import { counterLikeSql } from '../storage/store-common.js';
import { pgLive } from '../storage/stale.js';

/** Collects parameters and hands out placeholders (`?` or `$n`). */
export class Params {
  readonly values: SqlValue[] = [];
  constructor(readonly dialect: Dialect) {}
  /** A placeholder bound to `v`. */
  add(v: SqlValue): string {
    this.values.push(v);
    // Numbered on both (SQLite's ?NNN), so a placeholder can be used more than once.
    return this.dialect === 'sqlite' ? `?${this.values.length}` : `$${this.values.length}`;
  }
  /** A placeholder for a time in epoch ms, as the dialect's `ts` type. */
  time(ms: number): string {
    const p = this.add(ms);
    return this.dialect === 'sqlite' ? p : `to_timestamp(${p}::double precision / 1000)`;
  }
  /** A plain epoch-ms number placeholder. */
  ms(ms: number): string {
    const p = this.add(ms);
    return this.dialect === 'sqlite' ? p : `${p}::bigint`;
  }
}

/** Quotes an identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The `ts` column as epoch ms. */
export function tsMs(dialect: Dialect, col: string): string {
  return dialect === 'sqlite' ? col : `(extract(epoch from ${col}) * 1000)::bigint`;
}

/** The start of the bucket holding `col`, in the dialect's `ts` type. */
export function bucketOf(dialect: Dialect, col: string, resolutionMs: number): string {
  if (dialect === 'sqlite') return `((${col} / ${resolutionMs}) * ${resolutionMs})`;
  const sec = resolutionMs / 1000;
  return `to_timestamp(floor(extract(epoch from ${col}) / ${sec}) * ${sec})`;
}

/** PostgreSQL: a value with NaN as NULL (SQLite stores NaN as NULL already). */
function nanNull(col: string): string {
  return `NULLIF(${col}, 'NaN'::double precision)`;
}

/**
 * Which series count up: counters, and the `_bucket`/`_count`/`_sum` series of
 * histograms and summaries (a summary's quantile series are gauges). Their rows get
 * an increase; gauges get NULL.
 */
export function counterLike(alias: string): string {
  return counterLikeSql(alias); // one rule for the tiers and the seed's metrics_hourly
}

/**
 * PostgreSQL: ` AND <col> = ANY (the series of host …)` when rollups are per host
 * (several Larders on one database each roll up their own series), else ''. As an array
 * the ids reach the (series_id, ts) key as an index condition; as `IN (SELECT …)` the
 * planner hash-joined them against a sequential scan of the whole chunk, every host's
 * rows: 1,185 ms against 1.7 ms for one host's 5 minutes in a chunk of 3.5 M rows (400
 * hosts), a cost that grows with the hosts and the hour of the day (bench/hosts.bench.ts).
 */
export function ownSeries(p: Params, col: string, host: string | undefined): string {
  return host === undefined ? '' : ` AND ${col} = ANY (ARRAY(SELECT id FROM series WHERE host = ${p.add(host)}))`;
}

/** `SELECT <cols> FROM chunk WHERE ts in range` for each chunk, UNION ALL'd. */
function unionOf(chunks: readonly string[], cols: string, where: string): string {
  return chunks.map((c) => `SELECT ${cols} FROM ${ident(c)} WHERE ${where}`).join(' UNION ALL ');
}

/** Rollup columns, in insert order. */
export const ROLLUP_COLUMNS = 'series_id, ts, count, sum, min, max, first, last, increase';

const IS_FIRST = '(w.pb IS NULL OR w.pb <> w.bucket)';
const IS_LAST = '(w.nb IS NULL OR w.nb <> w.bucket)';
/** A sample's counter delta from the previous one, reset-aware as Prometheus' increase(). */
const DELTA = 'CASE WHEN w.prev IS NULL OR w.v IS NULL THEN NULL WHEN w.v >= w.prev THEN w.v - w.prev ELSE w.v END';

/**
 * PostgreSQL: the start of the bucket holding `col`, by date_bin (integer microseconds).
 * Same buckets as `bucketOf`, whose extract(epoch) is numeric arithmetic: measured ~7x the
 * cost per row, and the first tier evaluated it three times per sample.
 */
function pgBucket(col: string, resolutionMs: number): string {
  return `date_bin('${resolutionMs} milliseconds', ${col}, '1970-01-01 00:00:00+00')`;
}

/**
 * The window part of both PostgreSQL rollups (the rows of `src` with their bucket and, in
 * series/time order, the previous and next rows' buckets, plus `extra` window columns).
 * Ordered by (series_id, bucket, ts), which is (series_id, ts) order since a bucket only
 * grows with ts, so the GROUP BY (series_id, bucket) above it reads the window's output
 * as it comes, in time order, with no second sort. The window partitions by series_id
 * cast to bigint: that key matches no index, so PostgreSQL sorts a sequential scan
 * rather than walking the (series_id, ts) primary key, whose heap reads come in random
 * order in raw chunks (written time-major): the index walk measured ~1.35x the CPU.
 */
function pgWindowed(src: string, cols: readonly string[], extra: string, resolutionMs: number): string {
  return `SELECT b.series_id, ${cols.map((c) => `b.${c}`).join(', ')}, b.bucket, LAG(b.bucket) OVER win AS pb, LEAD(b.bucket) OVER win AS nb${extra}
  FROM (SELECT s.series_id::bigint AS series_id, s.ts, ${cols.map((c) => `s.${c}`).join(', ')}, ${pgBucket('s.ts', resolutionMs)} AS bucket FROM (${src}) s) b
  WINDOW win AS (PARTITION BY b.series_id ORDER BY b.bucket, b.ts)`;
}

/**
 * PostgreSQL: the first tier's rows for buckets in `[from, to)` from raw chunks: INSERT,
 * then the boundary UPDATE. Deltas are taken between consecutive samples inside the
 * range; the delta into each series' first bucket from the last value before `from`
 * (kept in `carryTable` by the previous run, however far back) is added by the UPDATE,
 * so each delta counts exactly once, across slice edges and gaps alike. Gauges get a
 * NULL increase. (SQLite folds the slice in its worker instead: sqlite-fold-task.ts,
 * the same rows.)
 */
export function rawRollupSql(opts: {
  target: string;
  sources: readonly string[];
  carryTable: string;
  tier: string;
  resolutionMs: number;
  from: number;
  to: number;
  /** Only the series of this host (`series.host`). @default every series */
  host?: string;
}): { sql: string; params: SqlValue[]; boundary: { sql: string; params: SqlValue[] } } {
  const p = new Params('postgresql');
  const from = p.time(opts.from);
  const to = p.time(opts.to);
  const own = ownSeries(p, 'series_id', opts.host);
  // With no raw chunk in the range there is nothing to insert: a statement that selects nothing.
  const src =
    opts.sources.length > 0
      ? unionOf(opts.sources, `series_id, ts, ${nanNull('value')} AS v`, `ts >= ${from} AND ts < ${to} AND ${pgLive('value')}${own}`)
      : `SELECT series_id, to_timestamp(ts::double precision / 1000) AS ts, last AS v FROM ${ident(opts.carryTable)} WHERE ${from} IS NULL AND ${to} IS NULL`;
  // The counter flag by a join (once per series), not a subquery per output row.
  const sql = `INSERT INTO ${ident(opts.target)} (${ROLLUP_COLUMNS})
SELECT a.series_id, a.bucket, a.n, a.s, a.mi, a.ma, a.f, a.l, CASE WHEN ${counterLike('se')} THEN coalesce(a.inc, 0) END
FROM (
  SELECT w.series_id, w.bucket, count(w.v) AS n, sum(w.v) AS s, min(w.v) AS mi, max(w.v) AS ma,
    max(CASE WHEN ${IS_FIRST} THEN w.v END) AS f, max(CASE WHEN ${IS_LAST} THEN w.v END) AS l,
    sum(${DELTA}) AS inc
  FROM (${pgWindowed(src, ['v'], ', LAG(b.v) OVER win AS prev', opts.resolutionMs)}) w
  GROUP BY w.series_id, w.bucket
) a
LEFT JOIN series se ON se.id = a.series_id`;
  return { sql, params: p.values, boundary: pgBoundarySql(opts) };
}

/**
 * The boundary UPDATE of `rawRollupSql`: adds the delta from each series' carry into its
 * first bucket, that row found from the carry by one primary-key probe. The correlated min(ts) per
 * target row measured 1.25 s per day of 5m rows (1,000 series), this ~20 ms.
 */
function pgBoundarySql(opts: { target: string; carryTable: string; tier: string; from: number; to: number; host?: string }): { sql: string; params: SqlValue[] } {
  const q = new Params('postgresql');
  const tier = q.add(opts.tier);
  const bFrom = q.time(opts.from);
  const bTo = q.time(opts.to);
  const fromMs = q.ms(opts.from);
  const own = ownSeries(q, 'c.series_id', opts.host);
  const sql = `UPDATE ${ident(opts.target)} AS r
SET increase = r.increase + (CASE WHEN r.first >= c.last THEN r.first - c.last ELSE r.first END)
FROM ${ident(opts.carryTable)} c
CROSS JOIN LATERAL (SELECT min(r2.ts) AS t FROM ${ident(opts.target)} r2 WHERE r2.series_id = c.series_id AND r2.ts >= ${bFrom} AND r2.ts < ${bTo}) m
WHERE c.tier = ${tier} AND c.ts < ${fromMs} AND c.last IS NOT NULL${own}
  AND r.series_id = c.series_id AND r.ts = m.t AND r.increase IS NOT NULL AND r.first IS NOT NULL`;
  return { sql, params: q.values };
}

/** PostgreSQL: INSERT of a higher tier's rows for buckets in `[from, to)` from the tier below (SQLite: sqlite-fold-task.ts). */
export function tierRollupSql(opts: { target: string; sources: readonly string[]; resolutionMs: number; from: number; to: number; host?: string }): { sql: string; params: SqlValue[] } | undefined {
  if (opts.sources.length === 0) return undefined;
  const p = new Params('postgresql');
  const from = p.time(opts.from);
  const to = p.time(opts.to);
  const src = unionOf(opts.sources, 'series_id, ts, count, sum, min, max, first, last, increase', `ts >= ${from} AND ts < ${to}${ownSeries(p, 'series_id', opts.host)}`);
  const sql = `INSERT INTO ${ident(opts.target)} (${ROLLUP_COLUMNS})
SELECT w.series_id, w.bucket, sum(w.count), sum(w.sum), min(w.min), max(w.max),
  max(CASE WHEN ${IS_FIRST} THEN w.first END), max(CASE WHEN ${IS_LAST} THEN w.last END), sum(w.increase)
FROM (${pgWindowed(src, ['count', 'sum', 'min', 'max', 'first', 'last', 'increase'], '', opts.resolutionMs)}) w
GROUP BY w.series_id, w.bucket`;
  return { sql, params: p.values };
}

/** DELETE of a chunk's rows in `[from, to)` (so a re-run writes the same rows, never twice). */
export function deleteRangeSql(dialect: Dialect, chunk: string, from: number, to: number, host?: string): { sql: string; params: SqlValue[] } {
  const p = new Params(dialect);
  return { sql: `DELETE FROM ${ident(chunk)} WHERE ts >= ${p.time(from)} AND ts < ${p.time(to)}${ownSeries(p, 'series_id', host)}`, params: p.values };
}

/**
 * PostgreSQL: the carry update after a first-tier run: each series' last value in
 * `[from, to)` (from the rows just written) becomes its carry, its latest row found by
 * one primary-key probe per series (a GROUP BY over the slice's rows measured ~170 ms
 * per day of 5m rows, 1,000 series). Rows of a series with no `series` row have a NULL
 * increase (not counter-like), so need no carry.
 */
export function carryUpdateSql(opts: { carryTable: string; target: string; tier: string; from: number; to: number; host?: string }): { sql: string; params: SqlValue[] } {
  const p = new Params('postgresql');
  const tier = p.add(opts.tier);
  const from = p.time(opts.from);
  const to = p.time(opts.to);
  const own = opts.host === undefined ? '' : `\nWHERE se.host = ${p.add(opts.host)}`;
  const sql = `INSERT INTO ${ident(opts.carryTable)} (tier, series_id, ts, last)
SELECT ${tier}, se.id, ${tsMs('postgresql', 'r.ts')}, r.last
FROM series se
CROSS JOIN LATERAL (SELECT x.ts, x.last FROM ${ident(opts.target)} x WHERE x.series_id = se.id AND x.ts >= ${from} AND x.ts < ${to} ORDER BY x.ts DESC LIMIT 1) r${own}
ON CONFLICT (tier, series_id) DO UPDATE SET ts = excluded.ts, last = excluded.last`;
  return { sql, params: p.values };
}

/** DDL of the carry table (Larder's own, beside the store's schema; times as epoch ms on both dialects). */
export function carryTableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(table)} (tier TEXT NOT NULL, series_id BIGINT NOT NULL, ts BIGINT NOT NULL, last DOUBLE PRECISION, PRIMARY KEY (tier, series_id))`;
}
