/**
 * The example queries of docs/sql.md, run as printed (`:from` and `:to` bound) on a real
 * SQLite store and the real PostgreSQL, filled through the store and rolled up by the
 * rollup engine, and checked against the same figures computed here from the raw
 * samples: an hourly average, a p95 per route and hour over merged label sets, a
 * counter's daily increase across a reset. So the examples cannot rot.
 */
import t from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { histogramQuantile } from '../../rollup/quantile.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import type { Labels, Sample, SeriesDef } from '../../storage/store.js';
import { DIALECTS, openTestStore } from '../rollup/stores.js';
import { docsSqlBlock } from '../helpers/docs-sql.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The day the examples ask about; data starts a day earlier, so its first buckets have a predecessor. */
const T0 = Date.UTC(2026, 2, 1);
const START = T0 - DAY;
const END = T0 + 2 * DAY;
const STEP = MIN;
const LES = ['0.05', '0.1', '0.5', '1', '+Inf'];
const HIST = 'http_request_duration_seconds';

const INSTANCES = ['host-a:9100', 'host-b:9100'];
const COUNTER_SETS: Labels[] = [
  { job: 'web', instance: 'host-a:9100', route: '/a', status_code: '200' },
  { job: 'web', instance: 'host-a:9100', route: '/a', status_code: '500' },
  { job: 'web', instance: 'host-a:9100', route: '/b', status_code: '200' },
];
/** Route /a has two label sets, merged by the p95 query; /b one. */
const HIST_SETS: Labels[] = [
  { job: 'web', instance: 'host-a:9100', route: '/a', method: 'GET' },
  { job: 'web', instance: 'host-a:9100', route: '/a', method: 'POST' },
  { job: 'web', instance: 'host-a:9100', route: '/b', method: 'GET' },
];
/** The counter of set 0 restarts from 0 here (a service restart), in the middle of the first asked day. */
const RESET_AT = T0 + 10 * HOUR + 7 * MIN;

const SERIES: SeriesDef[] = [
  ...INSTANCES.map((instance): SeriesDef => ({ name: 'node_load1', labels: { job: 'node', instance }, type: 'gauge' })),
  ...COUNTER_SETS.map((labels): SeriesDef => ({ name: 'http_requests_total', labels, type: 'counter' })),
  ...HIST_SETS.flatMap((set): SeriesDef[] => [
    ...LES.map((le): SeriesDef => ({ name: `${HIST}_bucket`, labels: { ...set, le }, type: 'histogram' })),
    { name: `${HIST}_count`, labels: set, type: 'histogram' },
    { name: `${HIST}_sum`, labels: set, type: 'histogram' },
  ]),
];

interface Data {
  readonly gauge: Map<string, { ts: number; v: number }[]>;
  readonly counter: { ts: number; v: number }[][];
  /** Per histogram set, per le: cumulative counts at each time. */
  readonly hist: { ts: number; v: number }[][][];
}

/** Deterministic samples every minute, and the same values kept for the expectations. */
function generate(ids: readonly number[]): { samples: Sample[]; data: Data } {
  const samples: Sample[] = [];
  const data: Data = { gauge: new Map(INSTANCES.map((i) => [i, []])), counter: COUNTER_SETS.map(() => []), hist: HIST_SETS.map(() => LES.map(() => [])) };
  const counters = COUNTER_SETS.map(() => 0);
  const cum = HIST_SETS.map(() => LES.map(() => 0));
  for (let ts = START, k = 0; ts < END; ts += STEP, k++) {
    let id = 0;
    INSTANCES.forEach((instance, i) => {
      const v = 1 + Math.sin(k / 37) + i * 0.5 + (k % 3) * 0.01;
      data.gauge.get(instance)!.push({ ts, v });
      samples.push({ seriesId: ids[id++]!, timeMs: ts, value: v });
    });
    COUNTER_SETS.forEach((_, s) => {
      counters[s] = s === 0 && ts === RESET_AT ? 2 : counters[s]! + 1 + (k % 5) * (s + 1);
      data.counter[s]!.push({ ts, v: counters[s]! });
      samples.push({ seriesId: ids[id++]!, timeMs: ts, value: counters[s]! });
    });
    HIST_SETS.forEach((_, s) => {
      // observations per bucket (not cumulative), varying by set, bucket and time
      let running = 0;
      LES.forEach((__, b) => {
        const n = b === LES.length - 1 ? (k % 10 === 0 ? 1 : 0) : ((k * (s + 1) + b * 3) % (5 + s * 2)) + (b === s ? 4 : 0);
        cum[s]![b]! += n;
      });
      LES.forEach((__, b) => {
        running += cum[s]![b]!;
        data.hist[s]![b]!.push({ ts, v: running });
        samples.push({ seriesId: ids[id++]!, timeMs: ts, value: running });
      });
      samples.push({ seriesId: ids[id++]!, timeMs: ts, value: running }, { seriesId: ids[id++]!, timeMs: ts, value: running * 0.2 });
    });
  }
  return { samples, data };
}

/** A counter's increase over [from, to): from the last sample before `from`, resets counted as PromQL counts them. */
function increase(points: readonly { ts: number; v: number }[], from: number, to: number): number {
  let prev: number | undefined;
  let sum = 0;
  for (const p of points) {
    if (p.ts >= to) break;
    if (p.ts >= from && prev !== undefined) sum += p.v >= prev ? p.v - prev : p.v;
    prev = p.v;
  }
  return sum;
}

