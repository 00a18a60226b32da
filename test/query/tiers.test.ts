/**
 * Reading the rollup tiers (query/tiers.ts) on recorded data, on SQLite and PostgreSQL:
 * each tier-answered function agrees with the raw answer (rawOnly) within the stated
 * tolerance, and a window that crosses the watermark (rolled-up → not yet rolled up) is
 * continuous. Samples sit at :30 of each minute, so no sample falls on a bucket edge and
 * the tier's buckets `[t-r, t)` hold exactly the samples of the window `(t-r, t]`.
 */
import t from 'tap';
import type { Test } from 'tap';
import { createQueryEngine } from '../../query/engine.js';
import type { QueryEngine, QueryResult } from '../../query/types.js';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { DIALECTS, openTestStore } from '../rollup/stores.js';
import type { Sample } from '../../storage/store.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);
const END = T0 + 2 * DAY;
/** When the rollup ran: the last hours after it are raw only. */
const ROLLED_AT = END - 3 * HOUR;

type Points = Map<string, { timeMs: number; value: number }[]>;
const points = (r: QueryResult): Points => {
  if (r.value.type !== 'matrix') throw new Error('expected a matrix');
  return new Map(r.value.series.map((s) => [JSON.stringify(s.metric), [...s.points]]));
};

/** Asserts the tiered and raw answers hold the same series and points within `tol` (relative). */
async function agree(engine: QueryEngine, t: Test, query: string, startMs: number, endMs: number, stepMs: number, tol: number, tier: string): Promise<void> {
  const tiered = await engine.range(query, startMs, endMs, stepMs);
  const raw = await engine.range(query, startMs, endMs, stepMs, { rawOnly: true });
  t.match(tiered.warnings.join('\n'), new RegExp(`read the ${tier} rollup tier`), `${query}: answered by the ${tier} tier`);
  t.same(raw.warnings, [], `${query}: rawOnly reads raw`);
  const a = points(tiered);
  const b = points(raw);
  t.same([...a.keys()], [...b.keys()], `${query}: same series`);
  let worst = 0;
  let n = 0;
  for (const [k, pa] of a) {
    const pb = b.get(k)!;
    t.same(
      pa.map((p) => p.timeMs),
      pb.map((p) => p.timeMs),
      `${query}: same steps`,
    );
    pa.forEach((p, i) => {
      const q = pb[i]!.value;
      worst = Math.max(worst, Math.abs(p.value - q) / Math.max(Math.abs(q), 1e-12));
      n++;
    });
  }
  t.ok(n > 0 && worst <= tol, `${query}: ${n} points agree within ${tol} (worst ${worst.toExponential(2)})`);
}

for (const dialect of DIALECTS) {
  t.test(dialect, async (t) => {
    let clock = ROLLED_AT;
    const store = await openTestStore(t, dialect, () => clock);
    if (store === undefined) return;

    const [gauge, counter] = await store.resolveSeries([
      { name: 'temperature', labels: { room: 'a' }, type: 'gauge' },
      { name: 'requests_total', labels: { job: 'api' }, type: 'counter' },
    ]);
    const samples: Sample[] = [];
    let c = 0;
    for (let ts = T0 + 30_000; ts < END; ts += MIN) {
      const i = (ts - T0) / MIN;
      samples.push({ seriesId: gauge!, timeMs: ts, value: 20 + 5 * Math.sin(i / 37) + (i % 7) });
      // A counter of ~10/s with a restart every 17 hours.
      c = i % 1020 === 0 ? 3 : c + 600 + (i % 5);
      samples.push({ seriesId: counter!, timeMs: ts, value: c });
    }
    for (let i = 0; i < samples.length; i += 20_000) await store.writeSamples(samples.slice(i, i + 20_000));
    const rollup = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => clock });
    await rollup.run();
    clock = END;
    const wm5m = await rollup.watermark('5m');
    const wm1h = await rollup.watermark('1h');
    t.ok(wm5m !== undefined && wm5m < END && wm1h !== undefined && wm1h < END, 'the newest hours are not rolled up');

    const engine = createQueryEngine(store, { tiers: { tiers: DEFAULT_TIERS, watermark: (tier) => rollup.watermark(tier), now: () => clock } });

    t.test('each function from the hourly tier agrees with raw', async (t) => {
      const from = T0 + DAY;
      for (const f of ['min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'avg_over_time']) await agree(engine, t, `${f}(temperature[1h])`, from, END, HOUR, 1e-9, '1h');
      // rate/increase: raw extrapolates to the window edges, the tier sums the exact
      // increases, so a window with a counter restart differs by the restart's edge.
      await agree(engine, t, 'rate(requests_total[1h])', from, END, HOUR, 0.02, '1h');
      await agree(engine, t, 'increase(requests_total[2h])', from, END, 2 * HOUR, 0.02, '1h');
      await agree(engine, t, 'sum by (job) (rate(requests_total[1h]))', from, END, HOUR, 0.02, '1h');
    });

    t.test('a window crossing the watermark is continuous', async (t) => {
      // 5m buckets up to the 5m watermark, raw samples after it, step by step across it.
      await agree(engine, t, 'avg_over_time(temperature[30m])', wm5m! - 2 * HOUR, END, 5 * MIN, 1e-9, '5m');
      await agree(engine, t, 'count_over_time(temperature[30m])', wm5m! - 2 * HOUR, END, 5 * MIN, 0, '5m');
    });

    t.test('one round trip (Store.readTiered) or two: the same answers', async (t) => {
      // The same store with readTiered hidden: the engine reads raw and tier apart.
      const apart = new Proxy(store, {
        get: (o, k) => {
          if (k === 'readTiered') return undefined;
          const v: unknown = Reflect.get(o, k, o);
          return typeof v === 'function' ? v.bind(o) : v;
        },
      });
      const engine2 = createQueryEngine(apart, { tiers: { tiers: DEFAULT_TIERS, watermark: (tier) => rollup.watermark(tier), now: () => clock } });
      if (dialect === 'sqlite') t.type(store.readTiered, 'function', 'SQLite reads both at once');
      for (const q of [
        'avg_over_time(temperature[1h])',
        'max_over_time(temperature{room="a"}[1h])',
        'min_over_time(temperature{room!="b"}[1h])',
        'count_over_time(temperature{room=~"a|b"}[1h])',
        'rate(requests_total[1h])',
        'sum_over_time(nothing_here[1h])',
      ]) {
        for (const [from, step] of [[T0 + DAY, HOUR], [wm5m! - 2 * HOUR, 5 * MIN]] as const) {
          const one = await engine.range(q, from, END, step);
          const two = await engine2.range(q, from, END, step);
          t.same(one, two, `${q} from ${new Date(from).toISOString()} every ${step / MIN} min`);
        }
      }
    });

    t.test('raw answers what the tiers cannot', async (t) => {
      const misaligned = await engine.range('avg_over_time(temperature[1h])', T0 + DAY + 7 * MIN, END, HOUR);
      t.same(misaligned.warnings, [], 'a start off the bucket edges: raw');
      const fine = await engine.range('avg_over_time(temperature[1h])', T0 + DAY, T0 + DAY + HOUR, MIN);
      t.same(fine.warnings, [], 'a step finer than every tier: raw');
      const sub = await engine.range('max_over_time(avg_over_time(temperature[1h])[2h:1h])', T0 + DAY, END, HOUR);
      t.same(sub.warnings, [], 'inside a subquery: raw');
    });
  });
}
