/**
 * The recipes example records its own metrics in-process through createLarder's
 * `store` (the step `larder serve` records through), into SQLite and into the real
 * PostgreSQL, and its stop() writes the last record: values changed after the first
 * record and before stop are in the store, though no tick came in between (60 s interval).
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startRecipes, type RecipesService } from '../../../examples/recipes/server.js';
import { openStore } from '../../../storage/open-store.js';
import type { Store } from '../../../storage/store.js';
import { need, PG, run } from '../../helpers/peers.js';

const SCHEMA = 'larder_test_example_recording';
const PG_URL = `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}`;

async function post(url: string, body: unknown): Promise<{ id: number }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: number };
}

/** Total of a counter over its label sets in the store's latest values. */
async function latestTotal(store: Store, name: string): Promise<number> {
  return (await store.getLatestMetrics()).filter((m) => m.name === name).reduce((sum, m) => sum + m.value, 0);
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs the example with `larderArgs`, creates one recipe before its first record and
 * three after, stops it; resolves with the recipes created in all (the counter starts at 0).
 */
async function exercise(t: Test, larderArgs: string[]): Promise<{ created: number; run: string }> {
  const service: RecipesService = await startRecipes({ port: 0, larderArgs: ['--log.level=warn', ...larderArgs] });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : service.stop()));
  const store = service.larder.store;
  t.ok(store, 'the store is open while the service runs');
  const run = Math.random().toString(36).slice(2, 8);
  const user = await post(`${service.url}/api/users`, { name: `rec-${run}` });
  await post(`${service.url}/api/recipes`, { userId: user.id, title: `soup ${run}`, category: 'soup' });
  // the first record comes about 1 s after start(), then none for 60 s
  await until('the first record', async () => (await store!.getLatestMetrics()).some((m) => m.name === 'larder_recorder_batches_total'));
  const before = await latestTotal(store!, 'recipes_created_total');
  for (let i = 0; i < 3; i++) await post(`${service.url}/api/recipes`, { userId: user.id, title: `stew ${run} ${i}`, category: 'main' });
  t.ok(before <= 1, `the first record holds at most the first recipe (${before})`);
  t.equal(await latestTotal(store!, 'recipes_created_total'), before, 'no record between the first and stop()');
  stopped = true;
  await service.stop();
  t.equal(service.larder.store, undefined, 'the store is closed once the service has stopped');
  return { created: 4, run };
}

t.test('the example records its own metrics into SQLite; stop() writes the last record', async (t) => {
  if (!(await need(t, 'postgres')) || !(await need(t, 'redis'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'larder-example-rec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'recipes.db');
  const { created } = await exercise(t, [`--storage.sqlite-path=${db}`, `--storage.spool-path=${join(dir, 'spool.db')}`]);

  const store = await openStore({ engine: 'sqlite', sqlitePath: db });
  t.teardown(() => store.close());
  t.equal(await latestTotal(store, 'recipes_created_total'), created, `recipes_created_total ${created}`);
  const main = (await store.getLatestMetrics()).find((m) => m.name === 'recipes_created_total' && m.labels['category'] === 'main');
  t.equal(main?.value, 3, 'by label set');
  const sql = await store.query<{ n: number }>("SELECT count(*) AS n FROM latest_metrics WHERE metric_name = 'db_queries_total'");
  t.ok(Number(sql[0]!.n) >= 1, 'db_queries_total recorded (read through SQL)');
  const processSeries = await store.query<{ n: number }>("SELECT count(*) AS n FROM series WHERE name = 'process_cpu_user_seconds_total'");
  t.equal(Number(processSeries[0]!.n), 1, 'and the process collector');
  await store.close();
  if (await need(t, 'sqlite3')) {
    const out = run('sqlite3', [`file:${db}?vfs=unix-dotfile`, "SELECT sum(value) FROM latest_metrics WHERE metric_name = 'recipes_created_total'"]).trim();
    t.equal(Number(out), created, 'the sqlite3 CLI reads the same total');
  }
});

t.test('the example records its own metrics into PostgreSQL; stop() writes the last record', async (t) => {
  if (!(await need(t, 'postgres')) || !(await need(t, 'redis'))) return;
  // a plain pg client: the example's stop() ends every pg-promise pool of the process
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  t.teardown(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  });
  const dir = mkdtempSync(join(tmpdir(), 'larder-example-rec-pg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { created } = await exercise(t, [
    '--storage.engine=postgresql',
    `--storage.database-url=${PG_URL}`,
    `--storage.pg-schema=${SCHEMA}`,
    `--storage.spool-path=${join(dir, 'spool.db')}`,
  ]);

  const store = await openStore({ engine: 'postgresql', databaseUrl: PG_URL, pgSchema: SCHEMA, spoolPath: '' });
  t.teardown(() => store.close());
  t.equal(await latestTotal(store, 'recipes_created_total'), created, `through the store: recipes_created_total ${created}`);
  const { rows } = await admin.query<{ category: string; value: number }>(
    `SELECT labels->>'category' AS category, value FROM ${SCHEMA}.latest_metrics WHERE metric_name = 'recipes_created_total' ORDER BY 1`,
  );
  t.equal(rows.reduce((s, r) => s + Number(r.value), 0), created, 'through SQL: the same total');
  t.equal(Number(rows.find((r) => r.category === 'main')?.value), 3, 'by label set');
  const db = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.series WHERE name = 'db_queries_total'`);
  t.ok(Number(db.rows[0]!.n) >= 1, 'db_queries_total recorded');
});
