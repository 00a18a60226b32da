/**
 * Validation and row mapping shared by both dialects, pure, so bad input is refused
 * the same way everywhere, before any SQL runs.
 */
import { canonicalLabels, checkMetricName, checkMetricType, checkTimeMs, fingerprint, parseLabels } from './series-key.js';
import type { AlertInput, AlertSeverity, AlertStatus, LabelMatcher, MetricType, ReadQuery, Sample, SeriesDef, SeriesInfo } from './store.js';

/** A series row as both dialects select it. */
export interface SeriesRow {
  readonly id: number | string;
  readonly name: string;
  readonly labels: string;
  readonly type: string;
  readonly help: string;
  readonly fingerprint: string;
  readonly created_at: number | string;
}

/** Maps a selected series row. */
export function seriesFromRow(r: SeriesRow): SeriesInfo {
  return {
    id: Number(r.id),
    name: r.name,
    labels: parseLabels(r.labels),
    type: r.type as MetricType,
    help: r.help,
    fingerprint: r.fingerprint,
    createdMs: Number(r.created_at),
  };
}

/** Series whose labels satisfy every matcher (regexes anchored, as in PromQL). */
export function matchSeries(series: readonly SeriesInfo[], matchers: readonly LabelMatcher[]): SeriesInfo[] {
  const tests = matchers.map((m, i) => {
    if (m === null || typeof m !== 'object' || typeof m.label !== 'string' || typeof m.value !== 'string') {
      throw new TypeError(`readSamples matcher ${i}: expected {label, op, value}`);
    }
    const get = (l: Readonly<Record<string, string>>): string => l[m.label] ?? '';
    switch (m.op) {
      case '=':
        return (l: Readonly<Record<string, string>>) => get(l) === m.value;
      case '!=':
        return (l: Readonly<Record<string, string>>) => get(l) !== m.value;
      case '=~':
      case '!~': {
        let re: RegExp;
        try {
          re = new RegExp(`^(?:${m.value})$`, 'u');
        } catch (e) {
          throw new TypeError(`readSamples matcher ${i}: invalid regex ${JSON.stringify(m.value)}: ${(e as Error).message}`);
        }
        return m.op === '=~' ? (l: Readonly<Record<string, string>>) => re.test(get(l)) : (l: Readonly<Record<string, string>>) => !re.test(get(l));
      }
      default:
        throw new TypeError(`readSamples matcher ${i}: invalid op ${JSON.stringify((m as LabelMatcher).op)}: expected =, !=, =~ or !~`);
    }
  });
  return series.filter((s) => tests.every((t) => t(s.labels)));
}

/** JSON text of `data` for metrics_raw / daily_summaries, or a clear error. */
export function rawJson(what: string, data: unknown): string {
  if (typeof what !== 'string' || what === '' || what.length > 200) throw new TypeError(`${String(what)}: type must be a non-empty string of at most 200 characters`);
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (e) {
    throw new TypeError(`${what}: data is not JSON-serialisable: ${(e as Error).message}`);
  }
  if (json === undefined) throw new TypeError(`${what}: data is not JSON-serialisable (got ${typeof data})`);
  return json;
}

/** Throws unless `date` is a real calendar date `YYYY-MM-DD`. */
export function checkDate(date: unknown): asserts date is string {
  const d = typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) ? new Date(`${date}T00:00:00Z`) : undefined;
  // An impossible month gives an Invalid Date (toISOString would throw); Feb 30 rolls over.
  if (d === undefined || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date) {
    throw new TypeError(`saveDailySummary: invalid date ${JSON.stringify(date)}: expected YYYY-MM-DD`);
  }
}

/** Throws unless getMetricStats' arguments are sane. */
export function checkStatsArgs(name: unknown, hours: unknown): void {
  checkMetricName(name, 'getMetricStats');
  if (typeof hours !== 'number' || !Number.isFinite(hours) || hours <= 0 || hours > 24 * 366 * 100) {
    throw new RangeError(`getMetricStats(${String(name)}): invalid hours ${String(hours)}: expected a positive number`);
  }
}

