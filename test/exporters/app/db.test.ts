/** pg-promise and pg against the real PostgreSQL: counts and durations per SQL verb, errors as status="error". */
import t from 'tap';
import pgPromise from 'pg-promise';
import pg from 'pg';
import type { Registry } from 'prom-client';
import { createLarder } from '../../../src/larder.js';
import { need, PG } from '../../helpers/peers.js';

type Labels = Record<string, string>;

async function value(registry: Registry, metric: string, labels: Labels, sampleName = metric): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === metric);
  const v = (m?.values as { value: number; labels: Labels; metricName?: string }[] | undefined)?.find(
    (s) => (s.metricName ?? metric) === sampleName && Object.entries(labels).every(([k, val]) => String(s.labels[k]) === val),
  );
  return v?.value ?? 0;
}

const table = `larder_dbtest_${process.pid}`;

t.test('pg-promise through its init options events', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const larder = createLarder({ collectors: [] });
  const seen: string[] = [];
  // the caller's own handlers keep working
  const pgp = pgPromise(larder.instrumentPgPromise({ query: (e: { query: unknown }) => void seen.push(String(e.query)) }));
  const db = pgp({ ...PG, max: 2 });
  t.teardown(() => pgp.end());

  await db.none(`CREATE TABLE IF NOT EXISTS ${table} (id serial primary key, title text)`);
  t.teardown(() => db.none(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined));
  for (let i = 0; i < 3; i++) await db.one(`INSERT INTO ${table} (title) VALUES ($1) RETURNING id`, [`soup ${i}`]);
  await db.any(`SELECT * FROM ${table}`);
  await db.any(`/* report */ WITH t AS (SELECT id FROM ${table}) SELECT count(*) FROM t`);
  await db.tx(async (tx) => {
    await tx.none(`UPDATE ${table} SET title = 'stew' WHERE id = 1`);
  });
  await t.rejects(db.any('SELECT * FROM larder_no_such_table'), /does not exist/);
  await t.rejects(db.one(`SELECT * FROM ${table} WHERE id = -1`), /No data returned/);
  await db.any(`SELECT pg_sleep(0.12)`);

  const r = larder.registry;
  t.equal(await value(r, 'db_queries_total', { operation: 'INSERT', status: 'ok' }), 3);
  t.equal(await value(r, 'db_queries_total', { operation: 'SELECT', status: 'ok' }), 4, 'plain, CTE, the one with no rows (the query itself succeeded), pg_sleep');
  t.equal(await value(r, 'db_queries_total', { operation: 'SELECT', status: 'error' }), 1, 'a failed query counts as an error once');
  t.equal(await value(r, 'db_queries_total', { operation: 'UPDATE', status: 'ok' }), 1);
  t.equal(await value(r, 'db_queries_total', { operation: 'BEGIN', status: 'ok' }), 1, 'transaction statements by verb');
  t.equal(await value(r, 'db_queries_total', { operation: 'COMMIT', status: 'ok' }), 1);
  t.equal(await value(r, 'db_query_duration_seconds', { operation: 'INSERT' }, 'db_query_duration_seconds_count'), 3);
  t.equal(await value(r, 'db_query_duration_seconds', { operation: 'SELECT' }, 'db_query_duration_seconds_count'), 5, 'errors are timed too');
  t.ok((await value(r, 'db_query_duration_seconds', { operation: 'SELECT' }, 'db_query_duration_seconds_sum')) >= 0.12, 'pg_sleep(0.12) shows in the sum');
  t.equal(await value(r, 'db_query_duration_seconds', { operation: 'SELECT', le: '0.1' }, 'db_query_duration_seconds_bucket'), 4, 'the slow query is above the 0.1 s bucket');
  t.ok(seen.length >= 10, 'the caller query handler still ran');
  const labels = ((await r.getMetricsAsJSON()).find((m) => m.name === 'db_queries_total')!.values as { labels: Labels }[]).map((v) => v.labels['operation']);
  for (const op of labels) t.match(op, /^[A-Z]+$/, `operation label is a verb: ${op}`);
});

t.test('pg-promise: a connection failure is an error with no duration', async (t) => {
  const larder = createLarder({ collectors: [] });
  const pgp = pgPromise(larder.instrumentPgPromise());
  const db = pgp({ host: '127.0.0.1', port: 1, database: 'x', user: 'x', connectionTimeoutMillis: 2000 });
  t.teardown(() => pgp.end());
  await t.rejects(db.any('SELECT 1'));
  t.equal(await value(larder.registry, 'db_queries_total', { operation: 'CONNECT', status: 'error' }), 1, 'counted as a CONNECT error');
  t.equal(await value(larder.registry, 'db_queries_total', { operation: 'SELECT', status: 'error' }), 0, 'no query was sent');
  t.equal(await value(larder.registry, 'db_query_duration_seconds', { operation: 'CONNECT' }, 'db_query_duration_seconds_count'), 0, 'and not timed');
});

t.test('pg Pool and Client: promise, callback and checked-out clients', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const larder = createLarder({ collectors: [] });
  const pool = larder.instrumentPg(new pg.Pool({ ...PG, max: 2 }));
  t.teardown(() => pool.end());
  await pool.query(`CREATE TABLE IF NOT EXISTS ${table}_pg (id int)`);
  t.teardown(() => pool.query(`DROP TABLE IF EXISTS ${table}_pg`).then(() => undefined, () => undefined));
  await pool.query(`INSERT INTO ${table}_pg VALUES ($1)`, [1]);
  await pool.query({ text: `INSERT INTO ${table}_pg VALUES ($1)`, values: [2] });
  await new Promise<void>((resolve, reject) => pool.query(`SELECT * FROM ${table}_pg`, (err) => (err ? reject(err) : resolve())));
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`DELETE FROM ${table}_pg WHERE id = 1`);
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
  await t.rejects(pool.query('SELEC broken'), /syntax error/);
  await new Promise<void>((resolve) => pool.query('SELECT nope FROM nowhere', () => resolve()));

  const single = larder.instrumentPg(new pg.Client(PG));
  await single.connect();
  t.teardown(() => single.end());
  await single.query('SELECT 1');

  const r = larder.registry;
  t.equal(await value(r, 'db_queries_total', { operation: 'INSERT', status: 'ok' }), 2);
  t.equal(await value(r, 'db_queries_total', { operation: 'SELECT', status: 'ok' }), 2, 'callback form and the single Client');
  t.equal(await value(r, 'db_queries_total', { operation: 'DELETE', status: 'ok' }), 1, 'a checked-out client is instrumented');
  t.equal(await value(r, 'db_queries_total', { operation: 'ROLLBACK', status: 'ok' }), 1);
  t.equal(await value(r, 'db_queries_total', { operation: 'OTHER', status: 'error' }), 1, 'a syntax error: unknown verb, error');
  t.equal(await value(r, 'db_queries_total', { operation: 'SELECT', status: 'error' }), 1, 'a callback error');
  t.equal(await value(r, 'db_query_duration_seconds', { operation: 'INSERT' }, 'db_query_duration_seconds_count'), 2);
  t.ok((await value(r, 'db_query_duration_seconds', { operation: 'INSERT' }, 'db_query_duration_seconds_sum')) > 0);
  // instrumenting twice does not count twice
  larder.instrumentPg(pool);
  await pool.query('SELECT 2');
  t.equal(await value(r, 'db_queries_total', { operation: 'SELECT', status: 'ok' }), 3);
});
