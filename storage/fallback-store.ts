/**
 * PostgreSQL with a local SQLite spool. While PostgreSQL is unreachable (at start or
 * later), samples are written into the spool (a SQLite store of the same schema);
 * a background loop forwards them once PostgreSQL answers again and deletes them
 * from the spool. Forwarding is exactly-once by construction: PostgreSQL keys
 * samples on (series_id, ts) and upserts, so a batch forwarded twice (a crash
 * between the PostgreSQL commit and the spool delete) still leaves one row.
 *
 * A PostgreSQL that stops answering without refusing (a stalled proxy or network) is
 * caught by the PostgreSQL store's write timeout (`PgStoreOptions.writeTimeoutMs`,
 * seconds): the write that timed out goes to the spool like a refused one.
 *
 * Series ids: while PostgreSQL is down a new series gets a provisional negative id
 * (minus its spool id, stable across restarts); it is translated to the PostgreSQL
 * id once known. Operations other than writes need PostgreSQL and reject while it
 * is unreachable.
 */
import { isConnectionError, openPgStore, type PgStore, type PgStoreOptions } from './pg-store.js';
import { PG_MIGRATIONS } from './pg-sql.js';
import { canonicalLabels, fingerprint } from './series-key.js';
import { staleNaN } from './stale.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';
import type {
  AlertInput,
  AlertRecord,
  ChunkInfo,
  DatabaseStats,
  Labels,
  LatestMetric,
  MetricStats,
  ReadQuery,
  ReadResult,
  RollupTierDef,
  Row,
  Sample,
  SeriesDef,
  SeriesInfo,
  SqlExecutor,
  SqlValue,
  Store,
  TierRows,
  TierRowsQuery,
} from './store.js';

/** Options of the fallback store. */
export interface FallbackStoreOptions {
  readonly pg: PgStoreOptions;
  /** The spool file. */
  readonly spoolPath: string;
  /** How often to retry PostgreSQL while spooling, ms. @default 5000 */
  readonly retryMs?: number;
  /** Samples forwarded per PostgreSQL transaction. @default 10_000 */
  readonly forwardBatch?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Told when the store switches to or from spooling (for the log). @default nothing */
  readonly onStateChange?: (spooling: boolean, change: SpoolChange) => void;
}

/** What a switch to or from spooling reports. */
export interface SpoolChange {
  /** Why spooling started (the PostgreSQL error); absent when it ends. */
  readonly cause?: Error;
  /** When it ends: samples forwarded to PostgreSQL since spooling started. */
  readonly forwarded: number;
  /** When it ends: how long the store spooled, ms. */
  readonly durationMs: number;
}

/** Opens PostgreSQL (or starts spooling if it does not answer) and the spool. */
export async function openFallbackStore(opts: FallbackStoreOptions): Promise<FallbackStore> {
  // No raw-sample head in the spool: forwarding reads and deletes the chunk tables' rows
  // (a spool lives only while PostgreSQL is away; its write cost matters less).
  const spool = await openSqliteStore({ path: opts.spoolPath, head: { enabled: false }, ...(opts.now !== undefined ? { now: opts.now } : {}) });
  let pg: PgStore | undefined;
  let cause: Error | undefined;
  try {
    pg = await openPgStore(opts.pg);
  } catch (e) {
    if (!isConnectionError(e)) {
      await spool.close();
      throw e;
    }
    cause = e as Error;
  }
  const store = new FallbackStore(opts, spool, pg);
  if (pg === undefined) opts.onStateChange?.(true, { ...(cause ? { cause } : {}), forwarded: 0, durationMs: 0 });
  await store.forward().catch(() => 0);
  return store;
}

/** PostgreSQL store with a local spool. Create with openFallbackStore. */
export class FallbackStore implements Store {
  readonly dialect = 'postgresql' as const;
  private readonly timer: NodeJS.Timeout;
  /** PostgreSQL id → definition, for samples spooled under a PostgreSQL id. */
  private readonly defByPgId = new Map<number, SeriesDef>();
  /** fingerprint → PostgreSQL id. */
  private readonly pgIdByFp = new Map<string, number>();
  /** provisional (negative) id → PostgreSQL id, once forwarded. */
  private readonly provisional = new Map<number, number>();
  private spoolingNow: boolean;
  /** When the current spooling began, and what has been forwarded since (for the drain report). */
  private spoolSince = 0;
  private forwardedSince = 0;
  private forwarding: Promise<number> | undefined;
  /** Serialises spool writes with the forwarder's read-write-delete steps. */
  private spoolLock: Promise<void> = Promise.resolve();
  private closed = false;

