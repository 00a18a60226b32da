/**
 * What each peer last contributed to the summed counters and histograms, so a peer
 * that misses a scrape still counts with its last values: without it the sum drops
 * (10 → 5 when one of two instances is slow), which Prometheus reads as a counter
 * reset. Only families that only go up (counter and histogram types merged by sum)
 * are kept; a gauge's old value would be a lie, and gauges are per instance anyway.
 * Pure: the caller says what was heard and when.
 */
import type { MetricFamily } from '../../exporters/metric-family.js';
import { defaultMode, type AggregationMode } from './aggregate.js';

/** One peer's remembered contribution. */
export interface Contribution {
  /** When the peer's values were read (epoch ms, one host's clock). */
  readonly atMs: number;
  readonly families: readonly MetricFamily[];
}

/** The families of `families` whose merged sum never goes down. */
export function monotonicFamilies(families: readonly MetricFamily[], modes: Readonly<Record<string, AggregationMode>>): MetricFamily[] {
  return families.filter((f) => (f.type === 'counter' || f.type === 'histogram') && (modes[f.name] ?? defaultMode(f.type)) === 'sum');
}

/** The newest contribution heard of each peer, from the peer itself or from another peer's memory. */
export class Contributions {
  private readonly last = new Map<string, Contribution>();

  constructor(private readonly modes: Readonly<Record<string, AggregationMode>>) {}

  /** Keeps the monotonic part of what `instance` answered at `atMs`. */
  heard(instance: string, families: readonly MetricFamily[], atMs: number): void {
    this.offer(instance, { atMs, families: monotonicFamilies(families, this.modes) });
  }

  /** Keeps `c` (e.g. from another peer's memory) when it is newer than what is kept. */
  offer(instance: string, c: Contribution): void {
    const kept = this.last.get(instance);
    if (kept === undefined || c.atMs > kept.atMs) this.last.set(instance, { atMs: c.atMs, families: monotonicFamilies(c.families, this.modes) });
  }

  /** The last contribution of `instance`, if one was ever heard. */
  of(instance: string): Contribution | undefined {
    return this.last.get(instance);
  }
}
