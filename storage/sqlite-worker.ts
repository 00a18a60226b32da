/**
 * The worker thread that owns the SQLite file. node-sqlite3-wasm is synchronous (a
 * 200k-row insert blocked its thread for 335 ms), so it runs here, never on the
 * thread that serves /metrics. Messages are handled one at a time, in order.
 */
import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { SqliteEngine, SqliteEngineOptions } from './sqlite-engine.js';
import type { OpenResult, WorkerOp, WorkerReply, WorkerRequest } from './sqlite-protocol.js';
import type { PackedReadResult, TieredReadResult, TierRows } from './store.js';
import { tierRowsBuffers } from './tier-rows.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-worker.ts must run as a worker thread');

function errorOf(e: unknown): { name: string; message: string } {
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}

// Liftoff only: V8's tier-up recompiles SQLite's hot wasm functions with TurboFan on
// background threads, whose malloc arenas then kept ~40 MB (an idle `larder serve`
// measured 133 MB RSS with it, 91 MB without) and ~1 s of CPU in the first minutes;
// Liftoff code ran the store's work ~10% slower. It must be set before the module is
// compiled (hence the dynamic import below). V8 flags are per process and turning it
// back off re-enables the tier-up of this module too, so wasm compiled later in the
// process (undici's parser behind fetch) also stays on Liftoff.
setFlagsFromString('--liftoff-only');

/**
 * The dotfile lock outlives a transaction by 5 ms (a query's reads, a burst of rule
 * evaluations take it once), never more than 100 ms without a gap for other readers.
 */
const LOCK_LINGER = { lingerMs: 5, maxHoldMs: 100 } as const;

let engine: SqliteEngine | undefined;
try {
  const { SqliteEngine } = await import('./sqlite-engine.js');
  engine = new SqliteEngine({ lockLinger: LOCK_LINGER, ...(workerData as SqliteEngineOptions) });
  const opened: OpenResult = { schemaVersion: engine.schemaVersion, damage: engine.damage, recovered: engine.recovered };
  port.postMessage({ id: 0, ok: true, result: opened } satisfies WorkerReply);
} catch (e) {
  port.postMessage({ id: 0, ok: false, error: errorOf(e) } satisfies WorkerReply);
  port.close();
}

/** Dispatches one request to the engine. Only the listed operations exist. */
async function handle(e: SqliteEngine, r: WorkerRequest): Promise<unknown> {
  const a = r.args;
  switch (r.op) {
    case 'query': return e.query(a[0] as string, a[1] as never);
    case 'execute': return e.execute(a[0] as string, a[1] as never);
    case 'begin': return e.begin();
    case 'commit': return e.commit();
    case 'rollback': return e.rollback();
    case 'saveMetric': return e.saveMetric(a[0] as string, a[1] as number, a[2] as never, a[3] as number);
    case 'saveRawMetrics': return e.saveRawMetrics(a[0] as string, a[1], a[2] as number);
    case 'getLatestMetrics': return e.getLatestMetrics();
    case 'getMetricStats': return e.getMetricStats(a[0] as string, a[1] as number, a[2] as number);
    case 'aggregateHourlyMetrics': return e.aggregateHourlyMetrics(a[0] as number);
    case 'aggregateHourlyStep': return e.aggregateHourlyStep(a[0] as number, a[1] as number | undefined);
    case 'cleanupOldMetrics': return e.cleanupOldMetrics(a[0] as number, a[1] as number);
    case 'saveAlert': return e.saveAlert(a[0] as never, a[1] as number);
    case 'getActiveAlerts': return e.getActiveAlerts();
    case 'saveDailySummary': return e.saveDailySummary(a[0] as string, a[1], a[2] as number);
    case 'getDatabaseStats': return e.getDatabaseStats(0);
    case 'optimize': return e.optimize();
    case 'resolveSeries': return e.resolveSeries(a[0] as never, a[1] as number);
    case 'listSeries': return e.listSeries(a[0] as never);
    case 'writeSamples': return e.writeSamples(a[0] as never, a[1] as number);
    case 'writePacked': return e.writePacked(a[0] as Float64Array, a[1] as number);
    case 'readSamples': return e.readSamples(a[0] as never);
    case 'readPacked': return e.readPacked(a[0] as never);
    case 'readPackedMany': return e.readPackedMany(a[0] as never);
    case 'readTierRows': return e.readTierRows(a[0] as never);
    case 'readTiered': return e.readTiered(a[0] as never);
    case 'ensureRollupTier': return e.ensureRollupTier(a[0] as string, a[1] as number);
    case 'ensureChunk': return e.ensureChunk(a[0] as string, a[1] as number, a[2] as number);
    case 'listChunks': return e.listChunks(a[0] as string | undefined);
    case 'dropChunksBefore': return e.dropChunksBefore(a[0] as string, a[1] as number);
    case 'dropChunk': return e.dropChunk(a[0] as string, a[1] as string);
    case 'chunkBytes': return e.chunkBytes(a[0] as string, a[1] as string);
    case 'sizeBytes': return e.sizeBytes();
    case 'runTask': return e.runTask(a[0] as string, a[1]);
    case 'backup': return e.backup(a[0] as string);
    case 'foldHead': return e.foldHead();
    case 'close': return e.close();
  }
}

