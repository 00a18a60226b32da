/**
 * The rollup engine: for each tier in order, materializes the closed buckets past
 * its watermark, in bounded transactions (one per slice). Each transaction deletes the
 * slice's rows, inserts them anew, writes the quantiles, the carry and the watermark,
 * so a run repeated, or resumed after a crash (rolled back by the database), writes
 * exactly the same rows. A tier's buckets close when the tier below has passed them;
 * the first tier's close `graceMs` after their end, so late samples still count.
 * On PostgreSQL the first tier's slices are folded (fold.ts) here from a binary COPY of
 * the raw samples (pg-fold.ts; the SQL of sql.ts with `pgFold: false`), the higher
 * tiers' computed by the SQL of sql.ts, two slices in flight on two connections but
 * committed in order; on SQLite every tier is folded by a store task in the worker that
 * owns the file (sqlite-fold-task.ts).
 */
import { taskModuleUrl } from '../storage/sqlite-task.js';
import { HEAD_SCHEMA_VERSION, headHasRowsSql } from '../storage/sqlite-head-sql.js';
import { PG_DDL_LOCK, packedTable, pgRowsTable } from '../storage/pg-sql.js';
import { mergeTierSliceSql } from '../storage/pg-pack.js';
import type { ChunkInfo, SeriesInfo, SqlExecutor, Store } from '../storage/store.js';
import { closedRange } from './buckets.js';
import { quantileRows, type IncreaseRow } from './quantile-rows.js';
import { carryTableDdl, carryUpdateSql, deleteRangeSql, ident, Params, rawRollupSql, tierRollupSql, tsMs } from './sql.js';
import type { FoldSliceInput, FoldSliceResult } from './sqlite-fold-task.js';
import { pgFoldSlice, type PgFoldInput } from './pg-fold.js';
import type { Tier } from './tiers.js';

/** The task that rolls up a slice on SQLite. */
const FOLD_TASK = taskModuleUrl(import.meta.url, 'sqlite-fold-task');

/** (series_id, ts, increase) triples, NaN as null, as rows. */
function unpackIncreases(p: Float64Array): IncreaseRow[] {
  const out: IncreaseRow[] = new Array<IncreaseRow>(p.length / 3);
  for (let i = 0; i < out.length; i++) {
    const v = p[i * 3 + 2]!;
    out[i] = { seriesId: p[i * 3]!, ts: p[i * 3 + 1]!, increase: Number.isNaN(v) ? null : v };
  }
  return out;
}

/**
 * PostgreSQL: the temporary table a slice is computed into when its target chunk is
 * packed (storage/pg-pack.ts), then merged into the packed rows. One per connection,
 * dropped at commit.
 */
const PACKED_SLICE_TABLE = 'larder_packed_slice';

/** Larder's carry table (last value per series before the first tier's watermark). */
export const CARRY_TABLE = 'rollup_carry';

/**
 * Chunk interval of a tier's tables. The 1m and 5m tiers use one day, like raw: a
 * day's slice then fills a fresh chunk in key order (series_id, ts); a 7-day chunk
 * measured 2-3x slower to fill on SQLite, as later days insert between earlier rows.
 * Hourly rows are few (30-day chunks), daily fewer (360 days).
 */
export function tierChunkMs(t: Tier): number {
  const DAY = 86_400_000;
  if (t.resolutionMs <= 300_000) return DAY;
  if (t.resolutionMs <= 3_600_000) return 30 * DAY;
  return 360 * DAY;
}