  /** @internal use openFallbackStore */
  constructor(
    private readonly opts: FallbackStoreOptions,
    private readonly spool: SqliteStore,
    private pg: PgStore | undefined,
  ) {
    this.spoolingNow = pg === undefined;
    this.spoolSince = this.clock();
    this.timer = setInterval(() => {
      if (this.spoolingNow) void this.forward().catch(() => undefined);
    }, opts.retryMs ?? 5000);
    this.timer.unref();
  }

  get schemaVersion(): number {
    return this.pg?.schemaVersion ?? PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;
  }

  /** Whether writes currently go to the spool. */
  get isSpooling(): boolean {
    return this.spoolingNow;
  }

  /** Store.spooling: the same as isSpooling. */
  spooling(): boolean {
    return this.spoolingNow;
  }

  private withSpoolLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.spoolLock.then(fn);
    this.spoolLock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private clock(): number {
    return (this.opts.now ?? Date.now)();
  }

  private setSpooling(on: boolean, cause?: Error): void {
    if (this.spoolingNow === on) return;
    this.spoolingNow = on;
    const t = this.clock();
    const change: SpoolChange = on ? { ...(cause ? { cause } : {}), forwarded: 0, durationMs: 0 } : { forwarded: this.forwardedSince, durationMs: t - this.spoolSince };
    if (on) {
      this.spoolSince = t;
      this.forwardedSince = 0;
    }
    this.opts.onStateChange?.(on, change);
  }

  /** The PostgreSQL store, or a clear error while it is unreachable. */
  private need(): PgStore {
    if (this.pg === undefined || this.spoolingNow) throw new Error('PostgreSQL is unreachable: samples are being spooled locally; this operation needs PostgreSQL');
    return this.pg;
  }

  /** Runs a PostgreSQL operation; a connection failure switches to spooling. */
  private async onPg<T>(fn: (pg: PgStore) => Promise<T>): Promise<T> {
    const pg = this.need();
    try {
      return await fn(pg);
    } catch (e) {
      if (isConnectionError(e)) this.setSpooling(true, e as Error);
      throw e;
    }
  }

  // ---- series ids across the two stores -------------------------------------------------

  async resolveSeries(defs: readonly SeriesDef[]): Promise<number[]> {
    if (!this.spoolingNow && this.pg !== undefined) {
      try {
        const ids = await this.pg.resolveSeries(defs);
        ids.forEach((id, i) => this.remember(id, defs[i]!));
        return ids;
      } catch (e) {
        if (!isConnectionError(e)) throw e;
        this.setSpooling(true, e as Error);
      }
    }
    // Known to PostgreSQL already: its id. Otherwise a provisional id from the spool.
    const fps = defs.map((d, i) => fingerprint(d?.name, canonicalLabels(d?.labels, `resolveSeries[${i}]`)));
    const unknown = defs.filter((_, i) => !this.pgIdByFp.has(fps[i]!));
    const spoolIds = unknown.length > 0 ? await this.spool.resolveSeries(unknown) : [];
    let j = 0;
    return defs.map((_, i) => this.pgIdByFp.get(fps[i]!) ?? -spoolIds[j++]!);
  }

  private remember(id: number, def: SeriesDef): void {
    this.defByPgId.set(id, def);
    this.pgIdByFp.set(fingerprint(def.name, canonicalLabels(def.labels, 'resolveSeries')), id);
  }

  listSeries(ids?: readonly number[]): Promise<SeriesInfo[]> {
    return this.onPg((pg) => pg.listSeries(ids));
  }

  // ---- writes ---------------------------------------------------------------------------

  async writeSamples(samples: readonly Sample[]): Promise<number> {
    if (!Array.isArray(samples)) throw new TypeError('writeSamples: expected an array of samples');
    if (!this.spoolingNow && this.pg !== undefined) {
      try {
        return await this.pg.writeSamples(await this.toPgIds(samples));
      } catch (e) {
        if (!isConnectionError(e)) throw e;
        this.setSpooling(true, e as Error);
      }
    }
    return this.withSpoolLock(async () => {
      // The forwarder may have emptied the spool and left spooling while this waited.
      if (!this.spoolingNow && this.pg !== undefined) {
        try {
          return await this.pg.writeSamples(await this.toPgIds(samples));
        } catch (e) {
          if (!isConnectionError(e)) throw e;
          this.setSpooling(true, e as Error);
        }
      }
      return this.spoolSamples(samples);
    });
  }

