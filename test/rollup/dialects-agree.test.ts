/**
 * The SQLite rollups (an ordered fold in the worker, rollup/fold.ts), the PostgreSQL
 * rollups (the first tier by the same fold in Node from a binary COPY, rollup/pg-fold.ts,
 * the others by SQL) and PostgreSQL's SQL alone (rollup/sql.ts, `pgFold: false`) are
 * three implementations of one definition: on
 * the same random samples (jittered times, NaNs, counter resets, gaps, a histogram, a
 * day in 12-bucket slices) every tier's rows, quantiles and carries agree. PostgreSQL
 * gets the samples written out of time order (odd minutes first), so the fold has to put
 * each series' rows in order itself. Sums may differ in the last bits (the folds
 * compensate, PostgreSQL's sum() adds), nothing else.
 */
import t from 'tap';
import { CARRY_TABLE, RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import type { Sample, SeriesDef, Store } from '../../storage/store.js';
import { QUANTILE_COLS, ROLLUP_COLS, tableRows } from './tables.js';
import { openTestStore } from './stores.js';

const T0 = Date.UTC(2026, 2, 1);
const MIN = 60_000;
const DAY = 86_400_000;
const END = T0 + DAY + 2 * 3_600_000;

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const LES = ['0.1', '0.5', '1', '+Inf'];
const SERIES: SeriesDef[] = [
  ...Array.from({ length: 6 }, (_, i): SeriesDef => ({ name: 'eq_gauge', labels: { i: String(i) }, type: 'gauge' })),
  ...Array.from({ length: 6 }, (_, i): SeriesDef => ({ name: 'eq_events_total', labels: { i: String(i) }, type: 'counter' })),
  ...LES.map((le): SeriesDef => ({ name: 'eq_latency_seconds_bucket', labels: { le }, type: 'histogram' })),
  { name: 'eq_latency_seconds_count', labels: {}, type: 'histogram' },
  { name: 'eq_latency_seconds_sum', labels: {}, type: 'histogram' },
  { name: 'eq_latency_seconds', labels: { quantile: '0.5' }, type: 'summary' },
];

function samples(ids: readonly number[], seed: number): Sample[] {
  const r = rng(seed);
  const out: Sample[] = [];
  const level = SERIES.map(() => r() * 100);
  const hist = LES.map(() => 0);
  for (let ts = T0; ts < END - 30 * MIN; ts += MIN) {
    const jitter = Math.floor(r() * 20_000) - 10_000; // samples not on the minute
    const minute = (ts - T0) / MIN;
    for (let h = 0; h < 4; h++) hist[h]! += Math.floor(r() * 5) * (h + 1);
    SERIES.forEach((s, i) => {
      if (i % 5 === 1 && minute % 1440 > 600 && minute % 1440 < 700) return; // a gap of hours
      let v: number;
      if (s.type === 'gauge' || s.type === 'summary') v = level[i] = level[i]! + (r() - 0.5) * 10;
      else if (s.type === 'counter') v = level[i] = r() < 0.01 ? r() * 3 : level[i]! + r() * 4; // resets now and then
      else if (s.name.endsWith('_bucket')) v = hist.slice(0, LES.indexOf(s.labels['le']!) + 1).reduce((a, x) => a + x, 0);
      else if (s.name.endsWith('_count')) v = hist.reduce((a, x) => a + x, 0);
      else v = level[i] = level[i]! + r() * 2;
      if (r() < 0.02) v = Number.NaN;
      out.push({ seriesId: ids[i]!, timeMs: ts + jitter, value: v });
    });
  }
  return out;
}

type Dump = Record<string, Record<string, number | null>[]>;

async function rollupAll(store: Store, seed: number, pgFold = true): Promise<Dump> {
  const ids = await store.resolveSeries(SERIES);
  const all = samples(ids, seed);
  if (store.dialect === 'sqlite') await store.writeSamples(all);
  else {
    // Out of time order on disk: odd minutes first.
    const odd = (x: Sample): boolean => Math.round((x.timeMs - T0) / MIN) % 2 === 1;
    await store.writeSamples(all.filter(odd));
    await store.writeSamples(all.filter((x) => !odd(x)));
  }
  // Small slices: many carries across slice edges.
  await new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => END, maxBucketsPerTransaction: 12, pgFold }).run();
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  const out: Dump = {};
  for (const tier of ['5m', '1h', '1d']) {
    out[tier] = await tableRows(store, `rollup_${tier}`, ROLLUP_COLS, indexOf);
    out[`${tier} quantiles`] = await tableRows(store, `rollup_${tier}_quantiles`, QUANTILE_COLS, indexOf);
  }
  out['carry'] = (await store.query(`SELECT series_id, ts, last FROM ${CARRY_TABLE}`)).map((r) => ({ series: indexOf.get(Number(r['series_id']))!, ts: Number(r['ts']), last: r['last'] === null ? null : Number(r['last']) })).sort((a, b) => a.series - b.series);
  return out;
}

const close = (a: number | null, b: number | null): boolean => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

for (const seed of [1, 2]) {
  t.test(`seed ${seed}: SQLite, PostgreSQL's fold and PostgreSQL's SQL write the same rollups`, async (t) => {
    const lite = await openTestStore(t, 'sqlite', () => END);
    const pg = await openTestStore(t, 'postgresql', () => END);
    const pgSql = await openTestStore(t, 'postgresql', () => END);
    if (!lite || !pg || !pgSql) return;
    const a = await rollupAll(lite, seed);
    for (const [name, b] of [
      ['PostgreSQL (fold)', await rollupAll(pg, seed)],
      ['PostgreSQL (SQL)', await rollupAll(pgSql, seed, false)],
    ] as const) {
      for (const table of Object.keys(a)) {
        const ra = a[table]!;
        const rb = b[table]!;
        t.equal(ra.length, rb.length, `${name}, ${table}: ${ra.length} rows on both`);
        t.ok(ra.length > 0, `${table}: not empty`);
        const differ = ra.filter((row, i) => Object.keys(row).some((k) => !close(row[k] ?? null, rb[i]?.[k] ?? null)));
        t.same(differ.slice(0, 3), [], `${name}, ${table}: every row agrees`);
        if (differ.length > 0) t.comment(`first ${name} row that differs: ${JSON.stringify(rb[ra.indexOf(differ[0]!)])}`);
      }
    }
    const counterRows = a['5m']!.filter((r) => r['series']! >= 6 && r['series']! < 12);
    t.ok(counterRows.some((r) => r['increase']! < r['max']! - r['min']! - 1e-9 || r['increase']! > r['last']! - r['first']! + 1e-9), 'the data has resets (increase is not last - first everywhere)');
    t.ok(a['5m']!.some((r) => r['first'] === null), 'the data has NaN samples at bucket edges');
  });
}
