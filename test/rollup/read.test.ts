/**
 * Tier-aware reads on the fixture: the cheapest tier for a window and step, range reads
 * saying which tier answered, getMetricStats from a tier equal to raw, and the daily
 * summary row.
 */
import t from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { chooseTier, getMetricStatsTiered, readRange } from '../../rollup/read.js';
import { DEFAULT_TIERS, MINUTE_TIER } from '../../rollup/tiers.js';
import { dailyMaintenance } from '../../src/recorder/index.js';
import { silentLogger } from '../../src/log.js';
import { HOUR, MIN, SERIES, T0, fixtureSamples, gaugeValue } from '../fixtures/rollup/fixture.js';
import { tsMs } from '../../rollup/sql.js';
import { tableRows } from './tables.js';
import { DIALECTS, openTestStore } from './stores.js';

const DAY = 24 * HOUR;

t.test('chooseTier: the coarsest tier no wider than the step that still holds the start', async (t) => {
  const tiers = [MINUTE_TIER, ...DEFAULT_TIERS];
  const now = 1000 * DAY;
  const cases: [number, number, string][] = [
    [now - HOUR, 15_000, 'raw'],
    [now - HOUR, MIN, '1m'],
    [now - 6 * HOUR, 5 * MIN, '5m'],
    [now - 6 * HOUR, 10 * MIN, '5m'],
    [now - 7 * DAY, HOUR, '1h'],
    [now - 60 * DAY, HOUR, '1h'],
    [now - 60 * DAY, 5 * MIN, '5m'],
    [now - 100 * DAY, 5 * MIN, 'raw'],
    [now - 400 * DAY, DAY, '1d'],
    [now - 400 * DAY, 2 * HOUR, '1h'],
    [now - 400 * DAY, MIN, 'raw'],
  ];
  for (const [from, step, want] of cases) t.equal(chooseTier(tiers, { fromMs: from, stepMs: step, nowMs: now })?.name ?? 'raw', want, `${(now - from) / DAY}d at ${step / 1000}s → ${want}`);
  t.equal(chooseTier(tiers, { fromMs: now - 400 * DAY, stepMs: MIN, nowMs: now, rawRetentionMs: 30 * DAY })?.name, '1h', 'raw gone too: the finest tier that still holds the start');
  t.equal(chooseTier(tiers, { fromMs: now - 10 * DAY, stepMs: 15_000, nowMs: now, rawRetentionMs: 30 * DAY }), undefined, 'raw holds it: raw');
});

