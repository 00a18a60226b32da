/**
 * The fixture series set rolled up into every default tier, on SQLite and the real
 * PostgreSQL: exact rows against an independent model, plus hand-stated numbers.
 */
import t from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { FIRST_RUN_AT, HOUR, MIN, SERIES, T0, fixtureSamples } from '../fixtures/rollup/fixture.js';
import { referenceQuantiles, referenceRows, type RefQuantile, type RefRow } from './reference.js';
import { DIALECTS, openTestStore } from './stores.js';
import { QUANTILE_COLS, ROLLUP_COLS, tableRows } from './tables.js';

const DAY = 24 * HOUR;
for (const dialect of DIALECTS) {
  t.test(`fixture rolled up on ${dialect}`, async (t) => {
    const clock = { now: T0 };
    const store = await openTestStore(t, dialect, () => clock.now);
    if (!store) return;
    const engine = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => clock.now });

    // First run at 2h00m30s: with 2 minutes of grace the 5m tier stops at 1h55m, the hourly at 1h.
    const ids = await store.resolveSeries(SERIES);
    const indexOf = new Map(ids.map((id, i) => [id, i]));
    const samples = fixtureSamples();
    await store.writeSamples(samples.filter((s) => !s.late).map((s) => ({ seriesId: ids[s.series]!, timeMs: s.ts, value: s.value })));
    clock.now = FIRST_RUN_AT;
    const first = await engine.run();
    t.same(first.map((r) => [r.tier, r.watermark]), [['5m', T0 + HOUR + 55 * MIN], ['1h', T0 + HOUR], ['1d', undefined]], 'watermarks after the first run');

    // The late gauge samples (1h57m, 1h58m) land in the still-open 5m bucket and count.
    await store.writeSamples(samples.filter((s) => s.late).map((s) => ({ seriesId: ids[s.series]!, timeMs: s.ts, value: s.value })));
    clock.now = T0 + DAY + HOUR;
    const second = await engine.run();
    t.same(second.map((r) => [r.tier, r.watermark]), [['5m', T0 + DAY + HOUR - 5 * MIN], ['1h', T0 + DAY], ['1d', T0 + DAY]], 'caught up on every missed bucket');

    const all = samples.map((s) => ({ series: s.series, ts: s.ts, value: s.value }));
    for (const [tier, res] of [['5m', 5 * MIN], ['1h', HOUR], ['1d', DAY]] as const) {
      const want: RefRow[] = referenceRows(SERIES, all, res, T0 + DAY + HOUR);
      const got = await tableRows(store, `rollup_${tier}`, ROLLUP_COLS, indexOf);
      t.same(got, want, `every ${tier} row (${want.length})`);
      const wantQ: RefQuantile[] = referenceQuantiles(SERIES, want, 6, 7);
      const gotQ = await tableRows(store, `rollup_${tier}_quantiles`, QUANTILE_COLS, indexOf);
      t.same(gotQ, wantQ, `every ${tier} quantile row (${wantQ.length})`);
    }

    // Hand-stated answers.
    const hourly = await tableRows(store, 'rollup_1h', ROLLUP_COLS, indexOf);
    const inc = (series: number): (number | null)[] => hourly.filter((r) => r['series'] === series).map((r) => r['increase']!);
    t.same(inc(0), [118, 119, 120, 120, 120, 120], 'counter: 59 steps of 2 in hour 0 (first sample sets the level), the reset at 1h30m counts 1');
    t.same(inc(8), [59, 240, 60], 'gap counter: hours 0, 4 (181 across the 3h gap + 59), 5');
    t.same(hourly.filter((r) => r['series'] === 1).map((r) => [r['min'], r['max']]), [[15, 25], [15, 25], [15, 25], [15, 25], [15, 25], [15, 25]], 'gauge min/max per hour');
    t.same(hourly.filter((r) => r['series'] === 1).map((r) => r['count']), [60, 60, 60, 60, 60, 60], 'gauge: 60 samples an hour, late ones included');
    const daily = await tableRows(store, 'rollup_1d', ROLLUP_COLS, indexOf);
    t.same(daily.find((r) => r['series'] === 0), { series: 0, ts: T0, count: 360, sum: 0 + [...Array(360).keys()].reduce((a, i) => a + (i < 90 ? 10 + 2 * i : 1 + 2 * (i - 90)), 0), min: 1, max: 539, first: 10, last: 539, increase: 717 }, 'counter daily row');
    const q = await tableRows(store, 'rollup_1h_quantiles', QUANTILE_COLS, indexOf);
    t.same(q[1], { series: 6, ts: T0 + HOUR, count: 600, sum: 150, p50: 0.875, p95: 1, p99: 1 }, 'hour 1: buckets 60/120/360/600 → p50 0.875, p95 in +Inf → 1');
    t.same(q[0], { series: 6, ts: T0, count: 649, sum: 162.25, p50: 0.1 + 0.4 * ((324.5 - 177) / (472 - 177)), p95: 1, p99: 1 }, 'hour 0: 59 minutes of 3/8/10/11');
  });
}
