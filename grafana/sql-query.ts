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
 * both planners drop before reading anything. A tier arm reads the tier below its
 * watermark (`rollup_watermarks`) and raw samples above it, aggregated into the same
 * buckets (the raw tail), so a tier that lags (rolled up once an hour) still answers up to
 * the range's end; docs/grafana.md, "Up to now, whatever the tiers' lag". Points are grouped into buckets of
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

/** The pieces every arm's SQL is made of, for one dialect, target and arm. */
interface ArmParts {
  readonly B: string;
  readonly guard: string;
  /** The filters of the series shown: names, job, instance, label matches (no time). */
  readonly series: string[];
  readonly labels: string[];
  /** `series_id, metric_name, <label> AS "l_<label>", …` */
  readonly carried: string;
  /** `b, series_id, metric_name, "l_<label>", …` */
  readonly groupBy: string;
}

function armParts(d: Dialect, t: SqlTarget, arm: Arm): ArmParts {
  const B = bucketMs(d, arm);
  const range = '($__to - $__from)';
  const guard = `${range} > ${arm.minRange}${Number.isFinite(arm.maxRange) ? ` AND ${range} <= ${arm.maxRange}` : ''}`;
  const labels = carriedLabels(t);
  const names = `metric_name IN (${t.metrics.map(lit).join(', ')})`;
  const matches = [
    ...Object.entries(t.match ?? {}).map(([k, v]) => `${label(d, k)} = ${lit(v)}`),
    ...Object.entries(t.notIn ?? {}).map(([k, vs]) => `${label(d, k)} NOT IN (${vs.map(lit).join(', ')})`),
    // Only the rows either side of a ratio counts: e.g. the idle CPU series of Load per CPU,
    // not every mode's (a third of the rows in the bench, an eighth on a real host).
    ...(t.ratio ? [`((${filterSql(t.ratio.num, false, d)}) OR (${filterSql(t.ratio.den, false, d)}))`] : []),
  ];
  const carried = ['series_id', 'metric_name', ...labels.map((l) => `${label(d, l)} AS ${col(l)}`)].join(', ');
  const groupBy = ['b', 'series_id', 'metric_name', ...labels.map(col)].join(', ');
  return { B, guard, series: [names, 'job IN ($job)', 'instance IN ($instance)', ...matches], labels, carried, groupBy };
}

/** The bucket of a row's `ts`, in ms. */
function bucketOf(d: Dialect, B: string, ts = 'ts'): string {
  return d === 'sqlite' ? `(${ts} / ${B}) * ${B}` : `floor(extract(epoch from ${ts}) * 1000 / ${B}) * ${B}`;
}

/** `ts` at or after / before an epoch-ms SQL expression. */
function tsCmp(d: Dialect, op: '>=' | '<', ms: string): string {
  return d === 'sqlite' ? `ts ${op} ${ms}` : `ts ${op} to_timestamp((${ms}) / 1000.0)`;
}

/** The rows of a view that pass `where`, filtered in a subquery of their own (see armSql). */
function rowsOf(d: Dialect, view: string, where: readonly string[]): string {
  // On SQLite, `LIMIT -1` (no limit) keeps it from being flattened into the aggregate: a
  // UNION ALL of chunks cannot be flattened into an aggregate, so SQLite would materialise
  // every chunk whole; on its own the filter reaches each chunk's primary key (15x faster
  // over 7 days, bench/grafana.bench.ts).
  return `(SELECT * FROM ${view} WHERE ${where.join(' AND ')}${d === 'sqlite' ? ' LIMIT -1' : ''})`;
}

/**
 * A tier's watermark (epoch ms, the end of its last bucket rolled up; 0 before its first
 * run). On PostgreSQL, where each host rolls up its own series, the lowest of the live
 * hosts' (rolled up within a day), as RollupEngine.watermark() decides: the tier holds
 * every host's buckets below it; a host further ahead is read raw above it.
 */
