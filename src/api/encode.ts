/**
 * JSON encoding of query results as Prometheus' API writes them: a sample is
 * `[<unix seconds>, "<value>"]`, the value a decimal string without exponent
 * (Go's `strconv.FormatFloat(v, 'f', -1, 64)`), `NaN`, `+Inf` or `-Inf`.
 */
import type { Labels } from '../../storage/store.js';
import type { QueryValue } from '../../query/types.js';

/** Writes `digits` (no sign, no point) with the decimal point after `pointAt` digits, padding with zeros. */
function placePoint(digits: string, pointAt: number): string {
  if (pointAt <= 0) return `0.${'0'.repeat(-pointAt)}${digits}`;
  if (pointAt >= digits.length) return digits + '0'.repeat(pointAt - digits.length);
  return `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
}

/** A float as Prometheus' API prints it: the shortest round-trip digits, never in exponent form. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const sign = s.startsWith('-') ? '-' : '';
  const mantissa = s.slice(sign.length, e);
  const exponent = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const intDigits = dot < 0 ? mantissa.length : dot;
  return sign + placePoint(digits, intDigits + exponent);
}

/** Epoch ms as the unix seconds Prometheus prints (a JSON number with up to three decimals). */
export function formatTime(ms: number): number {
  return ms / 1000;
}

/** Labels with their names sorted, as Prometheus orders them. */
export function sortedLabels(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k]!;
  return out;
}

/** A query value as the `data` member of Prometheus' `/api/v1/query(_range)` answer. */
export function encodeValue(value: QueryValue): { resultType: string; result: unknown } {
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', result: [formatTime(value.timeMs), formatValue(value.value)] };
    case 'string':
      return { resultType: 'string', result: [formatTime(value.timeMs), value.value] };
    case 'vector':
      return {
        resultType: 'vector',
        result: value.samples.map((s) => ({ metric: sortedLabels(s.metric), value: [formatTime(s.timeMs), formatValue(s.value)] })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: value.series.map((s) => ({ metric: sortedLabels(s.metric), values: s.points.map((p) => [formatTime(p.timeMs), formatValue(p.value)]) })),
      };
  }
}