/** What a store that failed its check at open still answers; every other operation writes. */
const READ_OPS: ReadonlySet<WorkerOp> = new Set<WorkerOp>([
  'query', 'rollback', 'getLatestMetrics', 'getMetricStats', 'getActiveAlerts', 'getDatabaseStats', 'listSeries',
  'readSamples', 'readPacked', 'readPackedMany', 'readTierRows', 'readTiered', 'listChunks', 'chunkBytes', 'sizeBytes', 'backup', 'close',
]);

/**
 * Operations that never change a raw sample chunk, so the engine's cache of decoded chunks
 * (sqlite-read-cache.ts) survives them. `query` and `execute` count as such unless their
 * SQL names a samples table; every other operation empties the cache (writePacked only
 * the chunks it writes to).
 */
const KEEPS_RAW_CHUNKS: ReadonlySet<WorkerOp> = new Set<WorkerOp>([
  'readSamples', 'readPacked', 'readPackedMany', 'readTierRows', 'readTiered', 'listSeries', 'listChunks', 'chunkBytes', 'sizeBytes',
  'getLatestMetrics', 'getMetricStats', 'getActiveAlerts', 'getDatabaseStats', 'backup', 'begin', 'commit',
  'resolveSeries', 'ensureChunk', 'ensureRollupTier', 'saveRawMetrics', 'saveAlert', 'saveDailySummary',
  'foldHead', // moves samples from the head into their chunks: every read answers the same
]);

/** Whether `r` may change a raw sample chunk. */
function mayWriteRawChunks(r: WorkerRequest): boolean {
  if (r.op === 'query' || r.op === 'execute') return typeof r.args[0] !== 'string' || /samples/i.test(r.args[0]);
  return !KEEPS_RAW_CHUNKS.has(r.op);
}

/** Bytes of decoded raw chunks kept between queries (a 1,000-series day at 60 s is 23 MB). */
const READ_CACHE_BYTES = 48 * 1024 * 1024;
engine?.enableReadCache(READ_CACHE_BYTES);

/** A packed raw read's columns. */
function packedBuffers(r: PackedReadResult): ArrayBuffer[] {
  return [r.runs.buffer as ArrayBuffer, r.ts.buffer as ArrayBuffer, r.vs.buffer as ArrayBuffer];
}

/** A packed result's buffers, transferred to the main thread rather than copied. */
function transferList(op: WorkerOp, result: unknown): ArrayBuffer[] {
  if (op === 'readTierRows') return tierRowsBuffers(result as TierRows);
  if (op === 'readPacked') return packedBuffers(result as PackedReadResult);
  if (op === 'readPackedMany') return (result as PackedReadResult[]).flatMap(packedBuffers);
  if (op === 'readTiered') {
    const r = result as TieredReadResult;
    return [...packedBuffers(r.raw), ...tierRowsBuffers(r.tier)];
  }
  const packed = (result as { packed?: unknown } | null)?.packed;
  return packed instanceof Float64Array ? [packed.buffer as ArrayBuffer] : [];
}