/** Options of the engine. */
export interface RollupOptions {
  readonly store: Store;
  readonly tiers: readonly Tier[];
  /** How long after its end a first-tier bucket waits for late samples. @default 120_000 */
  readonly graceMs?: number;
  /** Most buckets per transaction when catching up. @default 288 */
  readonly maxBucketsPerTransaction?: number;
  /** The clock. @default Date.now */
  readonly now?: () => number;
  /**
   * Slices in flight at once. On PostgreSQL two slices' INSERTs run on two connections
   * (each one backend, one core); they still commit in order. SQLite runs one
   * transaction at a time. @default 2 on PostgreSQL, 1 on SQLite
   */
  readonly concurrency?: number;
  /**
   * SQLite: most source rows a catch-up transaction should read. The buckets of the next
   * slice follow from the rows the previous one read (starting at 8, at most doubling),
   * so a dense store gets short transactions and a sparse one few. While one runs, the
   * dotfile lock keeps every reader (sqlite3, Grafana) out. @default 100_000
   */
  readonly maxRowsPerTransaction?: number;
  /**
   * SQLite: pause between a catch-up's transactions, so a reader waiting on the dotfile
   * lock gets in: SQLite's busy handler retries every 100 ms at most, and back-to-back
   * transactions leave it gaps of microseconds. @default 100 (0 on PostgreSQL)
   */
  readonly pauseBetweenTransactionsMs?: number;
  /** Called inside each slice's transaction before it commits (crash tests use it). */
  readonly onSlice?: (tier: string, from: number, to: number) => Promise<void> | void;
  /**
   * PostgreSQL: the Larder whose series this engine rolls up (`series.host`, its
   * --instance). Several Larders on one database each roll up their own series with
   * their own watermarks, so a host that is behind (spooling while PostgreSQL was out of
   * its reach) never has its buckets closed by another. @default '' (series with no owner)
   */
  readonly instance?: string;
  /**
   * PostgreSQL: a host whose rollups have not run for this long no longer holds back
   * `watermark()` (what queries and retention go by): it is gone. @default 1 day
   */
  readonly hostStaleMs?: number;
  /**
   * PostgreSQL: fold the first tier's slices in Node from a binary COPY of the raw
   * samples (pg-fold.ts), or run the SQL of sql.ts in the server (false). Same rows; the
   * fold costs the server ~40 % of the SQL's CPU. Higher tiers always run the SQL.
   * @default true
   */
  readonly pgFold?: boolean;
}

/** What a run did per tier. */
export interface TierRun {
  readonly tier: string;
  readonly buckets: number;
  readonly rows: number;
  readonly quantileRows: number;
  readonly watermark: number | undefined;
}

/** Incremental, idempotent rollups over a store. */
export class RollupEngine {
  readonly store: Store;
  readonly tiers: readonly Tier[];
  private readonly graceMs: number;
  private readonly maxBuckets: number;
  private readonly now: () => number;
  private readonly onSlice: RollupOptions['onSlice'];
  private readonly concurrency: number;
  private readonly maxRows: number;
  private readonly pauseMs: number;
  /** SQLite: buckets of the next slice, per tier, from the rows the last one read. */
  private readonly sliceBuckets = new Map<string, number>();
  private prepared = false;
  /** PostgreSQL: the owner whose series are rolled up; undefined on SQLite (one writer, every series). */
  readonly host: string | undefined;
  private readonly hostStaleMs: number;
  private readonly pgFold: boolean;
  /** Runs are serialized: two overlapping runs would redo a slice against a moved carry. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: RollupOptions) {
    this.store = opts.store;
    this.tiers = opts.tiers;
    this.graceMs = opts.graceMs ?? 120_000;
    this.maxBuckets = opts.maxBucketsPerTransaction ?? 288;
    this.now = opts.now ?? Date.now;
    this.onSlice = opts.onSlice;
    this.concurrency = this.store.dialect === 'sqlite' ? 1 : Math.max(1, Math.floor(opts.concurrency ?? 2));
    this.maxRows = Math.max(1, opts.maxRowsPerTransaction ?? 100_000);
    this.pauseMs = Math.max(0, opts.pauseBetweenTransactionsMs ?? (this.store.dialect === 'sqlite' ? 100 : 0));
    this.host = this.store.dialect === 'postgresql' ? (opts.instance ?? '') : undefined;
    this.hostStaleMs = opts.hostStaleMs ?? 86_400_000;
    this.pgFold = opts.pgFold ?? true;
  }

  /** Creates the tier tables and the carry table if missing. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    for (const t of this.tiers) await this.store.ensureRollupTier({ tier: t.name, chunkMs: tierChunkMs(t) });
    if (this.store.dialect === 'postgresql') {
      // Under the DDL lock: hosts starting together would both create it, and one would fail.
      await this.store.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [PG_DDL_LOCK]);
        await tx.execute(carryTableDdl(CARRY_TABLE));
      });
    } else await this.store.execute(carryTableDdl(CARRY_TABLE));
    this.prepared = true;
  }

  /**
   * The watermark of a tier (end of the last bucket done), epoch ms: what queries and
   * retention go by. On PostgreSQL the lowest of the live hosts' (those whose rollups
   * ran within hostStaleMs, and this one), so no host's buckets past it are missing.
   */
  async watermark(tier: string, ex: SqlExecutor = this.store): Promise<number | undefined> {
    // watermark_ms is epoch ms (INTEGER / bigint) on both dialects.
    const p = new Params(ex.dialect);
    const where = this.host === undefined ? `tier = ${p.add(tier)}` : `tier = ${p.add(tier)} AND (host = ${p.add(this.host)} OR updated_ms >= ${p.ms(this.now() - this.hostStaleMs)})`;
    const rows = await ex.query<{ w: unknown }>(`SELECT min(watermark_ms) AS w FROM rollup_watermarks WHERE ${where}`, p.values);
    return rows[0]?.w === null || rows[0]?.w === undefined ? undefined : Number(rows[0].w);
  }