export function watermarkSql(d: Dialect, tier: string): string {
  if (d === 'sqlite') return `coalesce((SELECT watermark_ms FROM rollup_watermarks WHERE tier = ${lit(tier)}), 0)`;
  const live = 'updated_ms IS NULL OR updated_ms >= extract(epoch from now()) * 1000 - 86400000';
  return `coalesce((SELECT coalesce(min(watermark_ms) FILTER (WHERE ${live}), max(watermark_ms)) FROM rollup_watermarks WHERE tier = ${lit(tier)}), 0)`;
}

/**
 * Where an arm's raw tail starts (epoch ms): the tier's watermark, not before the range,
 * and not more than the tier's resolution + 7 hours before its end (the 6-hourly rollups
 * lag up to about 6 h 05 min, a slow run more), so a stalled rollup
 * costs a bounded read (and shows a gap) instead of reading days of raw samples.
 */
function tailFromSql(d: Dialect, arm: Arm): string {
  return `${d === 'sqlite' ? 'max' : 'greatest'}(${watermarkSql(d, arm.tier)}, $__from, $__to - ${arm.resolutionMs + TAIL_MAX_MS})`;
}

/** The most a raw tail reads beyond a tier's resolution. */
export const TAIL_MAX_MS = 7 * HOUR;

/**
 * Samples read before a tail's start for each counter's first delta there (the
 * increase across the watermark, which the tier's last bucket does not hold).
 */
function lookbackMs(arm: Arm): number {
  return Math.min(arm.resolutionMs, HOUR);
}

/**
 * The deltas of counters' raw samples: rows `ts, series_id, d, dt`. A drop is a reset (the
 * counter restarted from 0, so its new value is the increase); the first sample read has
 * no predecessor. With `keepFrom`, the samples read before it (the time filter reaches
 * back for them) only serve as predecessors. No labels: those are taken once per series
 * (seriesInfoSql), not once per sample.
 */
function deltasSql(d: Dialect, p: ArmParts, names: string, timeFilter: readonly string[], keepFrom?: string): string {
  const prev = 'lag(value) OVER (PARTITION BY series_id ORDER BY ts)';
  const prevTs = 'lag(ts) OVER (PARTITION BY series_id ORDER BY ts)';
  const dt = d === 'sqlite' ? `(ts - ${prevTs}) / 1000.0` : `extract(epoch from ts - ${prevTs})::float8`;
  const src = rowsOf(d, 'samples_named', [p.guard, names, ...p.series.slice(1), ...timeFilter]);
  const rows = `SELECT ts, series_id, CASE WHEN ${prev} IS NULL THEN NULL WHEN value >= ${prev} THEN value - ${prev} ELSE value END AS d, ${dt} AS dt FROM ${src} src`;
  return keepFrom === undefined ? rows : `SELECT * FROM (${rows}) deltas WHERE ${tsCmp(d, '>=', keepFrom)}`;
}

/**
 * The series named `names`, one row each: `series_id`, `metric_name`, the carried labels
 * (`l_*`) and `extra` columns, all derived from `labels` once per series. A tail
 * aggregates its samples per bucket and series first, then joins this (on SQLite kept
 * from being flattened by `LIMIT -1`, so the JSON is read once per series, not per row).
 */
function seriesInfoSql(d: Dialect, p: ArmParts, names: string, extra: readonly string[] = []): string {
  const cols = ['id AS series_id', 'name AS metric_name', ...p.labels.map((l) => `${label(d, l)} AS ${col(l)}`), ...extra];
  return `(SELECT ${cols.join(', ')} FROM series WHERE ${names.replace('metric_name IN', 'name IN')}${d === 'sqlite' ? ' LIMIT -1' : ''})`;
}

/** `b, series_id, metric_name, l_*` of a tail's rows `t` joined to their series `i`. */
function joinedCols(p: ArmParts): string {
  return ['t.b', 'i.series_id', 'i.metric_name', ...p.labels.map((l) => `i.${col(l)}`)].join(', ');
}

