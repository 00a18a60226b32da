/**
 * The SQLite `Store` on the main thread: a proxy that sends each operation to the
 * worker owning the file (sqlite-worker.ts), so the event loop serving /metrics
 * never blocks on SQLite. An interactive transaction holds a client-side gate: other
 * callers wait until it ends, so nothing interleaves with it in the worker.
 */
import type { HeadOptions } from './sqlite-head.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Worker } from 'node:worker_threads';
import { checkSamples, packSamples, unpackColumns } from './store-common.js';
import type { OpenResult, WorkerOp, WorkerReply, WorkerRequest } from './sqlite-protocol.js';
import type { SqliteEngineOptions } from './sqlite-engine.js';
import type {
  AlertInput,
  AlertRecord,
  ChunkInfo,
  DatabaseStats,
  Labels,
  LatestMetric,
  MetricStats,
  PackedReadResult,
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
  TieredReadQuery,
  TieredReadResult,
} from './store.js';

/**
 * Pause between the transactions of a long job (the hourly aggregate's catch-up): SQLite's
 * busy handler retries every 100 ms at most, so a dotfile reader needs a gap that long.
 */
const READER_GAP_MS = 100;

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** Database file. */
  readonly path: string;
  /** Raw chunk interval, ms. @default 86_400_000 */
  readonly chunkMs?: number;
  /** Wait for another process's lock this long, ms. @default 10_000 */
  readonly busyTimeoutMs?: number;
  /** Mode of created files. @default 0o640 */
  readonly fileMode?: number;
  /** Grace before a dead owner's `.lock` directory is removed, ms. @default 1500 */
  readonly staleLockGraceMs?: number;
  /** Run PRAGMA quick_check at open even after a clean shutdown (it always runs after a crash). @default false */
  readonly checkAtOpen?: boolean;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** When the raw-sample head is folded into the chunk tables (sqlite-head.ts). @default its defaults */
  readonly head?: HeadOptions;
  /**
   * Record ticks are appended to a tick log beside the file (`<path>.larder-ticks`,
   * synced) and committed together at most this often, ms: a commit rewrites at least
   * ~17 KB of the file whatever it holds. The store's reads see them at once; other
   * connections to the file see them once committed. 0 commits every write. @default 0
   */
  readonly commitIntervalMs?: number;
}

/** The error a failed worker operation rejects with (name and message from the worker). */
export class SqliteStoreError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The worker module: the .ts sibling under a TypeScript loader (tests), else the .js. */
function workerUrl(): URL {
  const ts = import.meta.url.endsWith('.ts');
  return new URL(ts ? './sqlite-worker.ts' : './sqlite-worker.js', import.meta.url);
}