  /** This host's own watermark of a tier (on SQLite the tier's only one). */
  async ownWatermark(tier: string, ex: SqlExecutor = this.store): Promise<number | undefined> {
    const p = new Params(ex.dialect);
    const host = this.host === undefined ? '' : ` AND host = ${p.add(this.host)}`;
    const rows = await ex.query<{ w: unknown }>(`SELECT watermark_ms AS w FROM rollup_watermarks WHERE tier = ${p.add(tier)}${host}`, p.values);
    return rows[0] ? Number(rows[0].w) : undefined;
  }

  private async setWatermark(ex: SqlExecutor, tier: string, ms: number): Promise<void> {
    const p = new Params(ex.dialect);
    if (this.host === undefined) {
      const value = p.ms(ms);
      await ex.execute(`INSERT INTO rollup_watermarks (tier, watermark_ms) VALUES (${p.add(tier)}, ${value}) ON CONFLICT (tier) DO UPDATE SET watermark_ms = excluded.watermark_ms`, p.values);
      return;
    }
    await ex.execute(
      `INSERT INTO rollup_watermarks (tier, host, watermark_ms, updated_ms) VALUES (${p.add(tier)}, ${p.add(this.host)}, ${p.ms(ms)}, ${p.ms(Math.round(this.now()))})
       ON CONFLICT (tier, host) DO UPDATE SET watermark_ms = excluded.watermark_ms, updated_ms = excluded.updated_ms`,
      p.values,
    );
  }

  /** PostgreSQL: marks this host's watermarks live (a run with nothing to do still counts). */
  private async heartbeat(): Promise<void> {
    if (this.host === undefined) return;
    const p = new Params(this.store.dialect);
    await this.store.execute(`UPDATE rollup_watermarks SET updated_ms = ${p.ms(Math.round(this.now()))} WHERE host = ${p.add(this.host)}`, p.values);
  }

  /**
   * Where a tier with no watermark starts: in the oldest chunk below that holds any row,
   * its first row (rollup chunks are small), or for raw the chunk's start (a min(ts)
   * would scan a whole raw chunk, whose key leads with series_id; empty buckets cost little).
   */
  private async oldest(table: string): Promise<number | undefined> {
    // SQLite: raw samples not folded yet sit in the head, outside the chunk tables.
    const head = table === 'samples' && this.store.dialect === 'sqlite' && this.store.schemaVersion >= HEAD_SCHEMA_VERSION;
    for (const c of await this.store.listChunks(table)) {
      const inChunk = (await this.store.query(`SELECT 1 AS x FROM ${ident(c.name)} LIMIT 1`)).length > 0;
      if (!inChunk && !(head && (await this.store.query(headHasRowsSql(), [c.startMs, c.endMs])).length > 0)) continue;
      if (table === 'samples') return c.startMs;
      const rows = await this.store.query<{ t: unknown }>(`SELECT min(${tsMs(this.store.dialect, 'ts')}) AS t FROM ${ident(c.name)}`);
      return Number(rows[0]!.t);
    }
    return undefined;
  }

  /**
   * The series the quantiles are computed from: on PostgreSQL this host's histogram
   * series only. Listing every series, as SQLite does, would make each of N hosts read
   * all N hosts' series at every closed bucket: N² rows (the hosts bench).
   */
  private async quantileSeries(): Promise<Map<number, SeriesInfo>> {
    if (this.host === undefined) return new Map((await this.store.listSeries()).map((s) => [s.id, s]));
    const p = new Params(this.store.dialect);
    const rows = await this.store.query<{ id: unknown }>(`SELECT id FROM series WHERE host = ${p.add(this.host)} AND type = 'histogram'`, p.values);
    const ids = rows.map((r) => Number(r.id));
    return new Map((ids.length > 0 ? await this.store.listSeries(ids) : []).map((s) => [s.id, s]));
  }

