/**
 * SQL of a panel target for PostgreSQL and SQLite, pure. The query reads the named views
 * of schema version 2 (docs/storage.md) and picks the source by the dashboard's time
 * range, so a 90-day view reads the hourly tier and a 1-hour view raw samples:
 *
 * | range (`$__to - $__from`) | reads |
 * | --- | --- |
 * | ≤ 6 h | raw samples (`samples_named`); quantiles: the 5m tier |
 * | ≤ 7 d | the 5m tier |
 * | ≤ 90 d | the 1h tier |
 * | longer | the 1d tier |
 *
 * Each tier is one arm of a UNION ALL guarded by a constant condition on the range, which
 * both planners drop before reading anything. Points are grouped into buckets of
 * `max($__interval_ms, the tier's resolution, range / 2000)`, so no series has more than
 * 2,000 points whatever the panel's width.
 *
 * Grafana's variables and macros used (see ../shared/GRAFANA.md): `$__from`, `$__to` (ms),
 * `$__interval_ms`, `$job` and `$instance` (multi-value, quoted lists); PostgreSQL also
 * `$__timeFilter(ts)`. SQLite's plugin has no such macro: it filters on `ts` (epoch ms)
 * with `$__from`/`$__to` and returns `time` in epoch seconds (listed in `timeColumns`).
 */
import type { SeriesFilter, SqlTarget } from './model.js';

/** The SQL dialects. */
export type Dialect = 'postgresql' | 'sqlite';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One source of rows and the ranges it answers. */
interface Arm {
  /** `raw` or the tier name. */
  readonly tier: string;
  readonly resolutionMs: number;
  /** Answers ranges in (minRange, maxRange]. */
  readonly minRange: number;
  readonly maxRange: number;
}

/** The tier chosen for each range, for targets with raw samples and for quantiles. */
export const ARMS: readonly Arm[] = [
  { tier: 'raw', resolutionMs: 1000, minRange: 0, maxRange: 6 * HOUR },
  { tier: '5m', resolutionMs: 300_000, minRange: 6 * HOUR, maxRange: 7 * DAY },
  { tier: '1h', resolutionMs: HOUR, minRange: 7 * DAY, maxRange: 90 * DAY },
  { tier: '1d', resolutionMs: DAY, minRange: 90 * DAY, maxRange: Number.POSITIVE_INFINITY },
];
const QUANTILE_ARMS: readonly Arm[] = [{ ...ARMS[1]!, minRange: 0 }, ARMS[2]!, ARMS[3]!];

/** The tier a range reads (what the SQL's guards choose), for tests and docs. */
export function tierForRange(rangeMs: number, kind: SqlTarget['kind']): string {
  const arms = kind === 'quantile' ? QUANTILE_ARMS : ARMS;
  return arms.find((a) => rangeMs > a.minRange && rangeMs <= a.maxRange)!.tier;
}

