/**
 * Retention drops exactly the chunks whose whole range is past their table's age, on
 * every tier; never raw (or a tier) that the next tier has not rolled up yet. The size
 * cap drops what a coarser tier already holds first (raw, then tiers finest first,
 * oldest first), then the rest, and never the chunk being written nor one made ahead.
 */
import t from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { applyRetention, applySizeCap, retentionCutoff, retentionTargets, sizeCapOrder, usedBytes } from '../../rollup/retention.js';
import { parseTiers } from '../../rollup/tiers.js';
import type { ChunkInfo, Store } from '../../storage/store.js';
import { DIALECTS, openTestStore } from './stores.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const TIERS = parseTiers('5m:2d,1h:7d,1d:30d');
const RAW_RETENTION = 1 * DAY;

t.test('retentionCutoff and the order of tables', async (t) => {
  t.equal(retentionCutoff(100 * DAY, 30 * DAY, undefined), 70 * DAY);
  t.equal(retentionCutoff(100 * DAY, 30 * DAY, 50 * DAY), 50 * DAY, 'never past what the next tier still needs');
  const targets = retentionTargets(TIERS, RAW_RETENTION, new Map([['5m', 10], ['1h', 20]]));
  t.same(targets.map((x) => [x.table, x.keepFrom]), [
    ['samples', 10],
    ['rollup_5m', 20],
    ['rollup_5m_quantiles', undefined],
    ['rollup_1h', -Infinity],
    ['rollup_1h_quantiles', undefined],
    ['rollup_1d', undefined],
    ['rollup_1d_quantiles', undefined],
  ], 'raw first, then each tier finest first; a tier whose next has no watermark keeps everything');
});

async function fill(store: Store, now: number): Promise<RollupEngine> {
  const ids = await store.resolveSeries([{ name: 'ret_total', labels: {}, type: 'counter' }, { name: 'ret_seconds_bucket', labels: { le: '+Inf' }, type: 'histogram' }, { name: 'ret_seconds_count', labels: {}, type: 'histogram' }]);
  const samples = [];
  for (let ts = T0; ts < T0 + 40 * DAY; ts += 5 * MIN) {
    const i = (ts - T0) / (5 * MIN);
    for (const id of ids) samples.push({ seriesId: id, timeMs: ts, value: i });
  }
  for (let i = 0; i < samples.length; i += 20_000) await store.writeSamples(samples.slice(i, i + 20_000));
  const engine = new RollupEngine({ store, tiers: TIERS, graceMs: 2 * MIN, now: () => now, maxBucketsPerTransaction: 10_000 });
  await engine.run();
  return engine;
}

const names = (cs: readonly ChunkInfo[]): string[] => cs.map((c) => c.name).sort();

