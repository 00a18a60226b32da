/**
 * Schema version 2's named views on both dialects, filled by real rollups: they name the
 * metric and its labels, agree with the tier tables, and the quantile over merged label
 * sets printed in docs/storage.md gives Prometheus's histogram_quantile of the summed
 * bucket increases (and the stored p95 where only one label set is merged).
 */
import t from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { histogramQuantile } from '../../rollup/quantile.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import type { Sample, SeriesDef, Store } from '../../storage/store.js';
import { DIALECTS, openTestStore } from '../rollup/stores.js';
import { docsSqlBlock } from '../helpers/docs-sql.js';

const T0 = Date.UTC(2026, 2, 1);
const MIN = 60_000;
const END = T0 + 6 * 3_600_000;
const LES = ['0.05', '0.1', '0.5', '1', '+Inf'];
const BASE = 'http_request_duration_seconds';
const WHO = { job: 'web', instance: 'host-a:9100' };
/** Label sets of the histogram: route /a has two (merged by the docs' query), /b one. */
const SETS = [
  { ...WHO, method: 'GET', route: '/a', status_code: '200' },
  { ...WHO, method: 'POST', route: '/a', status_code: '500' },
  { ...WHO, method: 'GET', route: '/b', status_code: '200' },
];

const SERIES: SeriesDef[] = [
  { name: 'node_load1', labels: WHO, type: 'gauge' },
  { name: 'http_requests_total', labels: { ...WHO, route: '/a' }, type: 'counter' },
  ...SETS.flatMap((set): SeriesDef[] => [
    ...LES.map((le): SeriesDef => ({ name: `${BASE}_bucket`, labels: { ...set, le }, type: 'histogram' })),
    { name: `${BASE}_count`, labels: set, type: 'histogram' },
    { name: `${BASE}_sum`, labels: set, type: 'histogram' },
  ]),
];

/** Deterministic samples every 30 s: a gauge, a counter and three histograms with different shapes. */
function samples(ids: readonly number[]): Sample[] {
  const out: Sample[] = [];
  const hist = SETS.map(() => LES.map(() => 0));
  let counter = 0;
  for (let ts = T0, k = 0; ts < END; ts += 30_000, k++) {
    out.push({ seriesId: ids[0]!, timeMs: ts, value: 1 + Math.sin(k / 20) });
    counter += 3 + (k % 7);
    out.push({ seriesId: ids[1]!, timeMs: ts, value: counter });
    SETS.forEach((_, s) => {
      // per-bucket (non-cumulative) observations, varying by set and time
      const per = LES.map((__, b) => (b === LES.length - 1 ? (k % 10 === 0 ? 1 : 0) : ((k * (s + 1) + b * 3) % (5 + s * 2)) + (b === s ? 4 : 0)));
      per.forEach((n, b) => (hist[s]![b]! += n));
      const base = 2 + s * (LES.length + 2);
      let cum = 0;
      LES.forEach((__, b) => {
        cum += hist[s]![b]!;
        out.push({ seriesId: ids[base + b]!, timeMs: ts, value: cum });
      });
      out.push({ seriesId: ids[base + LES.length]!, timeMs: ts, value: cum });
      out.push({ seriesId: ids[base + LES.length + 1]!, timeMs: ts, value: cum * 0.2 });
    });
  }
  return out;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const close = (a: number | null, b: number | null): boolean => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

async function fill(store: Store): Promise<void> {
  const ids = await store.resolveSeries(SERIES);
  await store.writeSamples(samples(ids));
  await new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => END + 10 * MIN }).run();
}

