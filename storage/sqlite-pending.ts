/**
 * Record ticks written to the tick log (sqlite-tick-log.ts) and not yet committed to the
 * SQLite file. Every sample here is newer than anything the store holds for its series
 * (the engine defers a batch only then), so a read of the store is made whole by adding
 * each series' pending samples after its stored ones.
 */
import type { PackedReadResult } from './store.js';

/** The deferred batches, in the order written. */
export class PendingTicks {
  private batches: Float64Array[] = [];
  private samples = 0;
  private newest = Number.NEGATIVE_INFINITY;
  /** performance.now() when the oldest pending batch was deferred. */
  private since = 0;
  /**
   * Series id -> its samples as [batch, index] pairs in time order; built by the first
   * read after a batch is added, so the reads between two ticks (the rules' several)
   * look up their series rather than each scanning every pending sample.
   */
  private index: Map<number, number[]> | undefined;

  /** Samples held. */
  get size(): number {
    return this.samples;
  }

  /** The newest time held, −∞ when empty. */
  get newestMs(): number {
    return this.newest;
  }

  /** Milliseconds (performance.now) since the oldest batch was deferred; 0 when empty. */
  ageMs(nowMs: number): number {
    return this.samples === 0 ? 0 : nowMs - this.since;
  }

  /** Adds a batch deferred at `nowMs` (performance.now). */
  add(p: Float64Array, nowMs: number): void {
    if (p.length === 0) return;
    if (this.samples === 0) this.since = nowMs;
    this.index = undefined;
    this.batches.push(p);
    this.samples += p.length / 3;
    for (let i = 1; i < p.length; i += 3) if (p[i]! > this.newest) this.newest = p[i]!;
  }

  /** All pending samples as one packed batch, in the order written. */
  packed(): Float64Array {
    if (this.batches.length === 1) return this.batches[0]!;
    const out = new Float64Array(this.samples * 3);
    let o = 0;
    for (const b of this.batches) {
      out.set(b, o);
      o += b.length;
    }
    return out;
  }

  /** Forgets everything (committed). */
  clear(): void {
    this.batches = [];
    this.index = undefined;
    this.samples = 0;
    this.newest = Number.NEGATIVE_INFINITY;
  }

  /**
   * `r` (a read of the store over `[fromMs, toMs)`) with the pending samples of its series
   * in that range added after each series' stored ones, cut at `limit` samples by series
   * then time as the read was. A read cut by its limit holds the first `limit` stored
   * samples in that order, so the first `limit` of the merge are among them and the
   * pending ones: the cut is what a store holding every tick would answer. `r` itself
   * when nothing applies.
   */
  mergeInto(r: PackedReadResult, fromMs: number, toMs: number, limit = Number.POSITIVE_INFINITY): PackedReadResult {
    if (this.samples === 0 || r.series.length === 0 || fromMs > this.newest || !(limit > 0)) return r;
    const index = this.indexed();
    const wanted = new Map<number, number[]>(); // series id -> [batch, index] pairs in range, in time order
    let added = 0;
    for (const s of r.series) {
      const all = index.get(s.id);
      if (all === undefined) continue;
      const hits: number[] = [];
      for (let h = 0; h < all.length; h += 2) {
        const t = this.batches[all[h]!]![all[h + 1]! + 1]!;
        if (t >= fromMs && t < toMs) hits.push(all[h]!, all[h + 1]!);
      }
      if (hits.length === 0) continue;
      wanted.set(s.id, hits);
      added += hits.length / 2;
    }
    if (added === 0) return r;
    const stored = new Map<number, [number, number]>(); // series id -> [offset, count] in r
    for (let k = 0, o = 0; k < r.runs.length; k += 2) {
      stored.set(r.runs[k]!, [o, r.runs[k + 1]!]);
      o += r.runs[k + 1]!;
    }
    const total = Math.min(r.ts.length + added, limit);
    const ts = new Float64Array(total);
    const vs = new Float64Array(total);
    const runs: number[] = [];
    let o = 0;
    // Series in the order the read lists them, as its runs are.
    for (const s of r.series) {
      if (o === total) break;
      const start = o;
      const own = stored.get(s.id);
      if (own !== undefined) {
        const n = Math.min(own[1], total - o);
        ts.set(r.ts.subarray(own[0], own[0] + n), o);
        vs.set(r.vs.subarray(own[0], own[0] + n), o);
        o += n;
      }
      const hits = wanted.get(s.id) ?? [];
      for (let h = 0; h < hits.length && o < total; h += 2) {
        const p = this.batches[hits[h]!]!;
        const i = hits[h + 1]!;
        ts[o] = p[i + 1]!;
        vs[o] = p[i + 2]!;
        o++;
      }
      if (o > start) runs.push(s.id, o - start);
    }
    return { series: r.series, runs: Float64Array.from(runs), ts, vs };
  }

  /** The index of the pending samples by series, built once per batch added. */
  private indexed(): Map<number, number[]> {
    if (this.index !== undefined) return this.index;
    const index = new Map<number, number[]>();
    for (let b = 0; b < this.batches.length; b++) {
      const p = this.batches[b]!;
      for (let i = 0; i < p.length; i += 3) {
        const id = p[i]!;
        const at = index.get(id);
        if (at === undefined) index.set(id, [b, i]);
        else at.push(b, i);
      }
    }
    this.index = index;
    return index;
  }
}