for (const dialect of DIALECTS) {
  t.test(`${dialect}: retention by age on every tier, and the size cap`, async (t) => {
    const now = T0 + 41 * DAY;
    const store = await openTestStore(t, dialect, () => now);
    if (!store) return;
    const engine = await fill(store, now);
    const wms = new Map<string, number | undefined>();
    for (const tier of TIERS) wms.set(tier.name, await engine.watermark(tier.name));
    t.same([...wms.values()], [now - 5 * MIN, now - 60 * MIN, now - DAY], 'rolled up to now');

    // Protection first: pretend the 5m tier is behind (watermark at day 10): raw from day 10 on stays.
    const behind = retentionTargets(TIERS, RAW_RETENTION, new Map([...wms, ['5m', T0 + 10 * DAY]]));
    const rawBefore = await store.listChunks('samples');
    const droppedBehind = await applyRetention(store, behind.slice(0, 1), now);
    t.same(names(droppedBehind), names(rawBefore.filter((c) => c.endMs <= T0 + 10 * DAY)), 'raw not yet rolled up is kept');

    const targets = retentionTargets(TIERS, RAW_RETENTION, wms);
    // Size cap while raw still has chunks: one byte over → exactly the oldest raw chunk goes.
    const rawNow = await store.listChunks('samples');
    const usedBefore = await usedBytes(store);
    const firstCap = await applySizeCap(store, targets, usedBefore - 1, now);
    t.same(firstCap.dropped.map((c) => c.chunk.name), [rawNow[0]!.name], 'size cap: the oldest raw chunk first, nothing else');
    t.equal(firstCap.dropped[0]?.reason, 'rolled-up');
    t.ok(firstCap.fits);

    const before = new Map<string, ChunkInfo[]>();
    for (const x of targets) before.set(x.table, await store.listChunks(x.table));
    const dropped = await applyRetention(store, targets, now);
    for (const x of targets) {
      const cut = retentionCutoff(now, x.retentionMs, x.keepFrom);
      const want = before.get(x.table)!.filter((c) => c.endMs <= cut);
      t.same(names(dropped.filter((c) => c.table === x.table)), names(want), `${x.table}: exactly the chunks ending at or before ${new Date(cut).toISOString()} (${want.length})`);
      const left = await store.listChunks(x.table);
      t.ok(left.every((c) => c.endMs > cut), `${x.table}: every chunk left reaches past the cut`);
      t.equal(left.length, before.get(x.table)!.length - want.length);
    }
    // The edge: raw's last chunk with samples (day 39) ends exactly at now − 1d, so it goes too;
    // what is left are chunks the store made ahead of time (they start at or after the cut).
    const rawLeft = await store.listChunks('samples');
    t.notOk(rawLeft.some((c) => c.startMs === T0 + 39 * DAY), 'raw: the chunk ending exactly at the cut is dropped');
    t.ok(rawLeft.every((c) => c.startMs >= T0 + 40 * DAY), 'raw: only chunks from the cut on remain');
    t.same((await store.listChunks('rollup_1d')).length, 1, 'daily tier: its one 360-day chunk stays');

    // Size cap, with raw's rolled-up chunks gone: the 5m tier's chunks the 1h tier holds go
    // next (before raw's last finished day, which the 5m tier has not fully rolled up).
    const all = new Map<string, ChunkInfo[]>();
    for (const x of targets) all.set(x.table, await store.listChunks(x.table));
    const order = sizeCapOrder(targets, all, now);
    t.equal(order[0]?.chunk.table, 'rollup_5m', 'first: the finest tier, where the next one holds its range');
    t.equal(order[0]?.chunk.name, all.get('rollup_5m')![0]!.name, 'its oldest chunk');
    const used = await usedBytes(store);
    const capped = await applySizeCap(store, targets, used - 1, now);
    t.same(capped.dropped.map((d) => d.chunk.name), [order[0]!.chunk.name], 'one byte over: exactly that chunk');
    t.ok(capped.dropped[0]!.bytes > 0, 'its size is reported');
    // A cap nothing can meet: everything droppable goes, the chunks reaching past now stay.
    const hopeless = await applySizeCap(store, targets, 1, now);
    t.equal(hopeless.fits, false, 'reported as not met');
    for (const x of targets) {
      const left = await store.listChunks(x.table);
      const started = left.filter((c) => c.startMs <= now);
      t.ok(left.every((c) => c.endMs > now || c === started[started.length - 1]), `${x.table}: only the chunk being written, its newest and those made ahead are left`);
    }
    t.ok((await store.listChunks('samples')).some((c) => c.startMs <= now && now < c.endMs), 'raw: the chunk being written is kept');
    t.same((await applySizeCap(store, targets, 0, now)).dropped, [], 'a cap of 0 means none');
  });
}

