/**
 * Rollups of raw samples still in the SQLite store's head (storage/sqlite-head.ts): the
 * tiers get the same rows whether the samples are all in the head, all folded into the
 * chunk tables, or half-way through a fold (with late samples written around it).
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { CARRY_TABLE, RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { openSqliteStore, type SqliteStore } from '../../storage/sqlite-store.js';
import type { HeadOptions } from '../../storage/sqlite-head.js';
import { HOUR, MIN, SERIES, T0, fixtureSamples } from '../fixtures/rollup/fixture.js';
import { QUANTILE_COLS, ROLLUP_COLS, tableRows } from './tables.js';
import { tempDir } from '../storage/fixtures/stores.js';

const END = T0 + 7 * HOUR;

/** The fixture written in 30-minute batches (as ticks would come), then rolled up; what the tiers hold. */
async function rolledUp(t: Test, head: HeadOptions, prepare: (s: SqliteStore) => Promise<void>): Promise<unknown> {
  const s = await openSqliteStore({ path: join(tempDir(t), 'monitoring.db'), now: () => END, head });
  t.teardown(() => s.close());
  const ids = await s.resolveSeries(SERIES);
  const samples = fixtureSamples().map((x) => ({ seriesId: ids[x.series]!, timeMs: x.ts, value: x.value }));
  for (let from = T0; from < END; from += 30 * MIN) await s.writeSamples(samples.filter((x) => x.timeMs >= from && x.timeMs < from + 30 * MIN));
  await prepare(s);
  await new RollupEngine({ store: s, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => END }).run();
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  const out: Record<string, unknown> = {};
  for (const tier of ['5m', '1h']) {
    out[tier] = await tableRows(s, `rollup_${tier}`, ROLLUP_COLS, indexOf);
    out[`${tier}q`] = await tableRows(s, `rollup_${tier}_quantiles`, QUANTILE_COLS, indexOf);
  }
  out['carry'] = (await s.query(`SELECT tier, series_id, ts, last FROM ${CARRY_TABLE} ORDER BY tier, series_id`)).map((r) => [r['tier'], indexOf.get(Number(r['series_id'])), Number(r['ts']), Number(r['last'])]);
  return out;
}

const NEVER = { maxRows: 1e9, maxSpanMs: 1e12 };

t.test('the tiers are the same from the head, from the chunks, and mid-fold', async (t) => {
  const folded = await rolledUp(t, NEVER, (s) => s.foldHead());
  const inHead = await rolledUp(t, NEVER, async (s) => {
    const chunk = (await s.listChunks('samples'))[0]!.name;
    t.equal(Number((await s.query(`SELECT COUNT(*) AS n FROM "${chunk}"`))[0]!['n']), 0, 'all samples in the head');
  });
  t.same(inHead, folded, 'all in the head: the rows of the folded store');
  // Small heads and steps: the worker rotates and folds a step after each write; the
  // rollup runs between steps, with part of the samples folded and part not.
  const midFold = await rolledUp(t, { maxRows: 400, stepRows: 50 }, async (s) => {
    const n = Number((await s.query("SELECT COUNT(*) AS n FROM samples_heads WHERE role = 'fold' AND folded_below > 0"))[0]!['n']);
    t.equal(n, 1, 'a fold is half-way');
  });
  t.same(midFold, folded, 'mid-fold: the same rows');
  t.ok(Object.values(folded as Record<string, unknown[]>).every((rows) => rows.length > 0), 'every table has rows');
});
