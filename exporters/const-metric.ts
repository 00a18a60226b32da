/**
 * A metric whose whole value set is replaced on each collection, like node_exporter's
 * const metrics: counters mirrored from the kernel (which only the kernel increments)
 * and gauges whose label sets come and go (devices, mounts). A device that disappears
 * disappears from /metrics at the next collection.
 */
import type { Metric, Registry } from 'prom-client';

/** The metric types of the exposition formats. */
export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** Label name → value. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a const metric. */
export interface ConstSample {
  readonly labels: Labels;
  readonly value: number;
}

/** Declaration of a const metric. */
export interface ConstMetricConfig {
  readonly name: string;
  readonly help: string;
  /** @default 'gauge' */
  readonly type?: 'counter' | 'gauge' | 'untyped';
  /**
   * The label names every sample carries, when they are known before the first sample
   * (as prom-client's `labelNames`): the metric reference lists them. Not enforced.
   */
  readonly labelNames?: readonly string[];
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A counter or gauge set wholesale by its collector. */
export class ConstMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'untyped';
  /** See ConstMetricConfig.labelNames. */
  readonly labelNames: readonly string[] | undefined;
  /** prom-client's cluster aggregation reads this. */
  readonly aggregator = 'sum' as const;
  private samples: readonly ConstSample[] = [];

  constructor(registry: Registry, config: ConstMetricConfig) {
    if (!NAME_RE.test(config.name)) throw new Error(`Invalid metric name: ${config.name}`);
    this.name = config.name;
    this.help = config.help;
    this.type = config.type ?? 'gauge';
    this.labelNames = config.labelNames;
    // prom-client's Registry only needs name, help, type, get() and reset(); its
    // Metric type is a closed union of its own classes, hence the cast.
    registry.registerMetric(this as unknown as Metric);
  }

  /** Replaces every sample. */
  set(samples: readonly ConstSample[]): void {
    this.samples = samples;
  }

  /** Sets the single unlabelled sample. */
  setValue(value: number): void {
    this.samples = [{ labels: {}, value }];
  }

  /** The samples now held. */
  current(): readonly ConstSample[] {
    return this.samples;
  }

  /** prom-client's collect entry point. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: { labels: Labels; value: number }[] }> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.samples.map((s) => ({ labels: s.labels, value: s.value })),
    };
  }

  /** Forgets every sample. */
  reset(): void {
    this.samples = [];
  }
}