t.test('sizeCapOrder: rolled-up first, finer before coarser, never the chunk being written', async (t) => {
  const H = 3_600_000;
  const now = T0 + 10 * DAY + 12 * H;
  const day = (table: string, d: number): ChunkInfo => ({ table, name: `${table}_${d}`, startMs: T0 + d * DAY, endMs: T0 + (d + 1) * DAY });
  const chunks = new Map<string, ChunkInfo[]>([
    // raw: days 7..11, day 10 holds now, day 11 is made ahead
    ['samples', [7, 8, 9, 10, 11].map((d) => day('samples', d))],
    ['rollup_5m', [5, 6, 7, 8, 9, 10].map((d) => day('rollup_5m', d))],
    ['rollup_5m_quantiles', [5, 9, 10].map((d) => day('rollup_5m_quantiles', d))],
    ['rollup_1h', [0, 10].map((d) => day('rollup_1h', d))],
    ['rollup_1d', [0].map((d) => day('rollup_1d', d))],
  ]);
  // 5m rolled up to day 9 00:00; 1h to day 7 00:00; 1d to day 2.
  const targets = retentionTargets(TIERS, RAW_RETENTION, new Map([['5m', T0 + 9 * DAY], ['1h', T0 + 7 * DAY], ['1d', T0 + 2 * DAY]]));
  const order = sizeCapOrder(targets, chunks, now).map((c) => `${c.reason}:${c.chunk.name}`);
  t.same(order, [
    'rolled-up:samples_7', 'rolled-up:samples_8',
    'rolled-up:rollup_5m_5', 'rolled-up:rollup_5m_6',
    'rolled-up:rollup_5m_quantiles_5',
    'rolled-up:rollup_1h_0',
    'last-resort:samples_9',
    'last-resort:rollup_5m_7', 'last-resort:rollup_5m_8', 'last-resort:rollup_5m_9',
    'last-resort:rollup_5m_quantiles_9',
  ], 'raw the first tier holds, then each tier finest first; the rest only as a last resort');
  t.notOk(order.some((o) => o.endsWith('_10') || o.endsWith('_11')), 'never the chunk holding now, nor one made ahead');
  t.notOk(order.some((o) => o.includes('rollup_1d')), "the coarsest tier's only chunk stays");

  // The fault-injection run's case: raw is today's chunk and tomorrow's empty one: nothing may go.
  const today = new Map([['samples', [day('samples', 10), day('samples', 11)]]]);
  t.same(sizeCapOrder(targets, today, now), [], "today's chunk and tomorrow's are never candidates");
  // Recording stopped two days ago: the newest chunk with data is still kept.
  const stale = new Map([['samples', [day('samples', 6), day('samples', 7), day('samples', 8)]]]);
  t.same(sizeCapOrder(targets, stale, now).map((c) => c.chunk.name), ['samples_6', 'samples_7'], 'the newest chunk that has started is kept');
});

for (const dialect of DIALECTS) {
  t.test(`${dialect}: over the cap with only today's chunk and tomorrow's, nothing recorded is dropped`, async (t) => {
    const now = T0 + 5 * DAY + 12 * 3_600_000;
    const store = await openTestStore(t, dialect, () => now);
    if (!store) return;
    const [id] = await store.resolveSeries([{ name: 'cap_gauge', labels: {}, type: 'gauge' }]);
    const write = async (from: number, to: number): Promise<void> => {
      const samples = [];
      for (let ts = from; ts < to; ts += MIN) samples.push({ seriesId: id!, timeMs: ts, value: ts });
      for (let i = 0; i < samples.length; i += 5000) await store.writeSamples(samples.slice(i, i + 5000));
    };
    await write(T0 + 5 * DAY, now);
    const targets = retentionTargets(TIERS, RAW_RETENTION, new Map());
    const before = await store.listChunks('samples');
    t.ok(before.length >= 2, `today's chunk and the one made ahead (${before.map((c) => c.name).join(', ')})`);
    const r = await applySizeCap(store, targets, (await usedBytes(store)) - 1, now);
    t.same(r.dropped, [], 'nothing dropped');
    t.equal(r.fits, false, 'and the cap is reported as not met');
    t.same(names(await store.listChunks('samples')), names(before), 'every raw chunk is still there');
    const read = await store.readSamples({ seriesIds: [id!], fromMs: T0 + 5 * DAY, toMs: now });
    t.equal(read.samples.length, 12 * 60, "today's samples are all there");

    // With yesterday's chunk too: yesterday goes (nothing rolled up yet: a last resort), today stays.
    await write(T0 + 4 * DAY, T0 + 5 * DAY);
    const r2 = await applySizeCap(store, targets, (await usedBytes(store)) - 1, now);
    t.same(r2.dropped.map((d) => [d.chunk.startMs, d.reason]), [[T0 + 4 * DAY, 'last-resort']], "yesterday's chunk, the oldest, and only it");
    t.equal((await store.readSamples({ seriesIds: [id!], fromMs: T0 + 5 * DAY, toMs: now })).samples.length, 12 * 60, "today's samples are untouched");
  });
}
