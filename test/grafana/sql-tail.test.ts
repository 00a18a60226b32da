/**
 * The SQL panels answer up to the data's end whatever the tiers' lag: every SQL target of
 * every dashboard, on two stores holding the same samples, one rolled up to the end (every
 * bucket in the tiers) and one whose rollup ran an hour before the end (the 5m and 1h
 * watermarks an hour behind, the 1d one 12 hours), over ranges that read each tier arm,
 * some with buckets wider than the tier that straddle its watermark. The lagging store
 * must give the same points as the rolled-up one (relative tolerance 1e-6: only the order
 * of floating-point sums differs), including the last bucket before the data's end; on
 * the 1d arm, whose last day the rolled-up tier does not hold either (it is not over), the
 * lagging store must still show that day.
 */
import t, { type Test } from 'tap';
import { allSqlTargets, END, INSTANCES, JOB, fillForDashboards, type FixtureShape } from './fixture.js';
import { expandPostgres, expandSqlite, rangeOf, type GrafanaRange } from './grafana-macros.js';
import { targetSql, tierForRange } from '../../grafana/sql-query.js';
import type { SqlTarget } from '../../grafana/model.js';
import type { Store } from '../../storage/store.js';
import { openTestStore } from '../rollup/stores.js';

// About 230 s alone (345 answers per dialect): the suite's 300 s a file (package.json) is too close under load.
t.setTimeout(20 * 60_000);

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SHAPE: FixtureShape = { instances: INSTANCES, start: END - 3 * DAY, end: END, stepMs: 10 * MIN };
/** The lagging store's rollup clock: its watermarks are an hour behind the data's end (grace 2 min). */
const LAGGING_ROLLUP = END - HOUR + 2 * MIN;
const VARS = { job: [JOB], instance: INSTANCES };

/** Ranges ending at the data's end, with the bucket width their arm uses. */
const RANGES: readonly { name: string; range: GrafanaRange; bucketMs: number }[] = [
  { name: '12 hours (5m tier)', range: rangeOf(END - 12 * HOUR, END), bucketMs: 5 * MIN },
  // 2-hour buckets over the 5m tier: the bucket 10:00–12:00 straddles the watermark 11:00.
  { name: '7 days, 100 points (5m tier, 2 h buckets)', range: rangeOf(END - 7 * DAY, END, 100), bucketMs: 2 * HOUR },
  { name: '8 days (1h tier)', range: rangeOf(END - 8 * DAY, END), bucketMs: HOUR },
  { name: '40 days, 200 points (1h tier, 6 h buckets)', range: rangeOf(END - 40 * DAY, END, 200), bucketMs: 6 * HOUR },
  { name: '100 days (1d tier)', range: rangeOf(END - 100 * DAY, END), bucketMs: DAY },
];

type Point = { time: number; labels: string; value: number | null };

function points(rows: readonly Record<string, unknown>[]): Point[] {
  const time = (v: unknown): number => (v instanceof Date ? v.getTime() : Number(v) * 1000);
  return rows.map((r) => ({
    time: time(r['time']),
    labels: Object.entries(r).filter(([k]) => k !== 'time' && k !== 'value').map(([k, v]) => `${k}=${String(v)}`).join(','),
    value: r['value'] === null ? null : Number(r['value']),
  }));
}

const close = (a: number | null, b: number | null): boolean => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)));
const describe = (x: SqlTarget): string => `${x.kind} ${x.metrics.join('+')}${x.by ? ` by ${x.by.join(',')}` : ''}${x.quantile ? ` ${x.quantile}` : ''}`;

