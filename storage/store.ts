/**
 * The `Store`: what the rest of Larder may ask of storage, the same on SQLite and
 * PostgreSQL. Times cross this interface as epoch milliseconds (numbers); values as
 * IEEE doubles, NaN and ±Infinity included. Schema and conventions: docs/storage.md.
 *
 * Stability: this file is the contract the recorder and the rollups build on.
 * Members are added, never renamed or removed.
 */

/** The two SQL dialects a store speaks. */
export type Dialect = 'sqlite' | 'postgresql';

/** Prometheus metric types, as recorded in the series dictionary. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** Label name → value. Order does not matter; the store keeps a canonical (sorted) form. */
export type Labels = Readonly<Record<string, string>>;

/** A series to look up or create. `name` + `labels` identify it (the fingerprint). */
export interface SeriesDef {
  /** Metric name, Prometheus syntax (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  readonly name: string;
  readonly labels: Labels;
  /** Type at first sight; a later def with another type does not change the stored row. */
  readonly type: MetricType;
  /** Help text at first sight. @default '' */
  readonly help?: string;
}

/** A row of the series dictionary. */
export interface SeriesInfo {
  readonly id: number;
  readonly name: string;
  readonly labels: Labels;
  readonly type: MetricType;
  readonly help: string;
  /** Hex fingerprint of name + canonical labels (unique). */
  readonly fingerprint: string;
  /** When the series was created, epoch ms. */
  readonly createdMs: number;
}

/** One raw sample. */
export interface Sample {
  readonly seriesId: number;
  /** Epoch milliseconds (an integer). */
  readonly timeMs: number;
  /** Any double: NaN, +Inf and -Inf round-trip. */
  readonly value: number;
}

/** A label matcher for reads: `=`, `!=`, `=~` and `!~` as in PromQL (regexes fully anchored). */
export interface LabelMatcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/**
 * A raw range read: either explicit series ids, or a metric name plus optional
 * label matchers. The range is half-open: `fromMs <= t < toMs`.
 */
export interface ReadQuery {
  readonly seriesIds?: readonly number[];
  readonly name?: string;
  readonly matchers?: readonly LabelMatcher[];
  readonly fromMs: number;
  readonly toMs: number;
  /** Most rows returned; the read stops there (ordered by series, then time). @default unlimited */
  readonly limit?: number;
}

/** Rows of one range read, ordered by series id, then time. */
export interface ReadResult {
  /** The series that matched (even those without samples in the range). */
  readonly series: readonly SeriesInfo[];
  readonly samples: readonly Sample[];
}

/**
 * readSamplesPacked's answer: the matched series, and their samples as columns. `runs`
 * holds `[seriesId, count]` pairs, one per series with samples, in ascending id order;
 * each run's samples are the next `count` entries of `ts` and `vs`, in time order. A
 * caller may keep views (`subarray`) of the columns: nothing else holds them.
 */
