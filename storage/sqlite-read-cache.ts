/**
 * Decoded raw samples of whole chunks, per series, kept in the SQLite worker between
 * queries (a dashboard asks the same day of the same series at every refresh; decoding
 * 1.44 M rows out of SQLite was most of a 1,000-series `rate` query). Bounded in bytes,
 * least recently used dropped first.
 *
 * It is only right while nothing else changed those rows, so the worker drops:
 *  - the chunks a `writePacked` wrote to;
 *  - everything on any other operation that may write (sqlite-worker.ts lists the ones
 *    that cannot), on a rollback, and on a reconnect;
 *  - everything when `PRAGMA data_version` moved (another connection committed).
 */

/** One series' samples in one chunk, in time order. */
export interface CachedRun {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** Bytes one cached sample takes (two doubles). */
const SAMPLE_BYTES = 16;
/** Bookkeeping per entry, roughly (the key, the map slot, two typed-array headers). */
const ENTRY_BYTES = 200;

/** Whole-chunk runs by chunk and series id, least recently used first. */
export class RawChunkCache {
  private readonly entries = new Map<string, CachedRun>();
  private readonly byChunk = new Map<string, Set<string>>();
  private bytes = 0;

  /** @param maxBytes most bytes of samples kept; 0 keeps none. */
  constructor(readonly maxBytes: number) {}

  /** The run of `seriesId` in `chunk` if cached (an empty run when the chunk has none of it). */
  get(chunk: string, seriesId: number): CachedRun | undefined {
    const k = key(chunk, seriesId);
    const r = this.entries.get(k);
    if (r !== undefined) {
      this.entries.delete(k);
      this.entries.set(k, r);
    }
    return r;
  }

  /** Keeps the whole-chunk run of `seriesId` in `chunk`, dropping the oldest entries past the bound. */
  set(chunk: string, seriesId: number, run: CachedRun): void {
    const size = run.ts.length * SAMPLE_BYTES + ENTRY_BYTES;
    if (size > this.maxBytes) return;
    const k = key(chunk, seriesId);
    this.remove(k);
    this.entries.set(k, run);
    let set = this.byChunk.get(chunk);
    if (set === undefined) this.byChunk.set(chunk, (set = new Set()));
    set.add(k);
    this.bytes += size;
    for (const [old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(old);
    }
  }

  /** Drops what is cached of `chunk`. */
  dropChunk(chunk: string): void {
    const set = this.byChunk.get(chunk);
    if (set === undefined) return;
    for (const k of [...set]) this.remove(k);
    this.byChunk.delete(chunk);
  }

  /** Drops everything. */
  clear(): void {
    this.entries.clear();
    this.byChunk.clear();
    this.bytes = 0;
  }

  /** Bytes held (for tests and the bound). */
  get sizeBytes(): number {
    return this.bytes;
  }

  private remove(k: string): void {
    const r = this.entries.get(k);
    if (r === undefined) return;
    this.entries.delete(k);
    this.bytes -= r.ts.length * SAMPLE_BYTES + ENTRY_BYTES;
    const chunk = k.slice(0, k.indexOf('\0'));
    const set = this.byChunk.get(chunk);
    set?.delete(k);
    if (set !== undefined && set.size === 0) this.byChunk.delete(chunk);
  }
}

function key(chunk: string, seriesId: number): string {
  return `${chunk}\0${seriesId}`;
}
