/**
 * The `postgres` collector against the real PostgreSQL: its figures agree with what
 * psql reads (counters bracketed by a psql read before and after), a server that does
 * not answer is `pg_up 0` with a clean exposition, and a refused login is logged once
 * without the password.
 */
import t from 'tap';
import pg from 'pg';
import { postgresCollector } from '../../exporters/postgres-server.js';
import { collectSnapshot } from '../../src/exposition/snapshot.js';
import { toPrometheusText } from '../../src/exposition/format.js';
import { need, PG, promtoolCheckMetrics, run } from '../helpers/peers.js';
import { harness, samples, value } from './helpers.js';

const URL_OK = `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}`;
const SERVER = `${PG.host}:${PG.port}`;

/** One psql value (unaligned, tuples only). */
function psql(sql: string): string {
  return run('psql', ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', PG.database, '-XAtc', sql]).trim();
}

const COUNTERS = ['xact_commit', 'xact_rollback', 'blks_hit', 'blks_read', 'deadlocks', 'temp_files', 'temp_bytes'] as const;

function psqlCounters(): Record<string, number> {
  const row = psql(`SELECT ${COUNTERS.join(', ')} FROM pg_stat_database WHERE datname = '${PG.database}'`).split('|');
  return Object.fromEntries(COUNTERS.map((c, i) => [c, Number(row[i])]));
}

t.test('agrees with psql', async (t) => {
  if (!(await need(t, 'postgres')) || !(await need(t, 'psql'))) return;
  // a transaction left open, so the longest-transaction figure has something known to measure
  const idle = new pg.Client({ ...PG, application_name: 'larder-test-open-tx' });
  await idle.connect();
  t.teardown(() => idle.end());
  const beforeBegin = Date.now();
  await idle.query('BEGIN; SELECT 1');
  const afterBegin = Date.now();
  // a temporary file, so temp_files/temp_bytes move
  psql("SET work_mem = '64kB'; SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY g DESC) s");
  await new Promise((r) => setTimeout(r, 1100));

  const h = harness([postgresCollector], { postgresTargets: [URL_OK] });
  t.teardown(() => h.stop());
  const before = psqlCounters();
  const collectStart = Date.now();
  const f = await h.collect();
  const collectEnd = Date.now();
  const after = psqlCounters();

  t.equal(value(f, 'larder_collector_success', { collector: 'postgres' }), 1);
  t.equal(value(f, 'pg_up', { server: SERVER }), 1, 'pg_up 1');
  t.equal(value(f, 'pg_settings_max_connections', { server: SERVER }), Number(psql('SHOW max_connections')), 'max_connections as SHOW says');
  const version = samples(f, 'pg_static', { server: SERVER })[0]!;
  t.equal(version.labels['version'], psql('SELECT version()'), 'pg_static version');
  t.match(version.labels['short_version'], new RegExp(`^${psql('SHOW server_version').split(/[ .]/)[0]}\\.\\d+\\.\\d+$`), 'short_version');

  const db = { server: SERVER, datname: PG.database };
  for (const c of COUNTERS) {
    const ours = value(f, `pg_stat_database_${c}`, db)!;
    t.ok(ours >= before[c]! && ours <= after[c]!, `pg_stat_database_${c} ${ours} within psql's [${before[c]}, ${after[c]}]`);
  }
  t.ok(after['temp_files']! > 0, 'the sort spilled to a temporary file');
  const hit = value(f, 'pg_stat_database_blks_hit', db)!;
  const read = value(f, 'pg_stat_database_blks_read', db)!;
  const psqlRatio = after['blks_hit']! / (after['blks_hit']! + after['blks_read']!);
  t.ok(Math.abs(hit / (hit + read) - psqlRatio) < 0.01, `cache hit ratio ${hit / (hit + read)} ≈ psql's ${psqlRatio}`);

  const size = value(f, 'pg_database_size_bytes', { server: SERVER, datname: PG.database })!;
  const psqlSize = Number(psql(`SELECT pg_database_size('${PG.database}')`));
  // other tests write to the same database meanwhile
  t.ok(Math.abs(size - psqlSize) <= Math.max(0.05 * psqlSize, 8 * 1024 * 1024), `database size ${size} ≈ psql's ${psqlSize}`);

  const openTx = { server: SERVER, datname: PG.database, state: 'idle in transaction' };
  t.ok(value(f, 'pg_stat_activity_count', openTx)! >= 1, 'the open transaction is counted');
  const maxTx = value(f, 'pg_stat_activity_max_tx_duration', openTx)!;
  const low = (collectStart - afterBegin) / 1000 - 0.05;
  const high = (collectEnd - beforeBegin) / 1000 + 0.05;
  t.ok(maxTx >= low && maxTx <= high, `longest transaction ${maxTx}s within [${low}, ${high}]`);
  const states = samples(f, 'pg_stat_activity_count', { server: SERVER, datname: PG.database }).map((s) => s.labels['state']);
  t.same(states.sort(), ['active', 'disabled', 'fastpath function call', 'idle', 'idle in transaction', 'idle in transaction (aborted)'], 'every state, 0 when empty');
  t.equal(value(f, 'pg_replication_lag_seconds', { server: SERVER }), 0, 'no replication here: lag 0, as postgres_exporter reports on a primary');
  t.equal(value(f, 'pg_replication_is_replica', { server: SERVER }), 0);

  t.equal(Number(psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'larder'") ) >= 1, true, 'its connection is named larder');
  t.equal(h.log.warnings.length, 0, 'nothing logged');
  const text = toPrometheusText((await collectSnapshot(h.registry)).families);
  const check = promtoolCheckMetrics(text);
  // the one lint is the name postgres_exporter gives and its dashboards query: kept on purpose
  const problems = check.output.split('\n').filter((l) => l !== '' && !/^pg_stat_activity_count non-histogram and non-summary metrics should not have "_count" suffix$/.test(l));
  t.same(problems, [], `promtool check metrics finds nothing else (${check.output})`);
});

t.test('one connection, kept between updates, read-only', async (t) => {
  if (!(await need(t, 'postgres')) || !(await need(t, 'psql'))) return;
  const h = harness([postgresCollector], { postgresTargets: [`${URL_OK}?application_name=larder-test-one-conn`] });
  t.teardown(() => h.stop());
  for (let i = 0; i < 3; i++) await h.collect();
  const conns = psql("SELECT count(*) || ' ' || min(backend_start) FROM pg_stat_activity WHERE application_name = 'larder-test-one-conn'");
  t.equal(conns.split(' ')[0], '1', `one connection after three updates (${conns})`);
  // the session runs with default_transaction_read_only: a write through the same settings is refused
  const c = new pg.Client({ ...PG, options: '-c default_transaction_read_only=on' });
  await c.connect();
  t.teardown(() => c.end());
  await t.rejects(c.query('CREATE TEMP TABLE larder_ro_probe (x int)'), /read-only transaction/, 'the startup options the collector sends make writes fail');
});

t.test('a server that does not answer: pg_up 0, a clean exposition, logged once', async (t) => {
  const h = harness([postgresCollector], { postgresTargets: [`postgres://${PG.user}@127.0.0.1:1/${PG.database}`] });
  t.teardown(() => h.stop());
  let f = await h.collect();
  f = await h.collect();
  f = await h.collect();
  t.equal(value(f, 'pg_up', { server: '127.0.0.1:1' }), 0, 'pg_up 0');
  t.equal(value(f, 'larder_collector_success', { collector: 'postgres' }), 1, 'the collector itself worked');
  t.equal(samples(f, 'pg_stat_database_xact_commit').length, 0, 'no stale server series');
  t.equal(h.log.warnings.length, 1, `one warning for three updates: ${h.log.warnings.join(' | ')}`);
  t.match(h.log.warnings[0], /ECONNREFUSED/);
  const text = toPrometheusText((await collectSnapshot(h.registry)).families);
  t.match(text, /^pg_up\{server="127\.0\.0\.1:1"\} 0$/m);
});

t.test('two targets naming one server are refused (its statistics cover every database)', async (t) => {
  t.throws(() => harness([postgresCollector], { postgresTargets: [URL_OK, `postgres://other@${PG.host}:${PG.port}/postgres`] }), /two targets name the server 127\.0\.0\.1:5432/);
});

t.test('refused credentials: one clear line, no password ', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const secret = 's3cret-Pw-never-logged';
  const h = harness([postgresCollector], { postgresTargets: [`postgres://larder_no_such_role:${secret}@${PG.host}:${PG.port}/${PG.database}`] });
  t.teardown(() => h.stop());
  let f = await h.collect();
  for (let i = 0; i < 3; i++) f = await h.collect();
  t.equal(value(f, 'pg_up', { server: SERVER }), 0);
  t.equal(h.log.warnings.length, 1, 'one line for four updates');
  t.match(h.log.warnings[0], /larder_no_such_role/, 'names the user');
  t.match(h.log.warnings[0], /28000|28P01/, 'with the SQLSTATE');
  t.match(h.log.warnings[0], /user or password of this target is wrong/, 'and what to change');
  t.notMatch(h.log.warnings.join('\n'), secret, 'never the password');
});