export interface PackedReadResult {
  readonly series: readonly SeriesInfo[];
  readonly runs: Float64Array;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** A latest value, as the seed's `getLatestMetrics()` and the `latest_metrics` view show it. */
export interface LatestMetric {
  readonly seriesId: number;
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
  readonly timeMs: number;
}

/** The seed's `getMetricStats(name, hours)` answer, over raw samples of every series of that name. */
export interface MetricStats {
  readonly name: string;
  readonly hours: number;
  /** Samples in the window (NaN samples included). */
  readonly count: number;
  /** Over the non-NaN samples; null when there are none. */
  readonly avg: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** Time of the oldest and newest sample in the window, epoch ms; null when empty. */
  readonly firstMs: number | null;
  readonly lastMs: number | null;
}

/** Alert severities. */
export type AlertSeverity = 'info' | 'warning' | 'critical';

/** Alert status in `alert_history`. */
export type AlertStatus = 'firing' | 'resolved';

/**
 * An alert to record. Saving an alert with the same `name` and `labels` as an
 * unresolved one updates that row (value, message, status, resolvedMs); otherwise
 * a new row is inserted.
 */
export interface AlertInput {
  readonly name: string;
  readonly severity: AlertSeverity;
  readonly message: string;
  readonly value?: number | null;
  readonly threshold?: number | null;
  readonly labels?: Labels;
  /** @default 'firing' */
  readonly status?: AlertStatus;
  /** @default now */
  readonly firedMs?: number;
  /** Set when status is 'resolved'. @default now when resolved, else null */
  readonly resolvedMs?: number | null;
}

/** A row of `alert_history`. */
export interface AlertRecord {
  readonly id: number;
  readonly name: string;
  readonly severity: AlertSeverity;
  readonly message: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly labels: Labels;
  readonly status: AlertStatus;
  readonly firedMs: number;
  readonly resolvedMs: number | null;
}

/** Size and extent of one table (logical tables sum their chunks). */
export interface TableStats {
  readonly table: string;
  readonly rows: number;
  /** Bytes on disk (pages on SQLite, relation size incl. indexes on PostgreSQL). */
  readonly bytes: number;
  /** Chunk count for chunked logical tables, else 0. */
  readonly chunks: number;
}

/** `getDatabaseStats()`. */
export interface DatabaseStats {
  readonly dialect: Dialect;
  /** Whole store in bytes (the figure LARDER_STORE_MAX_BYTES caps). */
  readonly totalBytes: number;
  readonly series: number;
  readonly tables: readonly TableStats[];
  /** Oldest and newest raw sample, epoch ms; null when there are none. */
  readonly oldestSampleMs: number | null;
  readonly newestSampleMs: number | null;
  readonly schemaVersion: number;
  /** Samples waiting in the local spool for PostgreSQL (0 when not spooling). */
  readonly spoolDepth: number;
}

/** One time chunk of a chunked logical table. */
export interface ChunkInfo {
  /** Logical table: 'samples', 'rollup_5m', 'rollup_5m_quantiles', … */
  readonly table: string;
  /** Physical table (SQLite) or partition (PostgreSQL) name; write into it directly on SQLite. */
  readonly name: string;
  /** Range covered, half-open `[startMs, endMs)`. */
  readonly startMs: number;
  readonly endMs: number;
}

/** A value bound to a `?` (SQLite) or `$n` (PostgreSQL) placeholder. */
export type SqlValue = number | string | bigint | boolean | null | Uint8Array;

/** A result row: column name → value as the driver returns it. */
export type Row = Record<string, unknown>;

/**
 * Runs dialect-specific SQL (the rollups generate it). Placeholders: `?` on SQLite,
 * `$1, $2, …` on PostgreSQL. On SQLite, NaN reads back as NULL (see docs/storage.md).
 */
export interface SqlExecutor {
  readonly dialect: Dialect;
  /** Rows of a statement that returns rows. */
  query<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** Runs a statement; resolves with the number of rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /**
   * SQLite only: runs a task module next to the data, in the thread that owns the
   * file (storage/sqlite-task.ts), and resolves with its result. Absent on PostgreSQL,
   * where SQL runs in the server anyway.
   */
  runTask?<O>(module: URL, input: unknown): Promise<O>;
  /**
   * PostgreSQL only, inside `transaction`: runs `COPY (…) TO STDOUT (FORMAT binary)` on
   * the transaction's connection and hands the stream's pieces to `onData` in order
   * (storage/pg-copy-binary.ts reads them). COPY takes no bound parameters: `sql` must
   * hold its values as literals.
   */
  copyOut?(sql: string, onData: (piece: Buffer) => void): Promise<void>;
  /** PostgreSQL only, inside `transaction`: runs `COPY … FROM STDIN (FORMAT binary)` fed with `pieces` (whole tuples, no header or trailer). */
  copyIn?(sql: string, pieces: readonly Buffer[]): Promise<void>;
}

/** Value columns of a rollup tier's rows (docs/storage.md), as `readTierRows` returns them. */
export type TierColumn = 'count' | 'sum' | 'min' | 'max' | 'first' | 'last' | 'increase';

/** A read of one rollup tier's rows: bucket starts in `[fromMs, toMs)` of the given series. */
export interface TierRowsQuery {
  /** Tier name, `[0-9a-z]{1,10}` (table `rollup_<tier>`). */
  readonly tier: string;
  /** At most MAX_TIER_READ_IDS (storage/tier-rows.ts) distinct positive int32 ids. */
  readonly seriesIds: readonly number[];
  readonly fromMs: number;
  readonly toMs: number;
  /** Value columns to read, no repeats. @default all, in TierColumn order */
  readonly columns?: readonly TierColumn[];
}

/** A raw read and a tier read of the series the raw read finds (Store.readTiered). */
export interface TieredReadQuery {
  readonly raw: ReadQuery;
  /** The tier read; its series are those `raw` lists, found by the store. */
  readonly tier: Omit<TierRowsQuery, 'seriesIds'>;
}

/** What Store.readTiered answers: the raw read, and the tier rows of its series. */
export interface TieredReadResult {
  readonly raw: PackedReadResult;
  readonly tier: TierRows;
}

/**
 * Rows of a tier read as packed columns (typed arrays, which cross threads by transfer,
 * not one cloned object per row), ordered by series id, then bucket start.
 */
export interface TierRows {
  /** The value columns in `values`, in order (the query's, or all). */
  readonly columns: readonly TierColumn[];
  readonly seriesIds: Int32Array;
  /** Bucket start, epoch ms. */
  readonly ts: Float64Array;
  /** One array per column of `columns`; a NULL reads NaN there and sets its bit in `nulls`. */
  readonly values: readonly Float64Array[];
  /**
   * Per row, bit `c` set when `values[c]` is NULL: PostgreSQL stores NaN apart from NULL
   * (SQLite stores NaN as NULL, so there every NaN is a NULL).
   */
  readonly nulls: Uint8Array;
}

/** Options of a rollup tier's tables, for `ensureRollupTier`. */
export interface RollupTierDef {
  /** Tier name, `[0-9a-z]+`: '1m', '5m', '1h', '1d'. Tables `rollup_<tier>` and `rollup_<tier>_quantiles`. */
  readonly tier: string;
  /** Chunk interval of the tier's tables, ms. */
  readonly chunkMs: number;
}

/**
 * The store. One per process per database. All methods reject with a clear Error
 * on bad input or a failed database; stored data is never damaged by bad input.
 */
export interface Store extends SqlExecutor {
  /** Migrated schema version of this store. */
  readonly schemaVersion: number;

