/**
 * `larder migrate` (SQLite → PostgreSQL) against a COPY baseline on the same rows: the
 * rollup bench's series (1,000: 600 gauges, 300 counters, 10 histograms) every 60 s,
 * generated in bulk into a SQLite store, then
 *
 *   - migrate: the built CLI (`dist/src/cli.js migrate`), copy + read-back verification
 *     per chunk, into a fresh schema; and a second run (nothing to copy);
 *   - baseline: the same raw rows read from the same SQLite chunks in key order and
 *     streamed as CSV into `psql -c '\copy … FROM STDIN'` into a fresh `samples`
 *     table of the same shape (partitioned by day), no verification.
 *
 *   ./scripts/run-bench.sh migrate               (1 simulated day: 1.44M samples)
 *   DAYS=30 ./scripts/run-bench.sh migrate       (the 30 days × 1,000 series)
 *
 * Needs `npm run build`, PostgreSQL at 127.0.0.1:5432 (db test) and psql.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sqlite3 from 'node-sqlite3-wasm';
import pg from 'pg';
import { openSqliteStore } from '../storage/sqlite-store.js';
import { ident } from '../storage/sqlite-sql.js';
import type { SeriesDef } from '../storage/store.js';
import { dropPgSchema, PG_CONN } from './lib/pg.js';
import { fmt, printTable } from './lib/stats.js';

const DAYS = Number(process.env['DAYS'] ?? 1);
const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
const URL_ = `postgres://${PG_CONN.user}@${PG_CONN.host}:${PG_CONN.port}/${PG_CONN.database}`;

function seriesDefs(): SeriesDef[] {
  const defs: SeriesDef[] = [];
  for (let i = 0; i < 600; i++) defs.push({ name: `bench_gauge_${i % 60}`, labels: { shard: String(Math.floor(i / 60)) }, type: 'gauge' });
  for (let i = 0; i < 300; i++) defs.push({ name: `bench_events_total_${i % 30}`, labels: { shard: String(Math.floor(i / 30)) }, type: 'counter' });
  for (let h = 0; h < 10; h++) {
    for (const le of ['0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '+Inf']) defs.push({ name: 'bench_latency_seconds_bucket', labels: { route: `/r${h}`, le }, type: 'histogram' });
    defs.push({ name: 'bench_latency_seconds_count', labels: { route: `/r${h}` }, type: 'histogram' });
    defs.push({ name: 'bench_latency_seconds_sum', labels: { route: `/r${h}` }, type: 'histogram' });
  }
  return defs;
}

/** Runs the built CLI; resolves with its stdout, rejects on a non-zero exit. */
function runCli(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(CLI, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`larder ${args[0]} exited ${code}: ${err}`))));
  });
}

/** The baseline: every raw row, key order, as CSV into psql's \copy. Resolves with the rows sent. */
async function copyBaseline(path: string, schema: string): Promise<number> {
  const c = new pg.Client(PG_CONN);
  await c.connect();
  await c.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".samples (series_id integer NOT NULL, ts timestamptz NOT NULL, value double precision, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts)`);
  for (let d = T0; d < T0 + (DAYS + 1) * DAY; d += DAY) {
    await c.query(`CREATE TABLE "${schema}".s_${d} PARTITION OF "${schema}".samples FOR VALUES FROM ('${new Date(d).toISOString()}') TO ('${new Date(d + DAY).toISOString()}')`);
  }
  await c.end();
  const psql = spawn('psql', ['-h', PG_CONN.host, '-U', PG_CONN.user, '-d', PG_CONN.database, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy "${schema}".samples (series_id, ts, value) FROM STDIN WITH (FORMAT csv)`], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((r) => psql.on('close', r));
  const db = new sqlite3.Database(path, { readOnly: true });
  let rows = 0;
  try {
    for (const ch of db.all("SELECT name FROM chunks WHERE logical = 'samples' ORDER BY start_ts")) {
      let after: [number, number] | undefined;
      for (;;) {
        const batch = db.all(`SELECT series_id, ts, value FROM ${ident(String(ch['name']))}${after ? ' WHERE (series_id, ts) > (?, ?)' : ''} ORDER BY series_id, ts LIMIT 10000`, after ?? []);
        if (batch.length === 0) break;
        const text = batch.map((r) => `${String(r['series_id'])},${new Date(Number(r['ts'])).toISOString()},${r['value'] === null ? 'NaN' : String(r['value'])}`).join('\n') + '\n';
        if (!psql.stdin.write(text)) await new Promise((r) => psql.stdin.once('drain', r));
        rows += batch.length;
        const last = batch[batch.length - 1]!;
        after = [Number(last['series_id']), Number(last['ts'])];
      }
    }
  } finally {
    db.close();
  }
  psql.stdin.end();
  if ((await exited) !== 0) throw new Error('psql \\copy failed');
  return rows;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-bench-migrate-'));
  const path = join(dir, 'bench.db');
  const target = `larder_bench_migrate_${process.pid}`;
  const base = `larder_bench_copy_${process.pid}`;
  try {
    const store = await openSqliteStore({ path, now: () => T0 + DAYS * DAY });
    await store.resolveSeries(seriesDefs());
    for (let day = T0; day < T0 + DAYS * DAY; day += DAY) {
      const chunk = await store.ensureChunk('samples', day);
      await store.execute(
        `WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < 1439)
         INSERT INTO ${ident(chunk.name)} (series_id, ts, value) SELECT se.id, ${day} + i * ${MIN}, ((se.id * 7 + i * 13) % 100) * 1.5 FROM series se CROSS JOIN t ORDER BY se.id, i`,
      );
    }
    await store.close();
    const env = { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: path };
    const t0 = performance.now();
    const out = await runCli(['migrate', '--to', URL_, '--to-schema', target], env);
    const migrateMs = performance.now() - t0;
    const rows = Number(/(\d+) rows read/.exec(out)?.[1] ?? 0);
    const t1 = performance.now();
    await runCli(['migrate', '--to', URL_, '--to-schema', target], env);
    const againMs = performance.now() - t1;
    const t2 = performance.now();
    const copied = await copyBaseline(path, base);
    const copyMs = performance.now() - t2;
    console.log(`\n## migrate: 1,000 series × ${DAYS} day(s) every 60 s = ${copied.toLocaleString()} raw samples (${rows.toLocaleString()} rows in all tables)`);
    printTable([
      ['run', 'seconds', 'samples/s'],
      ['larder migrate (copy + verify)', fmt(migrateMs / 1000), fmt(copied / (migrateMs / 1000), 0)],
      ['larder migrate again (nothing to copy)', fmt(againMs / 1000), '-'],
      ['baseline: read + CSV + psql \\copy', fmt(copyMs / 1000), fmt(copied / (copyMs / 1000), 0)],
    ]);
    console.log(`migrate runs at ${fmt(copyMs / migrateMs)}× the baseline's rate (goal: ≥ 0.5)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropPgSchema(target);
    await dropPgSchema(base);
  }
}

await main();
