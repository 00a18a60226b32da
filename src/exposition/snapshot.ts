/**
 * One collect step for both readers of the registry: the /metrics handler and the
 * recorder. Each metric is collected on its own, so one throwing collect() costs
 * only that metric, not the whole scrape (prom-client's registry.metrics() fails whole).
 */
import type { Registry } from 'prom-client';
import type { MetricKind } from '../../exporters/const-metric.js';
import type { MetricFamily } from '../../exporters/metric-family.js';

export type { MetricFamily, Sample } from '../../exporters/metric-family.js';

/** The result of collecting a registry. */
export interface Snapshot {
  readonly families: MetricFamily[];
  /** Metrics whose collect failed, with the cause; they are left out of `families`. */
  readonly errors: { metric: string; error: Error }[];
}

/** What prom-client's registry holds, as far as collecting needs (its typings omit get()). */
interface Collectable {
  readonly name: string;
  get(): Promise<{ name: string; help: string; type: unknown; values: { value: number; labels?: Record<string, string | number | undefined>; metricName?: string }[] }>;
}

const KINDS: readonly MetricKind[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function kindOf(type: unknown): MetricKind {
  const t = String(type);
  return (KINDS as readonly string[]).includes(t) ? (t as MetricKind) : 'untyped';
}

function labelsOf(raw: Record<string, string | number | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) if (v !== undefined) out[k] = String(v);
  return out;
}

/**
 * Collects the registry's metrics, keeping those whose name passes `include`.
 * Never rejects because of one metric.
 */
export async function collectSnapshot(registry: Registry, include?: (metricName: string) => boolean): Promise<Snapshot> {
  const metrics = (registry.getMetricsAsArray() as unknown as Collectable[]).filter((m) => !include || include(m.name));
  const settled = await Promise.allSettled(metrics.map((m) => m.get()));
  const families: MetricFamily[] = [];
  const errors: { metric: string; error: Error }[] = [];
  settled.forEach((result, i) => {
    const metric = metrics[i]!;
    if (result.status === 'rejected') {
      errors.push({ metric: metric.name, error: result.reason instanceof Error ? result.reason : new Error(String(result.reason)) });
      return;
    }
    const item = result.value;
    const values = item.values;
    families.push({
      name: item.name,
      help: item.help,
      type: kindOf(item.type),
      samples: values.map((v) => ({ name: v.metricName ?? item.name, labels: labelsOf(v.labels), value: v.value })),
    });
  });
  return { families, errors };
}
