/**
 * PromQL over the store against a real Prometheus holding the same data, both over
 * HTTP, measured in the same run:
 *
 *  A. one gauge, 30 days at 60 s: `avg_over_time(bench_temperature[1h])` at a 1 h step
 *     over the 30 days (Prometheus backfilled with `promtool tsdb create-blocks-from
 *     openmetrics`; Larder's SQLite store written directly and rolled up, and its engine
 *     given the tiers as `larder serve` gives them, so the hourly tier answers). Goal:
 *     Larder at most 0.2× Prometheus' median.
 *  B. 1,000 counters, 1 day at 60 s: `sum by (group) (rate(bench_requests_total[5m]))`
 *     at a 1 min step over the day. Goal: Larder at most 1.0× Prometheus.
 *
 * Medians of RUNS runs each (default 50), Larder's, Prometheus' and a floor's in turn so
 * that all see the same machine (measured one after the other, Larder's A ran while the
 * freshly started Prometheus was still busy loading its blocks). The floor is Larder's
 * answer sent at once by a bare HTTP server in this process: what HTTP, the client and
 * the answer's size cost whatever the server does, so the table shows how much of each
 * time is the query. Larder's server runs in this process, so the /metrics latency
 * printed (p50/p99 of a scrape loop while B's queries run) is what a Prometheus scraping
 * Larder would see during such queries.
 *
 * The process runs with `larder serve`'s V8 tier-up budget (src/v8-tiering.ts).
 *
 *   ./scripts/run-bench.sh query        (RUNS=20 ./scripts/run-bench.sh query for a quicker look)
 */
import '../src/v8-tiering.js'; // first, as in the larder command
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { CollectorSet } from '../exporters/collector-set.js';
import { createQueryEngine } from '../query/engine.js';
import { RollupEngine } from '../rollup/engine.js';
import { DEFAULT_TIERS } from '../rollup/tiers.js';
import { createPromApi } from '../src/api/prom-api.js';
import { silentLogger } from '../src/log.js';
import { startServer } from '../src/server.js';
import { Authenticator } from '../src/web-auth.js';
import { openSqliteStore } from '../storage/sqlite-store.js';
import type { Sample, Store } from '../storage/store.js';
import { launchPrometheus } from '../test/helpers/prometheus.js';
import { fmt, median, printTable, quantile } from './lib/stats.js';
import { scrapeLoop } from './lib/scrape-loop.js';

const RUNS = Number(process.env['RUNS'] ?? 50);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Data ends at END; "now" for the store and the rollups is an hour later (every bucket closed). */
const END = Date.UTC(2026, 10, 30);
const NOW = END + HOUR;

/** Writes samples in batches of 50,000 (the store's transactions stay short). */
async function writeAll(store: Store, samples: Sample[]): Promise<void> {
  for (let i = 0; i < samples.length; i += 50_000) await store.writeSamples(samples.slice(i, i + 50_000));
}

/** Scenario A's and B's data, once as store samples and once as OpenMetrics for promtool. */
async function fill(store: Store): Promise<string> {
  const om: string[] = ['# TYPE bench_temperature gauge'];
  const [temp] = await store.resolveSeries([{ name: 'bench_temperature', labels: { room: 'lab' }, type: 'gauge' }]);
  const a: Sample[] = [];
  for (let t = END - 30 * DAY; t < END; t += MIN) {
    const v = 20 + 5 * Math.sin(t / (6 * HOUR)) + ((t / MIN) % 7) / 10;
    a.push({ seriesId: temp!, timeMs: t, value: v });
    om.push(`bench_temperature{room="lab"} ${v} ${t / 1000}`);
  }
  await writeAll(store, a);

  om.push('# TYPE bench_requests counter');
  const defs = Array.from({ length: 1000 }, (_, i) => ({ name: 'bench_requests_total', labels: { group: `g${i % 10}`, id: String(i) }, type: 'counter' as const }));
  const ids = await store.resolveSeries(defs);
  let batch: Sample[] = [];
  for (let i = 0; i < ids.length; i++) {
    const perMin = 1 + (i % 13);
    let v = 0;
    for (let t = END - DAY; t < END; t += MIN) {
      v += perMin * 60;
      batch.push({ seriesId: ids[i]!, timeMs: t, value: v });
      om.push(`bench_requests_total{group="g${i % 10}",id="${i}"} ${v} ${t / 1000}`);
    }
    if (batch.length >= 50_000) {
      await writeAll(store, batch);
      batch = [];
    }
  }
  await writeAll(store, batch);
  om.push('# EOF');
  // each family's samples are together, each series' in time order, as OpenMetrics wants
  return om.join('\n') + '\n';
}

