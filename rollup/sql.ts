/**
 * SQL generation for the rollups, pure, per dialect. Times are epoch ms INTEGER `ts`
 * on SQLite and `timestamptz` `ts` on PostgreSQL (docs/storage.md); parameters are
 * always epoch ms, converted in SQL. NaN is treated as missing on both dialects (SQLite
 * stores it as NULL; on PostgreSQL it is mapped to NULL so aggregates agree).
 */
import type { Dialect, SqlValue } from '../storage/store.js';

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

/** A value with NaN as NULL. */
function nanNull(dialect: Dialect, col: string): string {
  return dialect === 'sqlite' ? col : `NULLIF(${col}, 'NaN'::double precision)`;
}

/**
 * Which series count up: counters, and the `_bucket`/`_count`/`_sum` series of
 * histograms and summaries (a summary's quantile series are gauges). Their rows get
 * an increase; gauges get NULL.
 */
export function counterLike(alias: string): string {
  return `(${alias}.type = 'counter' OR (${alias}.type IN ('histogram', 'summary') AND (${alias}.name LIKE '%\\_bucket' ESCAPE '\\' OR ${alias}.name LIKE '%\\_count' ESCAPE '\\' OR ${alias}.name LIKE '%\\_sum' ESCAPE '\\')))`;
}

/** `SELECT <cols> FROM chunk WHERE ts in range` for each chunk, UNION ALL'd. */
function unionOf(chunks: readonly string[], cols: string, where: string): string {
  return chunks.map((c) => `SELECT ${cols} FROM ${ident(c)} WHERE ${where}`).join(' UNION ALL ');
}

/** Rollup columns, in insert order. */
export const ROLLUP_COLUMNS = 'series_id, ts, count, sum, min, max, first, last, increase';

/**
 * INSERT of the first tier's rows for buckets in `[from, to)` from raw chunks.
 * The last value each series had before `from` comes from `carryTable` (written by
 * the previous run), so the first delta of a bucket is measured across the edge
 * (and across gaps) exactly once.
 */
export function rawRollupSql(opts: {
  dialect: Dialect;
  target: string;
  sources: readonly string[];
  carryTable: string;
  tier: string;
  resolutionMs: number;
  from: number;
  to: number;
}): { sql: string; params: SqlValue[] } {
  const { dialect: d } = opts;
  const p = new Params(d);
  const from = p.time(opts.from);
  const to = p.time(opts.to);
  const raw = opts.sources.length > 0 ? unionOf(opts.sources, 'series_id, ts, value, 0 AS carry', `ts >= ${from} AND ts < ${to}`) : undefined;
  const carryTs = d === 'sqlite' ? 'ts' : 'to_timestamp(ts::double precision / 1000)';
  const carry = `SELECT series_id, ${carryTs} AS ts, last AS value, 1 AS carry FROM ${ident(opts.carryTable)} WHERE tier = ${p.add(opts.tier)} AND ts < ${p.ms(opts.from)}`;
  const src = raw ? `${raw} UNION ALL ${carry}` : carry;
  const bucket = bucketOf(d, 'ts', opts.resolutionMs);
  const sql = `INSERT INTO ${ident(opts.target)} (${ROLLUP_COLUMNS})
SELECT w.series_id, w.bucket, count(w.v), sum(w.v), min(w.v), max(w.v), max(w.fv), max(w.lv),
  CASE WHEN ${counterLike('se')} THEN sum(CASE WHEN w.prev IS NULL OR w.v IS NULL THEN NULL WHEN w.v >= w.prev THEN w.v - w.prev ELSE w.v END) END
FROM (
  SELECT x.series_id, x.ts, x.v, x.carry, x.bucket,
    LAG(x.v) OVER (PARTITION BY x.series_id ORDER BY x.ts) AS prev,
    FIRST_VALUE(x.v) OVER (PARTITION BY x.series_id, x.bucket ORDER BY x.ts) AS fv,
    LAST_VALUE(x.v) OVER (PARTITION BY x.series_id, x.bucket ORDER BY x.ts ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS lv
  FROM (SELECT series_id, ts, ${nanNull(d, 'value')} AS v, carry, ${bucket} AS bucket FROM (${src}) s) x
) w JOIN series se ON se.id = w.series_id
WHERE w.carry = 0
GROUP BY w.series_id, w.bucket, se.type, se.name`;
  return { sql, params: p.values };
}

/** INSERT of a higher tier's rows for buckets in `[from, to)` from the tier below. */
export function tierRollupSql(opts: { dialect: Dialect; target: string; sources: readonly string[]; resolutionMs: number; from: number; to: number }): { sql: string; params: SqlValue[] } | undefined {
  if (opts.sources.length === 0) return undefined;
  const d = opts.dialect;
  const p = new Params(d);
  const from = p.time(opts.from);
  const to = p.time(opts.to);
  const src = unionOf(opts.sources, 'series_id, ts, count, sum, min, max, first, last, increase', `ts >= ${from} AND ts < ${to}`);
  const sql = `INSERT INTO ${ident(opts.target)} (${ROLLUP_COLUMNS})
SELECT series_id, bucket, sum(count), sum(sum), min(min), max(max), max(fv), max(lv), sum(increase)
FROM (
  SELECT series_id, ts, count, sum, min, max, increase, bucket,
    FIRST_VALUE(first) OVER (PARTITION BY series_id, bucket ORDER BY ts) AS fv,
    LAST_VALUE(last) OVER (PARTITION BY series_id, bucket ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS lv
  FROM (SELECT s.*, ${bucketOf(d, 'ts', opts.resolutionMs)} AS bucket FROM (${src}) s) x
) w
GROUP BY series_id, bucket`;
  return { sql, params: p.values };
}

/** DELETE of a chunk's rows in `[from, to)` (so a re-run writes the same rows, never twice). */
export function deleteRangeSql(dialect: Dialect, chunk: string, from: number, to: number): { sql: string; params: SqlValue[] } {
  const p = new Params(dialect);
  return { sql: `DELETE FROM ${ident(chunk)} WHERE ts >= ${p.time(from)} AND ts < ${p.time(to)}`, params: p.values };
}

/**
 * The carry update after a first-tier run: each series' last value in `[from, to)`
 * (from the rows just written) becomes its carry.
 */
export function carryUpdateSql(dialect: Dialect, opts: { carryTable: string; target: string; tier: string; from: number; to: number }): { sql: string; params: SqlValue[] } {
  const p = new Params(dialect);
  const tier = p.add(opts.tier);
  const from = p.time(opts.from);
  const to = p.time(opts.to);
  const sql = `INSERT INTO ${ident(opts.carryTable)} (tier, series_id, ts, last)
SELECT ${tier}, series_id, ${tsMs(dialect, 'ts')}, last FROM (
  SELECT series_id, ts, last, ROW_NUMBER() OVER (PARTITION BY series_id ORDER BY ts DESC) AS rn
  FROM ${ident(opts.target)} WHERE ts >= ${from} AND ts < ${to}
) r WHERE rn = 1
ON CONFLICT (tier, series_id) DO UPDATE SET ts = excluded.ts, last = excluded.last`;
  return { sql, params: p.values };
}

/** DDL of the carry table (Larder's own, beside the store's schema; times as epoch ms on both dialects). */
export function carryTableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(table)} (tier TEXT NOT NULL, series_id BIGINT NOT NULL, ts BIGINT NOT NULL, last DOUBLE PRECISION, PRIMARY KEY (tier, series_id))`;
}