for (const dialect of DIALECTS) {
  t.test(`${dialect}: named views and the merged-quantile query`, async (t) => {
    const store = await openTestStore(t, dialect, () => END);
    if (!store) return;
    await fill(store);
    const sq = dialect === 'sqlite';
    const msCol = (c: string): string => (sq ? c : `round(extract(epoch from ${c}) * 1000)::float8`);
    const at = (ms: number): string => (sq ? String(ms) : `to_timestamp(${ms} / 1000.0)`);
    const label = (l: string): string => (sq ? `json_extract(labels, '$.${l}')` : `labels->>'${l}'`);

    const raw = await store.query(`SELECT ${msCol('ts')} AS t, value, job, instance, type FROM samples_named WHERE metric_name = 'node_load1' AND job = 'web' ORDER BY ts`);
    t.equal(raw.length, (END - T0) / 30_000, 'samples_named: every raw sample of the gauge, selected by name and job');
    t.same(raw[0], { t: T0, value: 1, job: 'web', instance: 'host-a:9100', type: 'gauge' });

    const tierRows = await store.query(`SELECT ${msCol('ts')} AS t, count, sum, increase FROM rollup_5m_all r WHERE series_id = (SELECT id FROM series WHERE name = 'http_requests_total') ORDER BY ts`);
    const named = await store.query(`SELECT ${msCol('ts')} AS t, count, sum, avg, increase, rate, ${label('route')} AS route FROM metrics_5m WHERE metric_name = 'http_requests_total' AND instance = 'host-a:9100' ORDER BY ts`);
    t.ok(tierRows.length > 60, `metrics_5m: ${tierRows.length} buckets`);
    t.equal(named.length, tierRows.length, 'metrics_5m: one row per tier row');
    t.ok(named.every((r, i) => num(r['t']) === num(tierRows[i]!['t']) && close(num(r['increase']), num(tierRows[i]!['increase'])) && close(num(r['rate']), num(r['increase'])! / 300) && close(num(r['avg']), num(r['sum'])! / num(r['count'])!) && r['route'] === '/a'), 'metrics_5m: increase as stored, rate = increase / 300 s, avg = sum / count, labels by name');
    // The counter grows by 3 + (k % 7) every 30 s: 10 steps per bucket, about 60 per bucket.
    t.ok(named.slice(1, -1).every((r) => num(r['increase'])! >= 50 && num(r['increase'])! <= 70), 'metrics_5m: the increase of a 5-minute bucket (10 steps of 3..9)');

    const q = await store.query(`SELECT ${msCol('ts')} AS t, metric_name, ${label('route')} AS route, ${label('method')} AS method, p95, series_id FROM quantiles_5m WHERE metric_name = '${BASE}' ORDER BY ts, route, method`);
    t.ok(q.length > 0 && q.every((r) => r['metric_name'] === BASE), 'quantiles_5m: rows under the base name');
    const countIds = await store.query(`SELECT id FROM series WHERE name = '${BASE}_count'`);
    t.ok(q.every((r) => countIds.some((c) => num(c['id']) === num(r['series_id']))), 'quantiles_5m: series_id is the label set\'s _count series (as docs/storage.md says)');

    // The docs' query, run as printed with :from/:to bound, against histogram_quantile in JS.
    const from = T0 + 3_600_000;
    const to = T0 + 4 * 3_600_000;
    const sql = docsSqlBlock('storage.md', `p95 per route, methods and status codes merged (${sq ? 'SQLite' : 'PostgreSQL'})`).replaceAll(':from', at(from)).replaceAll(':to', at(to));
    const merged = (await store.query(sql)).map((r) => ({ t: num(sq ? r['ts'] : new Date(r['ts'] as Date).getTime()), route: r['route'] as string, p95: num(r['p95']) }));
    const buckets = await store.query(`SELECT ${msCol('ts')} AS t, ${label('route')} AS route, le, increase FROM histogram_buckets_5m WHERE metric_name = '${BASE}' AND ts >= ${at(from)} AND ts < ${at(to)}`);
    const groups = new Map<string, { t: number; route: string; b: Map<number, number> }>();
    for (const r of buckets) {
      const key = `${num(r['t'])}|${r['route']}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { t: num(r['t'])!, route: r['route'] as string, b: new Map() }));
      const le = num(r['le'])!;
      g.b.set(le, (g.b.get(le) ?? 0) + (num(r['increase']) ?? 0));
    }
    const want = [...groups.values()]
      .map((g) => ({ t: g.t, route: g.route, p95: histogramQuantile(0.95, [...g.b].map(([le, count]) => ({ le, count }))) }))
      .filter((w) => Number.isFinite(w.p95))
      .sort((a, b) => a.t - b.t || a.route.localeCompare(b.route));
    t.equal(merged.length, (to - from) / 300_000 * 2, 'one p95 per 5-minute bucket and route');
    t.equal(merged.length, want.length, 'as many rows as histogram_quantile gives');
    t.same(merged.filter((m, i) => !(m.t === want[i]?.t && m.route === want[i]?.route && close(m.p95, want[i]!.p95))).slice(0, 3), [], 'every merged p95 equals histogram_quantile over the summed increases');
    t.ok(buckets.some((r) => num(r['le']) === Infinity), 'le +Inf is a number (Infinity)');
    // Route /b has one label set: merging it changes nothing, so the stored p95 must come out.
    const stored = q.filter((r) => r['route'] === '/b' && num(r['t'])! >= from && num(r['t'])! < to);
    const mergedB = merged.filter((m) => m.route === '/b');
    t.equal(stored.length, mergedB.length, 'route /b: as many stored as merged rows');
    t.ok(stored.every((r, i) => close(num(r['p95']), mergedB[i]!.p95)), 'route /b: the merged p95 equals the stored p95');
    const differs = merged.filter((m) => m.route === '/a' && q.filter((r) => num(r['t']) === m.t && r['route'] === '/a').every((r) => !close(num(r['p95']), m.p95)));
    t.ok(differs.length > 0, `route /a: merging two label sets gives another p95 than either set alone (${differs.length} buckets)`);
  });
}
