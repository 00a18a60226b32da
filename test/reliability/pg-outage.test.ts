/**
 * Stall and outage: the recorder writes through the fallback store to the real
 * PostgreSQL behind a loopback proxy the test controls, which refuses, resets and
 * stalls (stops moving bytes without closing). Every snapshot must reach PostgreSQL
 * exactly once, spooling must start within the write timeout, and the spool must drain
 * once PostgreSQL answers again. Quick form in make test; RELIABILITY=long stalls
 * for 30 s and 2 min, as a paused proxy did in the fault-injection run.
 */
import t from 'tap';
import { join } from 'node:path';
import pgPromise from 'pg-promise';
import { Gauge, Registry } from 'prom-client';
import { PG, need } from '../helpers/peers.js';
import { dropSchema, schemaName, tempDir } from '../storage/fixtures/stores.js';
import { openFallbackStore, type FallbackStore, type SpoolChange } from '../../storage/fallback-store.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { Logger, silentLogger } from '../../src/log.js';
import { loadConfig } from '../../src/config.js';
import { recordingStep } from '../../src/recording-step.js';
import { FaultProxy, type ProxyMode } from './fault-proxy.js';
import { LONG, figure } from './figures.js';

const WRITE_TIMEOUT_MS = 1000;
const RECORD_MS = 200;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The faults in order: [mode, how long it lasts in ms]. */
const FAULTS: readonly (readonly [Exclude<ProxyMode, 'forward'>, number])[] = LONG
  ? [['refuse', 20_000], ['reset', 10_000], ['stall', 30_000], ['stall', 120_000]]
  : [['refuse', 2000], ['reset', 2000], ['stall', 4000]];

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

t.test('refused, reset and stalled PostgreSQL: nothing lost, nothing twice', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const schema = schemaName();
  const dir = tempDir(t);
  const proxy = new FaultProxy(PG.host, PG.port);
  await proxy.start();
  const pgp = pgPromise({ noWarnings: true });
  const direct = pgp({ ...PG });
  t.teardown(async () => {
    await proxy.stop();
    await direct.$pool.end();
    await dropSchema(schema);
  });

  const changes: { at: number; spooling: boolean; change: SpoolChange }[] = [];
  const store: FallbackStore = await openFallbackStore({
    pg: { host: PG.host, port: proxy.port, database: PG.database, user: PG.user, schema, connectTimeoutMs: 1000, writeTimeoutMs: WRITE_TIMEOUT_MS },
    spoolPath: join(dir, 'spool.db'),
    retryMs: 500,
    onStateChange: (spooling, change) => changes.push({ at: Date.now(), spooling, change }),
  });
  t.teardown(() => store.close());
  t.equal(store.isSpooling, false, 'PostgreSQL answers at start');

  // One probe whose value counts the snapshots: the stored values must be exactly 1..N.
  const registry = new Registry();
  let snapshots = 0;
  new Gauge({
    name: 'outage_probe',
    help: 'Counts the snapshots taken.',
    registers: [registry],
    collect() {
      this.set(++snapshots);
    },
  });
  const recorder = new Recorder({ registry, store, log: silentLogger, intervalMs: RECORD_MS });
  recorder.start();
  await sleep(1000);

  for (const [mode, ms] of FAULTS) {
    const before = changes.length;
    const start = Date.now();
    await proxy.set(mode);
    await sleep(ms);
    const spooled = changes.slice(before).find((c) => c.spooling);
    t.ok(spooled, `${mode}: spooling started`);
    if (spooled) {
      const toSpool = spooled.at - start;
      figure(t, `pg-outage: ${mode} ${ms / 1000}s: time to spool`, toSpool, 'ms');
      t.ok(toSpool <= WRITE_TIMEOUT_MS + 2 * RECORD_MS + 1000, `${mode}: spooling within the write timeout and a tick (${toSpool} ms)`);
      t.ok(spooled.change.cause instanceof Error, `${mode}: spooling says why: ${spooled.change.cause?.message}`);
    }
    const depth = await store.spoolDepth();
    t.ok(depth > 0, `${mode}: ${depth} samples spooled meanwhile`);
    const end = Date.now();
    await proxy.set('forward');
    await waitFor(`the spool to drain after ${mode}`, async () => !store.isSpooling && (await store.spoolDepth()) === 0, 60_000);
    const drained = changes.slice(before).find((c) => !c.spooling);
    t.ok(drained && drained.change.forwarded > 0, `${mode}: drain reports the samples forwarded (${drained?.change.forwarded})`);
    if (drained) figure(t, `pg-outage: ${mode} ${ms / 1000}s: time to drain`, drained.at - end, 'ms');
    await sleep(500);
  }

  await recorder.stop();
  await store.forward();
  t.equal(await store.spoolDepth(), 0, 'the spool is empty at the end');

  const all = await direct.any<{ value: number | null }>(
    `SELECT s.value FROM "${schema}".samples s JOIN "${schema}".series r ON r.id = s.series_id WHERE r.name = 'outage_probe' ORDER BY s.ts`,
  );
  // the recorder's clean stop ends the series with a stale marker (a NULL value on
  // PostgreSQL, storage/stale.ts), its last row; the samples are the other rows
  t.ok(all.length > 0 && all[all.length - 1]!.value === null && all.filter((r) => r.value === null).length === 1, 'the series ends with one stale marker, written at the stop');
  const values = all.filter((r) => r.value !== null).map((r) => Number(r.value));
  figure(t, 'pg-outage: snapshots taken', snapshots);
  figure(t, 'pg-outage: samples read back', values.length);
  const missing = snapshots - new Set(values).size;
  const twice = values.length - new Set(values).size;
  figure(t, 'pg-outage: samples lost', missing);
  figure(t, 'pg-outage: samples duplicated', twice);
  t.same(values, Array.from({ length: snapshots }, (_, i) => i + 1), 'every snapshot stored exactly once, in order');
  const skipped = (await registry.getSingleMetric('larder_recorder_skipped_ticks_total')!.get()).values[0]?.value ?? 0;
  const dropped = (await registry.getSingleMetric('larder_recorder_samples_dropped_total')!.get()).values[0]?.value ?? 0;
  figure(t, 'pg-outage: record ticks skipped', skipped);
  t.equal(skipped, 0, 'no record tick skipped while PostgreSQL stalled');
  t.equal(dropped, 0, 'nothing dropped from the retry buffer');
  t.same(changes.map((c) => c.spooling), FAULTS.flatMap(() => [true, false]), 'one spool start and one drain per fault');
});