/** One HTTP range query; its latency in ms and the answer's bytes. */
async function timeQuery(base: string, body: string, query: string): Promise<{ ms: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1/query_range`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const text = await res.text();
  const json = JSON.parse(text) as { status: string; error?: string; data?: { result: unknown[] } };
  if (json.status !== 'success') throw new Error(`${base}: ${query}: ${json.error}`);
  return { ms: performance.now() - t0, text };
}

/**
 * A server in this process that answers every request with `answer`, as Larder's API
 * sends it: the floor that HTTP on loopback, this client and the answer's size put
 * under any server's time (what an engine that took no time at all would measure).
 */
async function startFloor(answer: string): Promise<{ url: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) }).end(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Times `runs` HTTP range queries on Larder, on Prometheus and on a floor server
 * answering Larder's answer at once (startFloor), in turn (which goes first rotates
 * too), so that all see the same machine: Prometheus settling after its start, other
 * processes' load. Three warm-up runs each; the first of Larder's is returned apart
 * (cold caches).
 */
async function timeBoth(larder: string, prometheus: string, query: string, startMs: number, endMs: number, stepS: number, runs: number): Promise<{ larder: number[]; prometheus: number[]; floor: number[]; firstMs: number }> {
  const body = new URLSearchParams({ query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepS) }).toString();
  const first = await timeQuery(larder, body, query);
  const floor = await startFloor(first.text);
  try {
    const bases = [larder, prometheus, floor.url];
    const out = { larder: [] as number[], prometheus: [] as number[], floor: [] as number[], firstMs: first.ms };
    const lists = [out.larder, out.prometheus, out.floor];
    for (const base of bases) for (let i = 0; i < 3; i++) await timeQuery(base, body, query);
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < bases.length; k++) {
        const j = (i + k) % bases.length;
        lists[j]!.push((await timeQuery(bases[j]!, body, query)).ms);
      }
    }
    return out;
  } finally {
    await floor.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-query-bench-'));
  try {
    const store = await openSqliteStore({ path: join(dir, 'store.db'), now: () => NOW });
    let t0 = performance.now();
    let om: string | undefined = await fill(store);
    console.log(`filled Larder's SQLite store: 43,200 + 1,440,000 samples in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    t0 = performance.now();
    const rollups = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => NOW });
    await rollups.prepare();
    for (const tier of DEFAULT_TIERS) await rollups.run(tier.resolutionMs);
    console.log(`rolled up: ${fmt((performance.now() - t0) / 1000, 1)} s`);

    writeFileSync(join(dir, 'samples.om'), om);
    om = undefined; // ~100 MB of text this process need not keep through the measurements
    t0 = performance.now();
    const r = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', join(dir, 'samples.om'), join(dir, 'prom')], { encoding: 'utf8' });
    if (r.error !== undefined) throw new Error(`promtool: ${r.error.message} (Debian's prometheus package: scripts/system-deps.sh)`);
    if (r.status !== 0) throw new Error(`promtool backfill failed: ${r.stdout}${r.stderr}`);
    console.log(`backfilled Prometheus: ${fmt((performance.now() - t0) / 1000, 1)} s`);
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
    const prom = await launchPrometheus(join(dir, 'prometheus.yml'), join(dir, 'prom'), ['--storage.tsdb.retention.time=100y']);

    const registry = new Registry();
    const collectors = new CollectorSet({ registry, options: { procfs: '/proc', sysfs: '/sys', textfileDirectory: '' }, log: silentLogger, now: Date.now }, [], { interval: 60_000, slowInterval: 60_000, timeout: 1000 });
    // The engine `larder serve` builds: the rollup tiers answer what they can (A reads the hourly tier).
    const tiers = { tiers: DEFAULT_TIERS, watermark: (tier: string) => rollups.watermark(tier), now: () => NOW };
    const api = createPromApi({ store: () => store, createEngine: (s) => createQueryEngine(s, { tiers }), log: silentLogger, timeoutMs: 120_000, now: () => NOW });
    const server = await startServer({ registry, collectors, auth: new Authenticator({ basicAuthUsers: {} }, undefined), log: silentLogger, maxRequests: 40, api }, { host: '127.0.0.1', port: 0 });

    try {
      const rows: string[][] = [['query', 'Larder median ms', 'Prometheus median ms', 'ratio', 'goal', 'floor median ms', 'floor / Prometheus']];
      const floorCells = (t: { floor: number[]; prometheus: number[] }): string[] => [fmt(median(t.floor)), `${fmt(median(t.floor) / median(t.prometheus))}×`];
      const a = 'avg_over_time(bench_temperature[1h])';
      const aT = await timeBoth(server.url, prom.url, a, END - 30 * DAY + HOUR, END, 3600, RUNS);
      rows.push([`A: ${a}, 30 d at 1 h`, fmt(median(aT.larder)), fmt(median(aT.prometheus)), `${fmt(median(aT.larder) / median(aT.prometheus))}×`, '≤ 0.20×', ...floorCells(aT)]);

      const b = 'sum by (group) (rate(bench_requests_total[5m]))';
      const scraper = scrapeLoop(`${server.url}/metrics`, 20);
      const bT = await timeBoth(server.url, prom.url, b, END - DAY + 10 * MIN, END, 60, RUNS);
      const lat = await scraper.stop();
      rows.push([`B: ${b}, 1,000 series, 1 d at 1 min`, fmt(median(bT.larder)), fmt(median(bT.prometheus)), `${fmt(median(bT.larder) / median(bT.prometheus))}×`, '≤ 1.00×', ...floorCells(bT)]);
      console.log(`\n${RUNS} runs each after 3 warm-up runs, Larder's, Prometheus' and the floor's in turn, over HTTP on loopback; ${new Date().toISOString()}, load average ${(await import('node:os')).loadavg().map((x) => fmt(x)).join(' ')}`);
      printTable(rows);
      console.log("\nfloor: Larder's answer sent at once by a bare node:http server in this process (the HTTP, transfer and client cost any server's time includes)");
      console.log(`\nLarder's first run (cold: parse, watermark and decoded-chunk caches empty): A ${fmt(aT.firstMs)} ms, B ${fmt(bT.firstMs)} ms`);
      console.log(`\n/metrics while B's queries ran (Larder's and Prometheus'): p50 ${fmt(quantile(lat, 0.5))} ms, p99 ${fmt(quantile(lat, 0.99))} ms, max ${fmt(Math.max(...lat))} ms over ${lat.length} scrapes`);
    } finally {
      await server.close();
      await prom.stop();
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