/** A raw tail's deltas: from the tail's start (and a lookback for the first one) to `$__to`. */
function tailDeltasSql(d: Dialect, p: ArmParts, arm: Arm, names: string): string {
  const from = tailFromSql(d, arm);
  const to = d === 'sqlite' ? 'ts < $__to' : 'ts <= to_timestamp($__to / 1000.0)';
  return deltasSql(d, p, names, [tsCmp(d, '>=', `${from} - ${lookbackMs(arm)}`), to], from);
}

/** The raw arm (ranges up to 6 h): rows `(b, series_id, metric_name, l_*, v)` per bucket. */
function rawArmSql(d: Dialect, t: SqlTarget, arm: Arm): string {
  const p = armParts(d, t, arm);
  const timeFilter = d === 'sqlite' ? 'ts >= $__from AND ts < $__to' : '$__timeFilter(ts)';
  // Terms in the order they always had: the SQL of the raw arm is unchanged.
  const src = `${rowsOf(d, 'samples_named', [p.guard, ...p.series.slice(0, 3), timeFilter, ...p.series.slice(3)])} src`;
  const bucket = bucketOf(d, p.B);
  if (t.kind === 'rate' || t.kind === 'increase') {
    // Deltas between consecutive samples of a series; a drop is a reset (the counter restarted
    // from 0, so its new value is the increase); the first sample has no predecessor. A rate
    // divides by the time the deltas span, not the bucket's width: a bucket narrower than the
    // record interval holds one delta or none.
    const prev = 'lag(value) OVER (PARTITION BY series_id ORDER BY ts)';
    const prevTs = 'lag(ts) OVER (PARTITION BY series_id ORDER BY ts)';
    const dt = d === 'sqlite' ? `(ts - ${prevTs}) / 1000.0` : `extract(epoch from ts - ${prevTs})::float8`;
    const inner = `SELECT ${bucket} AS b, ${p.carried}, CASE WHEN ${prev} IS NULL THEN NULL WHEN value >= ${prev} THEN value - ${prev} ELSE value END AS d, ${dt} AS dt FROM ${src}`;
    const agg = t.kind === 'rate' ? 'sum(d) / NULLIF(sum(CASE WHEN d IS NOT NULL THEN dt END), 0)' : 'sum(d)';
    return `SELECT ${['b', 'series_id', 'metric_name', ...p.labels.map(col)].join(', ')}, ${agg} AS v FROM (${inner}) deltas GROUP BY ${p.groupBy}`;
  }
  return `SELECT ${bucket} AS b, ${p.carried}, avg(value) AS v FROM ${src} GROUP BY ${p.groupBy}`;
}

/**
 * A tier arm: rows `(b, series_id, metric_name, l_*, v)` per bucket, from the tier below
 * its watermark and from raw samples above it (the raw tail), so a lagging tier still
 * answers up to the range's end. The two parts give each bucket additive partial values
 * (sum and count, increase and the seconds it spans), added up per series and bucket: a
 * bucket that straddles the watermark gets both parts' share.
 */