const num = (v: unknown): number => Number(v);
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

for (const dialect of DIALECTS) {
  t.test(`${dialect}: the examples of docs/sql.md, as printed`, async (t) => {
    const store = await openTestStore(t, dialect, () => END + 10 * MIN);
    if (!store) return;
    const { samples, data } = generate(await store.resolveSeries(SERIES));
    for (let i = 0; i < samples.length; i += 20_000) await store.writeSamples(samples.slice(i, i + 20_000));
    await new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => END + 10 * MIN }).run();

    const sq = dialect === 'sqlite';
    const name = sq ? 'SQLite' : 'PostgreSQL';
    const at = (ms: number): string => (sq ? String(ms) : `to_timestamp(${ms} / 1000.0)`);
    const run = async (title: string, from: number, to: number): Promise<Record<string, unknown>[]> =>
      store.query(docsSqlBlock('sql.md', `${title} (${name})`).replaceAll(':from', at(from)).replaceAll(':to', at(to)));
    const ms = (v: unknown): number => (sq ? num(v) : (v as Date).getTime());

    // hourly average of a gauge over a day
    const hourly = await run('hourly average of a gauge over a day', T0, T0 + DAY);
    t.equal(hourly.length, 24 * INSTANCES.length, 'one row per hour and instance');
    const wrongAvg = hourly.filter((r) => {
      const h = ms(r['ts']);
      const pts = data.gauge.get(r['instance'] as string)!.filter((p) => p.ts >= h && p.ts < h + HOUR).map((p) => p.v);
      return !(close(num(r['avg']), pts.reduce((a, b) => a + b, 0) / pts.length) && close(num(r['min']), Math.min(...pts)) && close(num(r['max']), Math.max(...pts)));
    });
    t.same(wrongAvg.slice(0, 3), [], 'avg, min and max are those of the hour\'s raw samples');
    if (sq) t.equal(hourly.find((r) => ms(r['ts']) === T0 + HOUR)?.['hour'], '2026-03-01 01:00', 'the hour, readable');

    // p95 latency per route per hour, methods merged
    const p95 = await run('p95 latency per route per hour', T0, T0 + DAY);
    const want: { ts: number; route: string; p95: number }[] = [];
    for (let h = T0; h < T0 + DAY; h += HOUR) {
      for (const route of ['/a', '/b']) {
        const buckets = LES.map((le, b) => ({
          le: le === '+Inf' ? Infinity : Number(le),
          count: HIST_SETS.reduce((sum, set, s) => (set['route'] === route ? sum + increase(data.hist[s]![b]!, h, h + HOUR) : sum), 0),
        }));
        want.push({ ts: h, route, p95: histogramQuantile(0.95, buckets) });
      }
    }
    t.equal(p95.length, want.length, 'one row per hour and route');
    const wrongP95 = p95.filter((r, i) => !(ms(r['ts']) === want[i]!.ts && r['route'] === want[i]!.route && close(num(r['p95']), want[i]!.p95)));
    t.same(wrongP95.slice(0, 3), [], "each p95 is histogram_quantile of the route's summed bucket increases, from raw samples");
    const stored = await store.query(`SELECT p95 FROM quantiles_1h WHERE metric_name = '${HIST}' AND ts = ${at(T0 + 5 * HOUR)} ORDER BY p95`);
    t.equal(stored.length, HIST_SETS.length, 'quantiles_1h holds one p95 per label set');
    const merged = num(p95.find((r) => ms(r['ts']) === T0 + 5 * HOUR && r['route'] === '/a')!['p95']);
    t.ok(stored.every((r) => !close(num(r['p95']), merged)), "route /a's merged p95 is none of its label sets' (why the query merges buckets)");

    // a counter's daily increase, across a reset
    const daily = await run("a counter's daily increase", T0, T0 + 2 * DAY);
    t.same(daily.map((r) => [ms(r['ts']), r['route']]), [[T0, '/a'], [T0, '/b'], [T0 + DAY, '/a'], [T0 + DAY, '/b']], 'one row per day and route');
    const wrongDaily = daily.filter((r) => {
      const d = ms(r['ts']);
      const expected = COUNTER_SETS.reduce((sum, set, s) => (set['route'] === r['route'] ? sum + increase(data.counter[s]!, d, d + DAY) : sum), 0);
      return !close(num(r['requests']), expected);
    });
    t.same(wrongDaily.slice(0, 3), [], "each day's increase equals the raw samples' (status codes summed)");
    const day0 = daily[0]!;
    // a plain difference (last of the day minus the last before it) would go wrong at the reset
    const c0 = data.counter[0]!;
    const naive = c0.filter((p) => p.ts < T0 + DAY).at(-1)!.v - c0.filter((p) => p.ts < T0).at(-1)!.v;
    const withReset = increase(c0, T0, T0 + DAY);
    t.ok(naive < withReset && close(num(day0['requests']), withReset + increase(data.counter[1]!, T0, T0 + DAY)), `the reset day counts the restarted counter from 0 (${withReset}), not the plain difference (${naive})`);
    t.equal(String(sq ? day0['day'] : (day0['day'] as Date | string) instanceof Date ? (day0['day'] as Date).toISOString().slice(0, 10) : day0['day']), '2026-03-01', 'the UTC day');
  });
}
