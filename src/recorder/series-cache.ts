/**
 * Snapshot → samples: turns collected metric families into series definitions and
 * values, and remembers series ids so a steady registry costs no lookups.
 */
import type { MetricFamily } from '../../exporters/metric-family.js';
import type { Labels, MetricType, SeriesDef, Store } from '../../storage/store.js';

/** One value of a snapshot, with the series it belongs to. */
export interface FlatSample {
  readonly key: string;
  readonly def: SeriesDef;
  readonly value: number;
  /** The sample's own time (epoch ms), when its exposition gave one (a scrape target honouring timestamps). */
  readonly timeMs?: number;
}

/** Identity of a series in memory: name and labels in sorted order. */
export function seriesKey(name: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let out = name;
  for (const k of keys) out += `\u0000${k}\u0001${labels[k]}`;
  return out;
}

/**
 * The labels a sample is stored with: `extraLabels` (job and instance) win over the
 * sample's own (whose value moves to `exported_<name>`); `externalLabels` are added where
 * the series lacks them and never override. The sample's own object when neither adds anything.
 */
export function storedLabels(labels: Labels, extraLabels?: Labels, externalLabels?: Labels): Labels {
  const extra = extraLabels && Object.keys(extraLabels).length > 0 ? extraLabels : undefined;
  const external = externalLabels && Object.keys(externalLabels).length > 0 ? externalLabels : undefined;
  if (!extra && !external) return labels;
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) merged[extra && k in extra ? `exported_${k}` : k] = v;
  if (extra) Object.assign(merged, extra);
  // External labels never override: a series' own label (or job/instance) wins, as in Prometheus.
  if (external) for (const [k, v] of Object.entries(external)) if (!(k in merged)) merged[k] = v;
  return merged;
}

/**
 * Every sample of the families, flattened: gauges, counters, histogram
 * `_bucket`/`_sum`/`_count`, summary quantiles/`_sum`/`_count`. Each series keeps the
 * family's type, so the rollups know a `_bucket` series belongs to a histogram.
 * OpenMetrics `_created` samples are left out: they are a start time, not a measurement.
 * `extraLabels` (job and instance: a scrape target's, or this Larder's for its own
 * registry) win over the sample's own, as Prometheus does with `honor_labels: false` (the
 * sample's value moves to `exported_<name>`). `externalLabels` are added to each series
 * that lacks them, as Prometheus' `external_labels`: they never override a label.
 */
export function flattenFamilies(families: readonly MetricFamily[], extraLabels?: Labels, externalLabels?: Labels): FlatSample[] {
  const out: FlatSample[] = [];
  for (const f of families) {
    const type: MetricType = f.type;
    for (const s of f.samples) {
      if (s.name.endsWith('_created') && s.name !== f.name) continue;
      const labels = storedLabels(s.labels, extraLabels, externalLabels);
      const flat: FlatSample = { key: seriesKey(s.name, labels), def: { name: s.name, labels, type, help: f.help }, value: s.value };
      out.push(s.timestampMs === undefined ? flat : { ...flat, timeMs: s.timestampMs });
    }
  }
  return out;
}

/** Series key → id, filled from the store in bulk on first sight. */
export class SeriesCache {
  private readonly ids = new Map<string, number>();

  constructor(private readonly store: Pick<Store, 'resolveSeries'>) {}

  /** Number of cached series. */
  get size(): number {
    return this.ids.size;
  }

  /** Ids of the samples' series, in order; unknown series are created with one store call. */
  async idsOf(samples: readonly Pick<FlatSample, 'key' | 'def'>[]): Promise<number[]> {
    const missing: Pick<FlatSample, 'key' | 'def'>[] = [];
    const queued = new Set<string>();
    for (const s of samples) {
      if (!this.ids.has(s.key) && !queued.has(s.key)) {
        queued.add(s.key);
        missing.push(s);
      }
    }
    if (missing.length > 0) {
      const ids = await this.store.resolveSeries(missing.map((s) => s.def));
      missing.forEach((s, i) => this.ids.set(s.key, ids[i]!));
    }
    return samples.map((s) => this.ids.get(s.key)!);
  }

  /** Forgets every id (after the store was replaced). */
  clear(): void {
    this.ids.clear();
  }
}
