/** Storage options: an empty LARDER_SPOOL_PATH turns the spool off, as the empty flag does. */
import t from 'tap';
import { loadConfig } from '../../../src/config.js';

const load = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv, env, readFile: () => '' }).config;

t.test('spool path: empty means none, from the flag and from the environment', async (t) => {
  t.equal(load([]).storage.spoolPath, 'data/spool.db', 'default');
  t.equal(load(['--storage.spool-path=']).storage.spoolPath, '', 'empty flag: no spool');
  t.equal(load([], { LARDER_SPOOL_PATH: '' }).storage.spoolPath, '', 'empty variable: no spool');
  t.equal(load([], { LARDER_SPOOL_PATH: '/x/s.db' }).storage.spoolPath, '/x/s.db');
  t.equal(load(['--storage.spool-path=/y.db'], { LARDER_SPOOL_PATH: '' }).storage.spoolPath, '/y.db', 'the flag still wins');
  // Other options keep treating an empty variable as unset.
  t.equal(load([], { SQLITE_DB_PATH: '' }).storage.sqlitePath, 'data/monitoring.db');
});

t.test('PostgreSQL write timeout', async (t) => {
  t.equal(load([]).storage.pgWriteTimeout, 5000, 'a few seconds by default');
  t.equal(load(['--storage.pg-write-timeout=2s']).storage.pgWriteTimeout, 2000);
  t.equal(load([], { LARDER_PG_WRITE_TIMEOUT: '500ms' }).storage.pgWriteTimeout, 500);
  t.throws(() => load(['--storage.pg-write-timeout=0s']), /pg-write-timeout/);
});

t.test('PostgreSQL schema', async (t) => {
  t.equal(load([]).storage.pgSchema, 'public', 'default');
  t.equal(load(['--storage.pg-schema=larder_web1']).storage.pgSchema, 'larder_web1');
  t.equal(load([], { LARDER_PG_SCHEMA: 'metrics' }).storage.pgSchema, 'metrics');
  t.throws(() => load(['--storage.pg-schema=Bad-Name']), /invalid value "Bad-Name" for --storage.pg-schema: expected a lower-case SQL identifier/);
});
