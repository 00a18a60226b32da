/**
 * Fallback without loss: PostgreSQL behind a real TCP proxy that the test turns off
 * and on; samples are spooled locally meanwhile and arrive exactly once.
 */
import t from 'tap';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pgPromise from 'pg-promise';
import { PG, need } from '../helpers/peers.js';
import { dropSchema, schemaName, tempDir } from './fixtures/stores.js';
import { openFallbackStore } from '../../storage/fallback-store.js';
import { staleNaN } from '../../storage/stale.js';

/** A TCP proxy to PostgreSQL on a fixed port that can be stopped and started. */
class Proxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(PG.port, PG.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server === undefined ? r() : this.server.close(() => r())));
    this.server = undefined;
  }
}

const T0 = Date.UTC(2026, 0, 10, 12);

t.test('unreachable at start and later, then exactly-once forwarding', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const schema = schemaName();
  const app = `larder-fallback-${process.pid}`;
  const dir = tempDir(t);
  const proxy = new Proxy();
  await proxy.start();
  await proxy.stop(); // the port is known, nothing listens: "a wrong port"
  const pgp = pgPromise({ noWarnings: true });
  const direct = pgp({ ...PG });
  t.teardown(async () => {
    await direct.$pool.end();
    await proxy.stop();
    await dropSchema(schema);
  });
  let now = T0;
  const changes: boolean[] = [];
  const store = await openFallbackStore({
    pg: { host: '127.0.0.1', port: proxy.port, database: PG.database, user: PG.user, schema, applicationName: app, connectTimeoutMs: 1000, now: () => now },
    spoolPath: join(dir, 'spool.db'),
    retryMs: 60_000, // the test drives forward() itself
    now: () => now,
    onStateChange: (spooling) => changes.push(spooling),
  });
  t.teardown(() => store.close());
  t.equal(store.isSpooling, true, 'spooling from the start');
  const ids = await store.resolveSeries([
    { name: 'up', labels: { job: 'a' }, type: 'gauge' },
    { name: 'up', labels: { job: "b'; --" }, type: 'gauge' },
  ]);
  t.ok(ids.every((id) => id < 0), 'provisional ids while PostgreSQL is away');
  t.same(await store.resolveSeries([{ name: 'up', labels: { job: 'a' }, type: 'gauge' }]), [ids[0]], 'stable');
  const batch = (k: number) => ids.flatMap((id) => Array.from({ length: 100 }, (_, i) => ({ seriesId: id, timeMs: T0 + k * 1000 + i, value: i === 0 ? Number.NaN : k })));
  for (let k = 0; k < 3; k++) t.equal(await store.writeSamples(batch(k)), 200);
  await store.saveMetric('spooled_metric', 1.5, { x: 'y' });
  await store.writeSamples([{ seriesId: ids[0]!, timeMs: T0 + 30_000, value: staleNaN() }]); // past every batch below
  t.equal(await store.spoolDepth(), 602, 'the stale marker counts as spooled');
  await t.rejects(store.getLatestMetrics(), /PostgreSQL is unreachable/);

  await proxy.start();
  t.equal(await store.forward(), 602);
  t.equal(store.isSpooling, false);
  t.equal(await store.spoolDepth(), 0);
  t.equal(await store.forward(), 0, 'nothing twice');
  const count = async (): Promise<number> => Number((await direct.one<{ n: string }>(`SELECT COUNT(*) AS n FROM "${schema}".samples`)).n);
  t.equal(await count(), 602, 'every spooled sample arrived once');
  t.equal(Number((await direct.one<{ n: string }>(`SELECT COUNT(*) AS n FROM "${schema}".samples WHERE value = 'NaN'`)).n), 6, 'NaN survived the spool');
  t.equal(Number((await direct.one<{ n: string }>(`SELECT COUNT(*) AS n FROM "${schema}".samples WHERE value IS NULL`)).n), 1, 'the stale marker survived the spool as a marker (NULL on PostgreSQL), apart from NaN');
  // the provisional ids keep working after the switch
  now += 60_000;
  await store.writeSamples(batch(3));
  t.equal(await count(), 802);
  const real = await store.resolveSeries([{ name: 'up', labels: { job: "b'; --" }, type: 'gauge' }]);
  t.ok(real[0]! > 0);

  // Later: the connection is cut under the store (pg_terminate_backend), then PostgreSQL goes away.
  await direct.any('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]);
  await store.writeSamples(batch(4)); // spooled or written directly: both are fine
  await proxy.stop();
  await store.writeSamples(batch(5));
  t.equal(store.isSpooling, true, 'spooling after PostgreSQL went away');
  await store.writeSamples(batch(6));
  const depth = await store.spoolDepth();
  t.ok(depth >= 400, `spooled ${depth}`);
  await proxy.start();
  await store.forward();
  t.equal(await store.spoolDepth(), 0);
  t.equal(await count(), 802 + 3 * 200, 'exactly once across both outages');
  const stats = await store.getDatabaseStats();
  t.equal(stats.spoolDepth, 0);
  t.same(changes.slice(0, 2), [true, false]);
});
