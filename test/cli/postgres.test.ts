/**
 * The reading and maintenance commands on a PostgreSQL store (a database of the test's
 * own, since the store's schema is `public`): stats, latest, query (PromQL and SQL, a
 * write refused by the READ ONLY transaction), cleanup, optimize. Needs `npm run build`.
 */
import t from 'tap';
import pgPromise from 'pg-promise';
import { openPgStore } from '../../storage/pg-store.js';
import { need, PG } from '../helpers/peers.js';
import { larder } from './helpers.js';

t.setTimeout(10 * 60_000);

t.test('commands on PostgreSQL', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const dbName = `larder_cli_${process.pid}`;
  const pgp = pgPromise({ noWarnings: true });
  const admin = pgp({ ...PG });
  await admin.none(`CREATE DATABASE ${dbName}`);
  t.teardown(async () => {
    await admin.none(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.$pool.end();
  });
  const store = await openPgStore({ host: PG.host, port: PG.port, database: dbName, user: PG.user });
  const [id] = await store.resolveSeries([{ name: 'temp_celsius', labels: { room: 'a' }, type: 'gauge' }]);
  const now = Date.now();
  await store.writeSamples(Array.from({ length: 30 }, (_, i) => ({ seriesId: id!, timeMs: now - (29 - i) * 10_000, value: 20 + i })));
  await store.close();
  const env = { MONITORING_DB: 'postgresql', DATABASE_URL: `postgres://${PG.user}@${PG.host}:${PG.port}/${dbName}` };

  const stats = await larder(['stats', '--output', 'json'], env);
  t.equal(stats.code, 0, stats.stderr);
  const s = JSON.parse(stats.stdout) as { dialect: string; series: number; tables: { table: string; rows: number }[] };
  t.equal(s.dialect, 'postgresql');
  t.equal(s.series, 1);
  t.equal(s.tables.find((x) => x.table === 'samples')?.rows, 30);

  const latest = await larder(['latest', 'temp_celsius', 'room=a', '--output', 'csv'], env);
  t.equal(latest.code, 0, latest.stderr);
  t.match(latest.stdout, /^series,value,time\r\n"temp_celsius\{room=""a""\}",49,/);

  const promql = await larder(['query', 'max_over_time(temp_celsius[10m])', '--output', 'json'], env);
  t.equal(promql.code, 0, promql.stderr);
  t.equal((JSON.parse(promql.stdout.trim()) as { value: number }).value, 49);

  const sql = await larder(['query', '--sql', 'SELECT count(*)::int AS n FROM samples', '--output', 'csv'], env);
  t.equal(sql.code, 0, sql.stderr);
  t.equal(sql.stdout, 'n\r\n30\r\n');
  for (const q of ['WITH gone AS (DELETE FROM samples RETURNING 1) SELECT count(*) FROM gone', "SELECT nextval('series_id_seq')", 'SELECT 1; COMMIT; DELETE FROM samples']) {
    const r = await larder(['query', '--sql', q], env);
    t.equal(r.code, 2, `refused: ${q}`);
    t.match(r.stderr, /read-only|one statement/);
  }
  const check = await larder(['query', '--sql', 'SELECT count(*)::int AS n FROM samples', '--output', 'csv'], env);
  t.equal(check.stdout, 'n\r\n30\r\n', 'nothing deleted');

  const dry = await larder(['cleanup', '--retention-days', '1', '--dry-run'], env);
  t.equal(dry.code, 0, dry.stderr);
  const opt = await larder(['optimize'], env);
  t.equal(opt.code, 0, opt.stderr);
  const backup = await larder(['backup', '/tmp/never.db'], env);
  t.equal(backup.code, 2);
  t.match(backup.stderr, /for PostgreSQL use pg_dump/);
});
