/**
 * The recorder against a real SQLite store: one batch and one timestamp per snapshot,
 * every sample kind, series created once, retried writes, bounded buffer, flush on stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { Recorder } from '../../../src/recorder/recorder.js';
import { flattenFamilies, seriesKey } from '../../../src/recorder/series-cache.js';
import { Logger } from '../../../src/log.js';
import { openSqliteStore } from '../../../storage/sqlite-store.js';
import type { Store } from '../../../storage/store.js';
import { isStaleNaN } from '../../../storage/stale.js';

// One store for the whole file (opening one costs seconds); each subtest uses its own
// metric names, so their series never meet.
let shared: Promise<Store> | undefined;
const dir = mkdtempSync(join(tmpdir(), 'larder-recorder-'));
t.teardown(async () => {
  if (shared) await (await shared).close();
  rmSync(dir, { recursive: true, force: true });
});

async function setup(_t: Test): Promise<{ store: Store; registry: Registry; lines: string[]; log: Logger }> {
  shared ??= openSqliteStore({ path: join(dir, 'monitoring.db') });
  const lines: string[] = [];
  return { store: await shared, registry: new Registry(), lines, log: new Logger('info', (l) => lines.push(l)) };
}

/** A store whose writes fail while `failing` is set, and its series look-ups while `resolveFailing` is (fault injection over the real store). */
function flaky(store: Store): { store: Store; state: { failing: boolean; resolveFailing: boolean; calls: number } } {
  const state = { failing: false, resolveFailing: false, calls: 0 };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'writeSamples') {
        return async (samples: Parameters<Store['writeSamples']>[0]) => {
          state.calls++;
          if (state.failing) throw new Error('disk on fire');
          return target.writeSamples(samples);
        };
      }
      if (prop === 'resolveSeries') {
        return async (defs: Parameters<Store['resolveSeries']>[0]) => {
          if (state.resolveFailing) throw new Error('disk on fire');
          return target.resolveSeries(defs);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: proxy, state };
}

t.test('flattenFamilies keeps every sample kind and adds target labels', async (t) => {
  const flat = flattenFamilies(
    [
      { name: 'h', help: 'x', type: 'histogram', samples: [{ name: 'h_bucket', labels: { le: '1' }, value: 2 }, { name: 'h_created', labels: {}, value: 1e9 }, { name: 'h_count', labels: {}, value: 2 }] },
      { name: 'g', help: 'x', type: 'gauge', samples: [{ name: 'g', labels: { job: 'inner' }, value: 5 }] },
    ],
    { job: 'api', instance: 'a:1' },
  );
  t.same(flat.map((f) => [f.def.name, f.def.labels, f.def.type, f.value]), [
    ['h_bucket', { le: '1', job: 'api', instance: 'a:1' }, 'histogram', 2],
    ['h_count', { job: 'api', instance: 'a:1' }, 'histogram', 2],
    ['g', { exported_job: 'inner', job: 'api', instance: 'a:1' }, 'gauge', 5],
  ]);
  t.equal(seriesKey('a', { y: '1', x: '2' }), seriesKey('a', { x: '2', y: '1' }), 'label order does not matter');
});

t.test('one snapshot = one batch with one timestamp, every kind recorded', async (t) => {
  const { store, registry, log } = await setup(t);
  const registers = [registry];
  new Gauge({ name: 'app_temp', help: 'g', registers }).set(21.5);
  const c = new Counter({ name: 'app_jobs_total', help: 'c', labelNames: ['kind'], registers });
  c.inc({ kind: 'a' }, 3);
  new Histogram({ name: 'app_latency_seconds', help: 'h', buckets: [0.1, 1], registers }).observe(0.5);
  new Summary({ name: 'app_size_bytes', help: 's', percentiles: [0.5], registers }).observe(10);
  let now = 1_767_225_600_123;
  const rec = new Recorder({ registry, store, log, intervalMs: 60_000, now: () => now });
  await rec.tick();
  const series = await store.listSeries();
  const byName = new Map(series.map((s) => [`${s.name}${JSON.stringify(s.labels)}`, s]));
  for (const key of ['app_temp{}', 'app_jobs_total{"kind":"a"}', 'app_latency_seconds_bucket{"le":"0.1"}', 'app_latency_seconds_bucket{"le":"1"}', 'app_latency_seconds_bucket{"le":"+Inf"}', 'app_latency_seconds_sum{}', 'app_latency_seconds_count{}', 'app_size_bytes{"quantile":"0.5"}', 'app_size_bytes_sum{}', 'app_size_bytes_count{}']) {
    t.ok(byName.has(key), `series ${key}`);
  }
  t.equal(byName.get('app_latency_seconds_bucket{"le":"1"}')?.type, 'histogram', 'a bucket series keeps the family type');
  const read = await store.readSamples({ seriesIds: series.map((s) => s.id), fromMs: 0, toMs: now + 1 });
  t.same([...new Set(read.samples.map((s) => s.timeMs))], [now], 'one timestamp for the whole snapshot');
  t.equal(read.samples.find((s) => s.seriesId === byName.get('app_temp{}')!.id)?.value, 21.5);
  t.equal(read.samples.find((s) => s.seriesId === byName.get('app_latency_seconds_bucket{"le":"1"}')!.id)?.value, 1);
  const first = read.samples.length;
  t.equal(first, series.length, 'one sample per series');

  now += 60_000;
  c.inc({ kind: 'a' });
  await rec.tick();
  const series2 = await store.listSeries();
  // The recorder's own metrics appear on the second tick (registered at construction, so also on the first).
  t.equal(series2.length, series.length, 'no new series on a steady registry');
  const read2 = await store.readSamples({ seriesIds: [byName.get('app_jobs_total{"kind":"a"}')!.id], fromMs: 0, toMs: now + 1 });
  t.same(read2.samples.map((s) => s.value), [3, 4]);
  const written = (await registry.getSingleMetric('larder_recorder_samples_written_total')!.get()).values[0]!.value;
  t.equal(written, first * 2, 'samples written counted');
  t.equal((await registry.getSingleMetric('larder_recorder_batches_total')!.get()).values[0]!.value, 2);
});

