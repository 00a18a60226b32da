/**
 * Idempotence: every job run twice gives identical tables; a rollup redone from
 * scratch, or run in many small steps, writes the same rows as one catch-up; and a
 * process SIGKILLed inside a rollup transaction, restarted, leaves tables identical
 * to an uninterrupted run (SQLite and the real PostgreSQL).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CARRY_TABLE, RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import type { Store } from '../../storage/store.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { openPgStore } from '../../storage/pg-store.js';
import { need, PG } from '../helpers/peers.js';
import { HOUR, MIN, SERIES, T0, fixtureSamples } from '../fixtures/rollup/fixture.js';
import { QUANTILE_COLS, ROLLUP_COLS, tableRows } from './tables.js';
import { DIALECTS, dropSchema, freshSchema, openTestStore } from './stores.js';

// About 75 s alone; near the suite's 300 s a file (package.json) with other files beside it on a loaded 2-core machine.
t.setTimeout(15 * 60_000);

const DAY = 24 * HOUR;
const END = T0 + DAY + HOUR;

/** Everything the rollups write, in a comparable form. */
async function dump(store: Store, indexOf: Map<number, number>): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const tier of ['5m', '1h', '1d']) {
    out[tier] = await tableRows(store, `rollup_${tier}`, ROLLUP_COLS, indexOf);
    out[`${tier}q`] = await tableRows(store, `rollup_${tier}_quantiles`, QUANTILE_COLS, indexOf);
  }
  out['watermarks'] = (await store.query('SELECT tier, watermark_ms FROM rollup_watermarks ORDER BY tier')).map((r) => [r['tier'], Number(r['watermark_ms'])]);
  out['carry'] = (await store.query(`SELECT tier, series_id, ts, last FROM ${CARRY_TABLE} ORDER BY tier, series_id`)).map((r) => [r['tier'], indexOf.get(Number(r['series_id'])), Number(r['ts']), Number(r['last'])]);
  return out;
}

async function load(store: Store): Promise<Map<number, number>> {
  const ids = await store.resolveSeries(SERIES);
  await store.writeSamples(fixtureSamples().map((s) => ({ seriesId: ids[s.series]!, timeMs: s.ts, value: s.value })));
  return new Map(ids.map((id, i) => [id, i]));
}

