/**
 * createLarder's `store` and `record`: settings checked as their flags are, the store
 * open from start() to stop() with the seed's operations on it, the registry recorded,
 * and the store's API reachable from the public entry and the `larder-metrics/storage` subpath.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as api from '../../src/index.js';
import { createLarder } from '../../src/larder.js';
import { silentLogger } from '../../src/log.js';
import { openStore } from '../../storage/open-store.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'larder-lib-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('store and record settings are checked as their flags are, naming them', async (t) => {
  t.throws(() => createLarder({ store: { retentionDays: 0 } }), { name: 'ConfigError', message: /invalid value "0" for store\.retentionDays \(--storage\.retention-days\): expected an integer from 1/ });
  t.throws(() => createLarder({ store: { engine: 'mysql' as 'sqlite' } }), /invalid value "mysql" for store\.engine \(--storage\.engine\): expected one of sqlite, postgresql, none/);
  t.throws(() => createLarder({ store: { sqlitePth: 'x.db' } as object }), /unknown setting store\.sqlitePth \(did you mean store\.sqlitePath\?\)/);
  t.throws(() => createLarder({ store: {}, record: { interval: 500 } }), /invalid value "500" for record\.interval \(--record-interval\): expected a duration from 1s/);
  t.throws(() => createLarder({ store: {}, record: { interval: 5000 } }), { name: 'ConfigError', message: /--record-interval 5s is shorter than --collect-interval 15s/ });
  t.throws(() => createLarder({ store: { engine: 'postgresql', pgSchema: 'Bad; DROP' } }), /store\.pgSchema \(--storage\.pg-schema\): expected a lower-case SQL identifier/);
  t.throws(() => createLarder({ store: { dbPassword: { s: 1 } as unknown as string } }), /^invalid value for store\.dbPassword \(--storage\.db-password\): expected a string$/, 'a mapping where a string belongs is refused, and a password never shown');
  t.throws(() => createLarder({ store: { dbPassword: 'hunter2hunter2', dbPort: 0 } }), /^invalid value "0" for store\.dbPort \(--storage\.db-port\): expected an integer from 1 to 65535$/);
  const ok = createLarder({ store: { engine: 'none' }, record: { interval: 5000 } });
  t.equal(ok.recording, undefined, "engine 'none': nothing recorded, nothing to refuse");
  const js = createLarder({ store: {}, record: { interval: '30s' as unknown as number, grace: '1m' as unknown as number } });
  t.ok(js.recording, "a JavaScript caller may write durations as in the config file ('30s')");
  t.equal(createLarder().recording, undefined, 'no store option: no recording');
});

t.test('the store is open from start() to stop(), records the registry and has the seed operations', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'data', 'service.db');
  const larder = createLarder({
    collectors: ['process'],
    log: silentLogger,
    collectorOptions: { collectInterval: 1000 },
    store: { sqlitePath: db, spoolPath: join(dir, 'spool.db') },
    record: { interval: 1000 },
  });
  const orders = larder.business.counter('orders_total', 'Orders.', ['channel']);
  t.equal(larder.store, undefined, 'not open before start()');
  await larder.start();
  t.teardown(() => larder.stop());
  const store = larder.store!;
  t.equal(store.dialect, 'sqlite');
  orders.inc({ channel: 'web' }, 2);

  // the seed's operations, on the store the service records into
  await store.saveMetric('deploys', 1, { env: 'prod' });
  await store.saveRawMetrics('deploy', { version: '1.2.3' });
  const alertId = await store.saveAlert({ name: 'HighLatency', severity: 'warning', message: 'p95 over 1s', value: 1.4, threshold: 1 });
  t.same((await store.getActiveAlerts()).map((a) => [a.id, a.name, a.status]), [[alertId, 'HighLatency', 'firing']]);
  await store.saveDailySummary('2026-01-02', { requests: 10 });
  const stats = await store.getDatabaseStats();
  t.equal(stats.dialect, 'sqlite');
  t.ok(stats.schemaVersion > 0);
  t.equal((await store.getMetricStats('deploys', 1)).count, 1);
  await store.optimize();
  t.type(await store.aggregateHourlyMetrics(), 'number');
  t.same(await store.cleanupOldMetrics(30), [], 'nothing old to drop');
  await store.backup(join(dir, 'backup.db.gz'));
  t.ok(gunzipSync(readFileSync(join(dir, 'backup.db.gz'))).subarray(0, 15).toString() === 'SQLite format 3', 'backup() writes a gzipped copy');

  for (let i = 0; i < 100 && !(await store.getLatestMetrics()).some((m) => m.name === 'orders_total'); i++) await new Promise((r) => setTimeout(r, 100));
  orders.inc({ channel: 'web' }, 3);
  await larder.stop();
  t.equal(larder.store, undefined, 'closed by stop()');
  t.ok(statSync(db).size > 0);

  const again = await openStore({ engine: 'sqlite', sqlitePath: db });
  t.teardown(() => again.close());
  const latest = await again.getLatestMetrics();
  t.same(latest.filter((m) => m.name === 'orders_total').map((m) => m.value), [5], 'the last record, taken by stop(), holds 2 + 3');
  t.ok(latest.some((m) => m.name === 'process_resident_memory_bytes'), 'the collectors are recorded');
  t.same(latest.filter((m) => m.name === 'deploys').map((m) => [m.labels, m.value]), [[{ env: 'prod' }, 1]], 'saveMetric() wrote beside the recorder');
  const rollups = await again.listChunks();
  t.ok(rollups.some((c) => c.table === 'samples'), 'raw chunks');
});

t.test('the store API is reachable from the public entry and the storage subpath', async (t) => {
  t.type(api.openStore, 'function', 'openStore from the main entry');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; exports: Record<string, { types: string; default: string }> };
  t.equal(pkg.name, 'larder-metrics');
  t.same(pkg.exports['./storage'], { types: './dist/storage/index.d.ts', default: './dist/storage/index.js' }, 'larder-metrics/storage');
  const storage = await import('../../storage/index.js');
  for (const name of ['openStore', 'openSqliteStore', 'openPgStore', 'openFallbackStore', 'SqliteStore', 'PgStore', 'FallbackStore']) t.type((storage as Record<string, unknown>)[name], 'function', name);
  const index = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');
  for (const type of ['Store', 'StoreOptions', 'StoreSettings', 'RecordSettings', 'DatabaseStats', 'AlertInput', 'LatestMetric', 'MetricStats']) t.match(index, new RegExp(`^\\s+${type},?$|[{ ,]${type}[,} ]`, 'm'), `type ${type} exported`);
});
