/** openStore: the factory src/main.ts calls, from plain option values. */
import t from 'tap';
import { join } from 'node:path';
import { PG, need } from '../helpers/peers.js';
import { dropSchema, schemaName, tempDir } from './fixtures/stores.js';
import { openStore } from '../../storage/open-store.js';
import { FallbackStore } from '../../storage/fallback-store.js';
import { PgStore } from '../../storage/pg-store.js';
import { SqliteStore } from '../../storage/sqlite-store.js';

t.test('sqlite engine', async (t) => {
  const dir = tempDir(t);
  const s = await openStore({ engine: 'sqlite', sqlitePath: join(dir, 'data', 'monitoring.db') });
  t.teardown(() => s.close());
  t.ok(s instanceof SqliteStore);
  t.equal(s.dialect, 'sqlite');
  await s.saveMetric('m', 1);
  t.equal((await s.getLatestMetrics()).length, 1);
});

t.test('postgresql engine, with and without the spool', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const opts = { engine: 'postgresql' as const, dbHost: PG.host, dbPort: PG.port, dbName: PG.database, dbUser: PG.user, pgSchema: schema };
  const plain = await openStore({ ...opts, spoolPath: '' });
  t.ok(plain instanceof PgStore);
  await plain.close();
  const dir = tempDir(t);
  const url = `postgresql://${PG.user}@${PG.host}:${PG.port}/${PG.database}`;
  const withSpool = await openStore({ engine: 'postgresql', databaseUrl: url, pgSchema: schema, spoolPath: join(dir, 'spool.db') });
  t.teardown(() => withSpool.close());
  t.ok(withSpool instanceof FallbackStore);
  t.equal((withSpool as FallbackStore).isSpooling, false);
  await withSpool.saveMetric('m', 2, { a: 'b' });
  t.same((await withSpool.getLatestMetrics()).map((m) => [m.name, m.labels, m.value]), [['m', { a: 'b' }, 2]]);
});

t.test('bad options are refused clearly', async (t) => {
  await t.rejects(openStore({ engine: 'mysql' as 'sqlite' }), /openStore: invalid engine "mysql": expected sqlite or postgresql/);
  await t.rejects(openStore({ engine: 'sqlite', sqlitePath: '' }), /path is required \(SQLITE_DB_PATH\)/);
  await t.rejects(openStore({ engine: 'sqlite', sqlitePath: join(tempDir(t), 'x.db'), chunkMs: 5 }), /invalid chunk interval 5 ms/);
});
