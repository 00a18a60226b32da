/** The collectors Larder knows, listed explicitly (no registration by import side effect). */
import type { CollectorDefinition } from './collector.js';
import { processCollector } from './process.js';

/** Every collector, in exposition order. */
export const COLLECTORS: readonly CollectorDefinition[] = [processCollector];

/** Collector name → on by default. */
export const COLLECTOR_DEFAULTS: Readonly<Record<string, boolean>> = Object.freeze(
  Object.fromEntries(COLLECTORS.map((c) => [c.name, c.defaultEnabled])),
);

export { CollectorSet, type CollectorSetOptions } from './collector-set.js';
export type { Collector, CollectorContext, CollectorDefinition, CollectorLog, HostCollectorOptions } from './collector.js';
export { ConstMetric, type ConstMetricConfig, type ConstSample, type Labels, type MetricKind } from './const-metric.js';
export type { MetricFamily, Sample } from './metric-family.js';
