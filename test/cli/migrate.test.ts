/**
 * `larder migrate` into the real PostgreSQL (a schema per run): counts, checksums and
 * a sample of values equal on both sides; a second run writes nothing; a run killed
 * with SIGKILL half-way and resumed ends identical to an uninterrupted one.
 * Needs `npm run build`.
 */
import { join } from 'node:path';
import t from 'tap';
import pgPromise from 'pg-promise';
import sqlite3 from 'node-sqlite3-wasm';
import { hostname } from 'node:os';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { staleNaN } from '../../storage/stale.js';
import { need, PG } from '../helpers/peers.js';
import { larder, startCli, tempDir } from './helpers.js';

t.setTimeout(20 * 60_000);

const PG_URL = `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}`;
const DAY = 86_400_000;
const SERIES = 60;
const STEP = 120_000; // one sample per series every 2 minutes
const DAYS = 4;

/** A store of DAYS days: raw chunks, a 5m tier with its quantiles, watermarks, carry, alerts, summaries, raw rows, hourly rows. */
async function buildStore(path: string, end: number): Promise<void> {
  const store = await openSqliteStore({ path });
  try {
    const ids = await store.resolveSeries(
      Array.from({ length: SERIES }, (_, i) => ({ name: i % 2 ? 'req_total' : 'temp_celsius', labels: { i: String(i) }, type: i % 2 ? ('counter' as const) : ('gauge' as const) })),
    );
    const start = end - DAYS * DAY;
    let batch: { seriesId: number; timeMs: number; value: number }[] = [];
    for (let ts = start; ts < end; ts += STEP) {
      for (const [k, id] of ids.entries()) {
        const n = (ts - start) / STEP;
        // NaN and ±Inf among the values: they must survive the trip.
        // and one stale marker (a zero-length BLOB on SQLite, NULL on PostgreSQL)
        const value = n === 11 && k === 2 ? staleNaN() : n % 997 === 5 && k === 0 ? Number.NaN : n % 991 === 7 && k === 1 ? Number.POSITIVE_INFINITY : k % 2 ? n * (k + 1) : Math.sin(n / 17 + k) * 40.123456789;
        batch.push({ seriesId: id, timeMs: ts, value });
      }
      if (batch.length >= 20_000) {
        await store.writeSamples(batch);
        batch = [];
      }
    }
    if (batch.length) await store.writeSamples(batch);
    await store.ensureRollupTier({ tier: '5m', chunkMs: DAY });
    for (let day = 0; day < DAYS; day++) {
      const at = start + day * DAY;
      const c = await store.ensureChunk('rollup_5m', at);
      const q = await store.ensureChunk('rollup_5m_quantiles', at);
      await store.transaction(async (tx) => {
        for (const id of ids.slice(0, 10)) {
          for (let b = c.startMs; b < c.startMs + 6 * 3_600_000; b += 300_000) {
            await tx.execute(`INSERT INTO "${c.name}" (series_id, ts, count, sum, min, max, first, last, increase) VALUES (?, ?, 3, ?, 0.5, 9.25, 1, 2, ?)`, [id, b, b / 1e9, id % 2 ? 7 : null]);
          }
          await tx.execute(`INSERT INTO "${q.name}" (series_id, ts, count, sum, p50, p95, p99) VALUES (?, ?, 10, 55.5, 0.25, 0.9, 0.99)`, [id, c.startMs]);
        }
      });
    }
    await store.execute('INSERT INTO rollup_watermarks (tier, watermark_ms) VALUES (?, ?)', ['5m', end - DAY]);
    await store.execute('CREATE TABLE IF NOT EXISTS rollup_carry (tier TEXT NOT NULL, series_id BIGINT NOT NULL, ts BIGINT NOT NULL, last DOUBLE PRECISION, PRIMARY KEY (tier, series_id))');
    await store.execute('INSERT INTO rollup_carry (tier, series_id, ts, last) VALUES (?, ?, ?, ?)', ['5m', ids[1]!, end - DAY - 1000, 42]);
    await store.saveAlert({ name: 'HighTemp', severity: 'warning', message: 'too hot', value: 91.5, threshold: 90, labels: { i: '0' }, firedMs: end - 3_600_000 });
    await store.saveAlert({ name: 'Down', severity: 'critical', message: 'down', status: 'resolved', firedMs: end - 7_200_000, resolvedMs: end - 3_000_000 });
    await store.saveDailySummary('2026-01-09', { date: '2026-01-09', metrics: { temp_celsius: { min: 1, max: 2 } } });
    await store.saveRawMetrics('system', { cpu: 0.5, nested: { a: [1, 2] } });
    await store.execute('INSERT INTO metrics_hourly (series_id, ts, metric_name, labels, avg, min, max, count, increase, rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      ids[0]!, end - 3_600_000, 'temp_celsius', '{"i":"0"}', 1.5, 1, 2, 30, null, null,
    ]);
  } finally {
    await store.close();
  }
}

