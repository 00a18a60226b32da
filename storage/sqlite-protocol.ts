/** Messages between SqliteStore (main thread) and sqlite-worker.ts. */

/** Operations the worker answers. */
export type WorkerOp =
  | 'query' | 'execute' | 'begin' | 'commit' | 'rollback'
  | 'saveMetric' | 'saveRawMetrics' | 'getLatestMetrics' | 'getMetricStats' | 'aggregateHourlyMetrics' | 'aggregateHourlyStep'
  | 'cleanupOldMetrics' | 'saveAlert' | 'getActiveAlerts' | 'saveDailySummary' | 'getDatabaseStats' | 'optimize'
  | 'resolveSeries' | 'listSeries' | 'writeSamples' | 'writePacked' | 'readSamples' | 'readPacked' | 'readPackedMany' | 'readTierRows' | 'readTiered'
  | 'ensureRollupTier' | 'ensureChunk' | 'listChunks' | 'dropChunksBefore' | 'dropChunk' | 'chunkBytes' | 'sizeBytes'
  | 'runTask' | 'backup' | 'foldHead' | 'close';

/** The open result (the reply with id 0). */
export interface OpenResult {
  readonly schemaVersion: number;
  /** Why the store must not be written (it failed its check at open). */
  readonly damage: string | undefined;
  /** The hot journal rolled back before opening, if any. */
  readonly recovered: { readonly pages: number; readonly sizeBytes: number; readonly segments: number } | undefined;
}

/** A request: `id` pairs it with its reply. */
export interface WorkerRequest {
  readonly id: number;
  readonly op: WorkerOp;
  readonly args: readonly unknown[];
}

/** A reply; id 0 is the open result. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { readonly name: string; readonly message: string } };