/** Opens the SQLite store: starts the worker and waits until the file is open and migrated. */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  if (typeof opts.path !== 'string' || opts.path === '') throw new TypeError('SQLite store: path is required (SQLITE_DB_PATH)');
  const now = opts.now ?? Date.now;
  const data: SqliteEngineOptions = {
    path: opts.path,
    nowMs: now(),
    ...(opts.chunkMs !== undefined ? { chunkMs: opts.chunkMs } : {}),
    ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}),
    ...(opts.fileMode !== undefined ? { fileMode: opts.fileMode } : {}),
    ...(opts.staleLockGraceMs !== undefined ? { staleLockGraceMs: opts.staleLockGraceMs } : {}),
    ...(opts.checkAtOpen !== undefined ? { checkAtOpen: opts.checkAtOpen } : {}),
    ...(opts.head !== undefined ? { head: opts.head } : {}),
    ...(opts.commitIntervalMs !== undefined ? { commitIntervalMs: opts.commitIntervalMs } : {}),
  };
  const url = workerUrl();
  // Running from .ts sources (tests, benchmarks), the worker inherits the TypeScript
  // loader; type-checking the worker again on every open costs ~8 s, so transpile only.
  const env = url.pathname.endsWith('.ts') ? { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } } : {};
  // A capped young generation: V8 grows it up to 48 MB under a burst of work (a large
  // read) and gives it back only much later; 8 MB keeps scavenges cheap enough.
  const worker = new Worker(url, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 8 }, ...env });
  const opened = await new Promise<OpenResult>((resolve, reject) => {
    const onError = (e: Error): void => reject(new Error(`SQLite store ${opts.path}: worker failed to start: ${e.message}`, { cause: e }));
    worker.once('error', onError);
    worker.once('message', (m: WorkerReply) => {
      worker.off('error', onError);
      if (m.ok) resolve(m.result as OpenResult);
      else reject(new SqliteStoreError(m.error.name, m.error.message));
    });
  }).catch(async (e: unknown) => {
    await worker.terminate();
    throw e;
  });
  const store = new SqliteStore(worker, opened.schemaVersion, now, opts.path, opened.damage, opened.recovered);
  // A damaged store is opened for reading only (every write is refused, problem() says why).
  if (opened.damage !== undefined) return store;
  // Chunks ahead of time, as on PostgreSQL: the current one and the next.
  try {
    await store.ensureChunk('samples', now());
    await store.ensureChunk('samples', now() + (opts.chunkMs ?? 86_400_000));
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

/** The SQLite store (main-thread side). Create with openSqliteStore. */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly inTx = new AsyncLocalStorage<true>();
  private txActive: Promise<void> | undefined;
  private dead: Error | undefined;
  private closing: Promise<void> | undefined;

  /** @internal use openSqliteStore */
  constructor(
    private readonly worker: Worker,
    readonly schemaVersion: number,
    private readonly now: () => number,
    readonly path: string,
    private readonly damage?: string,
    /** The hot journal rolled back at open (a writer had been killed mid-transaction), if any. */
    readonly recovered?: OpenResult['recovered'],
  ) {
    worker.on('message', (m: WorkerReply) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new SqliteStoreError(m.error.name, m.error.message));
    });
    const fail = (e: Error): void => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(new Error(`SQLite worker for ${path} failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => fail(new Error(`SQLite worker for ${path} exited (code ${code})`)));
  }

  private send<T>(op: WorkerOp, args: readonly unknown[], transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args } satisfies WorkerRequest, transfer);
    });
  }

  /** Sends an operation once no transaction of another caller is open. */
  private async call<T>(op: WorkerOp, ...args: unknown[]): Promise<T> {
    await this.gate();
    return this.send<T>(op, args);
  }

  /** Waits for another caller's open transaction to end (not for one's own). */
  private async gate(): Promise<void> {
    if (this.inTx.getStore() !== true) {
      while (this.txActive !== undefined) await this.txActive;
    }
  }

  query<R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.call<R[]>('query', sql, params);
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.call('execute', sql, params);
  }

  runTask<O>(module: URL, input: unknown): Promise<O> {
    return this.call<O>('runTask', module.href, input);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const tx: SqlExecutor = {
      dialect: 'sqlite',
      query: <R extends Row = Row>(sql: string, params: readonly SqlValue[] = []) => this.send<R[]>('query', [sql, params]),
      execute: (sql: string, params: readonly SqlValue[] = []) => this.send<{ changes: number }>('execute', [sql, params]),
      runTask: <O>(module: URL, input: unknown) => this.send<O>('runTask', [module.href, input]),
    };
    // Called from inside a transaction: it joins the open one.
    if (this.inTx.getStore() === true) return fn(tx);
    while (this.txActive !== undefined) await this.txActive;
    let done!: () => void;
    this.txActive = new Promise<void>((r) => (done = r));
    try {
      await this.send('begin', []);
      let result: T;
      try {
        result = await this.inTx.run(true, () => fn(tx));
      } catch (e) {
        await this.send('rollback', []).catch(() => undefined);
        throw e;
      }
      await this.send('commit', []);
      return result;
    } finally {
      this.txActive = undefined;
      // An AsyncLocalStorage in use turns on Node's promise and async hooks for the whole
      // process: every promise and callback then pays for them (about a tenth of an idle
      // `larder serve`'s CPU, where a transaction at start left them on for good).
      // Disabled between transactions, the next `run` turns them on again.
      this.inTx.disable();
      done();
    }
  }

  saveMetric(name: string, value: number, labels: Labels = {}): Promise<void> {
    return this.call('saveMetric', name, value, labels, this.now());
  }
  saveRawMetrics(type: string, data: unknown): Promise<void> {
    return this.call('saveRawMetrics', type, data, this.now());
  }
  getLatestMetrics(): Promise<LatestMetric[]> {
    return this.call('getLatestMetrics');
  }
  getMetricStats(name: string, hours: number): Promise<MetricStats> {
    return this.call('getMetricStats', name, hours, this.now());
  }
  /**
   * One transaction per hour, with a pause after each that wrote rows: the first run on a
   * large store aggregates every hour it holds, and a reader on the dotfile lock needs gaps.
   */
  async aggregateHourlyMetrics(): Promise<number> {
    const now = this.now();
    let rows = 0;
    let from: number | undefined;
    for (;;) {
      const r = await this.call<{ rows: number; next: number | undefined }>('aggregateHourlyStep', now, from);
      rows += r.rows;
      if (r.next === undefined) return rows;
      from = r.next;
      if (r.rows > 0) await new Promise((resolve) => setTimeout(resolve, READER_GAP_MS));
    }
  }
  cleanupOldMetrics(retentionDays: number): Promise<ChunkInfo[]> {
    return this.call('cleanupOldMetrics', retentionDays, this.now());
  }
  saveAlert(alert: AlertInput): Promise<number> {
    return this.call('saveAlert', alert, this.now());
  }
  getActiveAlerts(): Promise<AlertRecord[]> {
    return this.call('getActiveAlerts');
  }
  saveDailySummary(date: string, data: unknown): Promise<void> {
    return this.call('saveDailySummary', date, data, this.now());
  }
  getDatabaseStats(): Promise<DatabaseStats> {
    return this.call('getDatabaseStats');
  }
  optimize(): Promise<void> {
    return this.call('optimize');
  }
  resolveSeries(defs: readonly SeriesDef[]): Promise<number[]> {
    return this.call('resolveSeries', defs, this.now());
  }
  listSeries(ids?: readonly number[]): Promise<SeriesInfo[]> {
    return this.call('listSeries', ids);
  }
  /**
   * Checked here, then sent as one transferred Float64Array: cloning 10k sample
   * objects into the worker measured 17–40 ms of this (the scrape's) thread; packing
   * and transferring costs under 1 ms.
   */
  async writeSamples(samples: readonly Sample[]): Promise<number> {
    if (!Array.isArray(samples)) throw new TypeError('writeSamples: expected an array of samples');
    checkSamples(samples);
    const packed = packSamples(samples);
    await this.gate();
    return this.send<number>('writePacked', [packed, this.now()], [packed.buffer as ArrayBuffer]);
  }
  /** The worker's packed read as it arrives (transferred, not cloned): no object per sample on this thread. */
  readSamplesPacked(q: ReadQuery): Promise<PackedReadResult> {
    return this.call<PackedReadResult>('readPacked', q);
  }
  async readSamples(q: ReadQuery): Promise<ReadResult> {
    const r = await this.readSamplesPacked(q);
    return { series: r.series, samples: unpackColumns(r) };
  }
  /** One worker round trip and one read transaction for all of `qs`. */
  async readSamplesMany(qs: readonly ReadQuery[]): Promise<ReadResult[]> {
    return (await this.readSamplesPackedMany(qs)).map((r) => ({ series: r.series, samples: unpackColumns(r) }));
  }
  /** readSamplesMany as columns: the same worker round trip and read transaction, no object per sample; transferred, not cloned. */
  async readSamplesPackedMany(qs: readonly ReadQuery[]): Promise<PackedReadResult[]> {
    if (qs.length === 0) return [];
    return this.call<PackedReadResult[]>('readPackedMany', qs);
  }
  /** Read in the worker with its fast row scan; the columns come back transferred, not cloned. */
  readTierRows(q: TierRowsQuery): Promise<TierRows> {
    return this.call('readTierRows', q);
  }
  /** The raw read and the tier read of a tiered selector in one worker round trip and one read transaction. */
  readTiered(q: TieredReadQuery): Promise<TieredReadResult> {
    return this.call('readTiered', q);
  }
  ensureRollupTier(def: RollupTierDef): Promise<void> {
    return this.call('ensureRollupTier', def?.tier, def?.chunkMs);
  }
  ensureChunk(table: string, timeMs: number): Promise<ChunkInfo> {
    return this.call('ensureChunk', table, timeMs, this.now());
  }
  listChunks(table?: string): Promise<ChunkInfo[]> {
    return this.call('listChunks', table);
  }
  dropChunksBefore(table: string, cutoffMs: number): Promise<ChunkInfo[]> {
    return this.call('dropChunksBefore', table, cutoffMs);
  }
  dropChunk(table: string, name: string): Promise<void> {
    return this.call('dropChunk', table, name);
  }
  chunkBytes(table: string, name: string): Promise<number> {
    return this.call('chunkBytes', table, name);
  }
  sizeBytes(): Promise<number> {
    return this.call('sizeBytes');
  }
  /**
   * Folds the raw-sample head into the chunk tables now (sqlite-head.ts), rather than in
   * steps after writes as it is due: for tests, benchmarks and tools that read the chunk
   * tables themselves. Reads answer the same before and after.
   */
  foldHead(): Promise<void> {
    return this.call('foldHead');
  }
  backup(destPath: string): Promise<void> {
    return this.call('backup', destPath);
  }
  spoolDepth(): Promise<number> {
    return Promise.resolve(0);
  }
  /** Why the store cannot be written (it failed PRAGMA quick_check at open), or undefined when it can. */
  problem(): string | undefined {
    return this.damage;
  }

  /** Waits for queued work (and any open transaction), closes the file, ends the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.dead === undefined) {
        try {
          await this.call('close');
        } finally {
          this.dead = new Error(`SQLite store ${this.path} is closed`);
          await this.worker.terminate();
        }
      }
    })();
    return this.closing;
  }
}
