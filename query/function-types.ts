/** Signatures of PromQL's functions, for the parser's type checks. */
import type { ValueType } from './ast.js';

/** Argument and result types of one function. */
export interface FunctionSignature {
  readonly args: readonly ValueType[];
  /** Trailing arguments that may be left out. */
  readonly optional: number;
  /** The last argument repeats (label_join, sort_by_label). */
  readonly variadic: boolean;
  readonly returns: ValueType;
  /** Gated behind `--enable-feature=promql-experimental-functions` in Prometheus 3. */
  readonly experimental: boolean;
}

const sig = (args: ValueType[], returns: ValueType, optional = 0, variadic = false, experimental = false): FunctionSignature => ({ args, optional, variadic, returns, experimental });

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

const table: Record<string, FunctionSignature> = {
  abs: sig([V], V),
  absent: sig([V], V),
  absent_over_time: sig([M], V),
  present_over_time: sig([M], V),
  avg_over_time: sig([M], V),
  min_over_time: sig([M], V),
  max_over_time: sig([M], V),
  sum_over_time: sig([M], V),
  count_over_time: sig([M], V),
  stddev_over_time: sig([M], V),
  stdvar_over_time: sig([M], V),
  last_over_time: sig([M], V),
  first_over_time: sig([M], V, 0, false, true),
  mad_over_time: sig([M], V, 0, false, true),
  ts_of_min_over_time: sig([M], V, 0, false, true),
  ts_of_max_over_time: sig([M], V, 0, false, true),
  ts_of_last_over_time: sig([M], V, 0, false, true),
  ts_of_first_over_time: sig([M], V, 0, false, true),
  quantile_over_time: sig([S, M], V),
  changes: sig([M], V),
  resets: sig([M], V),
  delta: sig([M], V),
  idelta: sig([M], V),
  deriv: sig([M], V),
  increase: sig([M], V),
  rate: sig([M], V),
  irate: sig([M], V),
  predict_linear: sig([M, S], V),
  double_exponential_smoothing: sig([M, S, S], V, 0, false, true),
  ceil: sig([V], V),
  floor: sig([V], V),
  exp: sig([V], V),
  ln: sig([V], V),
  log2: sig([V], V),
  log10: sig([V], V),
  sqrt: sig([V], V),
  sgn: sig([V], V),
  round: sig([V, S], V, 1),
  clamp: sig([V, S, S], V),
  clamp_min: sig([V, S], V),
  clamp_max: sig([V, S], V),
  day_of_month: sig([V], V, 1),
  day_of_week: sig([V], V, 1),
  day_of_year: sig([V], V, 1),
  days_in_month: sig([V], V, 1),
  hour: sig([V], V, 1),
  minute: sig([V], V, 1),
  month: sig([V], V, 1),
  year: sig([V], V, 1),
  histogram_quantile: sig([S, V], V),
  // Native-histogram functions: float samples are ignored, so over Larder's data they are empty.
  histogram_count: sig([V], V),
  histogram_sum: sig([V], V),
  histogram_avg: sig([V], V),
  histogram_stddev: sig([V], V),
  histogram_stdvar: sig([V], V),
  histogram_fraction: sig([S, S, V], V),
  label_replace: sig([V, STR, STR, STR, STR], V),
  label_join: sig([V, STR, STR, STR], V, 1, true),
  scalar: sig([V], S),
  vector: sig([S], V),
  sort: sig([V], V),
  sort_desc: sig([V], V),
  sort_by_label: sig([V, STR], V, 1, true, true),
  sort_by_label_desc: sig([V, STR], V, 1, true, true),
  time: sig([], S),
  timestamp: sig([V], V),
  pi: sig([], S),
  acos: sig([V], V),
  acosh: sig([V], V),
  asin: sig([V], V),
  asinh: sig([V], V),
  atan: sig([V], V),
  atanh: sig([V], V),
  cos: sig([V], V),
  cosh: sig([V], V),
  sin: sig([V], V),
  sinh: sig([V], V),
  tan: sig([V], V),
  tanh: sig([V], V),
  deg: sig([V], V),
  rad: sig([V], V),
};

/** The signature of `name`, or undefined for an unknown function. */
export function functionSignature(name: string): FunctionSignature | undefined {
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}