t.test('larder logs when spooling starts (and why) and when the spool has drained', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  // A database of its own: the recording step uses the public schema of the database it is given.
  const database = schemaName();
  const pgp = pgPromise({ noWarnings: true });
  const admin = pgp({ ...PG });
  await admin.none(`CREATE DATABASE "${database}"`);
  const proxy = new FaultProxy(PG.host, PG.port);
  await proxy.start();
  t.teardown(async () => {
    await proxy.stop();
    await admin.none(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.$pool.end();
  });
  const dir = tempDir(t);
  const { config } = loadConfig({
    argv: [
      '--storage.engine=postgresql', `--storage.db-host=${PG.host}`, `--storage.db-port=${proxy.port}`, `--storage.db-name=${database}`,
      `--storage.db-user=${PG.user}`, `--storage.spool-path=${join(dir, 'spool.db')}`, '--storage.pg-write-timeout=1s', '--record-interval=1s', '--collect-interval=1s',
    ],
    env: {},
  });
  const lines: string[] = [];
  const step = recordingStep(new Registry(), config, new Logger('info', (l) => lines.push(l)))!;
  await step.start?.();
  t.teardown(async () => step.stop?.());
  await sleep(1500);
  await proxy.set('stall');
  await waitFor('the spooling log line', () => lines.some((l) => l.includes('spooling samples locally')), 10_000);
  await proxy.set('forward');
  await waitFor('the drain log line', () => lines.some((l) => l.includes('spool drained')), 30_000);
  const start = lines.find((l) => l.includes('spooling samples locally'))!;
  const drained = lines.find((l) => l.includes('spool drained'))!;
  t.match(start, /level=warn .*msg="PostgreSQL unreachable: spooling samples locally" spool="[^"]+spool\.db" reason="PostgreSQL did not answer/, `start: ${start}`);
  t.match(drained, /level=info .*msg="PostgreSQL back: spool drained" forwarded="[1-9]\d*" spooledFor="\d+\.\ds"/, `end: ${drained}`);
  await step.stop?.();
});
