/**
 * Retention drops exactly the chunks whose whole range is past their table's age, on
 * every tier; never raw (or a tier) that the next tier has not rolled up yet; and the
 * size cap drops the oldest chunks, raw before rollups.
 */
import t from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { applyRetention, applySizeCap, retentionCutoff, retentionTargets, usedBytes } from '../../rollup/retention.js';
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
    const firstCap = await applySizeCap(store, targets, usedBefore - 1);
    t.same(firstCap.map((c) => c.name), [rawNow[0]!.name], 'size cap: the oldest raw chunk first, nothing else');

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

    // Size cap: drops oldest first, raw before rollups; with raw gone, the 5m tier's oldest goes next.
    const used = await usedBytes(store);
    // The next table in cap order (raw, then tiers finest first) that still has more than its newest chunk.
    let nextTable: ChunkInfo | undefined;
    for (const x of targets.slice(1)) {
      const cs = await store.listChunks(x.table);
      if (cs.length > 1) {
        nextTable = cs[0];
        break;
      }
    }
    let rawBytes = 0;
    for (const c of rawLeft.slice(0, -1)) rawBytes += await store.chunkBytes('samples', c.name);
    const capped = await applySizeCap(store, targets, used - rawBytes - 1);
    const rawDropped = capped.filter((c) => c.table === 'samples');
    t.same(names(rawDropped), names(rawLeft.slice(0, -1)), 'raw goes first (all but its newest chunk)');
    const next = capped[rawDropped.length];
    t.ok(nextTable, 'some rollup table has more than one chunk');
    t.equal(next?.name, nextTable?.name, `then the finest tier with chunks to spare (${nextTable?.table}), its oldest chunk`);
    t.ok((await usedBytes(store)) <= used - rawBytes - 1, 'the store fits under the cap');
    t.same(await applySizeCap(store, targets, 0), [], 'a cap of 0 means none');
  });
}