t.test('a failed write is kept, retried, and never stops recording', async (t) => {
  const base = await setup(t);
  const { store, state } = flaky(base.store);
  new Gauge({ name: 'x2', help: 'x', registers: [base.registry] }).set(1);
  let now = 1_000_000;
  const rec = new Recorder({ registry: base.registry, store, log: base.log, now: () => now });
  state.failing = true;
  await rec.tick();
  now += 1000;
  await rec.tick();
  t.ok(rec.bufferedSamples > 0, 'samples kept while the store fails');
  t.equal(base.lines.filter((l) => l.includes('writing samples failed')).length, 1, 'the failure is logged once');
  const errors = (await base.registry.getSingleMetric('larder_recorder_errors_total')!.get()).values.find((v) => v.labels['stage'] === 'write')!.value;
  t.equal(errors, 2, 'each failed write counted');
  const lag = (await base.registry.getSingleMetric('larder_recorder_lag_seconds')!.get()).values[0]!.value;
  t.equal(lag, 1, 'lag = age of the oldest unwritten snapshot');
  state.failing = false;
  now += 1000;
  await rec.tick();
  t.equal(rec.bufferedSamples, 0, 'everything written once the store is back');
  const id = (await base.store.listSeries()).find((s) => s.name === 'x2')!.id;
  const read = await base.store.readSamples({ seriesIds: [id], fromMs: 0, toMs: now + 1 });
  t.same(read.samples.map((s) => s.timeMs), [1_000_000, 1_001_000, 1_002_000], 'every snapshot arrives, in order');
  t.ok(base.lines.some((l) => l.includes('writing samples works again')));
});

t.test('a snapshot whose new series cannot be created while the store fails is kept, not lost', async (t) => {
  // A full disk fails the series look-up of any snapshot with a new series (the first
  // write error alone adds one: the error counter's label); such snapshots used to be dropped.
  const base = await setup(t);
  const { store, state } = flaky(base.store);
  const g = new Gauge({ name: 'new_while_failing', help: 'x', labelNames: ['n'], registers: [base.registry] });
  let now = 2_000_000;
  const rec = new Recorder({ registry: base.registry, store, log: base.log, now: () => now });
  state.failing = state.resolveFailing = true;
  for (let i = 0; i < 3; i++) {
    g.set({ n: String(i) }, i); // a new series every snapshot
    await rec.tick();
    now += 1000;
  }
  t.ok(rec.bufferedSamples > 0, 'the snapshots are kept');
  t.ok(base.lines.some((l) => l.includes('resolving series failed; the values are kept for retry')), 'and the failure says so');
  state.failing = state.resolveFailing = false;
  await rec.tick();
  t.equal(rec.bufferedSamples, 0, 'all written once the store is back');
  const ids = (await base.store.listSeries()).filter((s) => s.name === 'new_while_failing').map((s) => s.id);
  t.equal(ids.length, 3, 'every series created');
  const read = await base.store.readSamples({ seriesIds: ids, fromMs: 2_000_000, toMs: now + 1 });
  t.same([...new Set(read.samples.map((s) => s.timeMs))].sort(), [2_000_000, 2_001_000, 2_002_000, 2_003_000], 'no snapshot lost');
  t.ok(base.lines.some((l) => l.includes('resolving series works again')));
});

