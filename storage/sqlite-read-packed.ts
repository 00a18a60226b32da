/**
 * The raw-sample read of the query engine on SQLite (`Store.readSamplesPacked`): all the
 * series of a read from one chunk in one statement per SQLITE_IDS_PER_STATEMENT ids
 * (`series_id IN (...)`, an index seek each on the chunk's (series_id, ts) key), rows
 * taken with sqlite-fast's scanNumbers (no row object, no BigInt per `ts`) into one
 * growing Float64Array of `[seriesId, timeMs, value]` triples per chunk, then copied
 * run by run into the answer's `ts`/`vs` columns (PackedReadResult). Before, it was one statement per series and chunk and a JS object
 * per row: 1.2–2.1 s of a 2.4 s query over 1.44 M samples (docs/promql.md#benchmark).
 * Answers exactly as readSamplesFrom (sqlite-read.ts) does, which it falls back to when
 * the read is cut by its limit (so the cut lands on the same sample).
 */
import type { ScanNumbers } from './sqlite-fast.js';
import { SQLITE_IDS_PER_STATEMENT, headStatements, readSamplesFrom, selectSeries, type ReadDb } from './sqlite-read.js';
import { ident } from './sqlite-sql.js';
import type { CachedRun, RawChunkCache } from './sqlite-read-cache.js';
import { packColumns } from './store-common.js';
import type { ChunkInfo, PackedReadResult, ReadQuery } from './store.js';

/**
 * A growing array of triples. It starts small: most reads (the rules', a panel's) are a
 * few rows, and a zeroed 24 KB array per chunk and head read was 3-8 % of an idle
 * worker's CPU (allocation and the garbage collector, in a profile of `larder serve`).
 */
class Triples {
  a: Float64Array;
  n = 0;
  constructor(capacity = 3 * 32) {
    this.a = new Float64Array(capacity);
  }
  push(row: Float64Array): void {
    if (this.n + 3 > this.a.length) {
      const b = new Float64Array(Math.max(this.a.length * 2, 3 * 32));
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n] = row[0]!;
    this.a[this.n + 1] = row[1]!;
    this.a[this.n + 2] = row[2]!;
    this.n += 3;
  }
}

/**
 * The samples of `ids` (ascending) in `[fromMs, toMs)` from one chunk, by series then
 * time; stops once more than `cap` rows were read (the caller then falls back). With
 * `withHead`, the heads' rows of the chunk's time range are merged in.
 */
function scanChunk(scan: ScanNumbers, c: ChunkInfo, ids: readonly number[], fromMs: number, toMs: number, cap: number, withHead: boolean): Triples {
  const out = new Triples();
  for (let i = 0; i < ids.length; i += SQLITE_IDS_PER_STATEMENT) {
    if (out.n / 3 > cap) break; // already past the limit: the caller reads again the exact way
    const batch = ids.slice(i, i + SQLITE_IDS_PER_STATEMENT);
    const sql = `SELECT series_id, ts, value FROM ${ident(c.name)} WHERE series_id IN (${batch.map(() => '?').join(',')}) AND ts >= ? AND ts < ? ORDER BY series_id, ts`;
    scan(sql, [...batch, fromMs, toMs], (row) => out.push(row));
  }
  if (!withHead) return out;
  const head = new Triples();
  for (const st of headStatements(ids, Math.max(fromMs, c.startMs), Math.min(toMs, c.endMs))) scan(st.sql, st.params, (row) => head.push(row));
  return head.n === 0 ? out : mergeTriples(out, head);
}

/** Two runs of triples, each by series then time, merged in that order (the first wins ties: none exist). */
function mergeTriples(a: Triples, b: Triples): Triples {
  const out = new Triples(a.n + b.n);
  const x = a.a;
  const y = b.a;
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.n || j < b.n) {
    const takeA = j >= b.n || (i < a.n && (x[i]! < y[j]! || (x[i] === y[j] && x[i + 1]! <= y[j + 1]!)));
    const src = takeA ? x : y;
    const k = takeA ? i : j;
    out.a[o] = src[k]!;
    out.a[o + 1] = src[k + 1]!;
    out.a[o + 2] = src[k + 2]!;
    o += 3;
    if (takeA) i += 3;
    else j += 3;
  }
  out.n = o;
  return out;
}

/** One series' samples in one chunk: `ts`/`vs` from `lo` up to (not including) `hi`. */
interface Run {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly lo: number;
  readonly hi: number;
}