function tierArmSql(d: Dialect, t: SqlTarget, arm: Arm): string {
  if (t.kind === 'quantile') return quantileArmSql(d, t, arm);
  const p = armParts(d, t, arm);
  const W = watermarkSql(d, arm.tier);
  const timeFilter = d === 'sqlite' ? 'ts >= $__from AND ts < $__to' : '$__timeFilter(ts)';
  const cols = ['b', 'series_id', 'metric_name', ...p.labels.map(col)].join(', ');
  const tierRows = rowsOf(d, `metrics_${arm.tier}`, [p.guard, ...p.series, timeFilter, tsCmp(d, '<', W)]);
  const least = d === 'sqlite' ? 'min' : 'least';
  let tierPart: string;
  let tailPart: string;
  let v: string;
  if (t.kind === 'gauge') {
    tierPart = `SELECT ${bucketOf(d, p.B)} AS b, ${p.carried}, sum(sum) AS s, sum(count) AS n FROM ${tierRows} src GROUP BY ${p.groupBy}`;
    const tail = rowsOf(d, 'samples_named', [p.guard, ...p.series, tsCmp(d, '>=', tailFromSql(d, arm)), d === 'sqlite' ? 'ts < $__to' : "ts <= to_timestamp($__to / 1000.0)"]);
    const perSeries = `SELECT b, series_id, sum(value) AS s, count(value) AS n FROM (SELECT ${bucketOf(d, p.B)} AS b, series_id, value FROM ${tail} src) tail_rows GROUP BY b, series_id`;
    tailPart = `SELECT ${joinedCols(p)}, t.s, t.n FROM (${perSeries}) t JOIN ${seriesInfoSql(d, p, p.series[0]!)} i ON i.series_id = t.series_id`;
    v = 'sum(s) / NULLIF(sum(n), 0)';
  } else {
    // A tier bucket spans its width, clipped at the watermark where it straddles it; the
    // raw tail's deltas span their own seconds (a bucket still filling spans less).
    const inner = `SELECT ${bucketOf(d, p.B)} AS b, ${p.carried}, increase FROM ${tierRows} src`;
    tierPart = `SELECT ${cols}, sum(increase) AS inc, (${least}(b + ${p.B}, ${W}) - b) / 1000.0 AS secs FROM (${inner}) tier_rows GROUP BY ${p.groupBy}`;
    const deltas = `SELECT ${bucketOf(d, p.B)} AS b, series_id, d, dt FROM (${tailDeltasSql(d, p, arm, p.series[0]!)}) deltas`;
    const perSeries = `SELECT b, series_id, sum(d) AS inc, sum(CASE WHEN d IS NOT NULL THEN dt END) AS secs FROM (${deltas}) tail_rows GROUP BY b, series_id`;
    tailPart = `SELECT ${joinedCols(p)}, t.inc, t.secs FROM (${perSeries}) t JOIN ${seriesInfoSql(d, p, p.series[0]!)} i ON i.series_id = t.series_id`;
    v = t.kind === 'rate' ? 'sum(inc) / NULLIF(sum(secs), 0)' : 'sum(inc)';
  }
  return `SELECT ${cols}, ${v} AS v FROM (\n    ${tierPart}\n    UNION ALL\n    ${tailPart}\n  ) parts GROUP BY ${p.groupBy}`;
}

/**
 * A quantile arm: the tier's stored quantile of each label set below the watermark (the
 * highest in the bucket), and above it the same quantile computed from the raw `_bucket`
 * counters: their increases per tier bucket (deltas, resets handled), merged per `le`
 * and label set, made monotonic, ranked and interpolated as histogram_quantile does
 * (docs/storage.md, "A quantile over merged label sets"), then the highest per bucket.
 */
