/**
 * The shape of collected metrics, shared by the /metrics serializers, the recorder
 * and the exposition parser (scrape targets, textfile collector).
 */
import type { MetricKind } from './const-metric.js';

/** One exposed sample: `name{labels} value [timestamp]`. */
export interface Sample {
  /** The sample name, e.g. `http_request_duration_seconds_bucket`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Explicit timestamp (ms), only for samples parsed from an exposition that carried one. */
  readonly timestampMs?: number;
}

/** A metric family: the unit of HELP/TYPE in the exposition. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricKind;
  readonly samples: readonly Sample[];
}