  /** Translates provisional ids to PostgreSQL ids (resolving them there if needed). */
  private async toPgIds(samples: readonly Sample[]): Promise<readonly Sample[]> {
    if (!samples.some((s) => s.seriesId < 0)) return samples;
    const todo = [...new Set(samples.filter((s) => s.seriesId < 0 && !this.provisional.has(s.seriesId)).map((s) => -s.seriesId))];
    if (todo.length > 0) {
      const spoolSeries = await this.spool.listSeries(todo);
      if (spoolSeries.length !== todo.length) throw new Error('writeSamples: unknown provisional series id in batch');
      const ids = await this.pg!.resolveSeries(spoolSeries);
      spoolSeries.forEach((s, i) => {
        this.provisional.set(-s.id, ids[i]!);
        this.remember(ids[i]!, s);
      });
    }
    return samples.map((s) => (s.seriesId < 0 ? { ...s, seriesId: this.provisional.get(s.seriesId)! } : s));
  }

  private async spoolSamples(samples: readonly Sample[]): Promise<number> {
    const spoolIdOf = new Map<number, number>();
    const need: { id: number; def: SeriesDef }[] = [];
    for (const s of samples) {
      const id = s?.seriesId;
      if (typeof id !== 'number' || id < 0 || spoolIdOf.has(id)) continue;
      const def = this.defByPgId.get(id);
      if (def === undefined) throw new Error(`writeSamples: unknown series id ${id}: create series with resolveSeries first`);
      spoolIdOf.set(id, 0);
      need.push({ id, def });
    }
    if (need.length > 0) {
      const ids = await this.spool.resolveSeries(need.map((n) => n.def));
      need.forEach((n, i) => spoolIdOf.set(n.id, ids[i]!));
    }
    return this.spool.writeSamples(samples.map((s) => (s?.seriesId >= 0 ? { ...s, seriesId: spoolIdOf.get(s.seriesId)! } : s && { ...s, seriesId: -s.seriesId })));
  }

  async saveMetric(name: string, value: number, labels: Labels = {}): Promise<void> {
    if (typeof value !== 'number') throw new TypeError(`saveMetric(${String(name)}): value must be a number, got ${typeof value}`);
    const [id] = await this.resolveSeries([{ name, labels, type: 'untyped', help: '' }]);
    await this.writeSamples([{ seriesId: id!, timeMs: (this.opts.now ?? Date.now)(), value }]);
  }

  // ---- forwarding -------------------------------------------------------------------------

  /** Samples (stale markers included) waiting in the spool. */
  async spoolDepth(): Promise<number> {
    // From the chunks, not samples_all: the view leaves stale markers out (storage/stale.ts).
    let n = 0;
    for (const c of await this.spool.listChunks('samples')) {
      const r = await this.spool.query<{ n: number }>(`SELECT COUNT(*) AS n FROM "${c.name}"`);
      n += Number(r[0]?.n ?? 0);
    }
    return n;
  }

  /**
   * Forwards everything spooled to PostgreSQL (connecting first if needed) and
   * leaves spooling when the spool is empty. Resolves with the samples forwarded.
   * Never runs twice at once; the retry timer calls it while spooling.
   */
  forward(): Promise<number> {
    this.forwarding ??= this.forwardAll().finally(() => (this.forwarding = undefined));
    return this.forwarding;
  }

