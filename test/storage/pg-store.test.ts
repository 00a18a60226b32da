/** PostgreSQL specifics: migrations, partitions ahead of time, the seed's queries through psql. */
import t from 'tap';
import { PG, need, run } from '../helpers/peers.js';
import { dropSchema, schemaName } from './fixtures/stores.js';
import { openPgStore } from '../../storage/pg-store.js';
import { PG_MIGRATIONS } from '../../storage/pg-sql.js';

const T0 = Date.UTC(2026, 0, 10, 12);
const psql = (schema: string, sql: string): string =>
  run('psql', ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', PG.database, '-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-c', `SET search_path = ${schema}; ${sql}`]).trim();

t.test('migrations: from empty, re-run is a no-op, a newer schema is refused untouched', async (t) => {
  if (!(await need(t, 'postgres')) || !(await need(t, 'psql'))) return;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const s1 = await openPgStore({ ...PG, schema, now: () => T0 });
  t.equal(s1.schemaVersion, PG_MIGRATIONS.at(-1)!.version);
  t.same(await s1.query('SELECT version, name FROM schema_migrations'), PG_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  // partitions ahead of time: today and tomorrow, as real partitions of samples_rows (the row table behind the samples view)
  t.equal(psql(schema, `SELECT count(*) FROM pg_inherits WHERE inhparent = '${schema}.samples_rows'::regclass`), '2');
  await s1.close();
  const s2 = await openPgStore({ ...PG, schema, now: () => T0 });
  t.equal(Number((await s2.query<{ n: string }>('SELECT COUNT(*) AS n FROM schema_migrations'))[0]!.n), PG_MIGRATIONS.length, 're-run applied nothing');
  await s2.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
  await s2.close();
  const tables = psql(schema, `SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = '${schema}'`);
  await t.rejects(openPgStore({ ...PG, schema }), { name: 'NewerSchemaError', message: new RegExp(`schema version 99, newer than this Larder knows \\(${PG_MIGRATIONS.at(-1)!.version}\\)`) });
  t.equal(psql(schema, `SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = '${schema}'`), tables, 'nothing created or dropped');
  await t.rejects(openPgStore({ ...PG, schema: 'Bad-Schema' }), /invalid schema "Bad-Schema"/);
});

t.test("the seed's queries through psql", async (t) => {
  if (!(await need(t, 'postgres')) || !(await need(t, 'psql'))) return;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  let now = T0;
  const s = await openPgStore({ ...PG, schema, now: () => now });
  t.teardown(() => s.close());
  await s.saveMetric('cpu_usage', 12.5, { core: '0' });
  now += 60_000;
  await s.saveMetric('cpu_usage', 13.5, { core: '0' });
  await s.saveMetric('memory_used_bytes', Number.POSITIVE_INFINITY, {});
  await s.saveRawMetrics('system', { a: 1 });
  await s.saveRawMetrics('system', { a: 2 });
  await s.saveAlert({ name: 'HighCPU', severity: 'warning', message: 'hot' });
  t.equal(
    psql(schema, "SET TIME ZONE 'UTC'; SELECT metric_name, labels, value, ts FROM latest_metrics ORDER BY metric_name"),
    ['cpu_usage|{"core": "0"}|13.5|2026-01-10 12:01:00+00', 'memory_used_bytes|{}|Infinity|2026-01-10 12:01:00+00'].join('\n'),
  );
  t.equal(psql(schema, 'SELECT COUNT(*) FROM metrics_raw'), '2');
  t.equal(psql(schema, 'SELECT COUNT(*) FROM system_metrics'), '3');
  t.equal(psql(schema, 'SELECT name, severity, status FROM active_alerts'), 'HighCPU|warning|firing');
  // Grafana's PostgreSQL macros work on ts as is
  t.equal(psql(schema, "SELECT labels->>'core', value FROM system_metrics WHERE metric_name = 'cpu_usage' AND ts BETWEEN '2026-01-10T12:00:00Z' AND '2026-01-10T12:00:30Z'"), '0|12.5');
});
