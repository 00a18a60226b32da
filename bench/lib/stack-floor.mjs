/**
 * The least a process built as Larder is built holds and does: the cost bench's "stack
 * floor" (bench/cost.bench.ts). Node with Larder's process settings (the malloc
 * threshold of its shebang, given by the bench; its V8 tier-up budget; Liftoff only for
 * the SQLite wasm), express listening and a prom-client registry on /metrics, and a
 * worker thread holding node-sqlite3-wasm that commits one transaction of FLOOR_SERIES
 * rows every FLOOR_INTERVAL_MS into a table keyed (ts, series_id), as Larder's record
 * tick appends to its head, with Larder's journal pragmas. No collectors, no rules, no
 * queries, no rollups: what Larder's dependencies and its one-commit-per-tick design cost
 * before any of Larder's own code runs.
 *
 *   node bench/lib/stack-floor.mjs <port> <database path>   (after `make build`)
 *   (FLOOR_SERIES=500 FLOOR_INTERVAL_MS=15000; to see what a part of the stack costs:
 *    FLOOR_HTTP=node serves /metrics with node:http instead of express,
 *    FLOOR_SQLITE=main runs SQLite on the main thread instead of a worker;
 *    to see what another write design would write:
 *    FLOOR_COMMIT_TICKS=N commits every N ticks, each tick first appended to
 *    `<database>.log` with one write() (no fsync: it survives a SIGKILL, not a power
 *    loss, as Prometheus' WAL between its syncs), the log emptied after each commit;
 *    FLOOR_LOG_SYNC=1 fdatasyncs each append, as Larder's tick log does (storage/sqlite-tick-log.ts);
 *    FLOOR_LAYOUT=packed stores a tick as one row (ts, values as a BLOB of float64s))
 *
 * Rows committed are counted in `floor_samples_written_total`.
 */
import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/**
 * Opens the database with Larder's pragmas; returns a function that takes one tick and
 * answers how many rows it committed (0 while the tick waits in the log for its commit).
 */
async function openWriter(dbPath) {
  // Larder's SQLite worker compiles the wasm with Liftoff only (storage/sqlite-worker.ts)
  setFlagsFromString('--liftoff-only');
  const { default: sqlite } = await import('node-sqlite3-wasm');
  const { fdatasyncSync, openSync, writeSync, ftruncateSync } = await import('node:fs');
  const syncLog = process.env['FLOOR_LOG_SYNC'] === '1';
  const commitTicks = Math.max(1, Number(process.env['FLOOR_COMMIT_TICKS'] ?? 1));
  const packed = process.env['FLOOR_LAYOUT'] === 'packed';
  const db = new sqlite.Database(dbPath);
  db.exec('PRAGMA journal_mode = DELETE');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA cache_size = -4000');
  db.exec(
    packed
      ? 'CREATE TABLE IF NOT EXISTS head_packed (ts INTEGER PRIMARY KEY, vals BLOB NOT NULL)'
      : 'CREATE TABLE IF NOT EXISTS head (ts INTEGER NOT NULL, series_id INTEGER NOT NULL, value REAL, PRIMARY KEY (ts, series_id)) WITHOUT ROWID',
  );
  const insert = db.prepare(packed ? 'INSERT INTO head_packed VALUES (?, ?)' : 'INSERT INTO head VALUES (?, ?, ?)');
  const log = commitTicks > 1 ? openSync(`${dbPath}.log`, 'w') : undefined;
  let logBytes = 0;
  const pending = [];
  return (tick) => {
    const { ts, values } = tick;
    if (log !== undefined) {
      const record = new Float64Array(values.length + 1);
      record[0] = ts;
      record.set(values, 1);
      logBytes += writeSync(log, new Uint8Array(record.buffer), 0, record.byteLength, logBytes);
      if (syncLog) fdatasyncSync(log);
    }
    pending.push(tick);
    if (pending.length < commitTicks) return 0;
    let rows = 0;
    db.exec('BEGIN');
    for (const p of pending.splice(0)) {
      if (packed) insert.run([p.ts, new Uint8Array(p.values.buffer, p.values.byteOffset, p.values.byteLength)]);
      else for (let i = 0; i < p.values.length; i++) insert.run([p.ts, i, p.values[i]]);
      rows += p.values.length;
    }
    db.exec('COMMIT');
    if (log !== undefined) {
      ftruncateSync(log, 0);
      logBytes = 0;
    }
    return rows;
  };
}

if (isMainThread) {
  // the tier-up budget Larder's command sets, by the same module (needs `make build`)
  await import('../../dist/src/v8-tiering.js');
  const [port, dbPath] = process.argv.slice(2);
  if (!port || !dbPath) throw new Error('usage: node stack-floor.mjs <port> <database path>');
  const series = Number(process.env['FLOOR_SERIES'] ?? 500);
  const intervalMs = Number(process.env['FLOOR_INTERVAL_MS'] ?? 15_000);
  const { Counter, Registry } = await import('prom-client');
  const registry = new Registry();
  const written = new Counter({ name: 'floor_samples_written_total', help: 'Rows committed.', registers: [registry] });
  if (process.env['FLOOR_HTTP'] === 'node') {
    const { createServer } = await import('node:http');
    createServer((_req, res) => {
      void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
    }).listen(Number(port), '127.0.0.1');
  } else {
    const { default: express } = await import('express');
    const app = express();
    app.get('/metrics', async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    });
    app.listen(Number(port), '127.0.0.1');
  }
  let send;
  if (process.env['FLOOR_SQLITE'] === 'main') {
    const write = await openWriter(dbPath);
    send = (tick) => written.inc(write(tick));
  } else {
    // the young generation capped as Larder caps its SQLite worker's
    const worker = new Worker(new URL(import.meta.url), { workerData: { dbPath }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    worker.on('message', (n) => written.inc(n));
    worker.on('error', (e) => {
      console.error(e);
      process.exit(1);
    });
    send = (tick) => worker.postMessage(tick, [tick.values.buffer]);
  }
  let n = 0;
  setInterval(() => {
    n++;
    // half gauges that move, half counters that grow: eight bytes a value either way
    const values = new Float64Array(series);
    for (let i = 0; i < series; i++) values[i] = i % 2 === 0 ? Math.random() * 1e6 : n * (i + 0.5);
    send({ ts: Date.now(), values });
  }, intervalMs);
} else {
  const write = await openWriter(workerData.dbPath);
  parentPort.on('message', (tick) => parentPort.postMessage(write(tick)));
}
