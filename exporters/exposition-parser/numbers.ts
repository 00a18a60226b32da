/** Numbers as the exposition formats write them. */

/** Parses a float as both formats write them: decimals, exponents, NaN, ±Inf (any case). No hex, no `_`. */
export function parseFloatToken(token: string): number | undefined {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(token)) return Number(token);
  if (/^[+]?inf(?:inity)?$/i.test(token)) return Infinity;
  if (/^-inf(?:inity)?$/i.test(token)) return -Infinity;
  if (/^nan$/i.test(token)) return NaN;
  return undefined;
}

/**
 * A float in a label value that carries a number (`le`, `quantile`). OpenMetrics
 * requires the canonical spelling of the infinities there (`+Inf`, `-Inf`), since
 * label values are compared as strings; NaN is never a bucket bound or a quantile.
 */
export function parseLabelFloat(token: string, om: boolean): number | undefined {
  const v = parseFloatToken(token);
  if (v === undefined || Number.isNaN(v)) return undefined;
  if (om && !Number.isFinite(v) && token !== '+Inf' && token !== '-Inf') return undefined;
  return v;
}