for (const dialect of DIALECTS) {
  t.test(`${dialect}: reads and the daily summary on the fixture`, async (t) => {
    const now = T0 + DAY + HOUR;
    const store = await openTestStore(t, dialect, () => now);
    if (!store) return;
    const ids = await store.resolveSeries(SERIES);
    await store.writeSamples(fixtureSamples().map((s) => ({ seriesId: ids[s.series]!, timeMs: s.ts, value: s.value })));
    const engine = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => now });
    await engine.run();

    const hourly = await readRange(store, DEFAULT_TIERS, { name: 'fx_requests_total', fromMs: T0, toMs: T0 + 6 * HOUR, stepMs: HOUR, nowMs: now });
    t.equal(hourly.answeredBy, '1h');
    t.same(hourly.points.map((p) => p.increase), [118, 119, 120, 120, 120, 120]);
    const fine = await readRange(store, DEFAULT_TIERS, { name: 'fx_temperature_celsius', matchers: [{ label: 'room', op: '=', value: 'a' }], fromMs: T0, toMs: T0 + HOUR, stepMs: 5 * MIN, nowMs: now });
    t.equal(fine.answeredBy, '5m');
    t.equal(fine.points.length, 12);
    t.same(fine.points.map((p) => p.count), Array(12).fill(5));
    const raw = await readRange(store, DEFAULT_TIERS, { name: 'fx_temperature_celsius', fromMs: T0, toMs: T0 + 10 * MIN, stepMs: MIN, nowMs: now });
    t.equal(raw.answeredBy, 'raw');
    t.same(raw.points.map((p) => p.avg), [...Array(10).keys()].map(gaugeValue));
    const none = await readRange(store, DEFAULT_TIERS, { name: 'fx_temperature_celsius', matchers: [{ label: 'room', op: '=', value: 'b' }], fromMs: T0, toMs: T0 + HOUR, stepMs: HOUR, nowMs: now });
    t.same(none.points, [], 'no series matched');
    await t.rejects(readRange(store, DEFAULT_TIERS, { name: 'x', fromMs: 10, toMs: 5, stepMs: 1 }), /toMs \(5\) must be after fromMs \(10\)/);

    // getMetricStats over 26 h (the whole fixture): tier answer equals raw.
    const tiered = await getMetricStatsTiered(store, DEFAULT_TIERS, 'fx_temperature_celsius', 26, now, (tier) => engine.watermark(tier));
    t.equal(tiered.answeredBy, '1h', '26 h: the coarsest tier whose buckets fit the window four times');
    t.same(tiered.tierSpan, { fromMs: T0 - HOUR, toMs: T0 + DAY }, 'the tier answers up to its watermark, raw the rest');
    const rawStats = await store.getMetricStats('fx_temperature_celsius', 26);
    t.same([tiered.count, tiered.min, tiered.max, tiered.firstMs !== null], [rawStats.count, rawStats.min, rawStats.max, true], 'count/min/max equal the raw answer');
    t.ok(Math.abs(tiered.avg! - rawStats.avg!) < 1e-9, `avg equals raw (${tiered.avg} vs ${rawStats.avg})`);
    t.equal(tiered.count, 360);
    const short = await getMetricStatsTiered(store, DEFAULT_TIERS, 'fx_temperature_celsius', 0.25, now, (tier) => engine.watermark(tier));
    t.equal(short.answeredBy, 'raw', 'a quarter hour: no tier fits, raw answers');

    // The daily job at 03:00 the next day: the summary row of 2026-01-01.
    await dailyMaintenance({ store, engine, tiers: DEFAULT_TIERS, rawRetentionDays: 30, maxBytes: 0, businessPrefix: 'fx_', nowMs: T0 + DAY + 3 * HOUR, log: silentLogger });
    const rows = await store.query(`SELECT data FROM daily_summaries WHERE date = '2026-01-01'`);
    t.equal(rows.length, 1, 'one row for the day');
    const raw0 = rows[0]!['data'];
    type Line = { min: number; max: number; avg: number; p95: number; samples: number; increase?: number; rate?: number };
    const data = (typeof raw0 === 'string' ? JSON.parse(raw0) : raw0) as { tier: string; metrics: Record<string, Line>; businessTotals: Record<string, number> };
    t.equal(data.tier, '5m');
    t.same(data.businessTotals, { fx_gap_total: 359, fx_requests_total: 717 }, 'the day totals of the business counters');
    const temp = data.metrics['fx_temperature_celsius']!;
    const values = [...Array(360).keys()].map(gaugeValue);
    t.same([temp.min, temp.max, temp.samples], [15, 25, 360]);
    t.ok(Math.abs(temp.avg - values.reduce((a, v) => a + v, 0) / 360) < 1e-9, 'avg of the day');
    t.ok(temp.p95 >= 15 && temp.p95 <= 25, 'p95 of the 5-minute averages');
    t.same(temp.increase, undefined, 'a gauge has no increase');
    // Counters: the day's increase and rate, not an average of cumulative values.
    t.same(data.metrics['fx_requests_total'], { increase: 717, rate: 717 / 86_400, samples: 360 }, 'a counter: increase (reset handled) and rate over the day');
    t.same(data.metrics['fx_gap_total'], { increase: 359, rate: 359 / 86_400, samples: 180 }, 'a counter with a gap: the delta across it counts');
    const count = data.metrics['fx_latency_seconds_count']!;
    t.ok(count.increase !== undefined && count.avg === undefined, 'a histogram _count counts up too');
    await dailyMaintenance({ store, engine, tiers: DEFAULT_TIERS, rawRetentionDays: 30, maxBytes: 0, businessPrefix: 'fx_', nowMs: T0 + DAY + 3 * HOUR, log: silentLogger });
    t.equal((await store.query('SELECT date FROM daily_summaries')).length, 1, 'the daily job twice: still one row');

    // The seed's metrics_hourly: a counter's increase per hour equals the hourly tier's,
    // resets and fx_gap_total's three-hour gap included (one run scans the whole span,
    // so the delta across the gap counts); a gauge has none.
    await store.aggregateHourlyMetrics();
    const indexOf = new Map(ids.map((id, i) => [id, i]));
    const tier = await tableRows(store, 'rollup_1h', ['increase'], indexOf);
    const seedHourly = (await store.query(`SELECT series_id, ${tsMs(store.dialect, 'ts')} AS t, increase, rate FROM metrics_hourly ORDER BY series_id, ts`)).map((r) => ({
      series: indexOf.get(Number(r['series_id'])) ?? -1, ts: Number(r['t']), increase: r['increase'] === null ? null : Number(r['increase']), rate: r['rate'] === null ? null : Number(r['rate']),
    }));
    t.equal(seedHourly.length, tier.length, 'one metrics_hourly row per series and hour, as the hourly tier');
    for (const row of tier) {
      const h = seedHourly.find((x) => x.series === row['series'] && x.ts === row['ts']);
      const want = row['increase'];
      if (h?.increase !== want || (want === null ? h.rate !== null : Math.abs(h.rate! - want / 3600) > 1e-12)) {
        t.fail(`series ${row['series']} hour ${(row['ts']! - T0) / HOUR}: metrics_hourly ${h?.increase}/${h?.rate}, tier ${row['increase']}`);
      }
    }
    t.same(seedHourly.filter((x) => x.series === 0).map((x) => x.increase), [118, 119, 120, 120, 120, 120], 'the counter with a reset, hour by hour');
    t.ok(seedHourly.filter((x) => x.series === 1).every((x) => x.increase === null && x.rate === null), 'the gauge: no increase, no rate');
  });
}
