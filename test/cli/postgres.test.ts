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
  await store.saveAlert({ name: 'TooHot', severity: 'critical', message: 'room a is hot', value: 49, labels: { alertname: 'TooHot', room: 'a' }, firedMs: now - 60_000 });
  await store.saveAlert({ name: 'TooCold', severity: 'info', message: 'cold', value: 1, labels: { alertname: 'TooCold', room: 'b' }, firedMs: now - 7_200_000 });
  await store.saveAlert({ name: 'TooCold', severity: 'info', message: 'cold', value: 1, labels: { alertname: 'TooCold', room: 'b' }, status: 'resolved', firedMs: now - 7_200_000, resolvedMs: now - 3_600_000 });
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

  const firing = await larder(['alerts', '--output', 'csv'], env);
  t.equal(firing.code, 0, firing.stderr);
  t.equal(firing.stdout, `alert,state,severity,value,fired,resolved,message\r\n"TooHot{room=""a""}",firing,critical,49,${new Date(now - 60_000).toISOString()},,room a is hot\r\n`);
  const history = await larder(['alerts', '--state', 'all', '--output', 'json'], env);
  t.equal(history.code, 0, history.stderr);
  t.same(
    history.stdout.trim().split('\n').map((l) => JSON.parse(l) as { alert: string; state: string; resolved: string | null }).map((r) => [r.alert, r.state, r.resolved]),
    [['TooHot{room="a"}', 'firing', null], ['TooCold{room="b"}', 'resolved', new Date(now - 3_600_000).toISOString()]],
    'firing and resolved within 24h, newest first',
  );
  const recent = await larder(['alerts', '--state', 'resolved', '--since', '30m'], env);
  t.equal(recent.stdout.trim().split('\n').length, 1, 'resolved an hour ago: outside --since 30m');
  const byRoom = await larder(['alerts', '--state', 'all', 'room=b', '--output', 'json'], env);
  t.match(byRoom.stdout, /^\{"alert":"TooCold\{room=\\"b\\"\}","state":"resolved"[^\n]*\}\n$/);

  const promql = await larder(['query', 'max_over_time(temp_celsius[10m])', '--output', 'json'], env);
  t.equal(promql.code, 0, promql.stderr);
  t.equal((JSON.parse(promql.stdout.trim()) as { value: number }).value, 49);

  const sql = await larder(['query', '--sql', 'SELECT count(*)::int AS n FROM samples', '--output', 'csv'], env);
  t.equal(sql.code, 0, sql.stderr);
  t.equal(sql.stdout, 'n\r\n30\r\n');
  for (const q of ['WITH gone AS (DELETE FROM samples_rows RETURNING 1) SELECT count(*) FROM gone', "SELECT nextval('series_id_seq')", 'SELECT 1; COMMIT; DELETE FROM samples_rows']) {
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
