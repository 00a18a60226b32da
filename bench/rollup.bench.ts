/**
 * Rollup cost on SQLite and PostgreSQL: 1,000 series recorded every 60 s (600 gauges,
 * 300 counters with resets, 10 histograms of 10 series each), generated in bulk straight
 * into the raw chunks with SQL (not waited for), then rolled up tier by tier.
 *
 *   ./scripts/run-bench.sh rollup                 (3 simulated days, both dialects)
 *   FULL=1 ./scripts/run-bench.sh rollup          (30 days: 43.2M samples; or --full when run directly)
 *   DAYS=7 DIALECTS=sqlite ./scripts/run-bench.sh rollup
 *   PG_ROLLUP=sql DIALECTS=postgresql ./scripts/run-bench.sh rollup   (PostgreSQL's SQL rollups, not the fold)
 *
 * Printed: time to generate, time per tier, rows and bytes per tier and per row (on
 * PostgreSQL also after packing the raw chunks and the tiers' closed chunks, with the
 * time packing took), one
 * series' whole span read from raw vs the hourly tier (median of 20), and /metrics
 * latency (p50/p99/max) of a real HTTP server on this thread scraped in a loop while
 * the rollups run, against the same loop for 5 s with nothing running. On PostgreSQL per
 * tier also the CPU seconds its backends spent (bench/lib/cpu.ts), which on a shared
 * machine tell more than the wall time. Baseline, measured in the same run: a plain GROUP BY of the raw
 * data into 5-minute buckets (count/sum/min/max only), the issue's reference query.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RollupEngine } from '../rollup/engine.js';
import { readTier } from '../rollup/read.js';
import { bucketOf, ident, Params } from '../rollup/sql.js';
import { DEFAULT_TIERS } from '../rollup/tiers.js';
import { collectSnapshot } from '../src/exposition/snapshot.js';
import { toPrometheusText } from '../src/exposition/format.js';
import { openSqliteStore } from '../storage/sqlite-store.js';
import { openPgStore } from '../storage/pg-store.js';
import type { SeriesDef, Store } from '../storage/store.js';
import { dropPgSchema, PG_CONN } from './lib/pg.js';
import { fmt, median, printTable, quantile } from './lib/stats.js';
import { scrapeLoop } from './lib/scrape-loop.js';
import { tableStats } from './lib/table-stats.js';
import { cpuNow, cpuSpent } from './lib/cpu.js';

const FULL = process.argv.includes('--full') || process.env['FULL'] === '1';
const DAYS = Number(process.env['DAYS'] ?? (FULL ? 30 : 3));
const DIALECTS = (process.env['DIALECTS'] ?? 'sqlite,postgresql').split(',');
/** PostgreSQL's rollups: 'fold' (rollup/pg-fold.ts, the default) or 'sql' (rollup/sql.ts, as before it). */
const PG_ROLLUP = process.env['PG_ROLLUP'] ?? 'fold';
if (PG_ROLLUP !== 'fold' && PG_ROLLUP !== 'sql') throw new Error(`PG_ROLLUP must be fold or sql, not ${PG_ROLLUP}`);
const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const END = T0 + DAYS * DAY;
const NOW = END + DAY + 10 * MIN; // every tier's buckets are closed

