/** The shapes the exposition parsers produce. */
import type { MetricKind } from '../const-metric.js';
import type { MetricFamily } from '../metric-family.js';

/** Which of the two formats the text is in. */
export type ExpositionFormat = 'text' | 'openmetrics';

/** Every metric type either format can declare. */
export type DeclaredType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'unknown' | 'info' | 'stateset' | 'gaugehistogram';

/**
 * A parsed family. `type` is the nearest of Larder's kinds (OpenMetrics `unknown` →
 * `untyped`, `info` and `stateset` → `gauge`, `gaugehistogram` → `untyped` since the
 * text format has no way to say it); `declaredType` keeps what the exposition said.
 * `name` follows the text-format convention: an OpenMetrics counter `x` becomes
 * family `x_total`, an info `x` becomes `x_info`, so the name is also its main
 * sample's name.
 */
export interface ParsedFamily extends MetricFamily {
  readonly declaredType: DeclaredType;
  /** OpenMetrics `# UNIT`, when given. */
  readonly unit?: string;
}

/** The nearest of Larder's metric kinds for a declared type. */
export function kindOf(t: DeclaredType): MetricKind {
  switch (t) {
    case 'counter':
    case 'gauge':
    case 'histogram':
    case 'summary':
    case 'untyped':
      return t;
    case 'info':
    case 'stateset':
      return 'gauge';
    case 'unknown':
    case 'gaugehistogram':
      return 'untyped';
  }
}

/** A metric name, in both formats. */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
