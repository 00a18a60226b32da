/**
 * A whole metric family set wholesale, of any kind: what ConstMetric is for counters
 * and gauges, this is for families read from elsewhere (textfiles), histograms and
 * summaries included, whose samples carry their own names (`_bucket`, `_sum`…).
 */
import type { Metric, Registry } from 'prom-client';
import type { MetricKind } from './const-metric.js';
import type { MetricFamily, Sample } from './metric-family.js';

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A registered family whose samples are replaced on each collection. */
export class ConstFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricKind;
  /** prom-client's cluster aggregation reads this. */
  readonly aggregator = 'sum' as const;
  private samples: readonly Sample[] = [];

  /** Registers the family; throws when the name is invalid or already registered. */
  constructor(registry: Registry, family: Pick<MetricFamily, 'name' | 'help' | 'type'>) {
    if (!NAME_RE.test(family.name)) throw new Error(`Invalid metric name: ${family.name}`);
    this.name = family.name;
    this.help = family.help;
    this.type = family.type;
    // prom-client's Registry only needs name, help, type, get() and reset().
    registry.registerMetric(this as unknown as Metric);
  }

  /** Replaces every sample. */
  set(samples: readonly Sample[]): void {
    this.samples = samples;
  }

  /** prom-client's collect entry point; `metricName` carries each sample's own name. */
  async get(): Promise<{
    name: string;
    help: string;
    type: MetricKind;
    aggregator: 'sum';
    values: { metricName: string; labels: Readonly<Record<string, string>>; value: number }[];
  }> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.samples.map((s) => ({ metricName: s.name, labels: s.labels, value: s.value })),
    };
  }

  /** Forgets every sample. */
  reset(): void {
    this.samples = [];
  }
}