  /**
   * Rolls up every tier whose resolution is at most `maxResolutionMs` (all by
   * default), finest first, each as far as the tier below allows.
   */
  run(maxResolutionMs = Infinity): Promise<TierRun[]> {
    const next = this.queue.then(() => this.runNow(maxResolutionMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(maxResolutionMs: number): Promise<TierRun[]> {
    await this.prepare();
    await this.heartbeat();
    const out: TierRun[] = [];
    let below: { table: string; closedBefore: number | undefined } = { table: 'samples', closedBefore: this.now() - this.graceMs };
    let series: Map<number, SeriesInfo> | undefined;
    const pacing = { committed: false };
    for (const [i, tier] of this.tiers.entries()) {
      if (tier.resolutionMs > maxResolutionMs) break;
      const table = `rollup_${tier.name}`;
      const wm = await this.ownWatermark(tier.name);
      const closedBefore = below.closedBefore;
      const range = closedBefore === undefined ? undefined : closedRange(wm, wm === undefined ? await this.oldest(below.table) : undefined, closedBefore, tier.resolutionMs);
      let rows = 0;
      let qrows = 0;
      let buckets = 0;
      if (range) {
        series ??= await this.quantileSeries();
        const sources = await this.store.listChunks(below.table);
        const tierSeries = series;
        const results =
          this.store.dialect === 'sqlite'
            ? await this.paced(tier, range.from, range.to, pacing, (slice) =>
                this.runSlice(i, tier, slice.chunk, slice.qchunk, sources, slice.from, slice.to, tierSeries, Promise.resolve()),
              )
            : await this.pipelined(await this.slicesFor(tier, range.from, range.to), (slice, after) =>
                this.runSlice(i, tier, slice.chunk, slice.qchunk, sources, slice.from, slice.to, tierSeries, after),
              );
        for (const r of results) {
          rows += r.rows;
          qrows += r.qrows;
        }
        buckets = (range.to - range.from) / tier.resolutionMs;
      }
      const now = range ? range.to : wm;
      out.push({ tier: tier.name, buckets, rows, quantileRows: qrows, watermark: now });
      below = { table, closedBefore: now };
    }
    return out;
  }

  /**
   * Runs `run` for each item with at most `concurrency` at once, each given a promise of
   * its predecessor's end (rejected when the predecessor failed). A slice does its heavy
   * INSERT meanwhile and waits on it only before the steps that need the previous
   * slice committed (carry, watermark), so slices still commit in order. On a failure,
   * waits for those in flight to settle (they roll back) and rethrows the first error.
   */
  private async pipelined<S, R>(items: readonly S[], run: (item: S, after: Promise<unknown>) => Promise<R>): Promise<R[]> {
    const out: R[] = [];
    const pending: Promise<R>[] = [];
    let previous: Promise<unknown> = Promise.resolve();
    try {
      for (const item of items) {
        if (pending.length >= this.concurrency) out.push(await pending.shift()!);
        const p = run(item, previous);
        p.catch(() => undefined); // observed through `pending`; successors see it through `after`
        previous = p;
        pending.push(p);
      }
      for (const p of pending.splice(0)) out.push(await p);
      return out;
    } catch (e) {
      await Promise.allSettled(pending);
      throw e;
    }
  }

  /**
   * SQLite: the slices of `[from, to)` one after another, each sized from the rows its
   * predecessor read (at most maxRowsPerTransaction, at most maxBuckets buckets), with a
   * pause before each but the run's first so that dotfile readers get their turn.
   */
  private async paced(
    tier: Tier,
    from: number,
    to: number,
    pacing: { committed: boolean },
    run: (slice: { from: number; to: number; chunk: ChunkInfo; qchunk: ChunkInfo }) => Promise<{ rows: number; qrows: number; scanned: number }>,
  ): Promise<{ rows: number; qrows: number }[]> {
    const out: { rows: number; qrows: number }[] = [];
    let buckets = Math.min(this.maxBuckets, this.sliceBuckets.get(tier.name) ?? 8);
    let a = from;
    while (a < to) {
      const chunk = await this.store.ensureChunk(`rollup_${tier.name}`, a);
      const qchunk = await this.store.ensureChunk(`rollup_${tier.name}_quantiles`, a);
      const b = Math.min(to, chunk.endMs, qchunk.endMs, a + buckets * tier.resolutionMs);
      if (pacing.committed && this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
      const r = await run({ from: a, to: b, chunk, qchunk });
      pacing.committed = true;
      out.push(r);
      const done = (b - a) / tier.resolutionMs;
      const fit = r.scanned > 0 ? Math.floor((done * this.maxRows) / r.scanned) : Infinity;
      buckets = Math.max(1, Math.min(this.maxBuckets, 2 * Math.max(done, buckets), fit));
      this.sliceBuckets.set(tier.name, buckets);
      a = b;
    }
    return out;
  }

  private async slicesFor(tier: Tier, from: number, to: number): Promise<{ from: number; to: number; chunk: ChunkInfo; qchunk: ChunkInfo }[]> {
    const out: { from: number; to: number; chunk: ChunkInfo; qchunk: ChunkInfo }[] = [];
    let a = from;
    while (a < to) {
      const chunk = await this.store.ensureChunk(`rollup_${tier.name}`, a);
      const qchunk = await this.store.ensureChunk(`rollup_${tier.name}_quantiles`, a);
      const b = Math.min(to, chunk.endMs, qchunk.endMs, a + this.maxBuckets * tier.resolutionMs);
      out.push({ from: a, to: b, chunk, qchunk });
      a = b;
    }
    return out;
  }

  private async runSlice(
    index: number,
    tier: Tier,
    chunk: ChunkInfo,
    qchunk: ChunkInfo,
    allSources: readonly ChunkInfo[],
    from: number,
    to: number,
    series: Map<number, SeriesInfo>,
    after: Promise<unknown>,
  ): Promise<{ rows: number; qrows: number; scanned: number }> {
    const d = this.store.dialect;
    const sourceChunks = allSources.filter((c) => c.endMs > from && c.startMs < to);
    const sources = sourceChunks.map((c) => c.name);
    const host = this.host;
    return this.store.transaction(async (tx) => {
      if (host !== undefined) {
        // Two Larders given one --instance by mistake would roll up the same slice: the
        // second waits for the first and then finds it done, rather than failing on a
        // duplicate key (or adding a boundary twice).
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`larder-rollup:${host}:${tier.name}:${from}`]);
        const done = await this.ownWatermark(tier.name, tx);
        if (done !== undefined && done >= to) return { rows: 0, qrows: 0, scanned: 0 };
      }
      // PostgreSQL: whether the target chunk is packed, its catalog row share-locked so
      // that no packing starts before this commits (packing locks it FOR UPDATE). A packed
      // one gets the slice computed into a temporary table, merged into it below.
      let target = chunk.name;
      if (d === 'postgresql') {
        const row = await tx.query<{ packed: unknown }>('SELECT packed FROM chunks WHERE name = $1 FOR SHARE', [chunk.name]);
        if (row[0]?.packed === true) {
          target = PACKED_SLICE_TABLE;
          await tx.execute(`CREATE TEMP TABLE ${ident(target)} (LIKE ${ident(pgRowsTable(chunk.table))}) ON COMMIT DROP`);
        }
      }
      for (const c of [target, qchunk.name]) {
        const del = deleteRangeSql(d, c, from, to, host);
        await tx.execute(del.sql, del.params);
      }
      let rows = 0;
      let scanned = 0;
      let increases: IncreaseRow[] | undefined;
      if (tx.runTask !== undefined) {
        // SQLite: one ordered pass in the worker (sqlite-fold-task.ts).
        const input: FoldSliceInput = {
          kind: index === 0 ? 'raw' : 'tier',
          target,
          sources,
          sourceRanges: sourceChunks.map((c) => [c.startMs, c.endMs] as const),
          resolutionMs: tier.resolutionMs,
          from,
          to,
          carryTable: CARRY_TABLE,
          tier: tier.name,
        };
        await after; // one slice at a time on SQLite (concurrency 1): already settled
        const r = await tx.runTask<FoldSliceResult>(FOLD_TASK, input);
        rows = r.rows;
        scanned = r.scanned;
        increases = unpackIncreases(r.histogramIncreases);
      } else if (index === 0 && this.pgFold && host !== undefined && tx.copyOut !== undefined) {
        // PostgreSQL's first tier: folded here from a binary COPY of the raw samples
        // (pg-fold.ts). Higher tiers stay SQL: their sources are 1/12 the rows and the SQL
        // measured less than half the fold's wall time for them (docs/storage.md).
        const input: PgFoldInput = { target, sources, resolutionMs: tier.resolutionMs, from, to, carryTable: CARRY_TABLE, tier: tier.name, host };
        const r = await pgFoldSlice(tx, input, after);
        rows = r.rows;
        scanned = r.scanned;
        increases = r.increases;
      } else if (index === 0) {
        // PostgreSQL: the SQL of sql.ts. The INSERT needs nothing of the previous slice;
        // the boundary reads the carry that slice writes, so it waits for its commit.
        const ins = rawRollupSql({ target, sources, carryTable: CARRY_TABLE, tier: tier.name, resolutionMs: tier.resolutionMs, from, to, ...(host !== undefined ? { host } : {}) });
        if (sources.length > 0) rows = (await tx.execute(ins.sql, ins.params)).changes;
        await after;
        if (sources.length > 0) await tx.execute(ins.boundary.sql, ins.boundary.params);
        const carry = carryUpdateSql({ carryTable: CARRY_TABLE, target, tier: tier.name, from, to, ...(host !== undefined ? { host } : {}) });
        await tx.execute(carry.sql, carry.params);
      } else {
        const ins = tierRollupSql({ target, sources, resolutionMs: tier.resolutionMs, from, to, ...(host !== undefined ? { host } : {}) });
        if (ins) rows = (await tx.execute(ins.sql, ins.params)).changes;
        await after; // watermarks advance in order
      }
      const qrows = await this.writeQuantiles(tx, qchunk.name, increases ?? (await this.readIncreases(tx, target, from, to)), series);
      if (target !== chunk.name) {
        // Merges into one packed chunk are serialised: each rewrites whole rows it read.
        await tx.execute(`LOCK TABLE ${ident(packedTable(chunk.name))} IN SHARE ROW EXCLUSIVE MODE`);
        for (const sql of mergeTierSliceSql(chunk, target)) await tx.execute(sql, [from, to, host ?? null]);
        await tx.execute(`DROP TABLE ${ident(target)}`);
      }
      await this.setWatermark(tx, tier.name, to);
      await this.onSlice?.(tier.name, from, to);
      return { rows, qrows, scanned };
    });
  }

  /** The histogram series' rows of a slice just written: what the quantiles are computed from. */
  private async readIncreases(tx: SqlExecutor, chunk: string, from: number, to: number): Promise<IncreaseRow[]> {
    const d = tx.dialect;
    const p = new Params(d);
    const own = this.host === undefined ? '' : ` AND se.host = ${p.add(this.host)}`;
    const inc = await tx.query<{ series_id: unknown; t: unknown; increase: unknown }>(
      `SELECT r.series_id, ${tsMs(d, 'r.ts')} AS t, r.increase FROM ${ident(chunk)} r JOIN series se ON se.id = r.series_id
       WHERE se.type = 'histogram' AND r.ts >= ${p.time(from)} AND r.ts < ${p.time(to)}${own}`,
      p.values,
    );
    return inc.map((r) => ({ seriesId: Number(r.series_id), ts: Number(r.t), increase: r.increase === null ? null : Number(r.increase) }));
  }

  private async writeQuantiles(tx: SqlExecutor, qchunk: string, rows: readonly IncreaseRow[], series: Map<number, SeriesInfo>): Promise<number> {
    if (rows.length === 0) return 0;
    const d = tx.dialect;
    // Series unknown to the map (created after the run began) are skipped by quantileRows;
    // the store cannot be asked here: on SQLite nothing else runs during a transaction.
    const q = quantileRows(series, rows);
    for (let i = 0; i < q.length; i += 100) {
      const part = q.slice(i, i + 100);
      const ip = new Params(d);
      const values = part.map((r) => `(${ip.add(r.seriesId)}, ${ip.time(r.ts)}, ${ip.add(r.count)}, ${ip.add(r.sum)}, ${ip.add(r.p50)}, ${ip.add(r.p95)}, ${ip.add(r.p99)})`);
      await tx.execute(`INSERT INTO ${ident(qchunk)} (series_id, ts, count, sum, p50, p95, p99) VALUES ${values.join(', ')}`, ip.values);
    }
    return q.length;
  }
}