/** A SQL string literal. */
export function lit(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A label of the `labels` column. Label names come from our definitions: checked anyway. */
function label(d: Dialect, name: string): string {
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new Error(`invalid label name ${JSON.stringify(name)}`);
  return d === 'sqlite' ? `json_extract(labels, '$.${name}')` : `(labels->>'${name}')`;
}

const col = (name: string): string => `"l_${name}"`;

function filterSql(f: SeriesFilter, cols: boolean, d: Dialect): string {
  const ref = (l: string): string => (cols ? col(l) : label(d, l));
  const parts = [`metric_name = ${lit(f.metric)}`];
  for (const [k, v] of Object.entries(f.match ?? {})) parts.push(`${ref(k)} = ${lit(v)}`);
  for (const [k, vs] of Object.entries(f.notIn ?? {})) parts.push(`${ref(k)} NOT IN (${vs.map(lit).join(', ')})`);
  for (const [k, v] of Object.entries(f.like ?? {})) parts.push(`${ref(k)} LIKE ${lit(v)}`);
  return parts.join(' AND ');
}

/** Labels the inner rows carry: the `by` labels and those the ratio's sides test. */
function carriedLabels(t: SqlTarget): string[] {
  const set = new Set(t.by ?? []);
  for (const side of t.ratio ? [t.ratio.num, t.ratio.den] : []) {
    for (const k of Object.keys(side.match ?? {})) set.add(k);
    for (const k of Object.keys(side.notIn ?? {})) set.add(k);
    for (const k of Object.keys(side.like ?? {})) set.add(k);
  }
  return [...set];
}

/** The range in ms and the bucket width in ms of an arm, as SQL expressions. */
function bucketMs(d: Dialect, arm: Arm): string {
  const max = d === 'sqlite' ? 'max' : 'greatest';
  return `${max}($__interval_ms, ${arm.resolutionMs}, ($__to - $__from) / 2000)`;
}

/** One arm: rows `(b, series_id, metric_name, l_*, v)` of the series in range, per bucket. */
function armSql(d: Dialect, t: SqlTarget, arm: Arm): string {
  const B = bucketMs(d, arm);
  const range = '($__to - $__from)';
  const guard = `${range} > ${arm.minRange}${Number.isFinite(arm.maxRange) ? ` AND ${range} <= ${arm.maxRange}` : ''}`;
  const timeFilter = d === 'sqlite' ? 'ts >= $__from AND ts < $__to' : '$__timeFilter(ts)';
  const bucket = d === 'sqlite' ? `(ts / ${B}) * ${B}` : `floor(extract(epoch from ts) * 1000 / ${B}) * ${B}`;
  const labels = carriedLabels(t);
  const labelCols = labels.map((l) => `${label(d, l)} AS ${col(l)}`);
  const names = `metric_name IN (${t.metrics.map(lit).join(', ')})`;
  const matches = [
    ...Object.entries(t.match ?? {}).map(([k, v]) => `${label(d, k)} = ${lit(v)}`),
    ...Object.entries(t.notIn ?? {}).map(([k, vs]) => `${label(d, k)} NOT IN (${vs.map(lit).join(', ')})`),
    // Only the rows either side of a ratio counts: e.g. the idle CPU series of Load per CPU,
    // not every mode's (a third of the rows in the bench, an eighth on a real host).
    ...(t.ratio ? [`((${filterSql(t.ratio.num, false, d)}) OR (${filterSql(t.ratio.den, false, d)}))`] : []),
  ];
  const where = [guard, names, 'job IN ($job)', 'instance IN ($instance)', timeFilter, ...matches].join(' AND ');
  const seconds = `(${B} / 1000.0)`;
  const groupBy = ['b', 'series_id', 'metric_name', ...labels.map(col)].join(', ');
  const carried = ['series_id', 'metric_name', ...labelCols].join(', ');
  const view = arm.tier === 'raw' ? 'samples_named' : t.kind === 'quantile' ? `quantiles_${arm.tier}` : `metrics_${arm.tier}`;
  // The rows in range, filtered in a subquery of their own. On SQLite, `LIMIT -1` (no limit)
  // keeps it from being flattened into the aggregate: a UNION ALL of chunks cannot be
  // flattened into an aggregate, so SQLite would materialise every chunk whole; on its own
  // the filter reaches each chunk's primary key (15x faster over 7 days, bench/grafana.bench.ts).
  const src = `(SELECT * FROM ${view} WHERE ${where}${d === 'sqlite' ? ' LIMIT -1' : ''}) src`;
  if (arm.tier === 'raw' && (t.kind === 'rate' || t.kind === 'increase')) {
    // Deltas between consecutive samples of a series; a drop is a reset (the counter restarted
    // from 0, so its new value is the increase); the first sample has no predecessor. A rate
    // divides by the time the deltas span, not the bucket's width: a bucket narrower than the
    // record interval holds one delta or none.
    const prev = 'lag(value) OVER (PARTITION BY series_id ORDER BY ts)';
    const prevTs = 'lag(ts) OVER (PARTITION BY series_id ORDER BY ts)';
    const dt = d === 'sqlite' ? `(ts - ${prevTs}) / 1000.0` : `extract(epoch from ts - ${prevTs})::float8`;
    const inner = `SELECT ${bucket} AS b, ${carried}, CASE WHEN ${prev} IS NULL THEN NULL WHEN value >= ${prev} THEN value - ${prev} ELSE value END AS d, ${dt} AS dt FROM ${src}`;
    const agg = t.kind === 'rate' ? 'sum(d) / NULLIF(sum(CASE WHEN d IS NOT NULL THEN dt END), 0)' : 'sum(d)';
    return `SELECT ${['b', 'series_id', 'metric_name', ...labels.map(col)].join(', ')}, ${agg} AS v FROM (${inner}) deltas GROUP BY ${groupBy}`;
  }
  let v: string;
  if (t.kind === 'gauge') v = arm.tier === 'raw' ? 'avg(value)' : 'sum(sum) / sum(count)';
  else if (t.kind === 'rate') v = `sum(increase) / ${seconds}`;
  else if (t.kind === 'increase') v = 'sum(increase)';
  else v = `max(${t.quantile ?? 'p95'})`;
  return `SELECT ${bucket} AS b, ${carried}, ${v} AS v FROM ${src} GROUP BY ${groupBy}`;
}

/** The value of a group: `agg(v)`, or the ratio of the two sides' sums, scaled. */
function valueSql(d: Dialect, t: SqlTarget): string {
  let v: string;
  if (t.ratio) {
    const side = (f: SeriesFilter): string => `${f.count === true ? 'count' : 'sum'}(CASE WHEN ${filterSql(f, true, d)} THEN v END)`;
    const num = side(t.ratio.num);
    const den = side(t.ratio.den);
    v = t.ratio.op === '-' ? `${num} - ${den}` : `${num} / NULLIF(${den}, 0)`;
    if (t.ratio.oneMinus) v = `1 - ${v}`;
  } else v = `${t.agg ?? 'sum'}(v)`;
  return t.scale !== undefined && t.scale !== 1 ? `${t.scale} * (${v})` : v;
}

/**
 * The SQL of one target for one dialect, with Grafana's variables and macros in it.
 * Rows: `time`, one text column per `by` label, and `value`, ordered by time.
 */
export function targetSql(d: Dialect, t: SqlTarget): string {
  if (t.metrics.length === 0) throw new Error('a SQL target needs at least one metric');
  const arms = (t.kind === 'quantile' ? QUANTILE_ARMS : ARMS).map((a) => armSql(d, t, a));
  const by = (t.by ?? []).map((l) => `${col(l)} AS "${l}"`);
  const time = d === 'sqlite' ? 'b / 1000 AS time' : 'to_timestamp(b / 1000.0) AS time';
  const groupBy = ['b', ...(t.by ?? []).map(col)].join(', ');
  return [
    `SELECT ${[time, ...by, `${valueSql(d, t)} AS value`].join(', ')}`,
    `FROM (\n  ${arms.join('\n  UNION ALL\n  ')}\n) rows_in_range`,
    `GROUP BY ${groupBy}`,
    `ORDER BY ${groupBy}`,
  ].join('\n');
}

/** The `job` variable's query: every job of the series named `metric`. */
export function jobVariableSql(d: Dialect, metric: string): string {
  return `SELECT DISTINCT ${label(d, 'job')} AS job FROM series WHERE name = ${lit(metric)} AND ${label(d, 'job')} IS NOT NULL ORDER BY 1`;
}

/**
 * The `instance` variable's query: `__value` the instance, `__text` the host name from
 * `node_uname_info{nodename}` where there is one (else the instance itself).
 */
export function instanceVariableSql(d: Dialect, metric: string, nodename: boolean): string {
  const inst = label(d, 'instance');
  const uInst = d === 'sqlite' ? "json_extract(u.labels, '$.instance')" : "(u.labels->>'instance')";
  const uNode = d === 'sqlite' ? "json_extract(u.labels, '$.nodename')" : "(u.labels->>'nodename')";
  const sInst = d === 'sqlite' ? "json_extract(s.labels, '$.instance')" : "(s.labels->>'instance')";
  const text = nodename ? `coalesce((SELECT max(${uNode}) FROM series u WHERE u.name = 'node_uname_info' AND ${uInst} = ${sInst}), ${sInst})` : sInst;
  return `SELECT DISTINCT ${sInst} AS __value, ${text} AS __text FROM series s WHERE s.name = ${lit(metric)} AND ${label(d, 'job').replace('labels', 's.labels')} IN ($job) AND ${inst.replace('labels', 's.labels')} IS NOT NULL ORDER BY 2`;
}