async function compare(t: Test, dialect: 'sqlite' | 'postgresql'): Promise<void> {
  const full = await openTestStore(t, dialect, () => END);
  const lagging = full && (await openTestStore(t, dialect, () => END));
  if (!full || !lagging) return;
  await fillForDashboards(full, SHAPE, { dropRaw: false });
  await fillForDashboards(lagging, SHAPE, { dropRaw: false, rollupNow: LAGGING_ROLLUP });
  const wm = async (s: Store, tier: string): Promise<number> => Number((await s.query<{ w: unknown }>(`SELECT max(watermark_ms) AS w FROM rollup_watermarks WHERE tier = '${tier}'`))[0]?.w);
  t.equal(await wm(lagging, '5m'), END - HOUR, 'the lagging store: 5m tier an hour behind');
  t.equal(await wm(lagging, '1h'), END - HOUR, 'the lagging store: 1h tier an hour behind');
  t.equal(await wm(lagging, '1d'), END - 12 * HOUR, 'the lagging store: 1d tier 12 hours behind');
  t.ok((await wm(full, '5m')) >= END, 'the rolled-up store: 5m tier to the end');

  const expand = dialect === 'sqlite' ? expandSqlite : expandPostgres;
  const failures: string[] = [];
  let compared = 0;
  let empty = 0;
  for (const target of allSqlTargets()) {
    const sql = targetSql(dialect, target);
    for (const { name, range, bucketMs } of RANGES) {
      const what = `${describe(target)} over ${name}`;
      const tier = tierForRange(range.toMs - range.fromMs, target.kind);
      const q = expand(sql, range, VARS);
      const want = points(await full.query(q));
      const got = points(await lagging.query(q));
      if (want.length === 0) {
        empty++;
        continue;
      }
      compared++;
      // The last bucket before the data's end: the rolled-up tier has it, except the 1d tier's
      // day that is not over; the lagging store must have it in every case.
      const lastBucket = Math.floor((END - 1) / bucketMs) * bucketMs;
      const wantLast = Math.max(...want.map((p) => p.time));
      if (tier !== '1d' && wantLast !== lastBucket) failures.push(`${what}: the rolled-up store ends at ${new Date(wantLast).toISOString()}`);
      const gotLast = got.length === 0 ? -1 : Math.max(...got.map((p) => p.time));
      if (gotLast !== lastBucket) {
        failures.push(`${what}: the lagging store's points end at ${gotLast < 0 ? 'nothing' : new Date(gotLast).toISOString()}, not ${new Date(lastBucket).toISOString()}`);
        continue;
      }
      const common = got.filter((p) => p.time <= wantLast);
      const same = common.length === want.length && common.every((p, i) => p.time === want[i]!.time && p.labels === want[i]!.labels && close(p.value, want[i]!.value));
      if (!same) {
        const i = common.findIndex((p, k) => !(p.time === want[k]?.time && p.labels === want[k]?.labels && close(p.value, want[k]!.value)));
        failures.push(`${what}: ${common.length} / ${want.length} points; first difference at ${i}: lagging ${JSON.stringify(common[i])} rolled-up ${JSON.stringify(want[i])}`);
      }
    }
  }
  t.ok(compared > 250, `${dialect}: ${compared} target × range answers compared (${empty} empty on both)`);
  t.same(failures.slice(0, 8), [], `${dialect}: every answer reaches the data's end and agrees with the rolled-up store (${failures.length} failures)`);
}

t.test('the ranges read the arms and bucket widths they are meant to', async (t) => {
  const resolution: Record<string, number> = { '5m': 5 * MIN, '1h': HOUR, '1d': DAY };
  t.same(RANGES.map((r) => tierForRange(r.range.toMs - r.range.fromMs, 'gauge')), ['5m', '5m', '1h', '1h', '1d']);
  for (const r of RANGES) {
    const span = r.range.toMs - r.range.fromMs;
    // What the SQL's bucket is: max($__interval_ms, the tier's resolution, range / 2000).
    t.equal(Math.max(r.range.intervalMs, resolution[tierForRange(span, 'gauge')]!, span / 2000), r.bucketMs, `${r.name}: buckets of ${r.bucketMs / MIN} min`);
  }
});

t.test('SQLite: a lagging tier still answers to the end', async (t) => compare(t, 'sqlite'));
t.test('PostgreSQL: a lagging tier still answers to the end', async (t) => compare(t, 'postgresql'));