/** Triples read (by series, then time) as one whole run per series id, aligned with `ids`; ids without rows get an empty run. */
function splitRuns(t: Triples, ids: readonly number[]): CachedRun[] {
  const out: CachedRun[] = [];
  const a = t.a;
  let i = 0;
  for (const id of ids) {
    let j = i;
    while (j < t.n && a[j] === id) j += 3;
    const n = (j - i) / 3;
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      ts[k] = a[i + 3 * k + 1]!;
      vs[k] = a[i + 3 * k + 2]!;
    }
    out.push({ ts, vs });
    i = j;
  }
  return out;
}

/** Index of the first element `>= t` (the length when none). */
function firstAtOrAfter(a: Float64Array, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The runs of `ids` in `chunk` over `[fromMs, toMs)`. With a cache and a range that covers
 * at least half the chunk, whole-chunk runs are read (those not cached yet) and kept, so
 * the next read of this chunk decodes nothing; otherwise only the range is read.
 */
function chunkRuns(scan: ScanNumbers, c: ChunkInfo, ids: readonly number[], fromMs: number, toMs: number, cap: number, cache: RawChunkCache | undefined, withHead: boolean): Run[] {
  const covered = Math.min(toMs, c.endMs) - Math.max(fromMs, c.startMs);
  if (cache === undefined || cache.maxBytes === 0 || covered * 2 < c.endMs - c.startMs) {
    return splitRuns(scanChunk(scan, c, ids, fromMs, toMs, cap, withHead), ids).map((r) => ({ ts: r.ts, vs: r.vs, lo: 0, hi: r.ts.length }));
  }
  const whole: (CachedRun | undefined)[] = ids.map((id) => cache.get(c.name, id));
  const missing = ids.filter((_, i) => whole[i] === undefined);
  if (missing.length > 0) {
    const fresh = splitRuns(scanChunk(scan, c, missing, c.startMs, c.endMs, Number.POSITIVE_INFINITY, withHead), missing);
    let m = 0;
    for (let i = 0; i < ids.length; i++) {
      if (whole[i] !== undefined) continue;
      const r = fresh[m++]!;
      whole[i] = r;
      cache.set(c.name, ids[i]!, r);
    }
  }
  return whole.map((r) => ({ ts: r!.ts, vs: r!.vs, lo: firstAtOrAfter(r!.ts, fromMs), hi: firstAtOrAfter(r!.ts, toMs) }));
}

/**
 * readSamplesFrom's answer, packed, read in one statement per chunk (and per 500 series),
 * or from `cache` (sqlite-read-cache.ts) when given. `scan` runs on the connection `reads` runs
 * on; the caller holds a read transaction.
 */
export function readPackedFrom(scan: ScanNumbers, reads: ReadDb, q: ReadQuery, chunks: readonly ChunkInfo[], cache?: RawChunkCache, withHead = true): PackedReadResult {
  const series = selectSeries(reads, q);
  const limit = q.limit ?? Number.POSITIVE_INFINITY;
  const ids = series.map((s) => s.id);
  if (ids.length === 0 || chunks.length === 0 || limit <= 0) return { series, runs: new Float64Array(0), ts: new Float64Array(0), vs: new Float64Array(0) };
  const parts: Run[][] = [];
  let rows = 0;
  for (const c of chunks) {
    const runs = chunkRuns(scan, c, ids, q.fromMs, q.toMs, limit - rows, cache, withHead);
    for (const r of runs) rows += r.hi - r.lo;
    if (rows > limit) {
      // Cut by the limit: the old read stops at the same sample (by series, then time).
      const r = readSamplesFrom(reads, q, chunks, withHead);
      return { series: r.series, ...packColumns(r.samples) };
    }
    parts.push(runs);
  }
  // Columns filled by whole runs (memcpy), not sample by sample: a 1.44 M-sample read
  // spent 200 ms in a per-sample loop here.
  const ts = new Float64Array(rows);
  const vs = new Float64Array(rows);
  const runs: number[] = [];
  let o = 0;
  for (let i = 0; i < ids.length; i++) {
    const start = o;
    for (const part of parts) {
      const r = part[i]!;
      if (r.hi <= r.lo) continue;
      ts.set(r.ts.subarray(r.lo, r.hi), o);
      vs.set(r.vs.subarray(r.lo, r.hi), o);
      o += r.hi - r.lo;
    }
    if (o > start) runs.push(ids[i]!, o - start);
  }
  return { series, runs: Float64Array.from(runs), ts, vs };
}
