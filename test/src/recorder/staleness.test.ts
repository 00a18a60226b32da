/**
 * Stale markers from the recorder, end to end through a real SQLite store and the
 * PromQL engine: a series gone from the registry snapshot, a series gone from a
 * scrape target's result, and every series of a target that goes down stop answering
 * an instant query at once, instead of 5 minutes later; so does every series of a
 * recorder that stops cleanly, and a SIGKILLed Larder leaves none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import t from 'tap';
import { createQueryEngine } from '../../../query/index.js';
import { formatLabels } from '../../../query/values.js';
import type { QueryEngine } from '../../../query/index.js';
import { Logger } from '../../../src/log.js';
import { Recorder } from '../../../src/recorder/recorder.js';
import { ScrapeTarget } from '../../../src/scrape/target.js';
import { isStaleNaN } from '../../../storage/stale.js';
import { openSqliteStore } from '../../../storage/sqlite-store.js';
import { startLarderProcess } from '../../helpers/larder-process.js';
import { freePort } from '../../helpers/prometheus.js';
import type { Store } from '../../../storage/store.js';

const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
const S = 15_000;

let shared: Promise<Store> | undefined;
const dir = mkdtempSync(join(tmpdir(), 'larder-staleness-'));
t.teardown(async () => {
  if (shared) await (await shared).close();
  rmSync(dir, { recursive: true, force: true });
});
const store = (): Promise<Store> => (shared ??= openSqliteStore({ path: join(dir, 'monitoring.db') }));
const quiet = (): Logger => new Logger('error', () => undefined);

/** The instant vector of `q` at `atMs` as `labels → value` lines, sorted. */
async function instant(engine: QueryEngine, q: string, atMs: number): Promise<string[]> {
  const r = await engine.instant(q, atMs);
  if (r.value.type !== 'vector') throw new Error(`${q}: expected a vector, got ${r.value.type}`);
  return r.value.samples.map((s) => `${formatLabels(s.metric)} ${s.value}`).sort();
}

t.test('a series removed from the registry stops answering at once', async (t) => {
  const s = await store();
  const registry = new Registry();
  const g = new Gauge({ name: 'ghost_room_temp', help: 'x', labelNames: ['room'], registers: [registry] });
  let now = T0;
  const recorder = new Recorder({ registry, store: s, log: quiet(), now: () => now });
  const engine = createQueryEngine(s, {});
  g.set({ room: 'a' }, 1);
  g.set({ room: 'b' }, 2);
  await recorder.tick();
  now = T0 + S;
  g.remove({ room: 'b' });
  g.set({ room: 'a' }, 3);
  await recorder.tick();
  t.same(await instant(engine, 'ghost_room_temp', T0 + S - 1), ['{__name__="ghost_room_temp", room="a"} 1', '{__name__="ghost_room_temp", room="b"} 2'], 'before the marker both rooms answer');
  t.same(await instant(engine, 'ghost_room_temp', T0 + S + 1000), ['{__name__="ghost_room_temp", room="a"} 3'], 'room b ends at the marker, not 5 minutes later');
  t.same(await instant(engine, 'count_over_time(ghost_room_temp[1m])', T0 + S + 1000), ['{room="a"} 2', '{room="b"} 1'], 'range selectors drop the marker');
  const raw = await s.readSamples({ name: 'ghost_room_temp', matchers: [{ label: 'room', op: '=', value: 'b' }], fromMs: T0, toMs: T0 + 60_000 });
  t.same(raw.samples.map((x) => [x.timeMs - T0, isStaleNaN(x.value)]), [[0, false], [S, true]], 'the store holds the marker at the snapshot time');
  await recorder.stop();
});

