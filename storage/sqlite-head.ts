/**
 * The raw-sample head of the SQLite engine (its SQL and invariants: sqlite-head-sql.ts):
 * where a tick's samples go, and the rotation and folding of the heads into the chunk
 * tables. Runs inside the engine, synchronously, in the engine's transactions.
 *
 * Each (series_id, ts) is stored at most once across the chunk tables and both heads:
 *  - a sample goes to the appending head (INSERT OR REPLACE on its key) only when its
 *    time is past every time its chunk table and the folding head may hold (`keyedMax`
 *    of its chunk, an upper bound kept in memory, and `foldMax`), which a record tick's
 *    samples always are;
 *  - any other sample (a rewrite or a late sample) is written to its chunk table as
 *    before, and deleted from both heads by key.
 */
import { HEAD_LATEST_TABLE, HEAD_TABLES, HEADS_STATE_TABLE, LATEST_UPSERT, refreshLatestSql, type HeadTable } from './sqlite-head-sql.js';
import { ident } from './sqlite-sql.js';
import { sqliteLive } from './stale.js';
import type { ChunkInfo, SqlValue } from './store.js';

/** What the head needs of the engine. */
export interface HeadDb {
  /** Rows of a (cached) statement. */
  all(sql: string, params?: readonly SqlValue[]): Record<string, unknown>[];
  /** Runs a (cached) statement. */
  run(sql: string, params?: readonly (SqlValue | Uint8Array)[]): void;
  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  /** The raw chunks overlapping `[fromMs, toMs)`, oldest first. */
  chunks(fromMs: number, toMs: number): ChunkInfo[];
}

/** When the appending head is rotated out and folded, and how much one fold step moves. */
export interface HeadOptions {
  /** Rotate once the appending head holds this many rows. @default 1_000_000 */
  readonly maxRows?: number;
  /**
   * Rotate once the appending head spans this much sample time. Each fold rewrites every
   * folded series' last leaf of its chunk (with its journal copy): folding 6 hours at once
   * instead of one measured 40 instead of 140 bytes a sample (docs/cost.md).
   * @default 21_600_000
   */
  readonly maxSpanMs?: number;
  /** Rows moved by one fold step (one transaction), whole series at a time. @default 10_000 */
  readonly stepRows?: number;
  /** false: every sample is written to its chunk table, as before the head (benchmarks compare). @default true */
  readonly enabled?: boolean;
}

/** A batch this large, with this many samples per series on average, is written to the chunks directly. */
const BULK_MIN_ROWS = 1000;
const BULK_PER_SERIES = 8;

/** Whether packed triples are a bulk write (many samples per series) rather than ticks. */
function isBulk(p: Float64Array, n: number): boolean {
  if (n < BULK_MIN_ROWS) return false;
  const ids = new Set<number>();
  for (let i = 0; i < n; i++) ids.add(p[i * 3]!);
  return n >= BULK_PER_SERIES * ids.size;
}

/**
 * How much sample time the heads may hold past `series_latest` (samples_head_latest):
 * what `latest_metrics` groups. Each refresh rewrites `series_latest`'s pages (a few KB
 * per 500 series) in the tick's transaction.
 */
const LATEST_REFRESH_MS = 15 * 60_000;

/** One fold step's series range `[lo, hi)`. */
interface Step {
  readonly lo: number;
  readonly hi: number;
}

/** The head of one engine. Call `load` after opening or reconnecting. */
export class SampleHead {
  readonly maxRows: number;
  readonly maxSpanMs: number;
  readonly stepRows: number;
  readonly enabled: boolean;
  private append: HeadTable = HEAD_TABLES[0];
  private fold: HeadTable = HEAD_TABLES[1];
  /** Rows written to the appending head (an upper bound: replaced rows count twice). */
  private appendRows = 0;
  private appendMinTs = Number.POSITIVE_INFINITY;
  private appendMaxTs = Number.NEGATIVE_INFINITY;
  /**
   * `samples_head_latest.through_ms` as last written (undefined: a store without it). Only
   * decides when to refresh: the refresh itself starts from the stored value.
   */
  private latestThrough: number | undefined;
  /** Latest time in the folding head (-Infinity when it is empty). */
  private foldMax = Number.NEGATIVE_INFINITY;
  private foldMin = Number.POSITIVE_INFINITY;
  /** The fold's remaining steps, planned when it starts (or at load). */
  private plan: Step[] = [];
  /** Per chunk table, an upper bound of the times it holds (computed on first use). */
  private readonly keyedMax = new Map<string, number>();

