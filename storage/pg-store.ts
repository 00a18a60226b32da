/**
 * The PostgreSQL `Store` (pg-promise): a bounded pool, batched writes through
 * `unnest()` of typed arrays (one statement, three parameters, no SQL formatting in
 * Node), native range partitions created ahead of time, migrations under an
 * advisory lock so several Larder hosts can share one database.
 */
import { pipeline } from 'node:stream/promises';

import type { ClientBase } from 'pg';
import pgPromise from 'pg-promise';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { COPY_HEADER, COPY_TRAILER } from './pg-copy-binary.js';
import { checkChunkMs, checkLogicalTable, chunkName, chunkRange, compareChunks } from './chunking.js';
import { isStaleNaN, pgLive, staleNaN } from './stale.js';
import { PACKED_ROWS, PG_DDL_LOCK, PG_MIGRATIONS, isPackedKind, msOf, packedRowsSql, packedTable, partitionDdl, pgIdent, pgPackedParent, pgRowsTable, pgTierTableDdl, tombstoneTable, tsOf } from './pg-sql.js';
import { dropPackedSql, mergePackedSql, packChunkSql } from './pg-pack.js';
import { checkTimeMs } from './series-key.js';
import { HOURLY_LOOKBACK_MS, NewerSchemaError, checkAlert, checkDate, checkReadQuery, checkSamples, checkStatsArgs, counterLikeSql, keySeriesDefs, matchSeries, rawJson, resetDeltaSql, type SeriesRow } from './store-common.js';
import { checkTier, tierTables, type TableKind } from './table-kinds.js';
import { TierRowsBuilder, checkTierRowsQuery } from './tier-rows.js';
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
  TableStats,
  TierRows,
  TierRowsQuery,
} from './store.js';

type Db = pgPromise.IDatabase<object>;
type Task = pgPromise.IBaseProtocol<object>;


/** Options of the PostgreSQL store. */
export interface PgStoreOptions {
  /** Connection URL; when empty the fields below are used. @default '' */
  readonly databaseUrl?: string;
  /** @default 'localhost' */
  readonly host?: string;
  /** @default 5432 */
  readonly port?: number;
  /** @default 'monitoring' */
  readonly database?: string;
  /** @default 'postgres' */
  readonly user?: string;
  /** @default '' */
  readonly password?: string;
  /** Schema holding the tables (created if missing). @default 'public' */
  readonly schema?: string;
  /** Most connections. @default 4 */
  readonly poolSize?: number;
  /** Raw chunk (partition) interval, ms. @default 86_400_000 */
  readonly chunkMs?: number;
  /** Connect timeout, ms. @default 5000 */
  readonly connectTimeoutMs?: number;
  /**
   * Client-side limit on one query, ms: a connection to a PostgreSQL that vanished
   * without a reset would otherwise hang the writer (and the spool behind it). @default 300_000
   */
  readonly queryTimeoutMs?: number;
  /**
   * Limit on one write (writeSamples, resolveSeries), ms. A write runs on a connection
   * of its own; past this limit that connection is closed (so a stalled server cannot
   * keep it) and the write rejects with a PgTimeoutError, which counts as unreachable:
   * the fallback store spools instead. @default 5000
   */
  readonly writeTimeoutMs?: number;
  /**
   * The Larder this store records for (its --instance): series it creates are its own
   * (`series.host`), and only its own are rolled up by its rollups. @default '' (none)
   */
  readonly instance?: string;
  /** application_name of the connections (shows in pg_stat_activity). @default 'larder' */
  readonly applicationName?: string;
  /** @default Date.now */
  readonly now?: () => number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
const DDL_LOCK = PG_DDL_LOCK;

/** A write PostgreSQL did not answer within the write timeout (a stalled server or network). */
export class PgTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(what: string, ms: number) {
    super(`PostgreSQL did not answer ${what} within ${ms} ms (write timeout)`);
    this.name = 'PgTimeoutError';
  }
}

/** Whether an error means PostgreSQL is unreachable (worth spooling), not a bad statement. */
export function isConnectionError(e: unknown): boolean {
  if (e instanceof PgTimeoutError) return true;
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/.test(code)) return true;
  if (/^(08|57P0)/.test(code)) return true; // connection exception, admin/crash shutdown (pg_terminate_backend)
  const msg = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|connection timeout|timeout expired|Query read timeout|Client has encountered a connection error|not queryable|ECONNREFUSED/i.test(msg);
}

/** Opens the PostgreSQL store: connects, creates the schema, migrates, creates the current partitions. */
export async function openPgStore(opts: PgStoreOptions): Promise<PgStore> {
  const schema = opts.schema ?? 'public';
  if (!SCHEMA.test(schema)) throw new TypeError(`PostgreSQL store: invalid schema ${JSON.stringify(schema)}: expected [a-z_][a-z0-9_]*`);
  const chunkMs = opts.chunkMs ?? 86_400_000;
  checkChunkMs(chunkMs, 'PostgreSQL store chunkMs');
  const pgp = pgPromise({ noWarnings: true });
  const common = {
    max: opts.poolSize ?? 4,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    query_timeout: opts.queryTimeoutMs ?? 300_000,
    keepAlive: true,
    options: `-c search_path=${schema}`,
    application_name: opts.applicationName ?? 'larder',
  };
  const db: Db =
    opts.databaseUrl !== undefined && opts.databaseUrl !== ''
      ? pgp({ connectionString: opts.databaseUrl, ...common })
      : pgp({
          host: opts.host ?? 'localhost',
          port: opts.port ?? 5432,
          database: opts.database ?? 'monitoring',
          user: opts.user ?? 'postgres',
          password: opts.password ?? '',
          ...common,
        });
  const now = opts.now ?? Date.now;
  try {
    await db.none(`CREATE SCHEMA IF NOT EXISTS ${pgIdent(schema)}`);
    const version = await migrate(db, schema);
    const store = new PgStore(db, version, now, schema, opts.writeTimeoutMs ?? 5000, opts.instance ?? '');
    await store.setSamplesChunkMs(chunkMs);
    // Partitions ahead of time: the current one and the next.
    await store.ensureChunk('samples', now());
    await store.ensureChunk('samples', now() + chunkMs);
    return store;
  } catch (e) {
    // Only this pool: pgp.end() would shut every pg-promise pool in the process.
    await db.$pool.end();
    throw e;
  }
}