/** A digest of every table of a schema as it would be compared: table → md5 of its rows (catalog times left out). */
async function schemaDigest(db: pgPromise.IDatabase<unknown>, schema: string): Promise<Record<string, string>> {
  const tables = await db.map<string>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
    [schema],
    (r: { relname: string }) => r.relname,
  );
  const out: Record<string, string> = {};
  for (const table of tables) {
    if (table === 'schema_migrations') continue;
    const cols = table === 'chunks' ? 'name, logical, start_ts, end_ts' : table === 'larder_migrate_progress' ? 'item, rows, checksum' : '*';
    const r = await db.one<{ n: string; h: string | null }>(`SELECT count(*) AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM (SELECT ${cols} FROM "${schema}"."${table}") x`);
    out[table] = `${r.n}:${r.h}`;
  }
  return out;
}

t.test('migrate into PostgreSQL', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const dir = tempDir(t);
  const path = join(dir, 'source.db');
  const end = Math.floor(Date.now() / DAY) * DAY + 6 * 3_600_000;
  await buildStore(path, end);
  const env = { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: path };
  const pgp = pgPromise({ noWarnings: true });
  const pg = pgp({ ...PG });
  const a = `cli_migrate_a_${process.pid}`;
  const b = `cli_migrate_b_${process.pid}`;
  t.teardown(async () => {
    await pg.none(`DROP SCHEMA IF EXISTS ${a} CASCADE; DROP SCHEMA IF EXISTS ${b} CASCADE`);
    await pg.$pool.end();
  });

  const first = await larder(['migrate', '--to', PG_URL, '--to-schema', a, '--batch', '5000'], env);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /chunks \((\d+) copied and verified, 0 already there\)/);

  await t.test('counts, checksums and sampled values equal on both sides', async (t) => {
    const src = new sqlite3.Database(path, { readOnly: true });
    t.teardown(() => src.close());
    const chunks = src.all('SELECT logical, name, start_ts, end_ts FROM chunks ORDER BY logical, start_ts');
    t.ok(chunks.filter((c) => c['logical'] === 'samples').length >= DAYS, 'several raw chunks');
    for (const c of chunks) {
      const s = src.get(`SELECT COUNT(*) AS n, TOTAL(CASE WHEN ${c['logical'] === 'samples' ? 'value' : 'count'} BETWEEN -1e300 AND 1e300 THEN ${c['logical'] === 'samples' ? 'value' : 'count'} END) AS s FROM "${String(c['name'])}"`)!;
      const col = c['logical'] === 'samples' ? 'value' : 'count';
      const p = await pg.one<{ n: number; s: number }>(
        `SELECT COUNT(*)::int AS n, COALESCE(SUM(CASE WHEN ${col} BETWEEN -1e300 AND 1e300 THEN ${col} END), 0)::float8 AS s FROM ${a}."${String(c['logical'])}" WHERE ts >= to_timestamp($1::float8 / 1000) AND ts < to_timestamp($2::float8 / 1000)`,
        [c['start_ts'], c['end_ts']],
      );
      t.equal(p.n, Number(s['n']), `${String(c['name'])}: rows`);
      t.ok(Math.abs(p.s - Number(s['s'])) <= 1e-9 * Math.max(1, Math.abs(Number(s['s']))), `${String(c['name'])}: sum of values`);
    }
    const progress = await pg.one<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${a}.larder_migrate_progress`);
    t.equal(progress.n, chunks.length, 'a verified checksum recorded per chunk');
    // A sample of raw values, NaN and +Inf included.
    const sampled = src.all(`SELECT series_id, ts, value FROM samples_all WHERE (ts / ${STEP}) % 97 = 3 OR value IS NULL OR value > 1e308 ORDER BY series_id, ts LIMIT 400`);
    t.ok(sampled.some((r) => r['value'] === null), 'a NaN is in the sample');
    t.ok(sampled.some((r) => r['value'] === Infinity), 'an +Inf is in the sample');
    let equal = 0;
    for (const r of sampled) {
      const p = await pg.one<{ v: number }>(`SELECT value AS v FROM ${a}.samples WHERE series_id = $1 AND ts = to_timestamp($2::float8 / 1000)`, [r['series_id'], r['ts']]);
      const want = r['value'] === null ? Number.NaN : Number(r['value']);
      if (Object.is(p.v, want)) equal++;
      else t.fail(`series ${String(r['series_id'])} at ${String(r['ts'])}: ${p.v} != ${want}`);
    }
    t.equal(equal, sampled.length, `${sampled.length} sampled values equal`);
    const stale = await pg.manyOrNone<{ id: number }>(`SELECT series_id AS id FROM ${a}.samples WHERE value IS NULL`);
    t.same(stale.map((r) => Number(r.id)), [3], 'the stale marker arrives as PostgreSQL keeps one (NULL)');
    const hosts = await pg.manyOrNone<{ h: string }>(`SELECT DISTINCT host AS h FROM ${a}.series UNION SELECT DISTINCT host FROM ${a}.rollup_watermarks`);
    t.same(hosts.map((r) => r.h), [hostname()], 'series and watermarks belong to the migrating host (--instance), which rolls them up next');
    for (const [table, n] of [['series', SERIES], ['alert_history', 2], ['daily_summaries', 1], ['metrics_raw', 1], ['metrics_hourly', 1], ['rollup_watermarks', 1], ['rollup_carry', 1], ['series_latest', SERIES]] as const) {
      t.equal((await pg.one<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${a}.${table}`)).n, n, `${table} rows`);
    }
    const alert = await pg.one<{ labels: unknown; fired: number }>(`SELECT labels, extract(epoch from fired_at) * 1000 AS fired FROM ${a}.alert_history WHERE name = 'HighTemp'`);
    t.same(alert.labels, { i: '0' }, 'labels as jsonb');
    t.equal(Number(alert.fired), end - 3_600_000, 'times as timestamptz');
    const w = await pg.one<{ w: string }>(`SELECT watermark_ms AS w FROM ${a}.rollup_watermarks WHERE tier = '5m'`);
    t.equal(Number(w.w), end - DAY);
    const next = await pg.one<{ id: number }>(`INSERT INTO ${a}.alert_history (name, severity, message, labels, status, fired_at) VALUES ('x', 'info', 'm', '{}', 'firing', now()) RETURNING id`);
    t.equal(next.id, 3, 'identity continues after the copied ids');
    await pg.none(`DELETE FROM ${a}.alert_history WHERE id = 3`);
  });

  await t.test('a second run changes nothing', async (t) => {
    const before = await schemaDigest(pg, a);
    const xid = Number((await pg.one<{ x: string }>('SELECT txid_current()::text AS x')).x);
    const again = await larder(['migrate', '--to', PG_URL, '--to-schema', a, '--batch', '5000'], env);
    t.equal(again.code, 0, again.stderr);
    t.match(again.stdout, /chunks \(0 copied and verified, \d+ already there\), .* 0 rows written/);
    t.same(await schemaDigest(pg, a), before, 'same content');
    for (const table of ['samples_rows', 'samples_packed', 'rollup_5m_rows', 'rollup_5m_packed', 'series', 'series_latest', 'alert_history', 'metrics_hourly', 'daily_summaries', 'metrics_raw']) {
      const n = await pg.one<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${a}.${table} WHERE xmin::text::bigint > $1`, [xid % 2 ** 32]);
      t.equal(n.n, 0, `no row of ${table} rewritten`);
    }
  });

  await t.test('a chunk partly in the target and not recorded: merged into what is there, ends identical', async (t) => {
    const before = await schemaDigest(pg, a);
    const src = new sqlite3.Database(path, { readOnly: true });
    const c = src.get("SELECT name, start_ts, end_ts FROM chunks WHERE logical = 'samples' AND start_ts <= ? AND end_ts > ?", [end - 2 * DAY, end - 2 * DAY])!;
    src.close();
    const range = 'ts >= to_timestamp($1::float8 / 1000) AND ts < to_timestamp($2::float8 / 1000)';
    await pg.none(`DELETE FROM ${a}.larder_migrate_progress WHERE item = $1`, [`chunk:samples:${String(c['name'])}`]);
    const gone = await pg.result(`DELETE FROM ${a}.samples_rows WHERE ${range} AND series_id % 2 = 0`, [c['start_ts'], c['end_ts']]);
    const changed = await pg.result(`UPDATE ${a}.samples_rows SET value = 12345 WHERE ${range} AND series_id = 1 AND value <> 'NaN'`, [c['start_ts'], c['end_ts']]);
    t.ok(gone.rowCount > 0 && changed.rowCount > 0, `${gone.rowCount} rows deleted, ${changed.rowCount} changed`);
    const r = await larder(['migrate', '--to', PG_URL, '--to-schema', a], env);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`chunks \\(1 copied and verified, \\d+ already there\\), .* ${gone.rowCount + changed.rowCount} rows written`), 'only the missing and changed rows written');
    t.same(await schemaDigest(pg, a), before, 'identical to before');
  });

  await t.test('killed with SIGKILL half-way, resumed: identical to the uninterrupted run', async (t) => {
    const run = startCli(['migrate', '--to', PG_URL, '--to-schema', b, '--batch', '500'], env);
    // Wait until some but not all chunks are recorded as done, then kill.
    const total = (await pg.one<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${a}.larder_migrate_progress`)).n;
    let done = 0;
    for (let i = 0; i < 2400 && run.child.exitCode === null; i++) {
      try {
        done = (await pg.one<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${b}.larder_migrate_progress`)).n;
      } catch {
        done = 0; // not created yet
      }
      if (done >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    run.child.kill('SIGKILL');
    const killed = await run.done;
    t.equal(killed.signal, 'SIGKILL', 'killed before it finished');
    const atKill = (await pg.one<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${b}.larder_migrate_progress`)).n;
    t.ok(atKill >= 2 && atKill < total, `killed half-way (${atKill} of ${total} chunks done)`);
    const resumed = await larder(['migrate', '--to', PG_URL, '--to-schema', b, '--batch', '5000'], env);
    t.equal(resumed.code, 0, resumed.stderr);
    const m = /chunks \((\d+) copied and verified, (\d+) already there\)/.exec(resumed.stdout);
    t.ok(m && Number(m[2]) >= atKill, `resumed: the chunks done before are skipped (${resumed.stdout.trim()})`);
    t.same(await schemaDigest(pg, b), await schemaDigest(pg, a), 'every table identical to the uninterrupted run');
  });
});

