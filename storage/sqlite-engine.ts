/**
 * The SQLite store, synchronous. node-sqlite3-wasm blocks the calling thread, so this
 * class runs inside the worker (sqlite-worker.ts); the main thread talks to it
 * through SqliteStore. Every time it needs is passed in (`nowMs`), so the clock
 * stays on the main thread.
 */
import sqlite3 from 'node-sqlite3-wasm';
import { chmodSync, createReadStream, createWriteStream, existsSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { checkChunkMs, checkLogicalTable, chunkName, chunkRange, compareChunks, compareNames } from './chunking.js';
import { checkTimeMs, parseLabels } from './series-key.js';
import { insertNumbers, scanNumbers, type ScanNumbers } from './sqlite-fast.js';
import { rollbackJournal, type JournalRollback } from './sqlite-journal.js';
import { headRowCount, isHeadTable, rawExtent, readSamplesFrom, readSeries, type ReadDb } from './sqlite-read.js';
import { readPackedFrom } from './sqlite-read-packed.js';
import { PendingTicks } from './sqlite-pending.js';
import { TickLog, encodable, tickLogPath } from './sqlite-tick-log.js';
import { RawChunkCache } from './sqlite-read-cache.js';
import { lingerLock } from './sqlite-lock-linger.js';
import { StatementCache, type Statement } from './sqlite-statements.js';
import type { LockLinger, LockLingerOptions } from './sqlite-lock-linger.js';
import { SampleHead, type HeadOptions } from './sqlite-head.js';
import { HEAD_SCHEMA_VERSION, HEAD_TABLES, headArms, LATEST_UPSERT } from './sqlite-head-sql.js';
import { acquireOwnership, createWithMode, sleepSync, unwritable, withDotfileLock } from './sqlite-lock.js';
import { SQLITE_STALE_BLOB, isStaleNaN, sqliteLive } from './stale.js';
import { SQLITE_MIGRATIONS, allViewDdl, chunkTableDdl, ident, type Migration } from './sqlite-sql.js';
import type { SqliteTask, SqliteTaskContext } from './sqlite-task.js';
import { checkTier, tierTables, type TableKind } from './table-kinds.js';
import { TierRowsBuilder, checkTierRowsQuery, sqliteTierStatements } from './tier-rows.js';
import type { CheckedTierRowsQuery } from './tier-rows.js';
import { NewerSchemaError, checkAlert, checkDate, checkReadQuery, checkSamples, checkStatsArgs, counterLikeSql, keySeriesDefs, packSamples, rawJson, resetDeltaSql } from './store-common.js';

import type {
  AlertInput,
  AlertRecord,
  ChunkInfo,
  DatabaseStats,
  LatestMetric,
  MetricStats,
  PackedReadResult,
  ReadQuery,
  ReadResult,
  Row,
  Sample,
  SeriesDef,
  SeriesInfo,
  SqlValue,
  TableStats,
  TieredReadQuery,
  TieredReadResult,
  TierRows,
  TierRowsQuery,
} from './store.js';

// Re-exported: they used to live here (pure now, in store-common.ts).
export { NewerSchemaError, checkReadQuery, checkSamples };

type Database = InstanceType<typeof sqlite3.Database>;

/** Options of the synchronous engine. */
export interface SqliteEngineOptions {
  readonly path: string;
  /** Raw chunk interval for new chunks. @default 86_400_000 */
  readonly chunkMs?: number;
  /** How long to wait for a lock held by another process. @default 10_000 */
  readonly busyTimeoutMs?: number;
  /** Mode of created files. @default 0o640 */
  readonly fileMode?: number;
  /** Grace before a dead owner's lock directory is removed. @default 1500 */
  readonly staleLockGraceMs?: number;
  /** Time of the open, for created_at of migrations. */
  readonly nowMs: number;
  /** Run PRAGMA quick_check at this open even after a clean shutdown. @default false (only after a crash) */
  readonly checkAtOpen?: boolean;
  /**
   * Keep the dotfile lock this long after each transaction (sqlite-lock-linger.ts). Only
   * for the one engine of a thread that no other code of the thread shares the file with
   * (sqlite-worker.ts): it wraps the thread's `fs.mkdirSync`/`fs.rmdirSync`. @default none
   */
  readonly lockLinger?: LockLingerOptions;
  /** When the raw-sample head is folded into the chunk tables (sqlite-head.ts). */
  readonly head?: HeadOptions;
  /**
   * Record ticks go to the tick log (sqlite-tick-log.ts) and are committed together at
   * most this often, ms; 0 commits each write at once. Only for an owner that lets the
   * engine commit them before other operations (commitPendingFirst in sqlite-worker.ts).
   * @default 0
   */
  readonly commitIntervalMs?: number;
}

interface CatalogTable {
  readonly kind: TableKind;
  chunkMs: number;
  /** Chunks sorted by start. */
  chunks: ChunkInfo[];
}

/** Rows per multi-row INSERT in writeSamples (3 parameters each; well under SQLite's limits). */
const ROWS_PER_INSERT = 100;

/**
 * Prepared statements kept (sqlite-statements.ts): the fixed ones and the reads of a few
 * series that rules and dashboards repeat, whose SQL names a chunk and a number of ids.
 */
const STATEMENTS_KEPT = 128;

/** How far before an hour metrics_hourly looks for a series' previous sample (the hour's first delta). */
const PREDECESSOR_SEARCH_MS = 7 * 86_400_000;
const MULTI_VALUES = Array.from({ length: ROWS_PER_INSERT }, () => '(?, ?, ?)').join(', ');

/**
 * Parameters of packed `[seriesId, timeMs, value]` triples: NaN binds as NULL (SQLite
 * stores it so), a stale marker as a zero-length BLOB, so that the two stay apart.
 */
function bindTriples(p: Float64Array): (number | Uint8Array)[] {
  const out: (number | Uint8Array)[] = Array.from(p);
  for (let k = 2; k < p.length; k += 3) if (isStaleNaN(p[k]!)) out[k] = SQLITE_STALE_BLOB;
  return out;
}

const BUSY = /database is locked|SQLITE_BUSY|database table is locked/i;
/** An I/O failure or a full disk (SQLITE_IOERR, SQLITE_FULL): the connection may have left a hot journal behind. */
const IO_FAILURE = /disk I\/O error|database or disk is full|SQLITE_IOERR|SQLITE_FULL/i;
/** Below this many free bytes, an I/O error on write is reported as a full filesystem. */
const FULL_BELOW_BYTES = 16 * 1024 * 1024;

/** Thrown by every write to a store that failed its integrity check at open. */
export class StoreDamagedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreDamagedError';
  }
}

/** A write that failed because the filesystem holding the store is full. */
export class StoreDiskFullError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreDiskFullError';
  }
}

/** The synchronous SQLite engine. */
export class SqliteEngine {
  readonly dialect = 'sqlite' as const;
  readonly path: string;
  schemaVersion = 0;
  private db: Database;
  private readonly release: () => void;
  /** Why this store must not be written (it failed PRAGMA quick_check at open), or undefined. */
  readonly damage: string | undefined;
  /** The hot journal rolled back at open, if there was one. */
  readonly recovered: JournalRollback | undefined;
  /** Set by an I/O failure: reconnect (rolling back what the failed connection left) before the next operation. */
  private needsReconnect = false;
  private readonly busyTimeoutMs: number;
  private readonly fileMode: number;
  /** Prepared statements by SQL (sqlite-statements.ts); `this.db` is read at each prepare, so a reconnect's new connection is used. */
  private readonly statements = new StatementCache((sql) => this.db.prepare(sql), STATEMENTS_KEPT);
  private readonly catalog = new Map<string, CatalogTable>();
  private readonly seriesIds = new Map<string, number>();
  private readonly knownIds = new Set<number>();
  private depth = 0;
  private closed = false;
  /** The dotfile lock kept between transactions, where the owner asked for it (the worker does). */
  private linger: LockLinger | undefined;
  /** The raw-sample head (sqlite-head.ts). */
  private readonly head: SampleHead;
  /** Whether the schema has the head tables (a damaged store of an older version does not). */
  private hasHead = false;