const SEVERITIES: ReadonlySet<string> = new Set<AlertSeverity>(['info', 'warning', 'critical']);
const STATUSES: ReadonlySet<string> = new Set<AlertStatus>(['firing', 'resolved']);

/** An alert checked and normalised for storage. */
export interface CheckedAlert {
  readonly name: string;
  readonly severity: AlertSeverity;
  readonly message: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly labels: string;
  readonly status: AlertStatus;
  readonly firedMs: number;
  readonly resolvedMs: number | null;
}

/** Validates an alert; defaults filled from `nowMs`. */
export function checkAlert(a: AlertInput, nowMs: number): CheckedAlert {
  if (a === null || typeof a !== 'object') throw new TypeError('saveAlert: expected {name, severity, message, …}');
  if (typeof a.name !== 'string' || a.name === '' || a.name.length > 200) throw new TypeError(`saveAlert: invalid name ${JSON.stringify(a.name)}`);
  if (!SEVERITIES.has(a.severity)) throw new TypeError(`saveAlert(${a.name}): invalid severity ${JSON.stringify(a.severity)}: expected info, warning or critical`);
  if (typeof a.message !== 'string') throw new TypeError(`saveAlert(${a.name}): message must be a string`);
  const status = a.status ?? 'firing';
  if (!STATUSES.has(status)) throw new TypeError(`saveAlert(${a.name}): invalid status ${JSON.stringify(status)}: expected firing or resolved`);
  const num = (v: unknown, what: string): number | null => {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number') throw new TypeError(`saveAlert(${a.name}): ${what} must be a number or null`);
    return v;
  };
  const firedMs = a.firedMs ?? nowMs;
  if (!Number.isSafeInteger(firedMs)) throw new TypeError(`saveAlert(${a.name}): invalid firedMs ${String(firedMs)}`);
  const resolvedMs = status === 'resolved' ? (a.resolvedMs ?? nowMs) : null;
  if (resolvedMs !== null && !Number.isSafeInteger(resolvedMs)) throw new TypeError(`saveAlert(${a.name}): invalid resolvedMs ${String(resolvedMs)}`);
  return {
    name: a.name,
    severity: a.severity,
    message: a.message,
    value: num(a.value, 'value'),
    threshold: num(a.threshold, 'threshold'),
    labels: canonicalLabels(a.labels, `saveAlert(${a.name})`),
    status,
    firedMs,
    resolvedMs,
  };
}

/** Thrown when the file was written by a newer Larder. */
export class NewerSchemaError extends Error {
  constructor(where: string, found: number, known: number) {
    super(`${where} has schema version ${found}, newer than this Larder knows (${known}); upgrade Larder, the store was left untouched`);
    this.name = 'NewerSchemaError';
  }
}

/** Throws on the first malformed sample, naming its index. */
export function checkSamples(samples: readonly Sample[]): void {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (s === null || typeof s !== 'object') throw new TypeError(`writeSamples[${i}]: expected {seriesId, timeMs, value}`);
    if (!Number.isSafeInteger(s.seriesId) || s.seriesId <= 0) throw new TypeError(`writeSamples[${i}]: invalid seriesId ${String(s.seriesId)}`);
    checkTimeMs(s.timeMs, `writeSamples[${i}]`);
    if (typeof s.value !== 'number') throw new TypeError(`writeSamples[${i}]: value must be a number, got ${typeof s.value}`);
  }
}

/** Throws unless a ReadQuery is well formed. */
export function checkReadQuery(q: ReadQuery): void {
  if (q === null || typeof q !== 'object') throw new TypeError('readSamples: expected {seriesIds | name, fromMs, toMs}');
  checkTimeMs(q.fromMs, 'readSamples fromMs');
  checkTimeMs(q.toMs, 'readSamples toMs');
  if (q.seriesIds !== undefined) {
    if (!Array.isArray(q.seriesIds) || q.seriesIds.some((id) => !Number.isSafeInteger(id))) throw new TypeError('readSamples: seriesIds must be an array of integers');
  } else checkMetricName(q.name, 'readSamples');
  if (q.limit !== undefined && (!Number.isSafeInteger(q.limit) || q.limit < 0)) throw new RangeError(`readSamples: invalid limit ${String(q.limit)}`);
}

