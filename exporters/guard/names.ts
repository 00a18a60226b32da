/**
 * Prometheus naming rules, checked before a metric is created so a bad name fails
 * at declaration with a message that names it, not at scrape time.
 * https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A metric or label name that breaks Prometheus' rules. */
export class InvalidNameError extends Error {
  override readonly name = 'InvalidNameError';
}

/** Throws InvalidNameError unless `name` is a valid metric name; `where` says who declared it. */
export function assertMetricName(name: unknown, where = 'metric'): asserts name is string {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    throw new InvalidNameError(`${where}: invalid metric name ${JSON.stringify(name)}: must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
  }
}

/**
 * Throws InvalidNameError unless every label name is valid for `metric`: the label
 * pattern, no `__` prefix (reserved for Prometheus), no duplicates, and not `le` on a
 * histogram or `quantile` on a summary (their series use those).
 */
export function assertLabelNames(metric: string, names: readonly unknown[], type: 'counter' | 'gauge' | 'histogram' | 'summary' = 'counter'): asserts names is readonly string[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string' || !LABEL_NAME.test(n)) {
      throw new InvalidNameError(`metric ${metric}: invalid label name ${JSON.stringify(n)}: must match [a-zA-Z_][a-zA-Z0-9_]*`);
    }
    if (n.startsWith('__')) throw new InvalidNameError(`metric ${metric}: label name "${n}" is reserved (names starting with __ belong to Prometheus)`);
    if (type === 'histogram' && n === 'le') throw new InvalidNameError(`metric ${metric}: a histogram cannot have a label "le"`);
    if (type === 'summary' && n === 'quantile') throw new InvalidNameError(`metric ${metric}: a summary cannot have a label "quantile"`);
    if (seen.has(n)) throw new InvalidNameError(`metric ${metric}: label name "${n}" given twice`);
    seen.add(n);
  }
}

/**
 * A label value as it is stored: a string with any lone UTF-16 surrogate replaced
 * (U+FFFD), since the exposition is UTF-8 and a lone surrogate cannot be encoded.
 * Quotes, backslashes and newlines are kept; the serializer escapes them.
 */
export function cleanLabelValue(value: string | number): string {
  const s = typeof value === 'string' ? value : String(value);
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE_ALL, '\uFFFD') : s;
}

// String.prototype.toWellFormed is ES2024; the project targets ES2022 typings.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');