  // ---- the seed's operations -------------------------------------------------

  /** Records one sample of an untyped series `name{labels}` at now. */
  saveMetric(name: string, value: number, labels?: Labels): Promise<void>;
  /** Appends a row to `metrics_raw`: a type tag and JSON-serialisable data, at now. */
  saveRawMetrics(type: string, data: unknown): Promise<void>;
  /** The latest sample of every series (the `latest_metrics` view), ordered by name then labels. */
  getLatestMetrics(): Promise<LatestMetric[]>;
  /** Count/avg/min/max of the raw samples of all series named `name` in the last `hours` hours. */
  getMetricStats(name: string, hours: number): Promise<MetricStats>;
  /**
   * Fills `metrics_hourly` for every closed hour not yet aggregated (idempotent:
   * re-running rewrites the same rows). Resolves with the number of rows written.
   */
  aggregateHourlyMetrics(): Promise<number>;
  /**
   * Drops raw chunks entirely older than `retentionDays` days, plus older rows of
   * `metrics_raw` and alerts resolved before then (`metrics_hourly` is kept: it is a
   * rollup with its own, longer life). Resolves with the chunks dropped.
   */
  cleanupOldMetrics(retentionDays: number): Promise<ChunkInfo[]>;
  /** Records or updates an alert (see AlertInput); resolves with its row id. */
  saveAlert(alert: AlertInput): Promise<number>;
  /** Unresolved alerts (the `active_alerts` view), newest first. */
  getActiveAlerts(): Promise<AlertRecord[]>;
  /** Upserts the `daily_summaries` row of `date` (`YYYY-MM-DD`). */
  saveDailySummary(date: string, data: unknown): Promise<void>;
  /** Rows, bytes, chunks, sample extent, spool depth. */
  getDatabaseStats(): Promise<DatabaseStats>;
  /** VACUUM/ANALYZE (SQLite: `PRAGMA optimize` + VACUUM; PostgreSQL: VACUUM ANALYZE). */
  optimize(): Promise<void>;