  constructor(opts: SqliteEngineOptions) {
    this.path = opts.path;
    this.busyTimeoutMs = opts.busyTimeoutMs ?? 10_000;
    this.fileMode = opts.fileMode ?? 0o640;
    const chunkMs = opts.chunkMs ?? 86_400_000;
    checkChunkMs(chunkMs, 'chunkMs');
    this.commitIntervalMs = opts.commitIntervalMs ?? 0;
    if (!(this.commitIntervalMs >= 0 && this.commitIntervalMs <= 3_600_000)) throw new RangeError(`commitIntervalMs: expected 0 to 3,600,000 ms, got ${this.commitIntervalMs}`);
    this.head = new SampleHead(
      {
        all: (sql, params = []) => this.stmt(sql).all(bindable(params as SqlValue[])) as Record<string, unknown>[],
        run: (sql, params = []) => void this.stmt(sql).run(params as sqlite3.BindValues),
        transaction: (fn) => this.transaction(fn),
        chunks: (fromMs, toMs) => this.overlapping('samples', fromMs, toMs),
      },
      opts.head,
    );
    const ownership = acquireOwnership(this.path, opts.staleLockGraceMs);
    this.release = ownership.release;
    try {
      try {
        createWithMode(this.path, this.fileMode);
      } catch (e) {
        throw unwritable(this.path, e);
      }
      // A killed writer's journal is rolled back before SQLite reads a page (see sqlite-journal.ts).
      this.recovered = withDotfileLock(this.path, this.busyTimeoutMs, () => rollbackJournal(this.path));
      this.db = new sqlite3.Database(this.path);
      if (opts.lockLinger !== undefined) this.linger = lingerLock(this.path, opts.lockLinger);
    } catch (e) {
      this.release();
      if (e instanceof Error && /^(cannot open|SQLite store)/.test(e.message)) throw e;
      throw new Error(`cannot open SQLite store ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      this.pragmas();
      // After a crash only: quick_check reads every page (6-10 s for 80 MB in this wasm
      // build on a loaded machine), too slow for every start of a large store.
      this.damage = ownership.uncleanShutdown || this.recovered !== undefined || opts.checkAtOpen === true ? this.quickCheck() : undefined;
      if (this.damage !== undefined) {
        // Read what can be read; write nothing (not even a migration).
        this.db.exec('PRAGMA query_only = ON');
        try {
          this.schemaVersion = Number(this.db.get('SELECT MAX(version) AS v FROM schema_migrations')?.['v'] ?? 0);
          this.hasHead = this.schemaVersion >= HEAD_SCHEMA_VERSION;
          this.loadCatalog();
        } catch {
          /* too damaged to list its tables: reads fail too */
        }
      } else {
        this.migrate(opts.nowMs);
        this.hasHead = true;
        this.loadCatalog();
        this.head.load();
        this.ensureSamplesView();
        this.withBusyRetry(() => this.db.run("UPDATE chunk_tables SET chunk_ms = ? WHERE logical = 'samples'", [chunkMs]));
        this.catalog.get('samples')!.chunkMs = chunkMs;
        chmodSync(this.path, this.fileMode);
        this.openTickLog(this.commitIntervalMs, opts.nowMs);
      }
    } catch (e) {
      this.db.close();
      this.linger?.uninstall();
      this.release();
      throw e;
    }
  }

  /**
   * PRAGMA quick_check (structure, not index contents; integrity_check takes much
   * longer). The problem found, or undefined when ok.
   */
  private quickCheck(): string | undefined {
    let rows: string[];
    try {
      rows = this.withBusyRetry(() => this.db.all('PRAGMA quick_check(5)')).map((r) => String(Object.values(r)[0]));
    } catch (e) {
      if (BUSY.test((e as Error).message)) throw e; // locked by a reader, not damaged
      rows = [(e as Error).message];
    }
    if (rows.length === 1 && rows[0] === 'ok') return undefined;
    return (
      `SQLite store ${this.path} is damaged (PRAGMA quick_check: ${rows.join('; ').slice(0, 300)}): Larder will not write to it. ` +
      `Stop Larder, keep a copy of the file, then either restore a backup to ${this.path} or salvage it with ` +
      `sqlite3 '${this.path}' .recover | sqlite3 recovered.db and move recovered.db into its place; then start Larder again`
    );
  }

  /** Throws StoreDamagedError when the store failed its check at open. */
  assertWritable(): void {
    if (this.damage !== undefined) throw new StoreDamagedError(this.damage);
  }

  /**
   * Turns a failed operation's error into one that says what happened, and after an
   * I/O failure (a full disk, typically) schedules a reconnect: SQLite may have left
   * the journal of the failed transaction behind, which its own locking would never
   * roll back (see sqlite-journal.ts).
   */
  explainError(e: unknown): unknown {
    // ENOSPC: the tick log's append (sqlite-tick-log.ts) on a full disk.
    if (!(e instanceof Error) || !(IO_FAILURE.test(e.message) || (e as NodeJS.ErrnoException).code === 'ENOSPC')) return e;
    this.needsReconnect = true;
    const dir = dirname(resolve(this.path));
    let free: number | undefined;
    try {
      const fs = statfsSync(dir);
      free = fs.bavail * fs.bsize;
    } catch {
      /* unknown */
    }
    try {
      this.reconnectIfNeeded();
    } catch {
      /* retried before the next operation */
    }
    if (/disk is full|SQLITE_FULL|ENOSPC/i.test(e.message) || (free !== undefined && free < FULL_BELOW_BYTES)) {
      return new StoreDiskFullError(
        `SQLite store ${this.path}: the filesystem holding it is full (${free ?? 'unknown'} bytes free in ${dir}); this write was not stored ` +
          `and the store is unchanged; recording resumes by itself once space is freed`,
        { cause: e },
      );
    }
    return new Error(`SQLite store ${this.path}: ${e.message} (reading or writing the file or its journal failed)`, { cause: e });
  }

  /**
   * After an I/O failure, outside any transaction: closes the connection, rolls back
   * the journal it may have left (under the lock, as at open) and opens again.
   */
  reconnectIfNeeded(): void {
    if (!this.needsReconnect || this.depth > 0 || this.closed) return;
    try {
      this.statements.clear();
    } catch {
      /* the connection is being replaced */
    }
    try {
      this.db.close();
    } catch {
      /* closing a connection in error state may report the error again */
    }
    // The journal is never deleted unless its pages are back (rollbackJournal throws first).
    withDotfileLock(this.path, this.busyTimeoutMs, () => rollbackJournal(this.path));
    this.db = new sqlite3.Database(this.path);
    this.pragmas();
    if (this.damage !== undefined) this.db.exec('PRAGMA query_only = ON');
    this.loadCatalog();
    if (this.damage === undefined) this.head.load();
    this.readCache?.clear();
    this.readCacheVersion = Number.NaN;
    this.needsReconnect = false;
  }

  private pragmas(): void {
    // DELETE journal on purpose: WAL needs shared memory this VFS lacks, and with
    // locking_mode=EXCLUSIVE it would lock every reader (Grafana, sqlite3) out.
    this.db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`);
    this.withBusyRetry(() => this.db.exec('PRAGMA journal_mode = DELETE'));
    // NORMAL: a crash loses no committed transaction in rollback-journal mode on
    // a sane file system; FULL would add an fsync per commit for power loss only.
    this.db.exec('PRAGMA synchronous = NORMAL');
    // 4 MB: a record batch touches one leaf per series of the current chunk (~2 MB
    // for 450 series), and the wasm heap the cache lives in never shrinks, so a
    // 16 MB cache grew an idle Larder's RSS by up to 16 MB once the chunk outgrew it.
    this.db.exec('PRAGMA cache_size = -4000');
    this.db.exec('PRAGMA foreign_keys = ON');
    this.db.exec('PRAGMA temp_store = MEMORY');
  }

  /**
   * Runs `fn`, retrying while another process (a dotfile reader) holds the lock.
   * busy_timeout covers most waits; this covers BEGIN/COMMIT races it does not.
   */
  private withBusyRetry<T>(fn: () => T): T {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (;;) {
      try {
        return fn();
      } catch (e) {
        if (!BUSY.test((e as Error).message) || Date.now() > deadline) throw e;
        sleepSync(5);
      }
    }
  }

  // ---- migrations -----------------------------------------------------------

  private migrate(nowMs: number): void {
    const known = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version;
    const has = this.db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    let current = 0;
    if (has !== null) {
      const row = this.db.get('SELECT MAX(version) AS v FROM schema_migrations');
      current = Number(row?.['v'] ?? 0);
    }
    if (current > known) throw new NewerSchemaError(this.path, current, known);
    for (const m of SQLITE_MIGRATIONS) {
      if (m.version <= current) continue;
      this.applyMigration(m, nowMs);
    }
    this.schemaVersion = known;
  }

  private applyMigration(m: Migration, nowMs: number): void {
    this.transaction(() => {
      this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
      // Re-check inside the write lock: another opener may have just applied it.
      const done = this.db.get('SELECT 1 AS x FROM schema_migrations WHERE version = ?', [m.version]);
      if (done !== null) return;
      this.db.exec(m.sql);
      this.db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, nowMs]);
    });
  }

  // ---- transactions and statements ------------------------------------------------

  /** Runs `fn` in a transaction (a savepoint when one is already open). */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) {
      const sp = `sp${this.depth}`;
      this.db.exec(`SAVEPOINT ${sp}`);
      this.depth++;
      try {
        const r = fn();
        this.db.exec(`RELEASE ${sp}`);
        return r;
      } catch (e) {
        this.db.exec(`ROLLBACK TO ${sp}`);
        this.db.exec(`RELEASE ${sp}`);
        throw e;
      } finally {
        this.depth--;
      }
    }
    this.begin();
    try {
      const r = fn();
      this.commit();
      return r;
    } catch (e) {
      this.rollback();
      throw e;
    }
  }

  /** Opens the outer transaction of an interactive (main-thread) transaction. */
  begin(): void {
    if (this.depth > 0) throw new Error('a transaction is already open');
    this.withBusyRetry(() => this.db.exec('BEGIN IMMEDIATE'));
    this.depth = 1;
  }

  /** Commits the outer transaction, waiting out readers that hold the lock. */
  commit(): void {
    if (this.depth !== 1) throw new Error('no transaction to commit');
    this.withBusyRetry(() => this.db.exec('COMMIT'));
    this.depth = 0;
  }

  /** Rolls the outer transaction back (no-op when none is open). */
  rollback(): void {
    if (this.depth === 0) return;
    this.depth = 0;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  /** A prepared statement, reused until close (or until its chunk is dropped, or it is the least recently used of STATEMENTS_KEPT). */
  private stmt(sql: string): Statement {
    return this.statements.get(sql);
  }

  /** Rows of arbitrary SQL (the rollups' executor). */
  query(sql: string, params: readonly SqlValue[] = []): Row[] {
    return this.withBusyRetry(() => this.db.all(sql, bindable(params))) as Row[];
  }

  /** Runs arbitrary SQL; the number of rows changed. */
  execute(sql: string, params: readonly SqlValue[] = []): { changes: number } {
    if (params.length === 0 && /;\s*\S/.test(sql)) {
      // Several statements: exec runs them all (no parameters possible).
      const before = this.totalChanges();
      this.withBusyRetry(() => this.db.exec(sql));
      return { changes: this.totalChanges() - before };
    }
    const r = this.withBusyRetry(() => this.db.run(sql, bindable(params)));
    return { changes: r.changes };
  }

  /** Task modules by URL, loaded once. */
  private readonly tasks = new Map<string, SqliteTask>();

  /**
   * Runs a task module's default export against this database (see sqlite-task.ts),
   * in a transaction (a savepoint inside an open one): a task writes all or nothing.
   */
  async runTask(moduleUrl: string, input: unknown): Promise<unknown> {
    let task = this.tasks.get(moduleUrl);
    if (task === undefined) {
      if (!/^file:/.test(moduleUrl)) throw new TypeError(`runTask: a task is a local module (file: URL), got ${JSON.stringify(moduleUrl)}`);
      const mod = (await import(moduleUrl)) as { default?: unknown };
      if (typeof mod.default !== 'function') throw new TypeError(`runTask: ${moduleUrl} has no default-exported function`);
      task = mod.default as SqliteTask;
      this.tasks.set(moduleUrl, task);
    }
    const db = this.db;
    const ctx: SqliteTaskContext = {
      query: (sql, params) => this.query(sql, params),
      execute: (sql, params) => this.execute(sql, params),
      scanNumbers: (sql, params, each) => scanNumbers(db, sql, params, each),
      insertNumbers: (table, columns, rows) => insertNumbers(db, table, columns, rows),
    };
    const run = task;
    return this.transaction(() => run(ctx, input));
  }

  private totalChanges(): number {
    return Number(this.db.get('SELECT total_changes() AS n')?.['n'] ?? 0);
  }

  // ---- chunks -----------------------------------------------------------------

  private loadCatalog(): void {
    this.catalog.clear();
    for (const r of this.db.all('SELECT logical, kind, chunk_ms FROM chunk_tables')) {
      this.catalog.set(String(r['logical']), { kind: r['kind'] as TableKind, chunkMs: Number(r['chunk_ms']), chunks: [] });
    }
    for (const r of this.db.all('SELECT logical, name, start_ts, end_ts FROM chunks ORDER BY logical, start_ts')) {
      const t = this.catalog.get(String(r['logical']));
      t?.chunks.push({ table: String(r['logical']), name: String(r['name']), startMs: Number(r['start_ts']), endMs: Number(r['end_ts']) });
    }
  }

  private table(logical: string, where: string): CatalogTable {
    checkLogicalTable(logical, where);
    const t = this.catalog.get(logical);
    if (t === undefined) throw new Error(`${where}: unknown table ${logical}: expected samples or a rollup tier table created by ensureRollupTier`);
    return t;
  }

  /** Registers a rollup tier's two logical tables (idempotent). */
  ensureRollupTier(tier: string, chunkMs: number): void {
    checkTier(tier, 'ensureRollupTier');
    checkChunkMs(chunkMs, `ensureRollupTier(${tier})`);
    const { rollup, quantiles } = tierTables(tier);
    this.transaction(() => {
      for (const [logical, kind] of [[rollup, 'rollup'], [quantiles, 'quantiles']] as const) {
        const t = this.catalog.get(logical);
        if (t !== undefined) {
          if (t.chunkMs !== chunkMs) {
            this.db.run('UPDATE chunk_tables SET chunk_ms = ? WHERE logical = ?', [chunkMs, logical]);
            t.chunkMs = chunkMs;
          }
          continue;
        }
        this.db.run('INSERT INTO chunk_tables (logical, kind, chunk_ms) VALUES (?, ?, ?)', [logical, kind, chunkMs]);
        this.catalog.set(logical, { kind, chunkMs, chunks: [] });
        for (const s of allViewDdl(logical, kind, [])) this.db.exec(s);
      }
    });
  }

  /** The chunk of `logical` holding `timeMs`, or undefined. Binary search. */
  private findChunk(t: CatalogTable, timeMs: number): ChunkInfo | undefined {
    const cs = t.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = cs[mid]!;
      if (timeMs < c.startMs) hi = mid - 1;
      else if (timeMs >= c.endMs) lo = mid + 1;
      else return c;
    }
    return undefined;
  }

  /** The chunk holding `timeMs`, created (with its view refreshed) when missing. */
  ensureChunk(logical: string, timeMs: number, nowMs: number): ChunkInfo {
    const t = this.table(logical, 'ensureChunk');
    checkTimeMs(timeMs, 'ensureChunk');
    const found = this.findChunk(t, timeMs);
    if (found !== undefined) return found;
    let { startMs, endMs } = chunkRange(timeMs, t.chunkMs);
    // After an interval change, clip so that chunks never overlap.
    for (const c of t.chunks) {
      if (c.endMs <= timeMs && c.endMs > startMs) startMs = c.endMs;
      if (c.startMs > timeMs && c.startMs < endMs) endMs = c.startMs;
    }
    const chunk: ChunkInfo = { table: logical, name: chunkName(logical, startMs), startMs, endMs };
    this.transaction(() => {
      this.db.exec(chunkTableDdl(chunk.name, t.kind));
      this.db.run('INSERT INTO chunks (name, logical, start_ts, end_ts, created_at) VALUES (?, ?, ?, ?, ?)', [chunk.name, logical, startMs, endMs, nowMs]);
      const next = [...t.chunks, chunk].sort((a, b) => a.startMs - b.startMs);
      this.refreshView(logical, t.kind, next);
      t.chunks = next;
    });
    return chunk;
  }

  /**
   * Rebuilds `samples_all` when its SQL is not what the chunks call for: after migration 5
   * (which left a placeholder, as SQL alone cannot list the chunks), or a crash right after it.
   */
  private ensureSamplesView(): void {
    const chunks = this.catalog.get('samples')!.chunks;
    const want = allViewDdl('samples', 'samples', chunks.map((c) => c.name))[1]!;
    const have = this.db.get("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'samples_all'")?.['sql'];
    if (have !== want) this.withBusyRetry(() => this.transaction(() => this.refreshView('samples', 'samples', chunks)));
  }

  private refreshView(logical: string, kind: TableKind, chunks: readonly ChunkInfo[]): void {
    for (const s of allViewDdl(logical, kind, chunks.map((c) => c.name))) this.db.exec(s);
  }

  /** Chunks of one logical table, or all, oldest first. */
  listChunks(logical?: string): ChunkInfo[] {
    if (logical !== undefined) return [...this.table(logical, 'listChunks').chunks];
    return [...this.catalog.values()].flatMap((t) => t.chunks).sort(compareChunks);
  }

  /** Drops the chunks of `logical` that end at or before `cutoffMs`. */
  dropChunksBefore(logical: string, cutoffMs: number): ChunkInfo[] {
    const t = this.table(logical, 'dropChunksBefore');
    if (typeof cutoffMs !== 'number' || !Number.isFinite(cutoffMs)) throw new RangeError(`dropChunksBefore: invalid cutoff ${String(cutoffMs)}`);
    const gone = t.chunks.filter((c) => c.endMs <= cutoffMs);
    if (gone.length > 0) this.dropChunks(logical, t, gone);
    return gone;
  }

  /** Drops one chunk by name. */
  dropChunk(logical: string, name: string): void {
    const t = this.table(logical, 'dropChunk');
    const c = t.chunks.find((x) => x.name === name);
    if (c === undefined) throw new Error(`dropChunk: ${logical} has no chunk ${JSON.stringify(name)}`);
    this.dropChunks(logical, t, [c]);
  }

  private dropChunks(logical: string, t: CatalogTable, gone: readonly ChunkInfo[]): void {
    const names = new Set(gone.map((c) => c.name));
    const keep = t.chunks.filter((c) => !names.has(c.name));
    for (const c of gone) this.statements.forget(ident(c.name));
    this.transaction(() => {
      this.refreshView(logical, t.kind, keep);
      for (const c of gone) {
        this.db.exec(`DROP TABLE IF EXISTS ${ident(c.name)}`);
        this.db.run('DELETE FROM chunks WHERE name = ?', [c.name]);
        if (logical === 'samples' && this.hasHead) this.head.dropRange(c);
      }
    });
    t.chunks = keep;
  }

  /** Chunks of `logical` overlapping `[fromMs, toMs)`. */
  private overlapping(logical: string, fromMs: number, toMs: number): ChunkInfo[] {
    return (this.catalog.get(logical)?.chunks ?? []).filter((c) => c.endMs > fromMs && c.startMs < toMs);
  }

  /** Bytes of one chunk (WITHOUT ROWID: the table is its own index). */
  chunkBytes(logical: string, name: string): number {
    const t = this.table(logical, 'chunkBytes');
    if (!t.chunks.some((c) => c.name === name)) throw new Error(`chunkBytes: ${logical} has no chunk ${JSON.stringify(name)}`);
    return Number(this.db.get('SELECT COALESCE(SUM(pgsize), 0) AS b FROM dbstat WHERE name = ?', [name])?.['b'] ?? 0);
  }

  /** Size of the database file in bytes (page count × page size). */
  sizeBytes(): number {
    const pc = Number(this.db.get('PRAGMA page_count')?.['page_count'] ?? 0);
    const ps = Number(this.db.get('PRAGMA page_size')?.['page_size'] ?? 0);
    return pc * ps;
  }

  // ---- series -------------------------------------------------------------------

  /** Ids of the series, created when missing. */
  resolveSeries(defs: readonly SeriesDef[], nowMs: number): number[] {
    const keys = keySeriesDefs(defs);
    const missing = keys.filter((k) => !this.seriesIds.has(k.fp));
    if (missing.length > 0) {
      this.transaction(() => {
        const ins = this.stmt('INSERT INTO series (name, labels, fingerprint, type, help, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING');
        const sel = this.stmt('SELECT id FROM series WHERE fingerprint = ?');
        for (const k of missing) {
          if (this.seriesIds.has(k.fp)) continue;
          ins.run([k.def.name, k.labels, k.fp, k.def.type, k.def.help ?? '', nowMs]);
          const id = Number(first(sel, [k.fp])!['id']);
          this.seriesIds.set(k.fp, id);
          this.knownIds.add(id);
        }
      });
    }
    return keys.map((k) => this.seriesIds.get(k.fp)!);
  }

  /** Series rows, all or by id (unknown ids are left out). */
  listSeries(ids?: readonly number[]): SeriesInfo[] {
    return this.readTransaction(() => readSeries(this.reads, ids));
  }

  /** scanNumbers on this connection, through the statement cache (the engine's reads). */
  private readonly scan: ScanNumbers = (sql, params, each) => scanNumbers(this.db, sql, params, each, this.statements);
  /** The shared reads (sqlite-read.ts) through the statement cache. */
  private readonly reads: ReadDb = { all: (sql, params) => this.stmt(sql).all(params as sqlite3.BindValues) };

  /** Throws unless every series id of a packed batch exists. */
  private checkSeriesIds(p: Float64Array): void {
    const unknown = new Set<number>();
    for (let i = 0; i < p.length; i += 3) if (!this.knownIds.has(p[i]!)) unknown.add(p[i]!);
    if (unknown.size === 0) return;
    const sel = this.stmt('SELECT 1 AS x FROM series WHERE id = ?');
    for (const id of unknown) {
      if (first(sel, [id]) === undefined) throw new Error(`writeSamples: unknown series id ${id}: create series with resolveSeries first`);
      this.knownIds.add(id);
    }
  }

  // ---- samples ------------------------------------------------------------------

  /** Writes samples in one transaction; the number written. */
  writeSamples(samples: readonly Sample[], nowMs: number): number {
    if (!Array.isArray(samples)) throw new TypeError('writeSamples: expected an array of samples');
    checkSamples(samples);
    return this.writePacked(packSamples(samples), nowMs);
  }

  /**
   * Writes a checked batch packed as `[seriesId, timeMs, value]` triples (what the
   * main thread transfers, instead of cloning thousands of objects). With a tick log
   * (`commitIntervalMs`), a record tick newer than everything stored is appended to the
   * log and committed with the ticks after it (deferTick); anything else is committed
   * now, together with the ticks pending before it.
   */
  writePacked(p: Float64Array, nowMs: number): number {
    const n = p.length / 3;
    if (!Number.isInteger(n)) throw new TypeError('writeSamples: packed batch length is not a multiple of 3');
    if (n === 0) return 0;
    this.checkSeriesIds(p);
    const chunkOf = this.chunksOf(p, nowMs);
    if (this.deferTick(p, chunkOf)) return n;
    if (this.pending.size === 0) this.writeRows(p, chunkOf, false);
    else this.commitPending(p, nowMs);
    return n;
  }

  /** The chunk of each sample, created where missing (each in its own tiny transaction, before the data's). */
  private chunksOf(p: Float64Array, nowMs: number): ChunkInfo[] {
    const samplesTable = this.catalog.get('samples')!;
    let last: ChunkInfo | undefined;
    const n = p.length / 3;
    const chunkOf: ChunkInfo[] = new Array<ChunkInfo>(n);
    for (let i = 0; i < n; i++) {
      const t = p[i * 3 + 1]!;
      if (last === undefined || t < last.startMs || t >= last.endMs) {
        last = this.findChunk(samplesTable, t) ?? this.ensureChunk('samples', t, nowMs);
      }
      chunkOf[i] = last;
    }
    return chunkOf;
  }

  /** One transaction writing a batch to the head or its chunks (`ticks`: the tick log's, see SampleHead.write). */
  private writeRows(p: Float64Array, chunkOf: readonly ChunkInfo[], ticks: boolean): void {
    const cache = this.readCache;
    if (cache !== undefined) {
      let last: ChunkInfo | undefined;
      for (const c of chunkOf) if (c !== last) cache.dropChunk((last = c).name);
    }
    this.transaction(() => {
      // To the end of the head, ROWS_PER_INSERT rows per multi-row statement (fewer
      // step/reset calls into wasm); a rewrite or late sample to its chunk (sqlite-head.ts).
      // Rows apply in order, so the last duplicate wins.
      const toChunks = this.head.write(p, chunkOf, bindTriples, ROWS_PER_INSERT, MULTI_VALUES, ticks);
      // series_latest of those only: latest_metrics takes the head's newest from the head.
      const latest = new Map<number, number>(); // series id -> index of its newest sample
      for (const i of toChunks) {
        if (isStaleNaN(p[i * 3 + 2]!)) continue; // a stale marker is no latest value
        const id = p[i * 3]!;
        const l = latest.get(id);
        if (l === undefined || p[i * 3 + 1]! >= p[l * 3 + 1]!) latest.set(id, i);
      }
      const up = this.stmt(
        `INSERT INTO series_latest (series_id, ts, value) VALUES (?, ?, ?) ${LATEST_UPSERT}`,
      );
      for (const j of latest.values()) up.run([p[j * 3]!, p[j * 3 + 1]!, p[j * 3 + 2]!]);
    });
  }

  // ---- the tick log (sqlite-tick-log.ts, sqlite-pending.ts) --------------------------

  /** The log of ticks not yet committed; undefined without `commitIntervalMs`. */
  private tickLog: TickLog | undefined;
  private readonly pending = new PendingTicks();
  private readonly commitIntervalMs: number;

  /**
   * Appends `p` to the tick log instead of committing it, when that keeps every read
   * exact: each sample newer than anything stored or pending (a read adds the pending
   * samples after the stored ones), each series' samples in time order, the head to take
   * it, and the pending ticks not yet due. Whether it did.
   */
  private deferTick(p: Float64Array, chunkOf: readonly ChunkInfo[]): boolean {
    const log = this.tickLog;
    if (log === undefined || this.depth > 0 || this.damage !== undefined || this.needsReconnect) return false;
    if (this.pending.ageMs(performance.now()) >= this.commitIntervalMs || !encodable(p)) return false;
    const floor = Math.max(this.pending.newestMs, this.head.appendFloor(p, chunkOf, this.pending.size));
    const seen = new Map<number, number>();
    for (let i = 0; i < p.length; i += 3) {
      const t = p[i + 1]!;
      if (!(t > floor) || (seen.get(p[i]!) ?? Number.NEGATIVE_INFINITY) >= t) return false;
      seen.set(p[i]!, t);
    }
    log.append(p);
    this.pending.add(p, performance.now());
    return true;
  }

  /** Samples appended to the tick log and not yet committed. */
  get pendingSamples(): number {
    return this.pending.size;
  }

  /** Milliseconds until the pending ticks are due to be committed; undefined when none are pending. */
  commitDueInMs(): number | undefined {
    if (this.pending.size === 0) return undefined;
    return Math.max(0, this.commitIntervalMs - this.pending.ageMs(performance.now()));
  }

  /**
   * Commits the pending ticks, and `then` after them, in one transaction, then empties
   * the log. On failure both stay pending (the log still holds the ticks) and it throws.
   */
  commitPending(then?: Float64Array, nowMs = Date.now()): void {
    if (this.pending.size === 0 && then === undefined) return;
    this.assertWritable();
    const ticks = this.pending.packed();
    const tickChunks = this.chunksOf(ticks, nowMs);
    const thenChunks = then === undefined ? [] : this.chunksOf(then, nowMs);
    // The ticks take the head's append path (as checked when deferred); a batch after them
    // is checked as every write is.
    this.transaction(() => {
      if (ticks.length > 0) this.writeRows(ticks, tickChunks, true);
      if (then !== undefined) this.writeRows(then, thenChunks, false);
    });
    this.pending.clear();
    this.tickLog?.clear();
  }

  /**
   * Opens the tick log (when `intervalMs` > 0, or to replay one a previous run left) and
   * commits what a previous run left in it: each record was acknowledged, and writing it
   * again is harmless if it was committed before the log was emptied.
   */
  private openTickLog(intervalMs: number, nowMs: number): void {
    const path = tickLogPath(this.path);
    if (intervalMs <= 0 && !existsSync(path)) return;
    const log = new TickLog(path, this.fileMode);
    try {
      if (log.found.length > 0) {
        const batches = log.found.map((b) => this.knownSeriesOnly(b)).filter((b) => b.length > 0);
        for (const b of batches) this.writeRows(b, this.chunksOf(b, nowMs), false);
        log.clear();
      }
    } catch (e) {
      log.close();
      throw e;
    }
    if (intervalMs > 0) this.tickLog = log;
    else log.close();
  }

  /** `p` without the samples of series the store does not hold (deleted since they were logged). */
  private knownSeriesOnly(p: Float64Array): Float64Array {
    const keep: number[] = [];
    const sel = this.stmt('SELECT 1 AS x FROM series WHERE id = ?');
    for (let i = 0; i < p.length; i += 3) {
      const id = p[i]!;
      if (this.knownIds.has(id) || first(sel, [id]) !== undefined) {
        this.knownIds.add(id);
        keep.push(i);
      }
    }
    if (keep.length * 3 === p.length) return p;
    const out = new Float64Array(keep.length * 3);
    keep.forEach((i, k) => out.set(p.subarray(i, i + 3), k * 3));
    return out;
  }

  /**
   * One step of the raw-sample head's upkeep in its own transaction (sqlite-head.ts):
   * rotates the appending head out when it is due, or folds the next series range into
   * the chunk tables. Whether steps are left. The worker runs it after each write.
   */
  maintainHead(): boolean {
    if (this.damage !== undefined || this.depth > 0) return false;
    return this.head.maintain();
  }

  /** Folds both heads into the chunk tables entirely (tests, benchmarks). */
  foldHead(): void {
    this.assertWritable();
    this.head.foldAll();
  }

  /** readSamples with the samples as columns (transferred to the main thread, not cloned). */
  readPacked(q: ReadQuery): PackedReadResult {
    checkReadQuery(q);
    const r = this.readTransaction(() => this.readPackedIn(q));
    return { ...r, series: [...r.series] };
  }

  /** One read's samples packed, read in one statement per chunk (sqlite-read-packed.ts). */
  private readPackedIn(q: ReadQuery): PackedReadResult {
    const r = readPackedFrom(this.scan, this.reads, q, this.overlapping('samples', q.fromMs, q.toMs), this.freshReadCache(), this.hasHead);
    return this.pending.mergeInto(r, q.fromMs, q.toMs, q.limit);
  }

  /** Decoded raw chunks kept between reads (sqlite-read-cache.ts); none until enableReadCache. */
  private readCache: RawChunkCache | undefined;
  private readCacheVersion = Number.NaN;

  /**
   * Keeps up to `maxBytes` of decoded raw chunks between reads. Only for an owner that
   * tells the engine of every operation first (noteOperation), as sqlite-worker.ts does.
   */
  enableReadCache(maxBytes: number): void {
    this.readCache = maxBytes > 0 ? new RawChunkCache(maxBytes) : undefined;
  }

  /**
   * Before operation `op`: drops the cached chunks it may change (writePacked's chunks
   * only; everything for any other write). `writes` is false for operations that only read.
   */
  noteOperation(op: string, writes: boolean): void {
    const cache = this.readCache;
    // writePacked drops the chunks it commits to itself (writeRows); a tick it only logs changes no chunk.
    if (cache === undefined || !writes || op === 'writePacked') return;
    cache.clear();
  }

  /** The read cache, emptied first if another connection committed since the last read. */
  private freshReadCache(): RawChunkCache | undefined {
    const cache = this.readCache;
    if (cache === undefined) return undefined;
    const v = Number(this.db.get('PRAGMA data_version')?.['data_version']);
    if (v !== this.readCacheVersion) {
      cache.clear();
      this.readCacheVersion = v;
    }
    return cache;
  }

  /** Several reads in one read transaction, each answered as readPacked answers one. */
  readPackedMany(qs: readonly ReadQuery[]): PackedReadResult[] {
    if (!Array.isArray(qs)) throw new TypeError('readSamplesMany: expected an array of reads');
    for (const q of qs) checkReadQuery(q);
    return this.readTransaction(() => qs.map((q) => this.readPackedIn(q))).map((r) => ({ ...r, series: [...r.series] }));
  }

  /**
   * Rows of a rollup tier as packed columns, read with scanNumbers (no row objects, no
   * BigInt per INTEGER), in one read transaction across the chunks the range overlaps.
   */
  readTierRows(query: TierRowsQuery): TierRows {
    const q = checkTierRowsQuery(query);
    const logical = tierTables(q.tier).rollup;
    this.table(logical, 'readTierRows');
    if (q.seriesIds.length === 0) return new TierRowsBuilder(q.columns).finish();
    return this.readTransaction(() => this.readTierRowsIn(q));
  }

  private readTierRowsIn(q: CheckedTierRowsQuery): TierRows {
    const b = new TierRowsBuilder(q.columns);
    if (q.seriesIds.length === 0) return b.finish();
    for (const c of this.overlapping(tierTables(q.tier).rollup, q.fromMs, q.toMs)) {
      for (const st of sqliteTierStatements(c.name, q)) this.scan(st.sql, st.params, (row) => b.pushScanned(row));
    }
    return b.finish();
  }

  /** A raw read and the tier rows of the series it lists, in one read transaction (Store.readTiered). */
  readTiered(query: TieredReadQuery): TieredReadResult {
    if (query === null || typeof query !== 'object') throw new TypeError('readTiered: expected {raw, tier}');
    checkReadQuery(query.raw);
    // Checked with no ids first: a bad tier or column is refused before anything is read.
    checkTierRowsQuery({ ...query.tier, seriesIds: [] });
    this.table(tierTables(query.tier.tier).rollup, 'readTiered');
    return this.readTransaction(() => {
      const raw = this.readPackedIn(query.raw);
      const tier = this.readTierRowsIn(checkTierRowsQuery({ ...query.tier, seriesIds: raw.series.map((s) => s.id) }));
      return { raw: { ...raw, series: [...raw.series] }, tier };
    });
  }

  /** Raw samples of the matching series in `[fromMs, toMs)`. */
  readSamples(q: ReadQuery): ReadResult {
    checkReadQuery(q);
    return this.readTransaction(() => this.readSamplesIn(q));
  }

  /**
   * Runs the reads of `fn` in one deferred transaction, so the VFS's dotfile lock is
   * taken and released once instead of once per statement (a mkdir and an rmdir each,
   * one per series and chunk: most of a rule evaluation's CPU). Inside an open
   * transaction it just runs.
   */
  private readTransaction<T>(fn: () => T): T {
    if (this.depth > 0 || this.db.inTransaction) return fn();
    this.withBusyRetry(() => this.db.exec('BEGIN'));
    try {
      const r = fn();
      this.withBusyRetry(() => this.db.exec('COMMIT'));
      return r;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  private readSamplesIn(q: ReadQuery): ReadResult {
    return readSamplesFrom(this.reads, q, this.overlapping('samples', q.fromMs, q.toMs), this.hasHead);
  }

  // ---- the seed's operations ---------------------------------------------------------

  /** saveMetric: an untyped series sample at now. */
  saveMetric(name: string, value: number, labels: Record<string, string> | undefined, nowMs: number): void {
    if (typeof value !== 'number') throw new TypeError(`saveMetric(${String(name)}): value must be a number, got ${typeof value}`);
    const [id] = this.resolveSeries([{ name, labels: labels ?? {}, type: 'untyped', help: '' }], nowMs);
    this.writeSamples([{ seriesId: id!, timeMs: nowMs, value }], nowMs);
  }

  /** saveRawMetrics: one metrics_raw row. */
  saveRawMetrics(type: string, data: unknown, nowMs: number): void {
    const json = rawJson(type, data);
    this.withBusyRetry(() => this.stmt('INSERT INTO metrics_raw (ts, type, data) VALUES (?, ?, ?)').run([nowMs, type, json]));
  }

  /** The latest_metrics view. */
  getLatestMetrics(): LatestMetric[] {
    return this.query('SELECT series_id, metric_name, labels, value, ts FROM latest_metrics ORDER BY metric_name, labels').map((r) => ({
      seriesId: Number(r['series_id']),
      name: String(r['metric_name']),
      labels: parseLabels(r['labels']),
      value: r['value'] === null ? Number.NaN : Number(r['value']),
      timeMs: Number(r['ts']),
    }));
  }

  /** getMetricStats over raw chunks in `[now - hours, now]`. */
  getMetricStats(name: string, hours: number, nowMs: number): MetricStats {
    checkStatsArgs(name, hours);
    const fromMs = nowMs - Math.round(hours * 3_600_000);
    let count = 0;
    let n = 0;
    let sum = 0;
    let min: number | null = null;
    let max: number | null = null;
    let firstMs: number | null = null;
    let lastMs: number | null = null;
    const aggregates = 'COUNT(*) AS count, COUNT(value) AS n, SUM(value) AS sum, MIN(value) AS min, MAX(value) AS max, MIN(ts) AS first, MAX(ts) AS last';
    const parts = this.overlapping('samples', fromMs, nowMs + 1).map((c) => ({
      sql: `SELECT ${aggregates} FROM ${ident(c.name)} WHERE series_id IN (SELECT id FROM series WHERE name = ?1) AND ts >= ?2 AND ts <= ?3 AND ${sqliteLive('value')}`,
    }));
    if (this.hasHead && parts.length > 0) {
      parts.push({ sql: `SELECT ${aggregates} FROM (${headArms('series_id, ts, value', `ts >= ?2 AND ts <= ?3 AND ${sqliteLive('value')}`)}) WHERE series_id IN (SELECT id FROM series WHERE name = ?1)` });
    }
    for (const part of parts) {
      const r = this.query(part.sql, [name, fromMs, nowMs])[0]!;
      const cnt = Number(r['count']);
      if (cnt === 0) continue;
      count += cnt;
      const nn = Number(r['n']);
      if (nn > 0) {
        n += nn;
        sum += Number(r['sum']);
        min = min === null ? Number(r['min']) : Math.min(min, Number(r['min']));
        max = max === null ? Number(r['max']) : Math.max(max, Number(r['max']));
      }
      firstMs = firstMs === null ? Number(r['first']) : Math.min(firstMs, Number(r['first']));
      lastMs = lastMs === null ? Number(r['last']) : Math.max(lastMs, Number(r['last']));
    }
    return { name, hours, count, avg: n > 0 ? sum / n : null, min, max, firstMs, lastMs };
  }

  /**
   * Fills metrics_hourly for closed hours, from the last aggregated hour (re-done, to
   * take late samples) up to the current hour. Counter-like series also get the hour's
   * increase (reset-corrected deltas, the first from the previous sample up to
   * PREDECESSOR_SEARCH_MS earlier) and rate (increase / 3600 s). The number of rows written.
   * One transaction per hour (see aggregateHourlyStep); SqliteStore paces them from the
   * main thread so that readers get in between.
   */
  aggregateHourlyMetrics(nowMs: number): number {
    let rows = 0;
    for (let r = this.aggregateHourlyStep(nowMs); ; r = this.aggregateHourlyStep(nowMs, r.next)) {
      rows += r.rows;
      if (r.next === undefined) return rows;
    }
  }

  /**
   * One hour of aggregateHourlyMetrics, in its own transaction: the hour starting at
   * `fromMs` (by default the last aggregated hour). `next` is the hour to do next, or
   * undefined when every closed hour is done.
   */
  aggregateHourlyStep(nowMs: number, fromMs?: number): { rows: number; next: number | undefined } {
    const H = 3_600_000;
    const endMs = Math.floor(nowMs / H) * H;
    const chunks = this.catalog.get('samples')!.chunks;
    if (chunks.length === 0) return { rows: 0, next: undefined };
    if (fromMs === undefined) {
      const lastRow = this.db.get('SELECT MAX(ts) AS t FROM metrics_hourly');
      fromMs = lastRow === null || lastRow['t'] === null ? chunks[0]!.startMs : Number(lastRow['t']);
    }
    fromMs = Math.floor(fromMs / H) * H;
    if (fromMs >= endMs) return { rows: 0, next: undefined };
    const toMs = fromMs + H;
    const next = toMs < endMs ? toMs : undefined;
    if (this.overlapping('samples', fromMs, toMs).length === 0) {
      // Skip straight to the next chunk holding samples of a closed hour.
      const later = chunks.find((c) => c.startMs >= toMs && c.startMs < endMs);
      return { rows: 0, next: later === undefined ? undefined : later.startMs };
    }
    // The hour's samples, series by series (a key range seek each: a chunk's key leads
    // with series_id), plus each series' last sample before the hour in every chunk of
    // the week before it (one seek each), so the hour's first delta has its predecessor
    // however long the gap, as the rollup tiers' carry does.
    const hourArms = this.overlapping('samples', fromMs, toMs).map(
      (c) => `SELECT r.series_id, r.ts, r.value FROM series s0 CROSS JOIN ${ident(c.name)} r ON r.series_id = s0.id WHERE r.ts >= ? AND r.ts < ? AND ${sqliteLive('r.value')}`,
    );
    const before = this.overlapping('samples', fromMs - PREDECESSOR_SEARCH_MS, fromMs);
    const prevArms = before.map(
      (c) => `SELECT r.series_id, r.ts, r.value FROM series s0 CROSS JOIN ${ident(c.name)} r ON r.series_id = s0.id
              AND r.ts = (SELECT MAX(p.ts) FROM ${ident(c.name)} p WHERE p.series_id = s0.id AND p.ts < ? AND ${sqliteLive('p.value')})`,
    );
    // The heads' samples (not folded yet): the hour's, and each series' last before it in
    // the week before (times inlined: whole ms, computed here).
    const headHour = this.hasHead ? [headArms('series_id, ts, value', `ts >= ${fromMs} AND ts < ${toMs} AND ${sqliteLive('value')}`)] : [];
    const headPrev = this.hasHead
      ? [
          `SELECT series_id, ts, value FROM (SELECT series_id, ts, value, ROW_NUMBER() OVER (PARTITION BY series_id ORDER BY ts DESC) AS rn
           FROM (${headArms('series_id, ts, value', `ts >= ${fromMs - PREDECESSOR_SEARCH_MS} AND ts < ${fromMs} AND ${sqliteLive('value')}`)})) WHERE rn = 1`,
        ]
      : [];
    const src = [...hourArms, ...prevArms, ...headHour, ...headPrev].join(' UNION ALL ');
    const params: SqlValue[] = [...hourArms.flatMap(() => [fromMs, toMs]), ...prevArms.map(() => fromMs), fromMs];
    const inc = `CASE WHEN ${counterLikeSql('se')} THEN coalesce(SUM(r.delta), 0) END`;
    const rows = this.transaction(
      () =>
        this.db.run(
          `INSERT OR REPLACE INTO metrics_hourly (series_id, ts, metric_name, labels, avg, min, max, count, increase, rate)
           SELECT r.series_id, (r.ts / ${H}) * ${H} AS hour, se.name, se.labels, AVG(r.value), MIN(r.value), MAX(r.value), COUNT(*), ${inc}, ${inc} / 3600.0
           FROM (SELECT series_id, ts, value, ${resetDeltaSql('value', 'prev')} AS delta
                 FROM (SELECT series_id, ts, value, LAG(value) OVER (PARTITION BY series_id ORDER BY ts) AS prev FROM (${src}))) r
           JOIN series se ON se.id = r.series_id
           WHERE r.ts >= ?
           GROUP BY r.series_id, hour`,
          params,
        ).changes,
    );
    return { rows, next };
  }

  /** Retention of raw chunks, metrics_raw and resolved alerts. */
  cleanupOldMetrics(retentionDays: number, nowMs: number): ChunkInfo[] {
    if (typeof retentionDays !== 'number' || !Number.isFinite(retentionDays) || retentionDays <= 0) {
      throw new RangeError(`cleanupOldMetrics: invalid retentionDays ${String(retentionDays)}: expected a positive number of days`);
    }
    const cutoff = nowMs - Math.round(retentionDays * 86_400_000);
    const gone = this.dropChunksBefore('samples', cutoff);
    this.transaction(() => {
      this.db.run('DELETE FROM metrics_raw WHERE ts < ?', [cutoff]);
      this.db.run("DELETE FROM alert_history WHERE status = 'resolved' AND resolved_at < ?", [cutoff]);
    });
    return gone;
  }

  /** Inserts or updates an alert. */
  saveAlert(a: AlertInput, nowMs: number): number {
    const c = checkAlert(a, nowMs);
    return this.transaction(() => {
      const open = this.db.get("SELECT id FROM alert_history WHERE status = 'firing' AND name = ? AND labels = ? ORDER BY id DESC LIMIT 1", [c.name, c.labels]);
      if (open !== null) {
        const id = Number(open['id']);
        this.db.run('UPDATE alert_history SET severity = ?, message = ?, value = ?, threshold = ?, status = ?, resolved_at = ? WHERE id = ?', [
          c.severity, c.message, c.value, c.threshold, c.status, c.resolvedMs, id,
        ]);
        return id;
      }
      const r = this.db.run(
        'INSERT INTO alert_history (name, severity, message, value, threshold, labels, status, fired_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [c.name, c.severity, c.message, c.value, c.threshold, c.labels, c.status, c.firedMs, c.resolvedMs],
      );
      return Number(r.lastInsertRowid);
    });
  }

  /** The active_alerts view, newest first. */
  getActiveAlerts(): AlertRecord[] {
    return this.query('SELECT * FROM active_alerts ORDER BY fired_at DESC, id DESC').map((r) => ({
      id: Number(r['id']),
      name: String(r['name']),
      severity: r['severity'] as AlertRecord['severity'],
      message: String(r['message']),
      value: r['value'] === null ? null : Number(r['value']),
      threshold: r['threshold'] === null ? null : Number(r['threshold']),
      labels: parseLabels(r['labels']),
      status: r['status'] as AlertRecord['status'],
      firedMs: Number(r['fired_at']),
      resolvedMs: r['resolved_at'] === null ? null : Number(r['resolved_at']),
    }));
  }

  /** Upserts a daily summary. */
  saveDailySummary(date: string, data: unknown, nowMs: number): void {
    checkDate(date);
    const json = rawJson('daily summary', data);
    this.withBusyRetry(() =>
      this.db.run(
        'INSERT INTO daily_summaries (date, data, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (date) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at',
        [date, json, nowMs, nowMs],
      ),
    );
  }

  /** Rows and bytes per table; logical tables sum their chunks. */
  getDatabaseStats(spoolDepth: number): DatabaseStats {
    const bytesBy = new Map<string, number>();
    // dbstat lists indexes under their own name: attribute them to their table.
    const owner = new Map<string, string>();
    for (const r of this.db.all("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")) owner.set(String(r['name']), String(r['tbl_name']));
    for (const r of this.db.all('SELECT name, SUM(pgsize) AS b FROM dbstat GROUP BY name')) {
      const t = owner.get(String(r['name'])) ?? String(r['name']);
      bytesBy.set(t, (bytesBy.get(t) ?? 0) + Number(r['b']));
    }
    const chunkOf = new Map<string, string>();
    for (const t of this.catalog.values()) for (const c of t.chunks) chunkOf.set(c.name, c.table);
    const stats = new Map<string, { rows: number; bytes: number; chunks: number }>();
    for (const logical of this.catalog.keys()) stats.set(logical, { rows: 0, bytes: 0, chunks: 0 });
    const plain = this.db
      .all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .map((r) => String(r['name']));
    for (const name of plain) {
      const head = this.hasHead && isHeadTable(name);
      const rows = head ? headRowCount(this.reads, name) : Number(this.db.get(`SELECT COUNT(*) AS n FROM ${ident(name)}`)?.['n'] ?? 0);
      const bytes = bytesBy.get(name) ?? 0;
      const logical = chunkOf.get(name);
      // The heads' rows are raw samples not yet folded into a chunk: counted with them.
      const key = logical ?? (head ? 'samples' : name);
      const s = stats.get(key) ?? { rows: 0, bytes: 0, chunks: 0 };
      s.rows += rows;
      s.bytes += bytes;
      if (logical !== undefined) s.chunks++;
      stats.set(key, s);
    }
    const tables: TableStats[] = [...stats.entries()].sort(([a], [b]) => compareNames(a, b)).map(([table, s]) => ({ table, ...s }));
    const { oldest, newest } = rawExtent(this.reads, this.catalog.get('samples')!.chunks, this.hasHead);
    const series = Number(this.db.get('SELECT COUNT(*) AS n FROM series')?.['n'] ?? 0);
    return { dialect: 'sqlite', totalBytes: this.sizeBytes(), series, tables, oldestSampleMs: oldest, newestSampleMs: newest, schemaVersion: this.schemaVersion, spoolDepth };
  }

  /** PRAGMA optimize, ANALYZE, VACUUM. */
  optimize(): void {
    this.withBusyRetry(() => this.db.exec('PRAGMA optimize'));
    this.withBusyRetry(() => this.db.exec('ANALYZE'));
    // VACUUM cannot run with statements pending: finalize the cached ones first.
    this.statements.clear();
    this.withBusyRetry(() => this.db.exec('VACUUM'));
  }

  /** A consistent copy of the database (VACUUM INTO), gzipped when `dest` ends in .gz. */
  async backup(dest: string): Promise<void> {
    if (typeof dest !== 'string' || dest === '') throw new TypeError('backup: expected a destination path');
    const gz = dest.endsWith('.gz');
    const plain = gz ? `${dest}.${process.pid}.tmp` : `${dest}.tmp`;
    // A backup killed mid-way leaves the copy's journal and lock folder behind (VACUUM
    // INTO writes it through the same dotfile VFS): with the folder there, every later
    // backup would wait for a lock nobody holds. They are ours: one backup at a time.
    for (const p of [plain, `${plain}-journal`, `${plain}.lock`]) rmSync(p, { force: true, recursive: true });
    try {
      this.withBusyRetry(() => this.db.run('VACUUM INTO ?', [plain]));
      chmodSync(plain, this.fileMode);
      if (gz) {
        await pipeline(createReadStream(plain), createGzip(), createWriteStream(`${dest}.tmp`, { mode: this.fileMode }));
        rmSync(plain, { force: true });
      }
      renameSync(`${dest}.tmp`, dest);
    } catch (e) {
      rmSync(plain, { force: true });
      rmSync(`${dest}.tmp`, { force: true });
      throw new Error(`backup to ${dest} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Folds the raw-sample head into the chunk tables, finalizes statements, closes the file and gives up ownership. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.rollback();
      // Pending ticks to the file; if that fails the log keeps them for the next open.
      if (this.damage === undefined && !this.needsReconnect) {
        try {
          this.commitPending();
        } catch {
          /* replayed at the next open */
        }
      }
      this.tickLog?.close();
      // A store at rest keeps its samples in the chunk tables, so that tools reading the
      // file alone (larder migrate, a copy) see them there. A failure (a full disk) leaves
      // the head as it is: reads and the next open are right either way.
      if (this.damage === undefined && this.hasHead && !this.needsReconnect) {
        try {
          this.head.foldAll();
        } catch {
          /* folded at the next open's writes */
        }
      }
      this.statements.clear();
      this.db.close();
    } finally {
      this.linger?.uninstall();
      this.release();
    }
  }

  /** Real dotfile lock cycles since open, where the lock lingers (sqlite-lock-linger.ts); undefined otherwise. */
  lockCycles(): number | undefined {
    return this.linger?.cycles();
  }
}

/**
 * The first row of a cached statement. Runs it to completion: a statement left
 * mid-step stays busy, and a busy statement blocks DROP TABLE ("table is locked").
 */
function first(st: Statement, params: sqlite3.BindValues): Record<string, unknown> | undefined {
  return st.all(params)[0];
}

/** Parameters as node-sqlite3-wasm binds them (booleans become 0/1 there too). */
function bindable(params: readonly SqlValue[]): sqlite3.BindValues {
  if (!Array.isArray(params)) throw new TypeError('SQL parameters must be an array');
  return params as SqlValue[];
}