t.test('the retry buffer is bounded: oldest batches dropped and counted', async (t) => {
  const base = await setup(t);
  const { store, state } = flaky(base.store);
  new Gauge({ name: 'x3', help: 'x', registers: [base.registry] }).set(1);
  let now = 1_000_000;
  const rec = new Recorder({ registry: base.registry, store, log: base.log, now: () => now, maxBufferedSamples: 1 });
  state.failing = true;
  await rec.tick();
  const perBatch = rec.bufferedSamples;
  now += 1000;
  await rec.tick();
  t.equal(rec.bufferedSamples, perBatch, 'only the newest batch is kept');
  const dropped = (await base.registry.getSingleMetric('larder_recorder_samples_dropped_total')!.get()).values[0]!.value;
  t.equal(dropped, perBatch, 'the dropped samples are counted');
  state.failing = false;
  await rec.stop();
  const id = (await base.store.listSeries()).find((s) => s.name === 'x3')!.id;
  const read = await base.store.readSamples({ seriesIds: [id], fromMs: 0, toMs: now + 1 });
  t.same(read.samples.map((s) => s.timeMs), [1_001_000], 'stop() flushed the kept batch');
});

t.test('ticks never overlap; a collect failure is isolated', async (t) => {
  const { store, registry, log, lines } = await setup(t);
  let release: () => void = () => {};
  let calls = 0;
  new Gauge({
    name: 'slow4',
    help: 'a gauge whose collect waits',
    registers: [registry],
    async collect() {
      calls++;
      await new Promise<void>((r) => (release = r));
      this.set(1);
    },
  });
  new Gauge({
    name: 'broken4',
    help: 'throws',
    registers: [registry],
    collect() {
      throw new Error('boom');
    },
  });
  const rec = new Recorder({ registry, store, log });
  const a = rec.tick();
  const b = rec.tick();
  await new Promise((r) => setTimeout(r, 20));
  release();
  await Promise.all([a, b]);
  t.equal(calls, 1, 'the second tick was skipped while the first ran');
  t.equal((await registry.getSingleMetric('larder_recorder_skipped_ticks_total')!.get()).values[0]!.value, 1);
  t.ok((await store.listSeries()).some((s) => s.name === 'slow4'), 'the other metrics are recorded');
  t.notOk((await store.listSeries()).some((s) => s.name === 'broken4'), 'the failing metric is left out');
  t.ok(lines.some((l) => l.includes('broken4')), 'and logged');
});

t.test('start() records on the interval with an unref()ed timer; stop() ends it', async (t) => {
  const { store, registry, log } = await setup(t);
  new Gauge({ name: 'x5', help: 'x', registers: [registry] }).set(1);
  const rec = new Recorder({ registry, store, log, intervalMs: 1000 });
  rec.start();
  await new Promise((r) => setTimeout(r, 2300));
  await rec.stop();
  // each tick is a batch, and stop() writes one more: the stale markers ending every series
  const batches = (await registry.getSingleMetric('larder_recorder_batches_total')!.get()).values[0]!.value;
  t.equal(batches, 2 + 1, "two ticks in 2.3 s at 1 s, and the stop's markers");
  await new Promise((r) => setTimeout(r, 1200));
  t.equal((await registry.getSingleMetric('larder_recorder_batches_total')!.get()).values[0]!.value, 2 + 1, 'none after stop()');
});

t.test('the first record comes about a second after start(), not one full interval later', async (t) => {
  const { store, registry, log } = await setup(t);
  new Gauge({ name: 'x6_first', help: 'x', registers: [registry] }).set(42);
  const rec = new Recorder({ registry, store, log, intervalMs: 60_000 });
  const started = Date.now();
  rec.start();
  await new Promise((r) => setTimeout(r, 2500));
  await rec.stop();
  t.equal((await registry.getSingleMetric('larder_recorder_batches_total')!.get()).values[0]!.value, 1 + 1, "one record within 2.5 s at a 60 s interval, and the stop's markers");
  const id = (await store.listSeries()).find((s) => s.name === 'x6_first')?.id;
  t.ok(id !== undefined, 'the series exists');
  const got = await store.readSamples({ seriesIds: [id!], fromMs: 0, toMs: Date.now() + 1000 });
  t.same(got.samples.filter((s) => !isStaleNaN(s.value)).map((s) => s.value), [42], 'its value stored once');
  t.equal(got.samples.filter((s) => isStaleNaN(s.value)).length, 1, 'and ended by one stale marker at the stop');
  const at = got.samples[0]!.timeMs - started;
  t.ok(at >= 900 && at < 2500, `recorded ${at} ms after start() (due at 1000)`);
});
