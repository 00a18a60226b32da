/**
 * Merges the metric families of several instances of one service (PM2 cluster
 * processes, worker threads) into one view. Per metric, samples with the same name and
 * labels are summed (or max/min), or kept apart with an instance label. Pure.
 */
import type { MetricKind } from '../../exporters/const-metric.js';
import type { MetricFamily, Sample } from '../../exporters/metric-family.js';

/** How one metric is merged across instances. */
export type AggregationMode = 'sum' | 'max' | 'min' | 'instance';

/** Every mode, for validation. */
export const AGGREGATION_MODES: readonly AggregationMode[] = ['sum', 'max', 'min', 'instance'];

/** One instance's collected families. */
export interface InstanceFamilies {
  /** The instance's id, the value of the instance label. */
  readonly instance: string;
  readonly families: readonly MetricFamily[];
}

/** How to merge. */
export interface MergeOptions {
  /** The label naming the instance on metrics kept per instance. @default 'app_instance' */
  readonly label: string;
  /** Metric name → mode; metrics not listed get `defaultMode(type)`. */
  readonly modes?: Readonly<Record<string, AggregationMode>>;
}

/**
 * Counters and histograms add up across instances (a rate of the sum is the sum of
 * the rates); gauges, summaries (whose quantiles cannot be added) and untyped metrics
 * are kept per instance.
 */
export function defaultMode(type: MetricKind): AggregationMode {
  return type === 'counter' || type === 'histogram' ? 'sum' : 'instance';
}

function sampleKey(s: Sample): string {
  const keys = Object.keys(s.labels).sort();
  let k = s.name;
  for (const name of keys) k += `\u0000${name}\u0001${s.labels[name]}`;
  return k;
}

interface Building {
  readonly name: string;
  readonly help: string;
  readonly type: MetricKind;
  readonly mode: AggregationMode;
  readonly samples: Map<string, { name: string; labels: Readonly<Record<string, string>>; value: number }>;
}

/** Merges instances' families; families keep the order in which they are first seen. */
export function mergeInstances(instances: readonly InstanceFamilies[], opts: MergeOptions): MetricFamily[] {
  const byName = new Map<string, Building>();
  for (const inst of instances) {
    for (const f of inst.families) {
      let b = byName.get(f.name);
      if (!b) {
        b = { name: f.name, help: f.help, type: f.type, mode: opts.modes?.[f.name] ?? defaultMode(f.type), samples: new Map() };
        byName.set(f.name, b);
      }
      for (const s of f.samples) {
        if (b.mode === 'instance') {
          const labels = { ...s.labels, [opts.label]: inst.instance };
          const one = { name: s.name, labels, value: s.value };
          b.samples.set(sampleKey(one), one);
          continue;
        }
        const key = sampleKey(s);
        const prev = b.samples.get(key);
        if (!prev) {
          b.samples.set(key, { name: s.name, labels: s.labels, value: s.value });
        } else if (b.mode === 'sum') {
          prev.value += s.value;
        } else if (b.mode === 'max') {
          prev.value = Math.max(prev.value, s.value);
        } else {
          prev.value = Math.min(prev.value, s.value);
        }
      }
    }
  }
  return [...byName.values()].map((b) => ({ name: b.name, help: b.help, type: b.type, samples: [...b.samples.values()] }));
}
