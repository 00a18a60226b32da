/**
 * A read-only view of a SQLite store for another process (the `larder` CLI) while
 * `larder serve` owns the file. It opens the file SQLITE_OPEN_READONLY through
 * node-sqlite3-wasm, whose VFS takes the same `<db>.lock` dotfile lock as Larder (see
 * docs/storage.md: a POSIX-locking reader could roll back Larder's open transaction),
 * with `query_only` on, so no statement can write whatever it says. It takes no
 * ownership: each statement holds the lock only while it runs, and the series and
 * sample reads (shared with the engine, sqlite-read.ts) run in one read transaction.
 *
 * It implements the reading half of `Store` (what the query engine and the CLI read);
 * every write rejects with ReadOnlyStoreError.
 */
import { existsSync, rmdirSync, statSync } from 'node:fs';
import sqlite3 from 'node-sqlite3-wasm';
import { compareChunks } from './chunking.js';
import { parseLabels } from './series-key.js';
import { ident } from './sqlite-sql.js';
import { processesWithFileOpen, sleepSync } from './sqlite-lock.js';
import { headRowCount, isHeadTable, rawExtent, readSamplesFrom, readSeries } from './sqlite-read.js';
import { HEAD_SCHEMA_VERSION } from './sqlite-head-sql.js';
import { checkReadQuery } from './store-common.js';
import type {
  AlertRecord,
  ChunkInfo,
  DatabaseStats,
  LatestMetric,
  MetricStats,
  ReadQuery,
  ReadResult,
  Row,
  SeriesInfo,
  SqlExecutor,
  SqlValue,
  Store,
  TableStats,
} from './store.js';

type Database = InstanceType<typeof sqlite3.Database>;

/** A write attempted through the read-only view. */
export class ReadOnlyStoreError extends Error {
  constructor(what: string) {
    super(`${what}: this store was opened read-only (the larder CLI reads a SQLite store beside a running Larder)`);
    this.name = 'ReadOnlyStoreError';
  }
}

const BUSY = /database is locked|SQLITE_BUSY/i;

/** Options of `openSqliteReader`. */
export interface SqliteReaderOptions {
  readonly path: string;
  /** How long a statement waits for Larder's lock, ms. @default 10_000 */
  readonly busyTimeoutMs?: number;
}

/**
 * Removes `<db>.lock` when it is stale: no process at all has the file open (so no
 * Larder and no reader holds it) and it stays unchanged for `graceMs`. A reader killed
 * while it held the lock (a CLI run killed with SIGKILL) leaves it behind. Where not
 * every process can be inspected nothing is removed. Returns whether it removed one.
 */
export function clearStaleLock(dbPath: string, graceMs = 1500): boolean {
  const lock = `${dbPath}.lock`;
  const id = (): string | undefined => {
    try {
      const s = statSync(lock);
      return `${s.ino}:${s.mtimeMs}`;
    } catch {
      return undefined;
    }
  };
  const first = id();
  if (first === undefined) return false;
  const open = processesWithFileOpen(dbPath);
  if (!open.complete || open.pids.length > 0) return false;
  for (const until = Date.now() + graceMs; Date.now() < until; ) {
    sleepSync(50);
    if (id() !== first) return false; // taken and released meanwhile: a live user
  }
  try {
    rmdirSync(lock);
    return true;
  } catch {
    return false;
  }
}

/** Opens `path` read-only; throws when there is no such store. */
export function openSqliteReader(opts: SqliteReaderOptions): SqliteReader {
  if (!existsSync(opts.path)) {
    throw new Error(`no SQLite store at ${opts.path} (SQLITE_DB_PATH, --storage.sqlite-path): point the option at Larder's file, or start larder serve once to create it`);
  }
  clearStaleLock(opts.path);
  let db: Database;
  try {
    db = new sqlite3.Database(opts.path, { readOnly: true });
  } catch (e) {
    throw new Error(`cannot open the SQLite store ${opts.path} read-only: ${(e as Error).message}`, { cause: e });
  }
  return new SqliteReader(db, opts.path, opts.busyTimeoutMs ?? 10_000);
}

/** The read-only store. Synchronous SQLite underneath; fine for a one-shot CLI. */
export class SqliteReader implements Store {
  readonly dialect = 'sqlite' as const;
  readonly schemaVersion: number;
  private closed = false;