  constructor(
    private readonly db: HeadDb,
    opts: HeadOptions = {},
  ) {
    this.maxRows = opts.maxRows ?? 1_000_000;
    this.maxSpanMs = opts.maxSpanMs ?? 21_600_000;
    this.stepRows = opts.stepRows ?? 10_000;
    this.enabled = opts.enabled ?? true;
    for (const [k, v] of Object.entries({ maxRows: this.maxRows, maxSpanMs: this.maxSpanMs, stepRows: this.stepRows })) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`head ${k}: expected a positive integer, got ${String(v)}`);
    }
  }

  /** Reads the heads' roles and contents (at open, after a reconnect). */
  load(): void {
    for (const r of this.db.all(`SELECT name, role FROM ${HEADS_STATE_TABLE}`)) {
      const name = String(r['name']) as HeadTable;
      if (r['role'] === 'append') this.append = name;
      else this.fold = name;
    }
    const a = this.db.all(`SELECT COUNT(*) AS n, MIN(ts) AS lo, MAX(ts) AS hi FROM ${ident(this.append)}`)[0]!;
    this.appendRows = Number(a['n']);
    this.appendMinTs = a['lo'] === null ? Number.POSITIVE_INFINITY : Number(a['lo']);
    this.appendMaxTs = a['hi'] === null ? Number.NEGATIVE_INFINITY : Number(a['hi']);
    this.keyedMax.clear();
    const latest = this.db.all(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`, [HEAD_LATEST_TABLE]).length > 0;
    this.latestThrough = latest ? Number(this.db.all(`SELECT through_ms AS t FROM ${HEAD_LATEST_TABLE}`)[0]?.['t'] ?? -1) : undefined;
    this.loadFold();
  }

  /** The folding head's extent and remaining steps. */
  private loadFold(): void {
    const f = this.db.all(`SELECT MIN(ts) AS lo, MAX(ts) AS hi FROM ${ident(this.fold)}`)[0]!;
    this.foldMin = f['lo'] === null ? Number.POSITIVE_INFINITY : Number(f['lo']);
    this.foldMax = f['hi'] === null ? Number.NEGATIVE_INFINITY : Number(f['hi']);
    this.plan = [];
    if (this.foldMax === Number.NEGATIVE_INFINITY) return;
    // One scan and sort of the folding head: how many rows each series has left, cut into
    // steps of about stepRows rows, whole series each.
    const below = Number(this.db.all(`SELECT folded_below AS b FROM ${HEADS_STATE_TABLE} WHERE name = ?`, [this.fold])[0]?.['b'] ?? -1);
    let lo = below;
    let rows = 0;
    let last = below;
    for (const r of this.db.all(`SELECT series_id AS id, COUNT(*) AS n FROM ${ident(this.fold)} WHERE series_id >= ? GROUP BY series_id ORDER BY series_id`, [below])) {
      last = Number(r['id']);
      rows += Number(r['n']);
      if (rows >= this.stepRows) {
        this.plan.push({ lo, hi: last + 1 });
        lo = last + 1;
        rows = 0;
      }
    }
    if (rows > 0 || this.plan.length === 0) this.plan.push({ lo, hi: last + 1 });
  }

  /** The name of the head a tick appends to (tests and readers of the state). */
  get appendTable(): HeadTable {
    return this.append;
  }

  /** Whether a fold has steps left. */
  get folding(): boolean {
    return this.plan.length > 0;
  }

  /** An upper bound of the times chunk table `c` holds: N key seeks, once per chunk. */
  private keyedBound(c: ChunkInfo): number {
    let m = this.keyedMax.get(c.name);
    if (m !== undefined) return m;
    const t = ident(c.name);
    if (this.db.all(`SELECT 1 AS x FROM ${t} LIMIT 1`).length === 0) m = Number.NEGATIVE_INFINITY;
    else {
      // The chunk's key leads with series_id: MAX(ts) alone would read every row.
      const v = this.db.all(`SELECT MAX((SELECT MAX(ts) FROM ${t} WHERE series_id = se.id)) AS t FROM series se`)[0]?.['t'];
      m = v === null || v === undefined ? Number.NEGATIVE_INFINITY : Number(v);
    }
    this.keyedMax.set(c.name, m);
    return m;
  }

  /**
   * The time a batch's samples must all be after to be appended to the head, with
   * `extraRows` more rows already promised to it: the newest the head, its chunks and the
   * folding head may hold. +∞ when the head would not take the batch that way (the head
   * is off, the batch is bulk, or the folds are behind).
   */
  appendFloor(p: Float64Array, chunkOf: readonly ChunkInfo[], extraRows: number): number {
    const n = chunkOf.length;
    if (!this.enabled || isBulk(p, n) || this.appendRows + extraRows + n >= 4 * this.maxRows) return Number.POSITIVE_INFINITY;
    let floor = Math.max(this.foldMax, this.appendMaxTs);
    let last: ChunkInfo | undefined;
    for (const c of chunkOf) {
      if (c === last) continue;
      last = c;
      floor = Math.max(floor, this.keyedBound(c));
    }
    return floor;
  }

  /**
   * Writes packed `[seriesId, timeMs, value]` triples (bound by `bind`), sample i to chunk
   * `chunkOf[i]`, inside the caller's transaction. `perInsert` rows go per multi-row
   * statement (`values` is its VALUES list). The indexes of the samples written to their
   * chunk table, not the head: their series' `series_latest` is the caller's to update
   * (the head's samples reach it when folded). `ticks` says the batch is record ticks
   * however many (the tick log's, checked one by one as they were deferred), not bulk.
   */
  write(p: Float64Array, chunkOf: readonly ChunkInfo[], bind: (part: Float64Array) => (number | Uint8Array)[], perInsert: number, values: string, ticks = false): number[] {
    const n = chunkOf.length;
    const fast: number[] = [];
    const slow: number[] = [];
    // A batch of many samples per series (a backfill, a spool forwarded) goes to the chunks
    // as it always did: it touches each series' leaf once for many samples, and the head
    // stays small enough that a fold step (a scan of the folding head) stays short. So does
    // everything once the folds fall behind the writes.
    const head = this.enabled && (ticks || !isBulk(p, n)) && this.appendRows < 4 * this.maxRows;
    for (let i = 0; i < n; i++) {
      const t = p[i * 3 + 1]!;
      const c = chunkOf[i]!;
      if (head && t > this.foldMax && t > this.keyedBound(c)) fast.push(i);
      else {
        slow.push(i);
        if (t > this.keyedBound(c)) this.keyedMax.set(c.name, t);
      }
    }
    if (fast.length > 0) {
      const head = ident(this.append);
      const rows = new Float64Array(fast.length * 3);
      for (let k = 0; k < fast.length; k++) rows.set(p.subarray(fast[k]! * 3, fast[k]! * 3 + 3), k * 3);
      let k = 0;
      for (; k + perInsert <= fast.length; k += perInsert) this.db.run(`INSERT OR REPLACE INTO ${head} (series_id, ts, value) VALUES ${values}`, bind(rows.subarray(k * 3, (k + perInsert) * 3)));
      for (; k < fast.length; k++) this.db.run(`INSERT OR REPLACE INTO ${head} (series_id, ts, value) VALUES (?, ?, ?)`, bind(rows.subarray(k * 3, k * 3 + 3)));
      for (const i of fast) {
        const t = p[i * 3 + 1]!;
        if (t < this.appendMinTs) this.appendMinTs = t;
        if (t > this.appendMaxTs) this.appendMaxTs = t;
      }
      this.appendRows += fast.length;
      this.keepLatest(p, fast);
    }
    // The rest to their chunks: runs of one chunk perInsert rows a statement, in order.
    for (let k = 0; k < slow.length; ) {
      const c = chunkOf[slow[k]!]!;
      let end = k;
      while (end < slow.length && chunkOf[slow[end]!] === c) end++;
      const rows = new Float64Array((end - k) * 3);
      for (let j = k; j < end; j++) rows.set(p.subarray(slow[j]! * 3, slow[j]! * 3 + 3), (j - k) * 3);
      const m = end - k;
      let j = 0;
      for (; j + perInsert <= m; j += perInsert) this.db.run(`INSERT OR REPLACE INTO ${ident(c.name)} (series_id, ts, value) VALUES ${values}`, bind(rows.subarray(j * 3, (j + perInsert) * 3)));
      for (; j < m; j++) this.db.run(`INSERT OR REPLACE INTO ${ident(c.name)} (series_id, ts, value) VALUES (?, ?, ?)`, bind(rows.subarray(j * 3, j * 3 + 3)));
      k = end;
    }
    // …and out of the heads, where a head's time range says it may be (a key seek each).
    for (const i of slow) {
      const key = [p[i * 3 + 1]!, p[i * 3]!];
      if (key[0]! >= this.appendMinTs && key[0]! <= this.appendMaxTs) this.db.run(`DELETE FROM ${ident(this.append)} WHERE ts = ? AND series_id = ?`, key);
      if (key[0]! >= this.foldMin && key[0]! <= this.foldMax) this.db.run(`DELETE FROM ${ident(this.fold)} WHERE ts = ? AND series_id = ?`, key);
    }
    return slow;
  }

  /** Whether the appending head is due to be rotated out (and no fold is left to finish). */
  get dueForRotation(): boolean {
    return !this.folding && this.appendRows > 0 && (this.appendRows >= this.maxRows || this.appendMaxTs - this.appendMinTs >= this.maxSpanMs);
  }

  /**
   * One step of head maintenance, its own transaction: rotates the appending head out when
   * due, else folds the next series range of the folding head. Whether work is left.
   */
  maintain(): boolean {
    if (this.folding) return this.foldStep();
    if (!this.dueForRotation) return false;
    this.rotate();
    return this.folding;
  }

  /** Folds everything in both heads into the chunk tables (tests, benchmarks, shutdown). */
  foldAll(): void {
    while (this.folding) this.foldStep();
    if (this.appendRows === 0) return;
    this.rotate();
    while (this.folding) this.foldStep();
  }

  /** The appending head becomes the folding one (which must be empty): one small transaction. */
  private rotate(): void {
    this.db.transaction(() => {
      this.db.run(`UPDATE ${HEADS_STATE_TABLE} SET role = CASE role WHEN 'append' THEN 'fold' ELSE 'append' END, folded_below = -1`);
    });
    [this.append, this.fold] = [this.fold, this.append];
    this.appendRows = 0;
    this.appendMinTs = Number.POSITIVE_INFINITY;
    this.appendMaxTs = Number.NEGATIVE_INFINITY;
    this.loadFold();
  }

  /**
   * Moves the next series range of the folding head into the chunk tables, in key order,
   * and marks it folded, in one transaction; the last step empties the head. Whether
   * steps are left.
   */
  private foldStep(): boolean {
    const step = this.plan[0];
    if (step === undefined) return false;
    const last = this.plan.length === 1;
    const fold = ident(this.fold);
    const chunks = this.foldMax === Number.NEGATIVE_INFINITY ? [] : this.db.chunks(this.foldMin, this.foldMax + 1);
    this.db.transaction(() => {
      for (const c of chunks) {
        this.db.run(
          `INSERT OR REPLACE INTO ${ident(c.name)} (series_id, ts, value)
           SELECT series_id, ts, value FROM ${fold} WHERE series_id >= ? AND series_id < ? AND ts >= ? AND ts < ? ORDER BY series_id, ts`,
          [step.lo, step.hi, c.startMs, c.endMs],
        );
      }
      // The latest_metrics view reads the head's newest samples from the head until now.
      this.db.run(
        `INSERT INTO series_latest (series_id, ts, value)
         SELECT series_id, MAX(ts), value FROM ${fold} WHERE series_id >= ? AND series_id < ? AND ${sqliteLive('value')} GROUP BY series_id
         ${LATEST_UPSERT}`,
        [step.lo, step.hi],
      );
      if (last) {
        // Whole: SQLite frees the pages without rewriting them.
        this.db.run(`DELETE FROM ${fold}`);
        this.db.run(`UPDATE ${HEADS_STATE_TABLE} SET folded_below = -1 WHERE name = ?`, [this.fold]);
      } else this.db.run(`UPDATE ${HEADS_STATE_TABLE} SET folded_below = ? WHERE name = ?`, [step.hi, this.fold]);
    });
    this.plan.shift();
    if (last) {
      for (const c of chunks) {
        const m = this.keyedMax.get(c.name);
        if (m !== undefined) this.keyedMax.set(c.name, Math.max(m, Math.min(this.foldMax, c.endMs - 1)));
      }
      this.foldMin = Number.POSITIVE_INFINITY;
      this.foldMax = Number.NEGATIVE_INFINITY;
    }
    return this.plan.length > 0;
  }

  /**
   * Keeps `series_latest` holding every live head row up to `samples_head_latest`, in the
   * caller's transaction: a sample just appended at or before that bound (a target's
   * scrape written after a later tick) goes to `series_latest` at once; and once the
   * appending head runs 15 minutes past the bound, the heads' newer rows are folded into
   * `series_latest` and the bound moves to the newest.
   */
  private keepLatest(p: Float64Array, appended: readonly number[]): void {
    if (this.latestThrough === undefined) return;
    const head = ident(this.append);
    for (const i of appended) {
      if (p[i * 3 + 1]! > this.latestThrough) continue;
      this.db.run(
        `INSERT INTO series_latest (series_id, ts, value) SELECT series_id, ts, value FROM ${head} WHERE ts = ? AND series_id = ? AND ${sqliteLive('value')}
         ${LATEST_UPSERT}`,
        [p[i * 3 + 1]!, p[i * 3]!],
      );
    }
    if (this.appendMaxTs - this.latestThrough < LATEST_REFRESH_MS) return;
    const through = this.appendMaxTs;
    this.db.run(refreshLatestSql(), [through]);
    this.db.run(`UPDATE ${HEAD_LATEST_TABLE} SET through_ms = ?`, [through]);
    this.latestThrough = through;
  }

  /** Deletes the heads' rows in `[startMs, endMs)` (a dropped chunk's), in the caller's transaction. */
  dropRange(c: ChunkInfo): void {
    for (const h of HEAD_TABLES) this.db.run(`DELETE FROM ${ident(h)} WHERE ts >= ? AND ts < ?`, [c.startMs, c.endMs]);
    this.keyedMax.delete(c.name);
  }
}