  // ---- the recorder --------------------------------------------------------

  /**
   * Ids of the given series, creating missing ones, in input order. Idempotent:
   * the same name + labels always gives the same id.
   */
  resolveSeries(defs: readonly SeriesDef[]): Promise<number[]>;
  /** Series dictionary rows, all or those with the given ids. */
  listSeries(ids?: readonly number[]): Promise<SeriesInfo[]>;
  /**
   * Writes samples in one transaction (chunks created as needed). A sample with the
   * same series and time as a stored one replaces it. Resolves with the rows written.
   */
  writeSamples(samples: readonly Sample[]): Promise<number>;
  /** Raw samples in a time range. */
  readSamples(q: ReadQuery): Promise<ReadResult>;
  /**
   * readSamples with the samples packed as `[seriesId, timeMs, value]` triples (same
   * order, stale markers' bits kept), so a bulk reader such as the query engine makes no
   * object per sample. Optional: a store without it is read through readSamples.
   */
  readSamplesPacked?(q: ReadQuery): Promise<PackedReadResult>;
  /**
   * Several reads answered as one, in the order asked (optional: callers fall back to
   * readSamples each). On SQLite one round trip to the worker and one read transaction
   * (one lock taken) instead of one per read.
   */
  readSamplesMany?(qs: readonly ReadQuery[]): Promise<ReadResult[]>;
  /**
   * readSamplesMany with each answer packed as readSamplesPacked's (no object per sample),
   * in the order asked. Optional: callers fall back to readSamplesMany or readSamples.
   */
  readSamplesPackedMany?(qs: readonly ReadQuery[]): Promise<PackedReadResult[]>;
  /**
   * Rows of a rollup tier as packed columns (see TierRows), for reads of many buckets
   * (a 30-day chart reads ~40k rows). Rejects an unknown tier. Optional: where absent,
   * `readTierRowsBySql` (storage/tier-rows.ts) reads the same rows through `query`.
   */
  readTierRows?(q: TierRowsQuery): Promise<TierRows>;
  /**
   * `readSamplesPacked(q.raw)` and `readTierRows` of every series that read lists, in one
   * call: a tiered selector's whole load (its series, their newest raw samples, their
   * older buckets). Optional: callers fall back to the two reads. On SQLite one round
   * trip to the worker and one read transaction instead of two.
   */
  readTiered?(q: TieredReadQuery): Promise<TieredReadResult>;

  // ---- the rollups and retention ---------------------------------------------

  /**
   * Runs `fn` in one transaction; everything it runs through `tx` commits or rolls
   * back together. On SQLite nothing else runs on the store until it ends (other
   * callers wait). Create the chunks you need (`ensureChunk`) before the transaction:
   * on PostgreSQL creating a partition while your transaction holds locks on the
   * parent table would wait for it forever.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Creates (if missing) the tables of a rollup tier; see docs/storage.md for columns. */
  ensureRollupTier(def: RollupTierDef): Promise<void>;
  /** The chunk of logical `table` that holds `timeMs`, created if missing. */
  ensureChunk(table: string, timeMs: number): Promise<ChunkInfo>;
  /** Chunks of one logical table, or of all, oldest first. */
  listChunks(table?: string): Promise<ChunkInfo[]>;
  /** Drops chunks of `table` whose whole range ends at or before `cutoffMs`; resolves with them. */
  dropChunksBefore(table: string, cutoffMs: number): Promise<ChunkInfo[]>;
  /** Drops one chunk by its physical name. */
  dropChunk(table: string, name: string): Promise<void>;
  /**
   * PostgreSQL: packs the raw chunks that end at or before `beforeMs` into one row per
   * series of arrays (storage/pg-pack.ts), once the rollups have read them; reads see
   * the same samples. Absent on SQLite, whose rows are already compact.
   */
  packClosedChunks?(beforeMs: number): Promise<ChunkInfo[]>;
  /** Bytes of one chunk on disk (including its indexes). */
  chunkBytes(table: string, name: string): Promise<number>;
  /** Size of the whole store in bytes. */
  sizeBytes(): Promise<number>;