/** A checked batch as `[seriesId, timeMs, value]` triples in one transferable buffer. */
export function packSamples(samples: readonly Sample[]): Float64Array {
  const p = new Float64Array(samples.length * 3);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    p[i * 3] = s.seriesId;
    p[i * 3 + 1] = s.timeMs;
    p[i * 3 + 2] = s.value;
  }
  return p;
}

/** Samples ordered by series, then time, as PackedReadResult's columns. */
export function packColumns(samples: readonly Sample[]): { runs: Float64Array; ts: Float64Array; vs: Float64Array } {
  const ts = new Float64Array(samples.length);
  const vs = new Float64Array(samples.length);
  const runs: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    ts[i] = s.timeMs;
    vs[i] = s.value;
    if (runs.length > 0 && runs[runs.length - 2] === s.seriesId) runs[runs.length - 1]!++;
    else runs.push(s.seriesId, 1);
  }
  return { runs: Float64Array.from(runs), ts, vs };
}

/** PackedReadResult's columns as sample objects (by series, then time). */
export function unpackColumns(r: { runs: Float64Array; ts: Float64Array; vs: Float64Array }): Sample[] {
  const out = new Array<Sample>(r.ts.length);
  let at = 0;
  for (let k = 0; k < r.runs.length; k += 2) {
    const seriesId = r.runs[k]!;
    const end = at + r.runs[k + 1]!;
    for (; at < end; at++) out[at] = { seriesId, timeMs: r.ts[at]!, value: r.vs[at]! };
  }
  return out;
}

/** A validated series definition with its canonical labels and fingerprint. */
export interface SeriesKey {
  readonly def: SeriesDef;
  /** Canonical (sorted) JSON of the labels. */
  readonly labels: string;
  readonly fp: string;
}

/** Validates `resolveSeries` input (same checks and messages on both dialects) and keys each def. */
export function keySeriesDefs(defs: readonly SeriesDef[]): SeriesKey[] {
  if (!Array.isArray(defs)) throw new TypeError('resolveSeries: expected an array of series definitions');
  return defs.map((d, i) => {
    const where = `resolveSeries[${i}]`;
    if (d === null || typeof d !== 'object') throw new TypeError(`${where}: expected {name, labels, type, help}`);
    checkMetricName(d.name, where);
    checkMetricType(d.type, where);
    if (d.help !== undefined && typeof d.help !== 'string') throw new TypeError(`${where}: help must be a string`);
    const labels = canonicalLabels(d.labels, where);
    return { def: d, labels, fp: fingerprint(d.name, labels) };
  });
}

/**
 * SQL: whether a series (table alias `alias` of `series`) counts up: counters, and the
 * `_bucket`/`_count`/`_sum` series of histograms and summaries (a summary's quantile
 * series are gauges). Such series get an increase in rollups and `metrics_hourly`.
 */
export function counterLikeSql(alias: string): string {
  return `(${alias}.type = 'counter' OR (${alias}.type IN ('histogram', 'summary') AND (${alias}.name LIKE '%\\_bucket' ESCAPE '\\' OR ${alias}.name LIKE '%\\_count' ESCAPE '\\' OR ${alias}.name LIKE '%\\_sum' ESCAPE '\\')))`;
}

/**
 * SQL: the reset-corrected delta from `prev` to `v` (the rollups' rule: a drop is a
 * restart from zero, so the delta is the new value); NULL when either is missing (NaN).
 */
export function resetDeltaSql(v: string, prev: string): string {
  return `CASE WHEN ${prev} IS NULL OR ${v} IS NULL THEN NULL WHEN ${v} >= ${prev} THEN ${v} - ${prev} ELSE ${v} END`;
}

/**
 * How far before the first hour `aggregateHourlyMetrics` looks for a counter's previous
 * sample, so the delta into the hour counts. Two hours covers the longest record
 * interval (1 h) with room for jitter; after a longer gap in recording the first sample
 * only sets the level.
 */
export const HOURLY_LOOKBACK_MS = 2 * 3_600_000;
