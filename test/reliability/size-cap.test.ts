/**
 * The size cap holds during the day, not only at the daily job, and never touches the
 * chunk being written: a real SQLite store with six past days of raw samples (rolled
 * up), recorded into every second by startRecording with real schedules and a cap
 * below its size. Within one cap period the oldest rolled-up raw days go, the store
 * fits, and today's chunk keeps every sample recorded. RELIABILITY=long keeps
 * recording for a minute more and reports the largest overshoot seen.
 */
import t from 'tap';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { loadConfig } from '../../src/config.js';
import { Logger } from '../../src/log.js';
import { startRecording } from '../../src/recorder/index.js';
import { usedBytes } from '../../rollup/retention.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { tempDir } from '../storage/fixtures/stores.js';
import { LONG, figure } from './figures.js';

const DAY = 86_400_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('the cap is kept every few seconds, oldest rolled-up raw first, today untouched', async (t) => {
  const dir = tempDir(t);
  const store = await openSqliteStore({ path: join(dir, 'monitoring.db') });
  t.teardown(() => store.close());
  const start = Date.now();
  const today = Math.floor(start / DAY) * DAY;
  // Six past days of 20 series every 30 s: the history the cap will have to cut into.
  const ids = await store.resolveSeries(Array.from({ length: 20 }, (_, i) => ({ name: 'history_gauge', labels: { n: String(i) }, type: 'gauge' as const })));
  for (let day = today - 6 * DAY; day < today; day += DAY) {
    const samples = [];
    for (let ts = day; ts < day + DAY; ts += 30_000) for (const id of ids) samples.push({ seriesId: id, timeMs: ts, value: ts % 977 });
    for (let i = 0; i < samples.length; i += 20_000) await store.writeSamples(samples.slice(i, i + 20_000));
  }

  const registry = new Registry();
  new Gauge({ name: 'cap_probe', help: 'Recorded every second.', registers: [registry] }).set(1);
  const full = await usedBytes(store);
  const cap = Math.round(full * 0.6);
  const { config } = loadConfig({ argv: ['--record-interval=1s', `--storage.max-bytes=${cap}`, '--storage.retention-days=30'], env: {} });
  const lines: string[] = [];
  const rec = startRecording({ registry, store, config, log: new Logger('info', (l) => lines.push(l)) });
  t.teardown(() => rec.stop());
  await rec.jobs.rollup(); // the 1m and 5m tiers catch up over the six days, as after a restart
  const rawBefore = await store.listChunks('samples');

  const dropped = async (): Promise<number> => (await registry.getSingleMetric('larder_store_size_cap_dropped_chunks_total')!.get()).values.reduce((s, v) => s + v.value, 0);
  const deadline = Date.now() + 30_000;
  while ((await dropped()) === 0 && Date.now() < deadline) await sleep(250);
  const enforcedAfter = Date.now() - start;
  t.ok((await dropped()) > 0, 'the size-cap job dropped chunks without waiting for the daily job');
  figure(t, 'size-cap: enforced after', enforcedAfter, 'ms');
  await rec.jobs.sizeCap(); // waits for a run in flight
  const used = await usedBytes(store);
  t.ok(used <= cap, `the store fits: ${used} <= ${cap} bytes`);
  figure(t, 'size-cap: store before / cap / after', `${full} / ${cap} / ${used}`, 'bytes');
  const bytes = (await registry.getSingleMetric('larder_store_size_cap_dropped_bytes_total')!.get()).values.reduce((s, v) => s + v.value, 0);
  t.ok(bytes > 0, `dropped bytes counted (${bytes})`);

  const rawAfter = await store.listChunks('samples');
  const gone = rawBefore.filter((c) => !rawAfter.some((a) => a.name === c.name));
  t.ok(gone.length > 0, `raw chunks dropped: ${gone.map((c) => c.name).join(', ')}`);
  t.same(gone, rawBefore.slice(0, gone.length), 'the oldest raw chunks, in order');
  t.ok(rawAfter.some((c) => c.startMs <= Date.now() && Date.now() < c.endMs), 'the chunk being written is kept');
  const logged = lines.filter((l) => l.includes('size cap: chunk dropped'));
  t.equal(logged.length, await dropped(), 'each drop is logged');
  t.ok(logged.every((l) => /table="/.test(l) && /reason="over the cap; /.test(l)), 'with its table and reason');
  t.ok(logged.slice(0, gone.length).every((l) => /table="samples".*reason="over the cap; its range is kept by a coarser tier"/.test(l)), 'raw first, as rolled up');

  if (LONG) {
    // A minute more of recording: the cap keeps holding.
    let worst = 0;
    for (const end = Date.now() + 60_000; Date.now() < end; ) {
      worst = Math.max(worst, (await usedBytes(store)) - cap);
      await sleep(1000);
    }
    figure(t, 'size-cap: largest overshoot over a minute', Math.max(0, worst), 'bytes');
    t.ok(worst <= 0, 'the store stays under the cap while recording');
  }
  await rec.stop();
  // Each batch the recorder wrote holds one cap_probe sample: all must still be there.
  const [probe] = (await store.listSeries()).filter((x) => x.name === 'cap_probe');
  const recorded = probe ? (await store.readSamples({ seriesIds: [probe.id], fromMs: start - 1000, toMs: Date.now() + 1000 })).samples.length : 0;
  const batches = (await registry.getSingleMetric('larder_recorder_batches_total')!.get()).values[0]?.value ?? 0;
  t.ok(batches > 0, `the recorder wrote ${batches} batches`);
  t.equal(recorded, batches, 'every snapshot recorded today is still there');
});