async function migrate(db: Db, schema: string): Promise<number> {
  const known = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;
  await db.tx(async (t) => {
    await t.any('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
    const has = await t.one<{ r: string | null }>('SELECT to_regclass($1) AS r', [`${schema}.schema_migrations`]);
    let current = 0;
    if (has.r !== null) current = Number((await t.one<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).v ?? 0);
    if (current > known) throw new NewerSchemaError(`PostgreSQL schema ${schema}`, current, known);
    await t.none('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const m of PG_MIGRATIONS) {
      if (m.version <= current) continue;
      await t.none(m.sql);
      await t.none('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
  });
  return known;
}

interface CatalogTable {
  readonly kind: TableKind;
  chunkMs: number;
  chunks: ChunkInfo[];
}

const SERIES_COLS = `id, name, labels::text AS labels, type, help, fingerprint, ${msOf('created_at')} AS created_at`;

/** The PostgreSQL store. Create with openPgStore. */
export class PgStore implements Store {
  readonly dialect = 'postgresql' as const;
  private readonly catalog = new Map<string, CatalogTable>();
  /** Names of the chunks (raw, tiers' rows) that are packed (storage/pg-pack.ts). */
  private readonly packed = new Set<string>();
  private readonly seriesIds = new Map<string, number>();
  private closed = false;

  /** @internal use openPgStore */
  constructor(
    private readonly db: Db,
    readonly schemaVersion: number,
    private readonly now: () => number,
    readonly schema: string,
    private readonly writeTimeoutMs: number = 5000,
    /** The owner written into `series.host` for the series this store creates. */
    readonly instance: string = '',
  ) {}

  /** `work` within the write timeout (it goes on in the background past it; its connections are the pool's). */
  private async withinWriteTimeout<T>(what: string, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PgTimeoutError(what, this.writeTimeoutMs)), this.writeTimeoutMs);
    });
    work.catch(() => undefined);
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs `fn` on a pooled connection of its own, within the write timeout. Past it the
   * promise rejects with PgTimeoutError and the connection is closed rather than
   * returned: a server that stopped answering (not refusing) keeps no pool slot, and
   * a transaction whose COMMIT never got through is rolled back by the server when
   * the socket goes. (One that did commit is harmless: writes are upserts.)
   */
  private async withWriteTimeout<T>(what: string, fn: (t: Task) => Promise<T>): Promise<T> {
    const ms = this.writeTimeoutMs;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const conn = this.db.connect();
    const work = conn.then((c) => (timedOut ? Promise.reject(new PgTimeoutError(what, ms)) : fn(c)));
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new PgTimeoutError(what, ms));
      }, ms);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
      work.catch(() => undefined); // after a timeout, the killed connection's error lands here
      // Released once the connection exists (it may arrive after the deadline): killed when late.
      void conn.then(
        (c) => (timedOut ? c.done(true) : work.then(() => c.done(), (e: unknown) => c.done(isConnectionError(e)))),
        () => undefined,
      );
    }
  }

  /** Server-side bound parameters ($1…), so values are never formatted into SQL text. */
  private static pq(sql: string, params: readonly (SqlValue | readonly SqlValue[])[]): pgPromise.ParameterizedQuery | string {
    if (!Array.isArray(params)) throw new TypeError('SQL parameters must be an array');
    return params.length === 0 ? sql : new pgPromise.ParameterizedQuery({ text: sql, values: [...params] });
  }

  private static executor(t: Task, client?: ClientBase, onCopyFailed?: () => void): SqlExecutor {
    const ex: SqlExecutor = {
      dialect: 'postgresql',
      query: <R extends Row = Row>(sql: string, params: readonly SqlValue[] = []) => t.any<R>(PgStore.pq(sql, params)),
      execute: async (sql: string, params: readonly SqlValue[] = []) => ({ changes: (await t.result(PgStore.pq(sql, params))).rowCount ?? 0 }),
    };
    if (client === undefined) return ex;
    return {
      ...ex,
      // A COPY that failed half way may leave the connection mid-protocol: it is then
      // closed rather than returned to the pool (onCopyFailed).
      copyOut: async (sql, onData) => {
        const stream = client.query(copyTo(sql));
        try {
          for await (const piece of stream) onData(piece as Buffer);
        } catch (e) {
          onCopyFailed?.();
          throw e;
        } finally {
          // pg arms its query_timeout timer for every query and clears it in the query's
          // callback, which pg-copy-streams' COPY TO never calls (its COPY FROM does): the
          // timer would keep the process alive and then fire at a finished query.
          (stream as unknown as { callback?: () => void }).callback?.();
        }
      },
      copyIn: async (sql, pieces) => {
        try {
          await pipeline(
            (function* () {
              yield COPY_HEADER;
              yield* pieces;
              yield COPY_TRAILER;
            })(),
            client.query(copyFrom(sql)),
          );
        } catch (e) {
          onCopyFailed?.();
          throw e;
        }
      },
    };
  }

  query<R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return PgStore.executor(this.db).query<R>(sql, params);
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return PgStore.executor(this.db).execute(sql, params);
  }

  /**
   * On a connection of its own (pg-promise's tx would not say which), so that `tx` can
   * also COPY on it (`copyOut`, `copyIn`: the rollups' reads and writes, rollup/pg-fold.ts).
   */
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const conn = await this.db.connect();
    let broken = false;
    const copyFailed = (): void => {
      broken = true;
    };
    try {
      // pg-promise types its client as a subset of pg's; it is pg's Client, which COPY streams need.
      return await conn.tx((t) => fn(PgStore.executor(t, conn.client as unknown as ClientBase, copyFailed)));
    } catch (e) {
      broken ||= isConnectionError(e);
      throw e;
    } finally {
      conn.done(broken);
    }
  }

  // ---- chunks -------------------------------------------------------------------

  private async loadCatalog(t: Task = this.db): Promise<void> {
    const tables = await t.any<{ logical: string; kind: TableKind; chunk_ms: string }>('SELECT logical, kind, chunk_ms FROM chunk_tables');
    const chunks = await t.any<{ logical: string; name: string; s: number; e: number; packed: boolean }>(
      `SELECT logical, name, ${msOf('start_ts')} AS s, ${msOf('end_ts')} AS e, packed FROM chunks ORDER BY logical, start_ts`,
    );
    this.catalog.clear();
    this.packed.clear();
    for (const r of tables) this.catalog.set(r.logical, { kind: r.kind, chunkMs: Number(r.chunk_ms), chunks: [] });
    for (const r of chunks) {
      this.catalog.get(r.logical)?.chunks.push({ table: r.logical, name: r.name, startMs: r.s, endMs: r.e });
      if (r.packed) this.packed.add(r.name);
    }
  }

  /** @internal sets the raw chunk interval for new partitions. */
  async setSamplesChunkMs(chunkMs: number): Promise<void> {
    await this.db.none("UPDATE chunk_tables SET chunk_ms = $1 WHERE logical = 'samples' AND chunk_ms <> $1", [chunkMs]);
    await this.loadCatalog();
  }

  private async table(logical: string, where: string): Promise<CatalogTable> {
    checkLogicalTable(logical, where);
    let t = this.catalog.get(logical);
    if (t === undefined) {
      await this.loadCatalog(); // another host may have created it
      t = this.catalog.get(logical);
    }
    if (t === undefined) throw new Error(`${where}: unknown table ${logical}: expected samples or a rollup tier table created by ensureRollupTier`);
    return t;
  }

  async ensureRollupTier(def: RollupTierDef): Promise<void> {
    checkTier(def?.tier, 'ensureRollupTier');
    checkChunkMs(def.chunkMs, `ensureRollupTier(${def.tier})`);
    const { rollup, quantiles } = tierTables(def.tier);
    await this.db.tx(async (t) => {
      await t.any('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      for (const [logical, kind] of [[rollup, 'rollup'], [quantiles, 'quantiles']] as const) {
        await t.none(pgTierTableDdl(logical, kind));
        await t.none('INSERT INTO chunk_tables (logical, kind, chunk_ms) VALUES ($1, $2, $3) ON CONFLICT (logical) DO UPDATE SET chunk_ms = EXCLUDED.chunk_ms', [logical, kind, def.chunkMs]);
      }
    });
    await this.loadCatalog();
  }

  private static find(t: CatalogTable, timeMs: number): ChunkInfo | undefined {
    return t.chunks.find((c) => c.startMs <= timeMs && timeMs < c.endMs);
  }

  async ensureChunk(logical: string, timeMs: number): Promise<ChunkInfo> {
    const t = await this.table(logical, 'ensureChunk');
    checkTimeMs(timeMs, 'ensureChunk');
    const hit = PgStore.find(t, timeMs);
    if (hit !== undefined) return hit;
    // The chunk found or made under the lock: a concurrent catalog reload (packing,
    // listChunks) may replace the catalog with one read before this commit.
    let made: ChunkInfo | undefined;
    await this.db.tx(async (tx) => {
      // Serialised across hosts; the catalog is re-read under the lock.
      await tx.any('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      await this.loadCatalog(tx);
      const fresh = this.catalog.get(logical)!;
      made = PgStore.find(fresh, timeMs);
      if (made !== undefined) return;
      let { startMs, endMs } = chunkRange(timeMs, fresh.chunkMs);
      for (const c of fresh.chunks) {
        if (c.endMs <= timeMs && c.endMs > startMs) startMs = c.endMs;
        if (c.startMs > timeMs && c.startMs < endMs) endMs = c.startMs;
      }
      const name = chunkName(logical, startMs);
      await tx.none(partitionDdl(logical, name, startMs, endMs));
      await tx.none(`INSERT INTO chunks (name, logical, start_ts, end_ts, created_at) VALUES ($1, $2, ${tsOf('$3')}, ${tsOf('$4')}, now())`, [name, logical, startMs, endMs]);
      made = { table: logical, name, startMs, endMs };
      fresh.chunks.push(made);
      fresh.chunks.sort((a, b) => a.startMs - b.startMs);
    });
    return PgStore.find(this.catalog.get(logical)!, timeMs) ?? made!;
  }

  async listChunks(table?: string): Promise<ChunkInfo[]> {
    await this.loadCatalog();
    if (table !== undefined) return [...(await this.table(table, 'listChunks')).chunks];
    return [...this.catalog.values()].flatMap((t) => t.chunks).sort(compareChunks);
  }

  async dropChunksBefore(table: string, cutoffMs: number): Promise<ChunkInfo[]> {
    if (typeof cutoffMs !== 'number' || !Number.isFinite(cutoffMs)) throw new RangeError(`dropChunksBefore: invalid cutoff ${String(cutoffMs)}`);
    await this.loadCatalog();
    const t = await this.table(table, 'dropChunksBefore');
    const gone = t.chunks.filter((c) => c.endMs <= cutoffMs);
    await this.dropChunks(gone);
    return gone;
  }

  async dropChunk(table: string, name: string): Promise<void> {
    await this.loadCatalog();
    const t = await this.table(table, 'dropChunk');
    const c = t.chunks.find((x) => x.name === name);
    if (c === undefined) throw new Error(`dropChunk: ${table} has no chunk ${JSON.stringify(name)}`);
    await this.dropChunks([c]);
  }

  private async dropChunks(gone: readonly ChunkInfo[]): Promise<void> {
    if (gone.length === 0) return;
    await this.db.tx(async (tx) => {
      await tx.any('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      for (const c of gone) {
        // Whether it is packed is read with the row locked: a packing under way ends first.
        const row = await tx.oneOrNone<{ packed: boolean }>('SELECT packed FROM chunks WHERE name = $1 FOR UPDATE', [c.name]);
        if (row?.packed === true) for (const sql of dropPackedSql(c)) await tx.none(sql);
        else await tx.none(`DROP TABLE IF EXISTS ${pgIdent(c.name)}`);
        await tx.none('DELETE FROM chunks WHERE name = $1', [c.name]);
      }
    });
    await this.loadCatalog();
  }

  async chunkBytes(table: string, name: string): Promise<number> {
    const t = await this.table(table, 'chunkBytes');
    if (!t.chunks.some((c) => c.name === name)) throw new Error(`chunkBytes: ${table} has no chunk ${JSON.stringify(name)}`);
    // A packed chunk's name is a view (0 bytes): its bytes are its packed rows' and its emptied partition's.
    const rels = this.packed.has(name) ? [packedTable(name), tombstoneTable(name)] : [name];
    return (
      await this.db.one<{ b: number }>('SELECT COALESCE(SUM(pg_total_relation_size(to_regclass(r))), 0)::float8 AS b FROM unnest($1::text[]) AS r', [
        rels.map((r) => `${this.schema}.${r}`),
      ])
    ).b;
  }

  /** Whether a chunk (raw or a tier's rows) is packed (as of this store's last catalog read). */
  isPacked(name: string): boolean {
    return this.packed.has(name);
  }

  /**
   * Packs the closed raw chunks that end at or before `beforeMs` (storage/pg-pack.ts):
   * call it once the rollups have read them. Also packs the chunks of each tier's rows
   * that end at or before both `beforeMs` and the tier's watermark, the lowest of the
   * hosts whose rollups ran within `hostStaleMs` (a host further behind merges into
   * packed chunks when it catches up). Resolves with the chunks packed now.
   */
  async packClosedChunks(beforeMs: number, hostStaleMs = 86_400_000): Promise<ChunkInfo[]> {
    if (typeof beforeMs !== 'number' || !Number.isFinite(beforeMs)) throw new RangeError(`packClosedChunks: invalid time ${String(beforeMs)}`);
    await this.loadCatalog();
    const todo = (this.catalog.get('samples')?.chunks ?? []).filter((c) => c.endMs <= beforeMs && !this.packed.has(c.name));
    const hasWatermarks = (await this.db.one<{ r: string | null }>("SELECT to_regclass('rollup_watermarks')::text AS r")).r !== null;
    for (const [logical, t] of this.catalog) {
      if (logical === 'samples' || t.kind !== 'rollup' || !isPackedKind(logical) || !hasWatermarks) continue;
      const tier = logical.slice('rollup_'.length);
      const w = await this.db.one<{ w: string | null }>(
        'SELECT min(watermark_ms)::text AS w FROM rollup_watermarks WHERE tier = $1 AND (updated_ms IS NULL OR updated_ms >= $2)',
        [tier, this.now() - hostStaleMs],
      );
      if (w.w === null) continue;
      const until = Math.min(beforeMs, Number(w.w));
      todo.push(...t.chunks.filter((c) => c.endMs <= until && !this.packed.has(c.name)));
    }
    const done: ChunkInfo[] = [];
    for (const c of todo) if (await this.packChunk(c)) done.push(c);
    return done;
  }

  /**
   * Packs one chunk (raw, or of a tier's rows) in one transaction; false when it was packed already (by another
   * host, say). `afterFill` (tests) runs once the packed rows are written, before the swap.
   */
  async packChunk(c: ChunkInfo, afterFill?: () => Promise<void>): Promise<boolean> {
    const sql = packChunkSql(c);
    const packedNow = await this.db.tx(async (tx) => {
      // The chunk's catalog row, locked: a second packer (another host) waits here and then
      // finds it packed; retention's drop waits too. Not the DDL lock, which partition
      // creation (and so the writers) would wait on for as long as the packing takes.
      if (!isPackedKind(c.table)) throw new Error(`packChunk: chunks of ${c.table} are not packed`);
      const row = await tx.oneOrNone<{ packed: boolean }>('SELECT packed FROM chunks WHERE name = $1 AND logical = $2 FOR UPDATE', [c.name, c.table]);
      if (row === null || row.packed) return false;
      for (const s of sql.lockAndFill) await tx.none(s);
      if (afterFill !== undefined) await afterFill();
      for (const s of sql.swap) await tx.none(s);
      await tx.none('UPDATE chunks SET packed = true WHERE name = $1', [c.name]);
      return true;
    });
    await this.loadCatalog();
    return packedNow;
  }

  async sizeBytes(): Promise<number> {
    const r = await this.db.one<{ b: number | null }>(
      `SELECT SUM(pg_total_relation_size(c.oid))::float8 AS b FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
      [this.schema],
    );
    return r.b ?? 0;
  }

  // ---- series ---------------------------------------------------------------------

  async resolveSeries(defs: readonly SeriesDef[]): Promise<number[]> {
    const keys = keySeriesDefs(defs);
    const missing = new Map<string, (typeof keys)[number]>();
    for (const k of keys) if (!this.seriesIds.has(k.fp)) missing.set(k.fp, k);
    if (missing.size > 0) {
      const m = [...missing.values()];
      const nowMs = this.now();
      const rows = await this.withWriteTimeout('a series lookup', async (db) => {
        await db.none(
          `INSERT INTO series (name, labels, fingerprint, type, help, created_at, host)
           SELECT n, l::jsonb, f, t, h, ${tsOf('$6')}, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(n, l, f, t, h)
           ON CONFLICT (fingerprint) DO NOTHING`,
          [m.map((k) => k.def.name), m.map((k) => k.labels), m.map((k) => k.fp), m.map((k) => k.def.type), m.map((k) => k.def.help ?? ''), nowMs, this.instance],
        );
        return db.any<{ id: number; fingerprint: string }>('SELECT id, fingerprint FROM series WHERE fingerprint = ANY($1::text[])', [m.map((k) => k.fp)]);
      });
      for (const r of rows) this.seriesIds.set(r.fingerprint, r.id);
    }
    return keys.map((k) => {
      const id = this.seriesIds.get(k.fp);
      if (id === undefined) throw new Error(`resolveSeries: series ${k.def.name}${k.labels} was not created`);
      return id;
    });
  }

  async listSeries(ids?: readonly number[]): Promise<SeriesInfo[]> {
    const rows =
      ids === undefined
        ? await this.db.any<SeriesRow>(`SELECT ${SERIES_COLS} FROM series ORDER BY id`)
        : await this.db.any<SeriesRow>(`SELECT ${SERIES_COLS} FROM series WHERE id = ANY($1::int[]) ORDER BY id`, [[...ids]]);
    const byId = new Map(rows.map((r) => [Number(r.id), pgSeries(r)]));
    if (ids === undefined) return [...byId.values()];
    return ids.flatMap((id) => {
      const s = byId.get(id);
      return s === undefined ? [] : [s];
    });
  }

  // ---- samples ----------------------------------------------------------------------

  async writeSamples(samples: readonly Sample[]): Promise<number> {
    if (!Array.isArray(samples)) throw new TypeError('writeSamples: expected an array of samples');
    checkSamples(samples);
    if (samples.length === 0) return 0;
    // ON CONFLICT DO UPDATE may not touch a row twice in one statement: last one wins, as on SQLite.
    const uniq = dedupe(samples);
    // The chunks first, on the pool (rarely any work: they are made ahead), then the rows.
    await this.withinWriteTimeout('creating a chunk', this.chunksFor(uniq));
    try {
      await this.withWriteTimeout(`a write of ${samples.length} samples`, (db) => this.insertSamples(db, uniq));
    } catch (e) {
      // 23514: a chunk was packed since the catalog was read (the emptied partition
      // refuses rows); nothing of the batch was kept: reload and merge instead.
      if ((e as { code?: string }).code !== '23514') throw e;
      await this.loadCatalog();
      await this.withWriteTimeout(`a write of ${samples.length} samples`, (db) => this.insertSamples(db, uniq));
    }
    return samples.length;
  }

  /** Creates the raw chunks `samples` fall into, where missing. */
  private async chunksFor(uniq: readonly Sample[]): Promise<void> {
    await this.table('samples', 'writeSamples');
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const s of uniq) {
      if (s.timeMs < lo) lo = s.timeMs;
      if (s.timeMs > hi) hi = s.timeMs;
    }
    for (let x = lo; ; ) {
      // Re-read each time: ensureChunk reloads the catalog into new objects.
      const c = PgStore.find(this.catalog.get('samples')!, x) ?? (await this.ensureChunk('samples', x));
      if (c.endMs > hi) break;
      x = uniq.reduce((m, s) => (s.timeMs >= c.endMs && s.timeMs < m ? s.timeMs : m), Number.POSITIVE_INFINITY);
      if (!Number.isFinite(x)) break;
    }
  }

  /** The rows and the latest values, in one transaction on `db`. */
  private async insertSamples(db: Task, uniq: readonly Sample[]): Promise<void> {
    // Samples of packed chunks (late ones) are merged into the packed rows; the rest are rows.
    const rows: Sample[] = [];
    const late = new Map<string, { chunk: ChunkInfo; samples: Sample[] }>();
    const raw = this.catalog.get('samples');
    for (const s of uniq) {
      const c = this.packed.size > 0 && raw !== undefined ? PgStore.find(raw, s.timeMs) : undefined;
      if (c === undefined || !this.packed.has(c.name)) rows.push(s);
      else {
        const l = late.get(c.name) ?? { chunk: c, samples: [] };
        l.samples.push(s);
        late.set(c.name, l);
      }
    }
    // A stale marker is a NULL value (NaN is stored as NaN): storage/stale.ts.
    const columns = (xs: readonly Sample[]): [number[], number[], (number | null)[]] => [
      xs.map((s) => s.seriesId),
      xs.map((s) => s.timeMs),
      xs.map((s) => (isStaleNaN(s.value) ? null : s.value)),
    ];
    try {
      await db.tx(async (tx) => {
        // Bound server-side (ParameterizedQuery): pg-promise's client-side formatting of
        // three 10k-element arrays measured at half the throughput.
        if (rows.length > 0) await tx.none(
          PgStore.pq(
            `INSERT INTO samples_rows (series_id, ts, value)
             SELECT s, ${tsOf('t')}, v FROM unnest($1::int[], $2::float8[], $3::float8[]) AS u(s, t, v)
             ON CONFLICT (series_id, ts) DO UPDATE SET value = EXCLUDED.value`,
            columns(rows),
          ),
        );
        for (const { chunk, samples } of [...late.values()].sort((a, b) => a.chunk.startMs - b.chunk.startMs)) {
          await tx.none(`LOCK TABLE ${pgIdent(packedTable(chunk.name))} IN SHARE ROW EXCLUSIVE MODE`);
          await tx.none(PgStore.pq(mergePackedSql(chunk), columns(samples)));
        }
        const latest = new Map<number, Sample>();
        for (const s of uniq) {
          if (isStaleNaN(s.value)) continue; // a stale marker is no latest value
          const l = latest.get(s.seriesId);
          if (l === undefined || s.timeMs >= l.timeMs) latest.set(s.seriesId, s);
        }
        const ls = [...latest.values()];
        if (ls.length > 0) await tx.none(
          PgStore.pq(
            `INSERT INTO series_latest (series_id, ts, value)
             SELECT s, ${tsOf('t')}, v FROM unnest($1::int[], $2::float8[], $3::float8[]) AS u(s, t, v)
             ON CONFLICT (series_id) DO UPDATE SET ts = EXCLUDED.ts, value = EXCLUDED.value WHERE EXCLUDED.ts >= series_latest.ts`,
            [ls.map((s) => s.seriesId), ls.map((s) => s.timeMs), ls.map((s) => s.value)],
          ),
        );
      });
    } catch (e) {
      if ((e as { code?: string }).code === '23503') throw new Error(`writeSamples: unknown series id in batch: create series with resolveSeries first`, { cause: e });
      throw e;
    }
  }

  async readSamples(q: ReadQuery): Promise<ReadResult> {
    checkReadQuery(q);
    let series: SeriesInfo[];
    if (q.seriesIds !== undefined) series = (await this.listSeries(q.seriesIds)).sort((a, b) => a.id - b.id);
    else {
      const rows = await this.db.any<SeriesRow>(`SELECT ${SERIES_COLS} FROM series WHERE name = $1 ORDER BY id`, [q.name]);
      series = matchSeries(rows.map(pgSeries), q.matchers ?? []);
    }
    if (series.length === 0) return { series, samples: [] };
    const limit = q.limit === undefined ? 'ALL' : String(q.limit);
    // Packed rows are selected by chunk start (one chunk back at most: no chunk is longer
    // than the longest known), so only the chunks in range are unnested; another host's
    // packing needs no catalog reload here.
    const raw = this.catalog.get('samples');
    const span = Math.max(raw?.chunkMs ?? 0, ...(raw?.chunks ?? []).map((c) => c.endMs - c.startMs));
    const rows = await this.db.any<{ s: number; t: number; v: number | null }>(
      `SELECT series_id AS s, ${msOf('ts')} AS t, value AS v FROM (
         SELECT series_id, ts, value FROM samples_rows WHERE series_id = ANY($1::int[]) AND ts >= ${tsOf('$2')} AND ts < ${tsOf('$3')}
         UNION ALL
         SELECT p.series_id, u.ts, u.value FROM samples_packed p ${PACKED_ROWS}
         WHERE p.series_id = ANY($1::int[]) AND p.start_ts > ${tsOf('$4')} AND p.start_ts < ${tsOf('$3')} AND u.ts >= ${tsOf('$2')} AND u.ts < ${tsOf('$3')}) x
       ORDER BY series_id, ts LIMIT ${limit}`,
      [series.map((s) => s.id), q.fromMs, q.toMs, q.fromMs - span],
    );
    return { series, samples: rows.map((r) => ({ seriesId: r.s, timeMs: r.t, value: r.v === null ? staleNaN() : r.v })) };
  }

  /**
   * One statement over the tier's row partitions and its packed chunks. As readSamples
   * does, packed rows are selected by chunk start (one chunk back at most), so only the
   * chunks in range are unnested.
   */
  async readTierRows(query: TierRowsQuery): Promise<TierRows> {
    const q = checkTierRowsQuery(query);
    const b = new TierRowsBuilder(q.columns);
    if (q.seriesIds.length === 0) return b.finish();
    const logical = tierTables(q.tier).rollup;
    const t = await this.table(logical, `readTierRows ${q.tier}`);
    const span = Math.max(t.chunkMs, ...t.chunks.map((c) => c.endMs - c.startMs));
    const cols = q.columns.map(pgIdent);
    const rows = await this.db.any<Row>(
      `SELECT series_id AS s, ${msOf('ts')} AS t, ${cols.join(', ')} FROM (
         SELECT series_id, ts, ${cols.join(', ')} FROM ${pgIdent(pgRowsTable(logical))} WHERE series_id = ANY($1::int[]) AND ts >= ${tsOf('$2')} AND ts < ${tsOf('$3')}
         UNION ALL
         SELECT p.series_id, u.ts, ${cols.map((c) => `u.${c}`).join(', ')} FROM ${pgIdent(pgPackedParent(logical))} p ${packedRowsSql(logical)}
         WHERE p.series_id = ANY($1::int[]) AND p.start_ts > ${tsOf('$4')} AND p.start_ts < ${tsOf('$3')} AND u.ts >= ${tsOf('$2')} AND u.ts < ${tsOf('$3')}) x
       ORDER BY series_id, ts`,
      [`{${q.seriesIds.join(',')}}`, q.fromMs, q.toMs, q.fromMs - span],
    );
    for (const r of rows) b.pushRow(r);
    return b.finish();
  }

  // ---- the seed's operations ----------------------------------------------------------

  async saveMetric(name: string, value: number, labels: Labels = {}): Promise<void> {
    if (typeof value !== 'number') throw new TypeError(`saveMetric(${String(name)}): value must be a number, got ${typeof value}`);
    const [id] = await this.resolveSeries([{ name, labels, type: 'untyped', help: '' }]);
    await this.writeSamples([{ seriesId: id!, timeMs: this.now(), value }]);
  }

  async saveRawMetrics(type: string, data: unknown): Promise<void> {
    const json = rawJson(type, data);
    await this.db.none(`INSERT INTO metrics_raw (ts, type, data) VALUES (${tsOf('$1')}, $2, $3::jsonb)`, [this.now(), type, json]);
  }

  async getLatestMetrics(): Promise<LatestMetric[]> {
    const rows = await this.db.any<{ series_id: number; metric_name: string; labels: string; value: number | null; t: number }>(
      `SELECT series_id, metric_name, labels::text AS labels, value, ${msOf('ts')} AS t FROM latest_metrics`,
    );
    return rows
      .map((r) => ({ seriesId: r.series_id, name: r.metric_name, labels: canonicalOf(r.labels), value: r.value === null ? Number.NaN : r.value, timeMs: r.t }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : cmp(JSON.stringify(a.labels), JSON.stringify(b.labels))));
  }

  async getMetricStats(name: string, hours: number): Promise<MetricStats> {
    checkStatsArgs(name, hours);
    const nowMs = this.now();
    const fromMs = nowMs - Math.round(hours * 3_600_000);
    // NaN is excluded from avg/min/max as SQLite (which stores it as NULL) does.
    const r = await this.db.one<{ count: number; avg: number | null; min: number | null; max: number | null; first: number | null; last: number | null }>(
      `SELECT COUNT(*)::float8 AS count,
              AVG(value) FILTER (WHERE value <> 'NaN') AS avg, MIN(value) FILTER (WHERE value <> 'NaN') AS min, MAX(value) FILTER (WHERE value <> 'NaN') AS max,
              ${msOf('MIN(ts)')} AS first, ${msOf('MAX(ts)')} AS last
       FROM samples WHERE series_id IN (SELECT id FROM series WHERE name = $1) AND ts >= ${tsOf('$2')} AND ts <= ${tsOf('$3')} AND ${pgLive('value')}`,
      [name, fromMs, nowMs],
    );
    return { name, hours, count: r.count, avg: r.avg, min: r.min, max: r.max, firstMs: r.first, lastMs: r.last };
  }

  async aggregateHourlyMetrics(): Promise<number> {
    const H = 3_600_000;
    const endMs = Math.floor(this.now() / H) * H;
    const last = await this.db.one<{ t: number | null }>(`SELECT ${msOf('MAX(ts)')} AS t FROM metrics_hourly`);
    let fromMs = last.t;
    if (fromMs === null) {
      const chunks = (await this.listChunks('samples')).filter((c) => c.startMs < endMs);
      if (chunks.length === 0) return 0;
      fromMs = chunks[0]!.startMs;
    }
    fromMs = Math.floor(fromMs / H) * H;
    if (fromMs >= endMs) return 0;
    // AVG/MIN/MAX skip NaN (NULL on SQLite); COUNT counts every sample on both. Counter-like
    // series get the hour's increase (reset-corrected deltas, the first from the previous
    // sample up to HOURLY_LOOKBACK_MS earlier) and rate (increase / 3600 s); others NULL.
    const inc = `CASE WHEN ${counterLikeSql('se')} THEN coalesce(SUM(r.delta), 0) END`;
    const r = await this.db.result(
      `INSERT INTO metrics_hourly (series_id, ts, metric_name, labels, avg, min, max, count, increase, rate)
       SELECT r.series_id, date_trunc('hour', r.ts) AS hour, se.name, se.labels,
              AVG(r.value) FILTER (WHERE r.value <> 'NaN'), MIN(r.value) FILTER (WHERE r.value <> 'NaN'), MAX(r.value) FILTER (WHERE r.value <> 'NaN'), COUNT(*),
              ${inc}, ${inc} / 3600
       FROM (SELECT series_id, ts, value, ${resetDeltaSql('v', 'prev')} AS delta
             FROM (SELECT series_id, ts, value, NULLIF(value, 'NaN'::double precision) AS v,
                          LAG(NULLIF(value, 'NaN'::double precision)) OVER (PARTITION BY series_id ORDER BY ts) AS prev
                   FROM samples WHERE ts >= ${tsOf('$3')} AND ts < ${tsOf('$2')} AND ${pgLive('value')}) w) r
       JOIN series se ON se.id = r.series_id
       WHERE r.ts >= ${tsOf('$1')}
       GROUP BY r.series_id, hour, se.name, se.labels, se.type
       ON CONFLICT (series_id, ts) DO UPDATE SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, count = EXCLUDED.count,
         increase = EXCLUDED.increase, rate = EXCLUDED.rate, metric_name = EXCLUDED.metric_name, labels = EXCLUDED.labels`,
      [fromMs, endMs, fromMs - HOURLY_LOOKBACK_MS],
    );
    return r.rowCount ?? 0;
  }

  async cleanupOldMetrics(retentionDays: number): Promise<ChunkInfo[]> {
    if (typeof retentionDays !== 'number' || !Number.isFinite(retentionDays) || retentionDays <= 0) {
      throw new RangeError(`cleanupOldMetrics: invalid retentionDays ${String(retentionDays)}: expected a positive number of days`);
    }
    const cutoff = this.now() - Math.round(retentionDays * 86_400_000);
    const gone = await this.dropChunksBefore('samples', cutoff);
    await this.db.tx(async (t) => {
      await t.none(`DELETE FROM metrics_raw WHERE ts < ${tsOf('$1')}`, [cutoff]);
      await t.none(`DELETE FROM alert_history WHERE status = 'resolved' AND resolved_at < ${tsOf('$1')}`, [cutoff]);
    });
    return gone;
  }

  async saveAlert(alert: AlertInput): Promise<number> {
    const c = checkAlert(alert, this.now());
    return this.db.tx(async (t) => {
      // Serialise saves of the same alert so two firings never open two rows.
      await t.any('SELECT pg_advisory_xact_lock(hashtext($1))', [`larder-alert:${c.name}`]);
      const open = await t.oneOrNone<{ id: number }>(
        "SELECT id FROM alert_history WHERE status = 'firing' AND name = $1 AND labels = $2::jsonb ORDER BY id DESC LIMIT 1",
        [c.name, c.labels],
      );
      if (open !== null) {
        await t.none(
          `UPDATE alert_history SET severity = $1, message = $2, value = $3, threshold = $4, status = $5, resolved_at = ${tsOf('$6')} WHERE id = $7`,
          [c.severity, c.message, c.value, c.threshold, c.status, c.resolvedMs, open.id],
        );
        return open.id;
      }
      const r = await t.one<{ id: number }>(
        `INSERT INTO alert_history (name, severity, message, value, threshold, labels, status, fired_at, resolved_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, ${tsOf('$8')}, ${tsOf('$9')}) RETURNING id`,
        [c.name, c.severity, c.message, c.value, c.threshold, c.labels, c.status, c.firedMs, c.resolvedMs],
      );
      return r.id;
    });
  }

  async getActiveAlerts(): Promise<AlertRecord[]> {
    const rows = await this.db.any<{
      id: number; name: string; severity: AlertRecord['severity']; message: string; value: number | null; threshold: number | null;
      labels: string; status: AlertRecord['status']; f: number; r: number | null;
    }>(`SELECT id, name, severity, message, value, threshold, labels::text AS labels, status, ${msOf('fired_at')} AS f, ${msOf('resolved_at')} AS r
        FROM active_alerts ORDER BY fired_at DESC, id DESC`);
    return rows.map((r) => ({
      id: r.id, name: r.name, severity: r.severity, message: r.message, value: r.value, threshold: r.threshold,
      labels: canonicalOf(r.labels), status: r.status, firedMs: r.f, resolvedMs: r.r,
    }));
  }

  async saveDailySummary(date: string, data: unknown): Promise<void> {
    checkDate(date);
    const json = rawJson('daily summary', data);
    await this.db.none(
      `INSERT INTO daily_summaries (date, data, created_at, updated_at) VALUES ($1::date, $2::jsonb, now(), now())
       ON CONFLICT (date) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`,
      [date, json],
    );
  }

  async getDatabaseStats(): Promise<DatabaseStats> {
    await this.loadCatalog();
    const rels = await this.db.any<{ name: string; parent: string | null; bytes: number; rows: number }>(
      `SELECT c.relname AS name, p.relname AS parent, pg_total_relation_size(c.oid)::float8 AS bytes, 0::float8 AS rows
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
       WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [this.schema],
    );
    const stats = new Map<string, { rows: number; bytes: number; chunks: number }>();
    for (const logical of this.catalog.keys()) stats.set(logical, { rows: 0, bytes: 0, chunks: 0 });
    for (const r of rels) {
      // Raw samples and tiers' rows: row partitions and packed chunks (whose rows count
      // their elements) are one logical table.
      const logical = r.parent === null ? undefined : packableOf(r.parent);
      const packedPart = logical !== undefined && r.parent === pgPackedParent(logical);
      const key = logical ?? r.parent ?? r.name;
      const count = packedPart ? 'SUM(cardinality(ts))' : 'COUNT(*)';
      const rows = (await this.db.one<{ n: number | null }>(`SELECT ${count}::float8 AS n FROM ${pgIdent(r.name)}`)).n ?? 0;
      const s = stats.get(key) ?? { rows: 0, bytes: 0, chunks: 0 };
      s.rows += rows;
      s.bytes += r.bytes;
      if (r.parent !== null && !packedPart) s.chunks++; // a packed chunk is its emptied partition and its packed rows: one chunk
      stats.set(key, s);
    }
    const tables: TableStats[] = [...stats.entries()].sort(([a], [b]) => cmp(a, b)).map(([table, s]) => ({ table, ...s }));
    // Packed arrays are in time order: their ends bound them without unnesting.
    const ext = await this.db.one<{ lo: number | null; hi: number | null }>(
      `SELECT ${msOf('MIN(lo)')} AS lo, ${msOf('MAX(hi)')} AS hi FROM (
         SELECT MIN(ts) AS lo, MAX(ts) AS hi FROM samples_rows
         UNION ALL SELECT MIN(ts[1]), MAX(ts[cardinality(ts)]) FROM samples_packed) x`,
    );
    const series = (await this.db.one<{ n: number }>('SELECT COUNT(*)::float8 AS n FROM series')).n;
    return {
      dialect: 'postgresql', totalBytes: await this.sizeBytes(), series, tables,
      oldestSampleMs: ext.lo, newestSampleMs: ext.hi, schemaVersion: this.schemaVersion, spoolDepth: 0,
    };
  }

  async optimize(): Promise<void> {
    // VACUUM cannot run inside a transaction block; one statement per call.
    for (const r of await this.db.any<{ name: string }>(
      "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
      [this.schema],
    )) {
      await this.db.none(`VACUUM (ANALYZE) ${pgIdent(r.name)}`);
    }
  }

  backup(): Promise<void> {
    return Promise.reject(new Error('backup: the PostgreSQL store is backed up with pg_dump (or your PostgreSQL backup tooling), not by Larder'));
  }

  spoolDepth(): Promise<number> {
    return Promise.resolve(0);
  }

  /** Ends this store's pool (not pgp.end(), which would end every pg-promise pool in the process). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.$pool.end();
  }
}

/** The packable logical table whose row or packed parent `parent` is (`samples_rows` → `samples`), if any. */
function packableOf(parent: string): string | undefined {
  const m = /^(.*)_(rows|packed)$/.exec(parent);
  return m !== null && isPackedKind(m[1]!) ? m[1] : undefined;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** jsonb text (reordered, spaced) back to the canonical label object (keys sorted). */
function canonicalOf(jsonbText: string): Labels {
  const o = JSON.parse(jsonbText) as Record<string, string>;
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

function pgSeries(r: SeriesRow): SeriesInfo {
  return {
    id: Number(r.id), name: r.name, labels: canonicalOf(r.labels), type: r.type as SeriesInfo['type'],
    help: r.help, fingerprint: r.fingerprint, createdMs: Number(r.created_at),
  };
}

/** Samples with duplicate (series, time) collapsed, the last one winning. */
function dedupe(samples: readonly Sample[]): readonly Sample[] {
  const seen = new Map<string, number>();
  let dup = false;
  for (let i = 0; i < samples.length; i++) {
    const k = `${samples[i]!.seriesId}:${samples[i]!.timeMs}`;
    if (seen.has(k)) dup = true;
    seen.set(k, i);
  }
  if (!dup) return samples;
  return [...seen.values()].sort((a, b) => a - b).map((i) => samples[i]!);
}