t.test('beside a running Larder: the samples still in its raw-sample head are copied too', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const dir = tempDir(t);
  const path = join(dir, 'running.db');
  const store = await openSqliteStore({ path });
  t.teardown(() => store.close());
  const ids = await store.resolveSeries(Array.from({ length: 5 }, (_, i) => ({ name: 'head_gauge', labels: { i: String(i) }, type: 'gauge' as const })));
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
  // Record ticks as the recorder does: one sample per series each, into the head.
  for (let k = 0; k < 20; k++) await store.writeSamples(ids.map((id, i) => ({ seriesId: id, timeMs: t0 + k * 15_000, value: k * 10 + i })));
  const inHead = await store.query<{ n: number }>('SELECT (SELECT COUNT(*) FROM samples_head_a) + (SELECT COUNT(*) FROM samples_head_b) AS n');
  t.ok(Number(inHead[0]!.n) > 0, `the store holds samples in its head (${inHead[0]!.n})`);
  const schema = `cli_migrate_head_${process.pid}`;
  const pgp = pgPromise({ noWarnings: true });
  const pg = pgp({ ...PG });
  t.teardown(async () => {
    await pg.none(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pg.$pool.end();
  });
  const r = await larder(['migrate', '--to', PG_URL, '--to-schema', schema], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: path });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /samples_head|not copied/, 'no table of the head reported as not copied');
  const n = await pg.one<{ n: number; s: number }>(`SELECT COUNT(*)::int AS n, SUM(value)::float8 AS s FROM ${schema}.samples`);
  t.same([n.n, n.s], [100, ids.reduce((s, _, i) => s + Array.from({ length: 20 }, (_, k) => k * 10 + i).reduce((a, b) => a + b, 0), 0)], 'every sample of the head arrived, with its value');
});
