/**
 * Writes rule results into the store like recorded samples: series ids resolved once
 * and cached, one transaction per batch.
 *
 * A series the rule returned last time and not now gets a stale marker, as Prometheus
 * writes one: a resolved alert's ALERTS series, or a recording rule's vanished series,
 * ends at once instead of lingering for the 5 minute lookback.
 */
import type { Labels, MetricType, Sample, Store } from '../../storage/store.js';
import { staleNaN } from '../../storage/stale.js';
import type { OutSample } from './alert-state.js';
import { labelsId } from './alert-state.js';

/** Most series ids kept in memory; past it the cache starts over (the store stays the truth). */
const MAX_CACHED = 100_000;

/** The series a rule wrote last time, by key, to mark stale when they vanish. */
export type SeriesSet = Map<string, OutSample>;

/** Writes samples of rule results into one store. */
export class SampleWriter {
  private readonly ids = new Map<string, number>();

  constructor(private readonly store: Pick<Store, 'resolveSeries' | 'writeSamples'>) {}

  /** Writes `samples` at `timeMs`; returns the series written, to pass as `previous` next time. */
  async write(samples: readonly OutSample[], timeMs: number, previous: SeriesSet | undefined, type: MetricType): Promise<SeriesSet> {
    const now: SeriesSet = new Map();
    for (const s of samples) now.set(key(s.name, s.labels), s);
    const all: OutSample[] = [...samples];
    for (const [k, s] of previous ?? []) if (!now.has(k)) all.push({ name: s.name, labels: s.labels, value: staleNaN() });
    if (all.length === 0) return now;
    if (this.ids.size + all.length > MAX_CACHED) this.ids.clear();
    const wanted = new Map<string, OutSample>();
    for (const s of all) if (!this.ids.has(key(s.name, s.labels))) wanted.set(key(s.name, s.labels), s);
    const missing = [...wanted.values()];
    if (missing.length > 0) {
      const defs = missing.map((s) => ({ name: s.name, labels: s.labels, type: s.name.startsWith('ALERTS') ? ('gauge' as const) : type }));
      const ids = await this.store.resolveSeries(defs);
      missing.forEach((s, i) => this.ids.set(key(s.name, s.labels), ids[i]!));
    }
    const rows: Sample[] = all.map((s) => ({ seriesId: this.ids.get(key(s.name, s.labels))!, timeMs, value: s.value }));
    await this.store.writeSamples(rows);
    return now;
  }
}

function key(name: string, labels: Labels): string {
  return `${name}\u0002${labelsId(labels)}`;
}