  private async forwardAll(): Promise<number> {
    if (this.closed) return 0;
    if (this.pg === undefined) {
      try {
        this.pg = await openPgStore(this.opts.pg);
      } catch (e) {
        if (isConnectionError(e)) return 0;
        throw e;
      }
    }
    const pg = this.pg;
    const batch = this.opts.forwardBatch ?? 10_000;
    let total = 0;
    try {
      for (;;) {
        const n = await this.withSpoolLock(async () => {
          const chunks = await this.spool.listChunks('samples');
          for (const c of chunks) {
            // value: NULL is NaN, a zero-length BLOB a stale marker (storage/stale.ts).
            const rows = await this.spool.query<{ series_id: number; ts: number; value: number | null | Uint8Array }>(
              `SELECT series_id, ts, value FROM "${c.name}" ORDER BY ts, series_id LIMIT ${batch}`,
            );
            if (rows.length === 0) {
              await this.spool.dropChunk('samples', c.name);
              continue;
            }
            const spoolIds = [...new Set(rows.map((r) => r.series_id))];
            const defs = await this.spool.listSeries(spoolIds);
            const pgIds = await pg.resolveSeries(defs);
            const map = new Map<number, number>();
            defs.forEach((d, i) => {
              map.set(d.id, pgIds[i]!);
              this.provisional.set(-d.id, pgIds[i]!);
              this.remember(pgIds[i]!, d);
            });
            await pg.writeSamples(rows.map((r) => ({ seriesId: map.get(r.series_id)!, timeMs: r.ts, value: r.value === null ? Number.NaN : r.value instanceof Uint8Array ? staleNaN() : r.value })));
            // Only now leave the spool: PostgreSQL has committed them (an upsert, so a repeat is harmless).
            await this.spool.execute(
              `DELETE FROM "${c.name}" WHERE (series_id, ts) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
              [JSON.stringify(rows.map((r) => [r.series_id, r.ts]))],
            );
            this.forwardedSince += rows.length;
            return rows.length;
          }
          // Empty, under the lock: no spooled write can slip in behind this.
          this.setSpooling(false);
          return 0;
        });
        total += n;
        if (n === 0) break;
      }
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      this.setSpooling(true, e as Error);
    }
    return total;
  }

  // ---- everything else goes to PostgreSQL -------------------------------------------------------

  query<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.onPg((pg) => pg.query<R>(sql, params));
  }
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.onPg((pg) => pg.execute(sql, params));
  }
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.onPg((pg) => pg.transaction(fn));
  }
  saveRawMetrics(type: string, data: unknown): Promise<void> {
    return this.onPg((pg) => pg.saveRawMetrics(type, data));
  }
  getLatestMetrics(): Promise<LatestMetric[]> {
    return this.onPg((pg) => pg.getLatestMetrics());
  }
  getMetricStats(name: string, hours: number): Promise<MetricStats> {
    return this.onPg((pg) => pg.getMetricStats(name, hours));
  }
  aggregateHourlyMetrics(): Promise<number> {
    return this.onPg((pg) => pg.aggregateHourlyMetrics());
  }
  cleanupOldMetrics(retentionDays: number): Promise<ChunkInfo[]> {
    return this.onPg((pg) => pg.cleanupOldMetrics(retentionDays));
  }
  saveAlert(alert: AlertInput): Promise<number> {
    return this.onPg((pg) => pg.saveAlert(alert));
  }
  getActiveAlerts(): Promise<AlertRecord[]> {
    return this.onPg((pg) => pg.getActiveAlerts());
  }
  saveDailySummary(date: string, data: unknown): Promise<void> {
    return this.onPg((pg) => pg.saveDailySummary(date, data));
  }
  async getDatabaseStats(): Promise<DatabaseStats> {
    const s = await this.onPg((pg) => pg.getDatabaseStats());
    return { ...s, spoolDepth: await this.spoolDepth() };
  }
  optimize(): Promise<void> {
    return this.onPg((pg) => pg.optimize());
  }
  readSamples(q: ReadQuery): Promise<ReadResult> {
    return this.onPg((pg) => pg.readSamples(q));
  }
  readTierRows(q: TierRowsQuery): Promise<TierRows> {
    return this.onPg((pg) => pg.readTierRows(q));
  }
  ensureRollupTier(def: RollupTierDef): Promise<void> {
    return this.onPg((pg) => pg.ensureRollupTier(def));
  }
  ensureChunk(table: string, timeMs: number): Promise<ChunkInfo> {
    return this.onPg((pg) => pg.ensureChunk(table, timeMs));
  }
  listChunks(table?: string): Promise<ChunkInfo[]> {
    return this.onPg((pg) => pg.listChunks(table));
  }
  dropChunksBefore(table: string, cutoffMs: number): Promise<ChunkInfo[]> {
    return this.onPg((pg) => pg.dropChunksBefore(table, cutoffMs));
  }

  /** Packs closed raw chunks on PostgreSQL (see Store.packClosedChunks). */
  packClosedChunks(beforeMs: number): Promise<ChunkInfo[]> {
    return this.onPg((pg) => pg.packClosedChunks(beforeMs));
  }
  dropChunk(table: string, name: string): Promise<void> {
    return this.onPg((pg) => pg.dropChunk(table, name));
  }
  chunkBytes(table: string, name: string): Promise<number> {
    return this.onPg((pg) => pg.chunkBytes(table, name));
  }
  sizeBytes(): Promise<number> {
    return this.onPg((pg) => pg.sizeBytes());
  }
  backup(): Promise<void> {
    return Promise.reject(new Error('backup: the PostgreSQL store is backed up with pg_dump, not by Larder'));
  }

  /** Tries a last forward (samples stay spooled if PostgreSQL is down), then closes both. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    if (this.spoolingNow) await this.forward().catch(() => 0);
    this.closed = true;
    await this.forwarding?.catch(() => 0);
    await this.spool.close();
    await this.pg?.close();
  }
}