function serve(state: { status: number; body: string }): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.statusCode = state.status;
    res.setHeader('Content-Type', 'text/plain; version=0.0.4');
    res.end(state.body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` })));
}

t.test('a scrape target: a vanished series, then the target down, go stale; up says 0', async (t) => {
  const s = await store();
  const state = { status: 200, body: 'stale_jobs_total 5\nstale_queue{q="a"} 1\nstale_queue{q="b"} 2\n' };
  const { server, url } = await serve(state);
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  let now = T0 + 10 * 60_000;
  const start = now;
  const recorder = new Recorder({ registry: new Registry(), store: s, log: quiet(), now: () => now });
  const target = new ScrapeTarget({ url, job: 'stale-test', instance: 'one', intervalMs: S, timeoutMs: 5000, honorTimestamps: false }, (f, ms, l) => recorder.submit(f, ms, l), quiet(), () => now);
  const engine = createQueryEngine(s, {});
  const job = '{job="stale-test"}';

  await target.scrape();
  now += S;
  state.body = 'stale_jobs_total 6\nstale_queue{q="a"} 1\n';
  await target.scrape();
  t.same(await instant(engine, `stale_queue${job}`, now + 1000), ['{__name__="stale_queue", instance="one", job="stale-test", q="a"} 1'], 'q="b" left the exposition: stale at once');

  now += S;
  state.status = 503;
  await target.scrape();
  t.equal(target.last?.up, false, 'the target is down');
  t.same(await instant(engine, `stale_jobs_total${job}`, now + 1000), [], 'the down target\'s series stop answering');
  t.same(await instant(engine, `stale_queue${job}`, now + 1000), []);
  t.same(await instant(engine, `up${job}`, now + 1000), ['{__name__="up", instance="one", job="stale-test"} 0'], 'up keeps answering, with 0');
  t.same(await instant(engine, `stale_jobs_total${job}`, now - 1000), ['{__name__="stale_jobs_total", instance="one", job="stale-test"} 6'], 'before it went down the last value answers');
  t.same(await instant(engine, `increase(stale_jobs_total${job}[1m])`, now + 1000).then((v) => v.length), 1, 'a range over the marker still has the two samples');

  now += S;
  state.status = 200;
  state.body = 'stale_jobs_total 7\n';
  await target.scrape();
  t.same(await instant(engine, `stale_jobs_total${job}`, now + 1000), ['{__name__="stale_jobs_total", instance="one", job="stale-test"} 7'], 'back up: the series answers again');
  t.ok(now - start < 5 * 60_000, 'all within one lookback window, so only markers explain the empty answers');
  await recorder.stop();
});

t.test('a recorder that stops ends every series of its last tick', async (t) => {
  const s = await openSqliteStore({ path: join(dir, 'stop.db') });
  t.teardown(() => s.close());
  const registry = new Registry();
  const g = new Gauge({ name: 'stop_room_temp', help: 'x', labelNames: ['room'], registers: [registry] });
  let now = T0;
  const recorder = new Recorder({ registry, store: s, log: quiet(), now: () => now });
  const engine = createQueryEngine(s, {});
  g.set({ room: 'a' }, 1);
  g.set({ room: 'b' }, 2);
  await recorder.tick();
  now = T0 + S;
  g.set({ room: 'a' }, 3);
  await recorder.tick();
  now = T0 + S + 5000;
  await recorder.stop();
  const rooms = ['{__name__="stop_room_temp", room="a"} 3', '{__name__="stop_room_temp", room="b"} 2'];
  t.same(await instant(engine, 'stop_room_temp', T0 + S + 4000), rooms, 'just before the stop both rooms answer');
  t.same(await instant(engine, 'stop_room_temp', T0 + S + 6000), [], 'just after it neither does, rather than for 5 minutes');
  t.same(await instant(engine, 'count_over_time(stop_room_temp[1m])', T0 + S + 6000), ['{room="a"} 2', '{room="b"} 2'], 'range selectors still count the samples, not the markers');
  const raw = await s.readSamples({ name: 'stop_room_temp', fromMs: T0, toMs: T0 + 60_000 });
  t.same(raw.samples.filter((x) => isStaleNaN(x.value)).map((x) => x.timeMs - T0), [S + 5000, S + 5000], 'one marker per series, at the stop');
  // its own series too (larder_recorder_*): every series of the last snapshot ends
  const own = await s.readSamples({ name: 'larder_recorder_batches_total', fromMs: T0, toMs: T0 + 60_000 });
  t.equal(own.samples.filter((x) => isStaleNaN(x.value)).length, 1, "the recorder's own counter ends too");
  await recorder.stop();
  const again = await s.readSamples({ name: 'stop_room_temp', fromMs: T0, toMs: T0 + 120_000 });
  t.equal(again.samples.filter((x) => isStaleNaN(x.value)).length, 2, 'a second stop writes no more markers');
});

t.test('a SIGKILLed Larder writes no stale marker', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'larder-staleness-kill-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const db = join(d, 'monitoring.db');
  const larder = await startLarderProcess(await freePort(), [`--storage.sqlite-path=${db}`, '--storage.spool-path=', '--rules.bundled=false', '--record-interval=15s'], { MONITORING_DB: 'sqlite' });
  const deadline = Date.now() + 30_000;
  while (!/larder_recorder_batches_total(\{[^}]*\})? [1-9]/.test(await (await fetch(`${larder.url}/metrics`)).text()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  t.equal(await larder.stop('SIGKILL'), null, 'killed');
  const s = await openSqliteStore({ path: db });
  t.teardown(() => s.close());
  const r = await s.readSamples({ name: 'process_cpu_seconds_total', fromMs: 0, toMs: Date.now() + 60_000 });
  t.ok(r.samples.length > 0, `the first record was written (${r.samples.length} samples)`);
  t.equal(r.samples.filter((x) => isStaleNaN(x.value)).length, 0, 'and no marker after it');
});