  constructor(
    private readonly db: Database,
    readonly path: string,
    private readonly busyTimeoutMs: number,
  ) {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.exec('PRAGMA query_only = ON');
    const has = this.all("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (has.length === 0) {
      db.close();
      throw new Error(`${path} is not a Larder store (it has no schema_migrations table): check SQLITE_DB_PATH / --storage.sqlite-path`);
    }
    this.schemaVersion = Number(this.all('SELECT MAX(version) AS v FROM schema_migrations')[0]?.['v'] ?? 0);
  }

  /** Runs `fn`, retrying while Larder holds the lock (busy_timeout misses some races). */
  private retry<T>(fn: () => T): T {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (;;) {
      try {
        return fn();
      } catch (e) {
        if (!BUSY.test((e as Error).message) || Date.now() > deadline) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }

  /** Rows of one statement (synchronous). */
  all(sql: string, params: readonly SqlValue[] = []): Row[] {
    return this.retry(() => this.db.all(sql, params as SqlValue[]));
  }

  /** Column names and rows of one statement, refusing any statement that is not read-only. */
  allWithColumns(sql: string): { columns: string[]; rows: unknown[][] } {
    return this.retry(() => {
      const st = this.db.prepare(sql);
      try {
        const rows: unknown[][] = [];
        let columns: string[] = [];
        for (const r of st.iterate([])) {
          if (rows.length === 0) columns = Object.keys(r);
          rows.push(columns.map((c) => r[c]));
        }
        return { columns, rows };
      } finally {
        st.finalize();
      }
    });
  }

  async query<R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.all(sql, params) as R[];
  }

  async execute(): Promise<{ changes: number }> {
    throw new ReadOnlyStoreError('execute');
  }

  /** Chunks of the catalog, oldest first. */
  chunksSync(table?: string): ChunkInfo[] {
    return this.retry(() => this.chunksIn(table));
  }

  /** chunksSync without the retry, for use inside a read transaction. */
  private chunksIn(table?: string): ChunkInfo[] {
    const rows = this.db.all(`SELECT logical, name, start_ts, end_ts FROM chunks${table === undefined ? '' : ' WHERE logical = ?'}`, table === undefined ? [] : [table]);
    return rows.map((r) => ({ table: String(r['logical']), name: String(r['name']), startMs: Number(r['start_ts']), endMs: Number(r['end_ts']) })).sort(compareChunks);
  }

  async listChunks(table?: string): Promise<ChunkInfo[]> {
    return this.chunksSync(table);
  }

  async listSeries(ids?: readonly number[]): Promise<SeriesInfo[]> {
    return this.readTransaction(() => readSeries(this.db, ids));
  }

  async readSamples(q: ReadQuery): Promise<ReadResult> {
    checkReadQuery(q);
    const withHead = this.schemaVersion >= HEAD_SCHEMA_VERSION;
    return this.readTransaction(() => readSamplesFrom(this.db, q, this.chunksIn('samples').filter((c) => c.endMs > q.fromMs && c.startMs < q.toMs), withHead));
  }

  /**
   * Runs the reads of `fn` in one read transaction, so the dotfile lock is taken once
   * (a mkdir and an rmdir) rather than once per statement: per series and chunk, that
   * was most of a range query's time. Larder's writes wait meanwhile, as for any read;
   * while Larder holds the lock, the whole transaction is retried.
   */
  private readTransaction<T>(fn: () => T): T {
    return this.retry(() => {
      this.db.exec('BEGIN');
      try {
        const r = fn();
        this.db.exec('COMMIT');
        return r;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async getLatestMetrics(): Promise<LatestMetric[]> {
    return this.all('SELECT series_id, metric_name, labels, value, ts FROM latest_metrics ORDER BY metric_name, labels').map((r) => ({
      seriesId: Number(r['series_id']),
      name: String(r['metric_name']),
      labels: parseLabels(r['labels']),
      value: r['value'] === null ? Number.NaN : Number(r['value']),
      timeMs: Number(r['ts']),
    }));
  }

  async getActiveAlerts(): Promise<AlertRecord[]> {
    return this.all('SELECT * FROM active_alerts ORDER BY fired_at DESC, id DESC').map((r) => ({
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

  async sizeBytes(): Promise<number> {
    const pc = Number(this.all('PRAGMA page_count')[0]?.['page_count'] ?? 0);
    const ps = Number(this.all('PRAGMA page_size')[0]?.['page_size'] ?? 0);
    return pc * ps;
  }

  async chunkBytes(_table: string, name: string): Promise<number> {
    return Number(this.all('SELECT COALESCE(SUM(pgsize), 0) AS b FROM dbstat WHERE name = ?', [name])[0]?.['b'] ?? 0);
  }

  /** Rows and bytes per table as the store's own getDatabaseStats counts them. */
  async getDatabaseStats(): Promise<DatabaseStats> {
    const withHead = this.schemaVersion >= HEAD_SCHEMA_VERSION;
    const owner = new Map<string, string>();
    for (const r of this.all("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")) owner.set(String(r['name']), String(r['tbl_name']));
    const bytesBy = new Map<string, number>();
    for (const r of this.all('SELECT name, SUM(pgsize) AS b FROM dbstat GROUP BY name')) {
      const t = owner.get(String(r['name'])) ?? String(r['name']);
      bytesBy.set(t, (bytesBy.get(t) ?? 0) + Number(r['b']));
    }
    const chunks = this.chunksSync();
    const chunkOf = new Map(chunks.map((c) => [c.name, c.table]));
    const stats = new Map<string, { rows: number; bytes: number; chunks: number }>();
    for (const r of this.all('SELECT logical FROM chunk_tables')) stats.set(String(r['logical']), { rows: 0, bytes: 0, chunks: 0 });
    for (const r of this.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
      const name = String(r['name']);
      const head = withHead && isHeadTable(name);
      const rows = head ? headRowCount(this.db, name) : Number(this.all(`SELECT COUNT(*) AS n FROM ${ident(name)}`)[0]?.['n'] ?? 0);
      // The heads' rows are raw samples not yet folded into a chunk: counted with them.
      const logical = chunkOf.get(name) ?? (head ? 'samples' : undefined);
      const s = stats.get(logical ?? name) ?? { rows: 0, bytes: 0, chunks: 0 };
      s.rows += rows;
      s.bytes += bytesBy.get(name) ?? 0;
      if (logical !== undefined && !head) s.chunks++;
      stats.set(logical ?? name, s);
    }
    const tables: TableStats[] = [...stats.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([table, s]) => ({ table, ...s }));
    const { oldest, newest } = rawExtent(this.db, chunks.filter((c) => c.table === 'samples'), withHead);
    const series = Number(this.all('SELECT COUNT(*) AS n FROM series')[0]?.['n'] ?? 0);
    return { dialect: 'sqlite', totalBytes: await this.sizeBytes(), series, tables, oldestSampleMs: oldest, newestSampleMs: newest, schemaVersion: this.schemaVersion, spoolDepth: 0 };
  }

  async getMetricStats(): Promise<MetricStats> {
    throw new ReadOnlyStoreError('getMetricStats is not offered by the read-only view');
  }

  async spoolDepth(): Promise<number> {
    return 0;
  }

  // ---- writes: refused ---------------------------------------------------------

  async saveMetric(): Promise<void> {
    throw new ReadOnlyStoreError('saveMetric');
  }
  async saveRawMetrics(): Promise<void> {
    throw new ReadOnlyStoreError('saveRawMetrics');
  }
  async aggregateHourlyMetrics(): Promise<number> {
    throw new ReadOnlyStoreError('aggregateHourlyMetrics');
  }
  async cleanupOldMetrics(): Promise<ChunkInfo[]> {
    throw new ReadOnlyStoreError('cleanupOldMetrics');
  }
  async saveAlert(): Promise<number> {
    throw new ReadOnlyStoreError('saveAlert');
  }
  async saveDailySummary(): Promise<void> {
    throw new ReadOnlyStoreError('saveDailySummary');
  }
  async optimize(): Promise<void> {
    throw new ReadOnlyStoreError('optimize');
  }
  async resolveSeries(): Promise<number[]> {
    throw new ReadOnlyStoreError('resolveSeries');
  }
  async writeSamples(): Promise<number> {
    throw new ReadOnlyStoreError('writeSamples');
  }
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return fn(this);
  }
  async ensureRollupTier(): Promise<void> {
    throw new ReadOnlyStoreError('ensureRollupTier');
  }
  async ensureChunk(): Promise<ChunkInfo> {
    throw new ReadOnlyStoreError('ensureChunk');
  }
  async dropChunksBefore(): Promise<ChunkInfo[]> {
    throw new ReadOnlyStoreError('dropChunksBefore');
  }
  async dropChunk(): Promise<void> {
    throw new ReadOnlyStoreError('dropChunk');
  }
  async backup(): Promise<void> {
    throw new ReadOnlyStoreError('backup (use the larder backup command)');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