function quantileArmSql(d: Dialect, t: SqlTarget, arm: Arm): string {
  const p = armParts(d, t, arm);
  const W = watermarkSql(d, arm.tier);
  const timeFilter = d === 'sqlite' ? 'ts >= $__from AND ts < $__to' : '$__timeFilter(ts)';
  const lcols = p.labels.map(col);
  const q = t.quantile ?? 'p95';
  // A label set is its labels without `le` (those of its `_count` series in the tier), so the
  // two parts of a bucket that straddles the watermark are one group.
  const set = d === 'sqlite' ? "json_remove(labels, '$.le')" : "(labels - 'le')";
  const keys = ['metric_name', ...lcols, 'label_set'].join(', ');
  const tierRows = rowsOf(d, `quantiles_${arm.tier}`, [p.guard, ...p.series, timeFilter, tsCmp(d, '<', W)]);
  const tierPart = `SELECT ${bucketOf(d, p.B)} AS b, ${p.carried}, ${set} AS label_set, max(${q}) AS v FROM ${tierRows} src GROUP BY b, series_id, ${keys}`;
  // The tail, per tier bucket `s` (as the tier computes its quantiles) and label set.
  const inf = d === 'sqlite' ? '9e999' : "'Infinity'::float8";
  const leText = d === 'sqlite' ? "json_extract(labels, '$.le')" : "(labels->>'le')";
  const le = `CASE WHEN ${leText} IN ('+Inf', 'Inf', '+inf', 'inf') THEN ${inf} ELSE CAST(${leText} AS ${d === 'sqlite' ? 'REAL' : 'float8'}) END`;
  const base = d === 'sqlite' ? 'substr(name, 1, length(name) - 7)' : 'left(name, -7)';
  const names = `metric_name IN (${t.metrics.map((m) => lit(`${m}_bucket`)).join(', ')})`;
  // Increases per tier bucket and series, then the series' name, labels and `le` joined once.
  const perSeries = `SELECT s, series_id, sum(d) AS n FROM (SELECT ${bucketOf(d, String(arm.resolutionMs))} AS s, series_id, d FROM (${tailDeltasSql(d, p, arm, names)}) deltas) tail_rows GROUP BY s, series_id`;
  const info = seriesInfoSql(d, p, names, [`${base} AS base_name`, `${set} AS label_set`, `${le} AS le`]);
  const incs = `SELECT t.s, i.series_id, i.base_name AS metric_name, ${lcols.map((c) => `i.${c}, `).join('')}i.label_set, i.le, t.n AS d FROM (${perSeries}) t JOIN ${info} i ON i.series_id = t.series_id`;
  const perLe = `SELECT s, ${keys}, min(series_id) AS series_id, le, sum(d) AS n FROM (${incs}) incs GROUP BY s, ${keys}, le`;
  const m = `SELECT s, ${keys}, series_id, le, max(n) OVER w AS n, lag(le) OVER w AS prev_le FROM (${perLe}) per_le WINDOW w AS (PARTITION BY s, metric_name, label_set ORDER BY le)`;
  const qv = { p50: '0.5', p95: '0.95', p99: '0.99' }[q];
  const r = `SELECT s, ${keys}, series_id, le, n, prev_le, lag(n) OVER w AS prev_n, ${qv} * max(CASE WHEN le = ${inf} THEN n END) OVER (PARTITION BY s, metric_name, label_set) AS rank FROM (${m}) m WINDOW w AS (PARTITION BY s, metric_name, label_set ORDER BY le)`;
  const value = `CASE WHEN le = ${inf} THEN prev_le WHEN prev_le IS NULL AND le <= 0 THEN le ELSE coalesce(prev_le, 0) + (le - coalesce(prev_le, 0)) * (rank - coalesce(prev_n, 0)) / (n - coalesce(prev_n, 0)) END`;
  const b = d === 'sqlite' ? `(s / ${p.B}) * ${p.B}` : `floor(s / ${p.B}) * ${p.B}`;
  const tailPart = `SELECT ${b} AS b, series_id, ${keys}, ${value} AS v FROM (${r}) r WHERE rank > 0 AND n >= rank AND (prev_n IS NULL OR prev_n < rank)`;
  return `SELECT b, min(series_id) AS series_id, ${['metric_name', ...lcols].join(', ')}, max(v) AS v FROM (\n    ${tierPart}\n    UNION ALL\n    ${tailPart}\n  ) parts GROUP BY b, ${keys}`;
}

/** One arm: rows `(b, series_id, metric_name, l_*, v)` of the series in range, per bucket. */
function armSql(d: Dialect, t: SqlTarget, arm: Arm): string {
  return arm.tier === 'raw' ? rawArmSql(d, t, arm) : tierArmSql(d, t, arm);
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