function seriesDefs(): SeriesDef[] {
  const defs: SeriesDef[] = [];
  for (let i = 0; i < 600; i++) defs.push({ name: `bench_gauge_${i % 60}`, labels: { shard: String(Math.floor(i / 60)) }, type: 'gauge' });
  for (let i = 0; i < 300; i++) defs.push({ name: `bench_events_total_${i % 30}`, labels: { shard: String(Math.floor(i / 30)) }, type: 'counter' });
  const les = ['0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '+Inf'];
  for (let h = 0; h < 10; h++) {
    for (const le of les) defs.push({ name: 'bench_latency_seconds_bucket', labels: { route: `/r${h}`, le }, type: 'histogram' });
    defs.push({ name: 'bench_latency_seconds_count', labels: { route: `/r${h}` }, type: 'histogram' });
    defs.push({ name: 'bench_latency_seconds_sum', labels: { route: `/r${h}` }, type: 'histogram' });
  }
  return defs;
}

/**
 * One day of samples for every series, generated inside the database. Counters grow by
 * a per-series step and reset every 1000 minutes; bucket series grow with their `le`
 * rank so the cumulative counts stay monotonic; gauges wander.
 */
function generateDaySql(dialect: 'sqlite' | 'postgresql', chunk: string, dayStart: number): string {
  const value = `CASE
    WHEN se.type = 'gauge' THEN ((se.id * 7 + i * 13) % 100) * 1.5
    WHEN se.type = 'counter' THEN ((${(dayStart - T0) / MIN} + i) % 1000) * (1 + se.id % 5)
    WHEN se.name LIKE '%\\_bucket' ESCAPE '\\' THEN (${(dayStart - T0) / MIN} + i) * (1 + (se.id % 10))
    ELSE (${(dayStart - T0) / MIN} + i) * 10 END`;
  if (dialect === 'sqlite') {
    return `WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < 1439)
      INSERT INTO ${ident(chunk)} (series_id, ts, value) SELECT se.id, ${dayStart} + i * ${MIN}, ${value} FROM series se CROSS JOIN t WHERE se.name LIKE 'bench%' ORDER BY se.id, i`;
  }
  return `INSERT INTO ${ident(chunk)} (series_id, ts, value) SELECT se.id, to_timestamp((${dayStart}::bigint + i * ${MIN}) / 1000.0), ${value} FROM series se CROSS JOIN generate_series(0, 1439) AS t(i) WHERE se.name LIKE 'bench%'`;
}

interface Latency {
  stop(): Promise<number[]>;
}

/** A real /metrics server on this thread, scraped back to back until stopped. */
async function serveAndScrape(): Promise<Latency> {
  const registry = new Registry();
  for (let i = 0; i < 100; i++) new Gauge({ name: `load_gauge_${i}`, help: 'g', labelNames: ['a'], registers: [registry] }).set({ a: 'x' }, i);
  for (let i = 0; i < 30; i++) new Counter({ name: `load_counter_${i}_total`, help: 'c', registers: [registry] }).inc(i);
  for (let i = 0; i < 10; i++) new Histogram({ name: `load_hist_${i}_seconds`, help: 'h', registers: [registry] }).observe(i / 10);
  const server = createServer((_req, res) => {
    void collectSnapshot(registry).then((s) => res.end(toPrometheusText(s.families)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const loop = scrapeLoop(url, 5);
  return {
    async stop() {
      const latencies = await loop.stop();
      server.close();
      return latencies;
    },
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

async function benchDialect(dialect: 'sqlite' | 'postgresql'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-bench-rollup-'));
  const schema = `larder_bench_rollup_${process.pid}`;
  const store = dialect === 'sqlite' ? await openSqliteStore({ path: join(dir, 'bench.db'), now: () => NOW }) : await openPgStore({ ...PG_CONN, schema, now: () => NOW, poolSize: 4, applicationName: schema });
  try {
    const ids = await store.resolveSeries(seriesDefs());
    const gen = await timed(async () => {
      for (let day = T0; day < END; day += DAY) {
        const chunk = await store.ensureChunk('samples', day);
        await store.execute(generateDaySql(dialect, chunk.name, day));
      }
    });
    if (dialect === 'postgresql') await store.execute('ANALYZE');
    const raw = await tableStats(store, 'samples');
    console.log(`\n## ${dialect}: ${ids.length} series × ${DAYS} days every 60 s = ${raw.rows.toLocaleString()} raw samples (generated in ${fmt(gen.ms / 1000)} s)`);

    // Baseline: a plain GROUP BY into 5-minute buckets over every raw chunk.
    const chunks = await store.listChunks('samples');
    const base = await timed(async () => {
      let n = 0;
      for (const c of chunks) {
        const p = new Params(dialect);
        const r = await store.query(`SELECT count(*) AS n FROM (SELECT series_id, ${bucketOf(dialect, 'ts', 5 * MIN)} AS b, count(*), sum(value), min(value), max(value) FROM ${ident(c.name)} GROUP BY series_id, b) x`, p.values);
        n += Number(r[0]!['n']);
      }
      return n;
    });

    const engine = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => NOW, maxBucketsPerTransaction: 288, pgFold: PG_ROLLUP === 'fold' });
    await engine.prepare();
    // /metrics latency with nothing else running: the baseline for the figure during rollups.
    const idle = await serveAndScrape();
    await new Promise((r) => setTimeout(r, 5000));
    const idleLat = await idle.stop();
    const scraper = await serveAndScrape();
    const tierTimes: { tier: string; ms: number; cpuMs: number; selfMs: number }[] = [];
    // PostgreSQL: its backends' CPU (this process's also serves the scrape loop below).
    for (const t of DEFAULT_TIERS) {
      const c0 = await cpuNow(store, schema);
      const r = await timed(() => engine.run(t.resolutionMs));
      const spent = cpuSpent(c0, await cpuNow(store, schema));
      tierTimes.push({ tier: t.name, ms: r.ms, cpuMs: spent.backends, selfMs: spent.self });
    }
    const lat = await scraper.stop();
    const total = tierTimes.reduce((a, x) => a + x.ms, 0);
    const totalCpu = tierTimes.reduce((a, x) => a + x.cpuMs, 0);

    const rows: string[][] = [['table', 'rows', 'chunks', 'MB', 'bytes/row', 'rollup s', 'vs GROUP BY baseline', 'PostgreSQL CPU s', 'this process CPU s']];
    const line = (name: string, s: { rows: number; bytes: number; chunks: number }, ...rest: string[]): string[] =>
      [name, s.rows.toLocaleString(), String(s.chunks), fmt(s.bytes / 1e6), fmt(s.bytes / Math.max(1, s.rows), 1), ...rest];
    rows.push(line('samples (raw)', raw, '', '', ''));
    const tierStats = new Map<string, { rows: number; bytes: number; chunks: number }>();
    for (const t of DEFAULT_TIERS) tierStats.set(t.name, await tableStats(store, `rollup_${t.name}`));
    // PostgreSQL packs the raw chunks the rollups have read and the tiers' closed chunks
    // (storage/pg-pack.ts), as the daily job does.
    const packedTiers = new Map<string, { rows: number; bytes: number; chunks: number; packed: number }>();
    if ('packClosedChunks' in store) {
      const pack = await timed(() => store.packClosedChunks(END));
      const packed = await tableStats(store, 'samples');
      const n = (table: string): number => pack.value.filter((c) => c.table === table).length;
      rows.push(line(`samples (packed, ${n('samples')} chunks in ${fmt(pack.ms / 1000)} s with the tiers')`, packed, '', '', ''));
      for (const t of DEFAULT_TIERS) packedTiers.set(t.name, { ...(await tableStats(store, `rollup_${t.name}`)), packed: n(`rollup_${t.name}`) });
    }
    rows.push(['baseline 5m GROUP BY', base.value.toLocaleString(), '', '', '', fmt(base.ms / 1000), '1.00×', '']);
    for (const t of DEFAULT_TIERS) {
      const q = await tableStats(store, `rollup_${t.name}_quantiles`);
      const ms = tierTimes.find((x) => x.tier === t.name)!.ms;
      const cpu = tierTimes.find((x) => x.tier === t.name)!.cpuMs;
      const self = tierTimes.find((x) => x.tier === t.name)!.selfMs;
      rows.push(line(`rollup_${t.name}`, tierStats.get(t.name)!, fmt(ms / 1000), `${fmt(ms / base.ms)}×`, dialect === 'postgresql' ? fmt(cpu / 1000) : '', fmt(self / 1000)));
      const p = packedTiers.get(t.name);
      if (p !== undefined) rows.push(line(`rollup_${t.name} (${p.packed} of ${p.chunks} chunks packed)`, p, '', '', ''));
      rows.push(line(`rollup_${t.name}_quantiles`, q, '', '', ''));
    }
    printTable(rows);
    console.log(`all tiers: ${fmt(total / 1000)} s (target: 30 days in under 60 s)${dialect === 'postgresql' ? `, PostgreSQL backends' CPU ${fmt(totalCpu / 1000)} s (rollups by ${PG_ROLLUP === 'fold' ? 'the fold, rollup/pg-fold.ts' : 'SQL, rollup/sql.ts'})` : ''}; load average ${loadavg().map((x) => fmt(x)).join(' ')}`);
    console.log(`/metrics idle (5 s before): ${idleLat.length} scrapes, p50 ${fmt(quantile(idleLat, 0.5))} ms, p99 ${fmt(quantile(idleLat, 0.99))} ms, max ${fmt(Math.max(...idleLat))} ms`);
    console.log(`/metrics while rolling up: ${lat.length} scrapes, p50 ${fmt(quantile(lat, 0.5))} ms, p99 ${fmt(quantile(lat, 0.99))} ms, max ${fmt(Math.max(...lat))} ms (p99 ${fmt(quantile(lat, 0.99) / quantile(idleLat, 0.99))}× idle; target p99 < 20 ms)`);

    // One series' whole span: raw vs hourly (median of 20 reads each).
    const id = ids[0]!;
    const rawReads: number[] = [];
    const hourReads: number[] = [];
    let rawN = 0;
    let hourN = 0;
    for (let i = 0; i < 20; i++) {
      const a = await timed(() => store.readSamples({ seriesIds: [id], fromMs: T0, toMs: END }));
      rawReads.push(a.ms);
      rawN = a.value.samples.length;
      const b = await timed(() => readTier(store, '1h', [id], T0, END));
      hourReads.push(b.ms);
      hourN = b.value.length;
    }
    console.log(`one series, ${DAYS} days: raw ${rawN} samples median ${fmt(median(rawReads))} ms; hourly ${hourN} rows median ${fmt(median(hourReads))} ms (${fmt(median(rawReads) / median(hourReads))}× faster; target < 10 ms)`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    if (dialect === 'postgresql') {
      await dropPgSchema(schema);
    }
  }
}

console.log(`# rollup benchmark: ${FULL ? 'full (FULL=1)' : 'default'} size, ${DAYS} simulated days${FULL ? '' : ' (FULL=1 for 30 days)'}`);
for (const d of DIALECTS) await benchDialect(d as 'sqlite' | 'postgresql');
