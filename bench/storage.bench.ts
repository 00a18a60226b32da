/**
 * Storage benchmark: batched sample writes per second on each dialect, bytes per
 * stored sample, and a raw-range read of one series over a day; the native sqlite3
 * CLI doing the same inserts in the same run is the baseline.
 *
 *   ./scripts/run-bench.sh storage
 *   LARDER_BENCH_SAMPLES=1000000 ./scripts/run-bench.sh storage   # the issue's 1M
 *   LARDER_BENCH_RUNS=5 …                                         # repetitions (median)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pgPromise from 'pg-promise';
import { openPgStore } from '../storage/pg-store.js';
import { SqliteEngine } from '../storage/sqlite-engine.js';
import { openSqliteStore } from '../storage/sqlite-store.js';
import type { Sample, Store } from '../storage/store.js';

const N = Number(process.env['LARDER_BENCH_SAMPLES'] ?? 250_000);
const RUNS = Number(process.env['LARDER_BENCH_RUNS'] ?? 3);
const BATCH = 10_000;
const STEP = 10_000; // 10 s between samples of a series
const SERIES = Math.max(1, Math.round(N / 10_000)); // 10k samples (~28 h) per series
const PER_SERIES = Math.ceil(N / SERIES);
const T0 = Date.UTC(2026, 0, 1);
const PG = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Batches as the recorder makes them: time-major, every series at each timestamp. */
function batches(ids: readonly number[]): Sample[][] {
  const out: Sample[][] = [];
  let cur: Sample[] = [];
  for (let k = 0; k < PER_SERIES; k++) {
    for (let s = 0; s < ids.length; s++) {
      cur.push({ seriesId: ids[s]!, timeMs: T0 + k * STEP, value: Math.sin(k / 100 + s) * 100 });
      if (cur.length === BATCH) {
        out.push(cur);
        cur = [];
      }
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

interface Result {
  readonly rate: number;
  readonly bytesPerSample: number;
  readonly readMs: number;
  readonly readRows: number;
}

async function storeRun(store: Store): Promise<Result> {
  const ids = await store.resolveSeries(Array.from({ length: SERIES }, (_, i) => ({ name: 'bench_value', labels: { series: String(i) }, type: 'gauge' as const })));
  const bs = batches(ids);
  const t0 = performance.now();
  for (const b of bs) await store.writeSamples(b);
  const secs = (performance.now() - t0) / 1000;
  let bytes = 0;
  for (const c of await store.listChunks('samples')) bytes += await store.chunkBytes('samples', c.name);
  const reads: number[] = [];
  let rows = 0;
  for (let i = 0; i < 5; i++) {
    const r0 = performance.now();
    rows = (await store.readSamples({ seriesIds: [ids[i % ids.length]!], fromMs: T0 + 3_600_000, toMs: T0 + 3_600_000 + 86_400_000 })).samples.length;
    reads.push(performance.now() - r0);
  }
  return { rate: N / secs, bytesPerSample: bytes / N, readMs: median(reads), readRows: rows };
}

async function sqliteWorkerRun(dir: string, i: number): Promise<Result> {
  const store = await openSqliteStore({ path: join(dir, `worker-${i}.db`), now: () => T0 });
  try {
    return await storeRun(store);
  } finally {
    await store.close();
  }
}

/** The same engine called directly on this thread: the worker's message cost is the difference. */
function sqliteDirectRun(dir: string, i: number): number {
  const e = new SqliteEngine({ path: join(dir, `direct-${i}.db`), nowMs: T0 });
  try {
    const ids = e.resolveSeries(Array.from({ length: SERIES }, (_, s) => ({ name: 'bench_value', labels: { series: String(s) }, type: 'gauge' as const })), T0);
    const bs = batches(ids);
    const t0 = performance.now();
    for (const b of bs) e.writeSamples(b, T0);
    return N / ((performance.now() - t0) / 1000);
  } finally {
    e.close();
  }
}

async function pgRun(i: number): Promise<Result | undefined> {
  const schema = `larder_bench_${process.pid}_${i}`;
  let store: Store;
  try {
    store = await openPgStore({ ...PG, schema, now: () => T0, chunkMs: 86_400_000 });
  } catch (e) {
    console.log(`PostgreSQL: skipped (${(e as Error).message})`);
    return undefined;
  }
  try {
    return await storeRun(store);
  } finally {
    await store.close();
    const pgp = pgPromise({ noWarnings: true });
    const db = pgp(PG);
    await db.none(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.$pool.end();
  }
}

/** Native sqlite3: the same rows, same table layout, one transaction per batch, 500-row INSERTs. */
function nativeRun(dir: string, i: number): number | undefined {
  if (spawnSync('sh', ['-c', 'command -v sqlite3'], { stdio: 'ignore' }).status !== 0) return undefined;
  const db = join(dir, `native-${i}.db`);
  const sqlPath = join(dir, `native-${i}.sql`);
  const parts: string[] = [
    'PRAGMA journal_mode = DELETE; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16000;', // as Larder's engine
    'CREATE TABLE s (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, PRIMARY KEY (series_id, ts)) WITHOUT ROWID;',
  ];
  for (const b of batches(Array.from({ length: SERIES }, (_, s) => s + 1))) {
    parts.push('BEGIN;');
    for (let j = 0; j < b.length; j += 500) {
      parts.push(`INSERT OR REPLACE INTO s VALUES ${b.slice(j, j + 500).map((x) => `(${x.seriesId},${x.timeMs},${x.value})`).join(',')};`);
    }
    parts.push('COMMIT;');
  }
  writeFileSync(sqlPath, parts.join('\n'));
  const t0 = performance.now();
  execFileSync('sqlite3', [db, `.read ${sqlPath}`]);
  const secs = (performance.now() - t0) / 1000;
  const bytes = Number(execFileSync('sqlite3', [db, "SELECT SUM(pgsize) FROM dbstat WHERE name = 's'"], { encoding: 'utf8' }).trim());
  console.log(`  native run ${i + 1}: ${fmt(N / secs)} samples/s, ${(bytes / N).toFixed(1)} bytes/sample (file ${fmt(statSync(db).size)} B)`);
  return N / secs;
}

const dir = mkdtempSync(join(tmpdir(), 'larder-bench-'));
try {
  console.log(`storage bench: ${fmt(N)} samples = ${SERIES} series x ${fmt(PER_SERIES)} points (10 s apart), batches of ${fmt(BATCH)}, ${RUNS} runs, medians`);
  const native: number[] = [];
  const direct: number[] = [];
  const worker: Result[] = [];
  const pg: Result[] = [];
  for (let i = 0; i < RUNS; i++) {
    const n = nativeRun(dir, i);
    if (n !== undefined) native.push(n);
    direct.push(sqliteDirectRun(dir, i));
    worker.push(await sqliteWorkerRun(dir, i));
    const p = await pgRun(i);
    if (p !== undefined) pg.push(p);
  }
  const base = native.length > 0 ? median(native) : undefined;
  const ratio = (x: number): string => (base === undefined ? '' : `  (${(x / base).toFixed(2)}x native)`);
  console.log('');
  console.log('writes, samples/s (median):');
  if (base !== undefined) console.log(`  native sqlite3 CLI (baseline)       ${fmt(base).padStart(10)}`);
  console.log(`  SQLite wasm, engine on this thread  ${fmt(median(direct)).padStart(10)}${ratio(median(direct))}`);
  console.log(`  SQLite wasm, worker (SqliteStore)   ${fmt(median(worker.map((r) => r.rate))).padStart(10)}${ratio(median(worker.map((r) => r.rate)))}`);
  if (pg.length > 0) console.log(`  PostgreSQL (PgStore, unnest)        ${fmt(median(pg.map((r) => r.rate))).padStart(10)}${ratio(median(pg.map((r) => r.rate)))}`);
  console.log('bytes per stored sample (raw chunks incl. keys):');
  console.log(`  SQLite      ${median(worker.map((r) => r.bytesPerSample)).toFixed(1)}`);
  if (pg.length > 0) console.log(`  PostgreSQL  ${median(pg.map((r) => r.bytesPerSample)).toFixed(1)}`);
  console.log('raw-range read of one series over a day (median ms, rows):');
  console.log(`  SQLite      ${median(worker.map((r) => r.readMs)).toFixed(1)} ms, ${worker[0]!.readRows} rows`);
  if (pg.length > 0) console.log(`  PostgreSQL  ${median(pg.map((r) => r.readMs)).toFixed(1)} ms, ${pg[0]!.readRows} rows`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