  // ---- operations -------------------------------------------------------------

  /**
   * SQLite only: a consistent copy of the database file at `destPath` while the store
   * runs (gzip when the path ends in `.gz`). Rejects on PostgreSQL (use pg_dump).
   */
  backup(destPath: string): Promise<void>;
  /** Samples waiting in the local spool (PostgreSQL fallback); 0 otherwise. */
  spoolDepth(): Promise<number>;
  /** Whether writes go to the local spool now (PostgreSQL out of reach), even while it is momentarily empty. Optional: absent = never. */
  spooling?(): boolean;
  /** Why the store refuses writes (SQLite: it failed its check at open), or undefined; /healthz reports it. Optional. */
  problem?(): string | undefined;
  /** Flushes what is pending, then closes. Idempotent. */
  close(): Promise<void>;
}

/** Options of `openStore`. Plain values, so storage/ needs nothing from src/. */
export interface StoreOptions {
  /** 'sqlite' or 'postgresql' (MONITORING_DB). */
  readonly engine: Dialect;
  /** SQLite file (SQLITE_DB_PATH). @default 'data/monitoring.db' */
  readonly sqlitePath?: string;
  /** SQLite: commit record ticks together at most this often, keeping them in a tick log meanwhile (SqliteStoreOptions.commitIntervalMs). @default 0 */
  readonly sqliteCommitIntervalMs?: number;
  /** PostgreSQL URL (DATABASE_URL); when empty the db* fields are used. @default '' */
  readonly databaseUrl?: string;
  /** @default 'localhost' */
  readonly dbHost?: string;
  /** @default 5432 */
  readonly dbPort?: number;
  /** @default 'monitoring' */
  readonly dbName?: string;
  /** @default 'postgres' */
  readonly dbUser?: string;
  /** @default '' */
  readonly dbPassword?: string;
  /**
   * PostgreSQL: the Larder this store records for (its --instance), owner of the series
   * it creates and of their rollups when several Larders share the database. @default ''
   */
  readonly instance?: string;
  /** PostgreSQL schema holding Larder's tables (created if missing). @default 'public' */
  readonly pgSchema?: string;
  /** Most PostgreSQL connections. @default 4 */
  readonly pgPoolSize?: number;
  /** Local SQLite spool used while PostgreSQL is unreachable; '' = no fallback. @default 'data/spool.db' */
  readonly spoolPath?: string;
  /** Longest a PostgreSQL write may go unanswered before it counts as an outage (and spools), ms. @default 5000 */
  readonly pgWriteTimeoutMs?: number;
  /**
   * Told when the PostgreSQL store starts spooling (with the cause) and when the spool
   * has drained (samples forwarded, time spent spooling), for the log. @default nothing
   */
  readonly onSpoolChange?: (spooling: boolean, change: { readonly cause?: Error; readonly forwarded: number; readonly durationMs: number }) => void;
  /** Raw chunk interval, ms. @default 86_400_000 (1 day) */
  readonly chunkMs?: number;
  /** How long SQLite waits for a lock held by a reader before failing, ms. @default 10_000 */
  readonly busyTimeoutMs?: number;
  /** File mode of created SQLite files. @default 0o640 */
  readonly fileMode?: number;
  /** The clock, epoch ms. Only used on the main thread. @default Date.now */
  readonly now?: () => number;
}