/** Operations after which the raw-sample head may be due for a fold step. */
const WRITES_SAMPLES: ReadonlySet<WorkerOp> = new Set<WorkerOp>(['writePacked', 'writeSamples', 'saveMetric']);

/**
 * One step of the head's upkeep (sqlite-head.ts), after the write's reply is sent, so the
 * writer does not wait for it; the next request waits at most one bounded step. It moves
 * samples without changing what any read returns, so the read cache stays. A failure is
 * left for the next write (the step rolled back; an I/O failure reconnects first).
 */
function maintainHead(e: SqliteEngine): void {
  try {
    e.maintainHead();
  } catch (err) {
    e.explainError(err);
  }
}

/**
 * Operations that need no pending tick committed first (sqlite-pending.ts): the packed raw
 * reads add them to what they read, and the rest do not read or write raw samples.
 * `writePacked` commits them itself with a batch it does not log.
 */
const SEES_PENDING: ReadonlySet<WorkerOp> = new Set<WorkerOp>([
  'writePacked', 'readPacked', 'readPackedMany', 'readTiered', 'readTierRows', 'resolveSeries', 'listSeries',
  'sizeBytes', 'listChunks', 'chunkBytes', 'getActiveAlerts', 'saveAlert', 'ensureChunk', 'ensureRollupTier',
]);

/**
 * Commits the tick log's pending ticks before an operation that reads the file for them
 * (SQL, stats, a backup) or changes samples. A read goes on if that fails (a full disk);
 * every other operation fails with it.
 */
function commitPendingFirst(e: SqliteEngine, r: WorkerRequest): void {
  if (e.pendingSamples === 0 || SEES_PENDING.has(r.op)) return;
  try {
    e.commitPending();
  } catch (err) {
    if (!READ_OPS.has(r.op)) throw err; // explained with the operation's own failures
    e.explainError(err);
    e.reconnectIfNeeded();
  }
}

/** Retry delay of a commit of pending ticks that failed (a full disk), ms. */
const COMMIT_RETRY_MS = 5000;
let commitTimer: NodeJS.Timeout | undefined;

/** Commits the pending ticks when they fall due, if nothing else has by then. */
function scheduleCommit(e: SqliteEngine): void {
  const due = e.commitDueInMs();
  if (due === undefined || commitTimer !== undefined) return;
  commitTimer = setTimeout(() => {
    tail = tail.then(() => {
      commitTimer = undefined;
      let delay = 0;
      try {
        e.reconnectIfNeeded();
        e.commitPending();
        maintainHead(e);
      } catch (err) {
        e.explainError(err);
        delay = COMMIT_RETRY_MS;
      }
      if (delay === 0) scheduleCommit(e);
      else if (e.pendingSamples > 0) {
        commitTimer = setTimeout(() => {
          commitTimer = undefined;
          scheduleCommit(e);
        }, delay);
      }
    });
  }, due);
}

// Requests are chained so an async one (backup) never interleaves with the next.
let tail: Promise<void> = Promise.resolve();
port.on('message', (r: WorkerRequest) => {
  tail = tail.then(async () => {
    let reply: WorkerReply;
    try {
      if (engine === undefined) throw new Error('the SQLite store failed to open');
      if (!READ_OPS.has(r.op)) engine.assertWritable();
      if (r.op !== 'close') engine.reconnectIfNeeded();
      commitPendingFirst(engine, r);
      engine.noteOperation(r.op, mayWriteRawChunks(r));
      reply = { id: r.id, ok: true, result: await handle(engine, r) };
    } catch (e) {
      reply = { id: r.id, ok: false, error: errorOf(engine?.explainError(e) ?? e) };
    }
    port.postMessage(reply, reply.ok ? transferList(r.op, reply.result) : []);
    if (r.op === 'close') {
      clearTimeout(commitTimer);
      commitTimer = undefined;
      port.close();
    } else if (engine !== undefined) {
      if (reply.ok && WRITES_SAMPLES.has(r.op)) maintainHead(engine);
      scheduleCommit(engine);
    }
  });
});
