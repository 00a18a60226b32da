/**
 * Stale markers, as Prometheus' scrape loop writes them: each source (the registry
 * snapshot, each scrape target) remembers the series of its last report; a series
 * missing from the next report gets a stale marker at that report's time, so queries
 * stop drawing its last value for the 5-minute lookback. A target that is down reports
 * only `up` and the scrape series, so every other series of it goes stale at once.
 * Series with a timestamp of their own (a target's honoured timestamps) are not
 * tracked, as Prometheus does not stale them either.
 */
import type { SeriesDef } from '../../storage/store.js';
import { staleNaN } from '../../storage/stale.js';
import type { FlatSample } from './series-cache.js';

/** The series each source reported last, and the markers for those that went missing. */
export class StalenessTracker {
  /** Source → (series key → definition) of its last report. */
  private readonly last = new Map<string, Map<string, SeriesDef>>();

  /**
   * Records `flat` as the latest report of `source` and returns a stale marker (value
   * the stale NaN, at `timeMs`) for each series the previous report had and this one lacks.
   */
  markersFor(source: string, flat: readonly FlatSample[], timeMs: number): FlatSample[] {
    const now = new Map<string, SeriesDef>();
    for (const s of flat) if (s.timeMs === undefined) now.set(s.key, s.def);
    const before = this.last.get(source);
    this.last.set(source, now);
    const out: FlatSample[] = [];
    if (before === undefined) return out;
    for (const [key, def] of before) if (!now.has(key)) out.push({ key, def, value: staleNaN(), timeMs });
    return out;
  }

  /**
   * A stale marker at `timeMs` for every series of every source's last report, and
   * nothing tracked any more: the recorder stops, so none of them will be reported again
   * (Prometheus ends a target's series the same way when the target goes away).
   */
  endAll(timeMs: number): FlatSample[] {
    const out: FlatSample[] = [];
    for (const series of this.last.values()) for (const [key, def] of series) out.push({ key, def, value: staleNaN(), timeMs });
    this.last.clear();
    return out;
  }

  /** Series tracked for `source` (its last report). */
  tracked(source: string): number {
    return this.last.get(source)?.size ?? 0;
  }
}