for (const dialect of DIALECTS) {
  t.test(`${dialect}: twice, from scratch, and in small steps give the same rows`, async (t) => {
    const clock = { now: END };
    const store = await openTestStore(t, dialect, () => clock.now);
    if (!store) return;
    const indexOf = await load(store);
    const engine = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => clock.now });
    await engine.run();
    const once = await dump(store, indexOf);
    const again = await engine.run();
    t.same(again.map((r) => r.rows), [0, 0, 0], 'the second run finds nothing to do');
    t.same(await dump(store, indexOf), once, 'identical tables after running twice');

    await store.execute('DELETE FROM rollup_watermarks');
    await store.execute(`DELETE FROM ${CARRY_TABLE}`);
    await engine.run();
    t.same(await dump(store, indexOf), once, 'redone from scratch (watermarks lost): the same rows, none doubled');

    const clock2 = { now: T0 };
    const other = await openTestStore(t, dialect, () => clock2.now);
    if (!other) return;
    const indexOf2 = await load(other);
    const stepper = new RollupEngine({ store: other, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => clock2.now, maxBucketsPerTransaction: 5 });
    // Every 7 minutes while data arrives (6 h), then one catch-up over the quiet rest of the day.
    for (let now = T0; now <= T0 + 7 * HOUR; now += 7 * MIN) {
      clock2.now = now;
      await stepper.run();
    }
    clock2.now = END;
    await stepper.run();
    t.same(await dump(other, indexOf2), once, 'run every 7 minutes, then a catch-up = one catch-up');
  });

  t.test(`${dialect}: SIGKILL inside a rollup transaction, restart → same tables as an uninterrupted run`, async (t) => {
    if (dialect === 'postgresql' && !(await need(t, 'postgres'))) return;
    const dir = mkdtempSync(join(tmpdir(), 'larder-crash-'));
    const where = dialect === 'sqlite' ? join(dir, 'monitoring.db') : freshSchema('crash');
    t.teardown(async () => {
      rmSync(dir, { recursive: true, force: true });
      if (dialect === 'postgresql') await dropSchema(where);
    });
    const open = (): Promise<Store> => (dialect === 'sqlite' ? openSqliteStore({ path: where, now: () => END }) : openPgStore({ ...PG, schema: where, now: () => END }));
    let store = await open();
    const indexOf = await load(store);
    await store.close();

    const child = (pauseAt: number): { out: Promise<string>; proc: ReturnType<typeof spawn> } => {
      const proc = spawn(process.execPath, ['--import', '@tapjs/typescript/import', 'test/rollup/crash-child.ts', dialect, where, String(END), String(pauseAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      const out = new Promise<string>((resolve) => {
        proc.stdout!.on('data', (d: Buffer) => {
          text += d.toString();
          if (text.includes('PAUSED') || text.includes('DONE')) resolve(text);
        });
        proc.on('exit', () => resolve(text));
      });
      return { out, proc };
    };
    const first = child(20);
    const said = await first.out;
    t.match(said, /PAUSED/, 'the child paused inside the 20th transaction');
    first.proc.kill('SIGKILL');
    await new Promise((r) => (first.proc.exitCode !== null || first.proc.signalCode !== null ? r(null) : first.proc.once('exit', r)));

    const second = child(0);
    const done = /DONE (\d+)/.exec(await second.out);
    t.ok(done, 'the restarted rollup finished');
    const restartSlices = Number(done?.[1]);
    await new Promise((r) => (second.proc.exitCode !== null ? r(null) : second.proc.once('exit', r)));

    store = await open();
    const crashed = await dump(store, indexOf);
    if (dialect === 'sqlite') t.same((await store.query('PRAGMA integrity_check'))[0], { integrity_check: 'ok' }, 'the file is intact');
    await store.close();

    const reference = await openTestStore(t, dialect, () => END);
    if (!reference) return;
    const refIndex = await load(reference);
    let total = 0;
    await new RollupEngine({ store: reference, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => END, maxBucketsPerTransaction: 6, onSlice: () => void total++ }).run();
    // 5m: 299 buckets in slices of 6 = 50; 1h: 24 buckets = 4; 1d: 1.
    t.equal(total, 55, 'an uninterrupted run takes 55 transactions');
    t.equal(restartSlices, total - 19, 'the restart kept the 19 committed before the kill and redid the killed one onwards');
    t.same(crashed, await dump(reference, refIndex), 'identical to an uninterrupted run');
  });
}

t.test('overlapping runs (the minute job and the daily job at once) are serialized and write the same rows', async (t) => {
  const clock = { now: END };
  const store = await openTestStore(t, 'sqlite', () => clock.now);
  if (!store) return;
  const indexOf = await load(store);
  const engine = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => clock.now, maxBucketsPerTransaction: 12 });
  const [a, b] = await Promise.all([engine.run(HOUR), engine.run()]);
  t.ok(a.reduce((n, r) => n + r.rows, 0) > 0, 'the first run did the work');
  t.same(b.slice(0, 2).map((r) => r.rows), [0, 0], 'the second found the sub-daily tiers done');
  const reference = await openTestStore(t, 'sqlite', () => END);
  if (!reference) return;
  const refIndex = await load(reference);
  await new RollupEngine({ store: reference, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => END }).run();
  t.same(await dump(store, indexOf), await dump(reference, refIndex), 'same tables as one run');
});

for (const dialect of DIALECTS) {
  t.test(`${dialect}: a slice that fails stops the run there, its successor in flight rolls back, the next run completes the same rows`, async (t) => {
    const store = await openTestStore(t, dialect, () => END);
    if (!store) return;
    const indexOf = await load(store);
    let slices = 0;
    let failAt: number | undefined;
    const failing = new RollupEngine({
      store,
      tiers: DEFAULT_TIERS,
      graceMs: 2 * MIN,
      now: () => END,
      maxBucketsPerTransaction: 6,
      onSlice: (tier, from) => {
        if (++slices === 3) {
          failAt = from;
          throw new Error('slice 3 fails');
        }
      },
    });
    await t.rejects(failing.run(), /slice 3 fails/);
    t.equal(await failing.watermark('5m'), failAt, 'the watermark stops where the failed slice starts (its successor, already inserting on PostgreSQL, did not commit)');
    const past = await store.query(`SELECT count(*) AS n FROM rollup_5m_all WHERE ts >= ${dialect === 'sqlite' ? '?' : 'to_timestamp($1::double precision / 1000)'}`, [failAt!]);
    t.equal(Number(past[0]!['n']), 0, 'no row at or past the failed slice');
    await new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => END, maxBucketsPerTransaction: 6 }).run();
    const reference = await openTestStore(t, dialect, () => END);
    if (!reference) return;
    const refIndex = await load(reference);
    await new RollupEngine({ store: reference, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => END }).run();
    t.same(await dump(store, indexOf), await dump(reference, refIndex), 'identical to an uninterrupted run');
  });
}
