/**
 * Series identity, pure: validation of metric and label names, the canonical label
 * form stored in `series.labels`, and the fingerprint that makes a series unique.
 */
import { createHash } from 'node:crypto';
import type { Labels, MetricType } from './store.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: ReadonlySet<string> = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Throws a clear error unless `name` is a valid Prometheus metric name. */
export function checkMetricName(name: unknown, where: string): asserts name is string {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    throw new TypeError(`${where}: invalid metric name ${JSON.stringify(name)}: expected [a-zA-Z_:][a-zA-Z0-9_:]*`);
  }
}

/** Throws unless `type` is one of the metric types. */
export function checkMetricType(type: unknown, where: string): asserts type is MetricType {
  if (typeof type !== 'string' || !TYPES.has(type)) {
    throw new TypeError(`${where}: invalid metric type ${JSON.stringify(type)}: expected one of ${[...TYPES].join(', ')}`);
  }
}

/**
 * The canonical JSON of a label set: keys sorted, values strings. Label names are
 * validated; values may hold anything (quotes, SQL, unicode), since they are only
 * ever bound as parameters. `__name__` is refused: the name is its own column.
 */
export function canonicalLabels(labels: Labels | undefined, where: string): string {
  if (labels === undefined || labels === null) return '{}';
  if (typeof labels !== 'object' || Array.isArray(labels)) {
    throw new TypeError(`${where}: labels must be an object of strings, got ${Array.isArray(labels) ? 'an array' : typeof labels}`);
  }
  const keys = Object.keys(labels).sort();
  const out: Record<string, string> = {};
  for (const k of keys) {
    if (!LABEL_NAME.test(k) || k === '__name__') {
      throw new TypeError(`${where}: invalid label name ${JSON.stringify(k)}: expected [a-zA-Z_][a-zA-Z0-9_]*, not __name__`);
    }
    const v = labels[k];
    if (typeof v !== 'string') throw new TypeError(`${where}: label ${k} must be a string, got ${typeof v}`);
    out[k] = v;
  }
  return JSON.stringify(out);
}

/** 64-bit hex fingerprint of a metric name and its canonical labels. */
export function fingerprint(name: string, canonical: string): string {
  return createHash('sha256').update(name).update('\0').update(canonical).digest('hex').slice(0, 16);
}

/** Parses stored canonical labels back into an object. */
export function parseLabels(json: unknown): Labels {
  if (typeof json !== 'string' || json === '') return {};
  return JSON.parse(json) as Labels;
}

/** Throws unless `t` is an integer epoch-ms time inside what both dialects store. */
export function checkTimeMs(t: unknown, where: string): asserts t is number {
  // PostgreSQL timestamptz ends at 294276 AD; keep well inside and refuse fractions.
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || t > 253_402_300_799_999) {
    throw new RangeError(`${where}: invalid time ${String(t)}: expected integer epoch milliseconds between 1970 and 9999`);
  }
}
