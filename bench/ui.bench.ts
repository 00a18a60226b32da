/**
 * The built-in page over 30 days of data: a SQLite store holding 30 days of the overview's
 * metrics every 60 s (about 60 series, 2.6M samples, generated in bulk with SQL, then
 * rolled up into the default tiers), served by a real `larder serve`.
 *
 *   ./scripts/run-bench.sh ui            (needs `make build` and /usr/bin/chromium)
 *
 * Printed, each at the 30-day range against the 1-hour range as the baseline measured in
 * the same run:
 * - the overview's range queries one after another (what they cost the server in all),
 *   median of 5 rounds, and the slowest query (goal: total under 200 ms at 30 days); and
 *   the CPU time the server spent on them (all its threads, from /proc/<pid>/stat), which
 *   a loaded machine inflates far less than the wall time;
 * - in headless Chromium, from navigation start to the first chart drawn with data, and
 *   to every chart done, median of 5 fresh browser contexts (goal: first chart under 1 s).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { RollupEngine } from '../rollup/engine.js';
import { ident } from '../rollup/sql.js';
import { DEFAULT_TIERS } from '../rollup/tiers.js';
import { openSqliteStore } from '../storage/sqlite-store.js';
import type { SeriesDef } from '../storage/store.js';
import { startLarderProcess, type LarderProcess } from '../test/helpers/larder-process.js';
import { CHROMIUM } from '../test/helpers/peers.js';
import { freePort } from '../test/helpers/prometheus.js';
import { CHROMIUM_ARGS } from '../test/ui/browser.js';
import { PANELS } from '../ui/src/panels.js';
import { expand, PRESETS, stepFor, windowFor } from '../ui/src/range.js';
import { fmt, median, printTable } from './lib/stats.js';
import { sysconf } from './lib/sysconf.js';

const DAY = 86_400_000;
const MIN = 60_000;
const DAYS = 30;
const ROUNDS = 5;

/** The series the overview reads, as a 2-CPU host with two filesystems and NICs and one service. */
function seriesDefs(): SeriesDef[] {
  const defs: SeriesDef[] = [];
  const counter = (name: string, labels: Record<string, string> = {}): void => void defs.push({ name, labels, type: 'counter' });
  const gauge = (name: string, labels: Record<string, string> = {}): void => void defs.push({ name, labels, type: 'gauge' });
  for (const cpu of ['0', '1']) for (const mode of ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user']) counter('node_cpu_seconds_total', { cpu, mode });
  for (const n of ['node_load1', 'node_load5', 'node_load15', 'node_boot_time_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_heap_size_total_bytes']) gauge(n);
  for (const m of ['MemTotal', 'MemAvailable', 'Buffers', 'Cached', 'SwapTotal', 'SwapFree']) gauge(`node_memory_${m}_bytes`);
  gauge('node_uname_info', { nodename: 'bench', release: '6.1.0', machine: 'x86_64', sysname: 'Linux' });
  gauge('node_os_info', { pretty_name: 'Debian GNU/Linux 12 (bookworm)', name: 'Debian GNU/Linux' });
  for (const [mountpoint, device] of [['/', '/dev/vda1'], ['/data', '/dev/vdb1']] as const) {
    gauge('node_filesystem_avail_bytes', { mountpoint, device, fstype: 'ext4' });
    gauge('node_filesystem_size_bytes', { mountpoint, device, fstype: 'ext4' });
  }
  for (const device of ['vda', 'vdb']) for (const n of ['node_disk_read_bytes_total', 'node_disk_written_bytes_total']) counter(n, { device });
  for (const device of ['eth0', 'eth1']) for (const n of ['node_network_receive_bytes_total', 'node_network_transmit_bytes_total']) counter(n, { device });
  const svc = { job: 'shop', instance: 'shop-1' };
  for (const code of ['200', '404', '500']) counter('http_requests_total', { ...svc, method: 'GET', route: '/orders', status_code: code });
  for (const le of ['0.01', '0.05', '0.1', '0.5', '1', '+Inf']) defs.push({ name: 'http_request_duration_seconds_bucket', labels: { ...svc, le }, type: 'histogram' });
  return defs;
}

/** Inserts `minutes` samples a minute apart for every series, from `from`, computed inside SQLite. */
function generateSql(chunk: string, from: number, minutes: number, t0: number): string {
  const m = `(${(from - t0) / MIN} + i)`;
  // counters grow with time (buckets also with their id, so a wider `le` counts more); gauges wander
  const value = `CASE WHEN se.type IN ('counter', 'histogram') THEN ${m} * 60 * (1 + se.id % 7) * 0.37
    ELSE ((se.id * 7 + i * 13) % 100 + 50) * 1.0e6 END`;
  return `WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < ${minutes - 1})
    INSERT INTO ${ident(chunk)} (series_id, ts, value) SELECT se.id, ${from} + i * ${MIN}, ${value} FROM series se CROSS JOIN t ORDER BY se.id, i`;
}

async function buildStore(path: string): Promise<{ series: number; samples: number; ms: number }> {
  const started = performance.now();
  const now = Math.floor(Date.now() / MIN) * MIN;
  const t0 = now - DAYS * DAY;
  const store = await openSqliteStore({ path });
  try {
    const ids = await store.resolveSeries(seriesDefs());
    let samples = 0;
    for (let day = Math.floor(t0 / DAY) * DAY; day <= now; day += DAY) {
      const from = Math.max(day, t0);
      const minutes = Math.min(day + DAY, now + MIN) - from;
      const n = Math.floor(minutes / MIN);
      if (n <= 0) continue;
      const chunk = await store.ensureChunk('samples', from);
      await store.execute(generateSql(chunk.name, from, n, t0));
      samples += n * ids.length;
    }
    const rollups = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN });
    await rollups.prepare();
    for (const t of DEFAULT_TIERS) await rollups.run(t.resolutionMs);
    return { series: ids.length, samples, ms: performance.now() - started };
  } finally {
    await store.close();
  }
}

/** CPU time (user + system, all threads) a process has used, ms. */
function cpuMs(pid: number): number {
  // fields after the command's closing parenthesis: utime and stime are the 12th and 13th
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / sysconf.clockTicks;
}

/** Every overview range query once, one after another; the sum, the slowest, and the server's CPU time for them. */
async function overviewQueries(larder: LarderProcess, seconds: number): Promise<{ total: number; slowest: number; which: string; cpu: number }> {
  const cpu0 = cpuMs(larder.child.pid!);
  // the page's own window: on step edges, as a rollup tier needs
  const { start, end, step } = windowFor(seconds, Date.now() / 1000);
  let total = 0;
  let slowest = 0;
  let which = '';
  for (const panel of PANELS) {
    for (const q of panel.queries) {
      const body = new URLSearchParams({ query: expand(q.expr, step), start: String(start), end: String(end), step: String(step) });
      const t = performance.now();
      const res = await fetch(`${larder.url}/api/v1/query_range`, { method: 'POST', body });
      const json = (await res.json()) as { status: string; error?: string };
      const ms = performance.now() - t;
      if (json.status !== 'success') throw new Error(`${panel.id}: ${json.error}`);
      total += ms;
      if (ms > slowest) [slowest, which] = [ms, `${panel.id}: ${q.legend}`];
    }
  }
  return { total, slowest, which, cpu: cpuMs(larder.child.pid!) - cpu0 };
}

/** Marks, in the page, when the first chart has data and when no panel is loading. */
const OBSERVER = `
  window.__larderBench = {};
  new MutationObserver(() => {
    const b = window.__larderBench;
    const panels = document.querySelectorAll('[data-panel]');
    if (b.first === undefined && document.querySelector('[data-panel][data-state="data"] canvas')) b.first = performance.now();
    if (b.all === undefined && panels.length > 0 && [...panels].every((p) => p.dataset.state !== 'loading')) b.all = performance.now();
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-bench-ui-'));
  const path = join(dir, 'bench.db');
  let larder: LarderProcess | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const built = await buildStore(path);
    console.log(`store: ${built.series} series × ${DAYS} days every 60 s = ${built.samples.toLocaleString()} samples, rolled up into ${DEFAULT_TIERS.map((t) => t.name).join(', ')} (built in ${fmt(built.ms / 1000, 1)} s)`);
    larder = await startLarderProcess(await freePort(), ['--record-interval=60s', '--storage.retention-days=40'], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: path });

    const ranges = [PRESETS.find((r) => r.key === '1h')!, PRESETS.find((r) => r.key === '30d')!];
    const rows: string[][] = [['range', 'step', 'queries', 'all queries, serial ms (median)', 'server CPU ms (median)', 'slowest query ms', 'first chart ms (median)', 'all charts ms (median)']];
    const results: Record<string, { queries: number; cpu: number; first: number; all: number }> = {};
    const nQueries = PANELS.reduce((n, p) => n + p.queries.length, 0);
    for (const r of ranges) {
      await overviewQueries(larder, r.seconds); // warm the store's page cache and the engine
      const rounds = [];
      for (let i = 0; i < ROUNDS; i++) rounds.push(await overviewQueries(larder, r.seconds));
      const slow = rounds.reduce((a, b) => (b.slowest > a.slowest ? b : a));
      const firsts: number[] = [];
      const alls: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        await context.addInitScript(OBSERVER);
        const page = await context.newPage();
        await page.goto(`${larder.url}/#/overview?range=${r.key}&refresh=0`);
        const deadline = Date.now() + 60_000;
        let marks: { first?: number; all?: number } = {};
        while (marks.all === undefined && Date.now() < deadline) {
          await new Promise((res) => setTimeout(res, 20));
          marks = await page.evaluate<{ first?: number; all?: number }>('window.__larderBench');
        }
        await context.close();
        if (marks.first === undefined || marks.all === undefined) throw new Error(`the overview at ${r.key} did not finish drawing`);
        firsts.push(marks.first);
        alls.push(marks.all);
      }
      results[r.key] = { queries: median(rounds.map((x) => x.total)), cpu: median(rounds.map((x) => x.cpu)), first: median(firsts), all: median(alls) };
      rows.push([r.label, `${stepFor(r.seconds)} s`, String(nQueries), fmt(results[r.key]!.queries, 1), fmt(results[r.key]!.cpu, 0), `${fmt(slow.slowest, 1)} (${slow.which})`, fmt(results[r.key]!.first, 0), fmt(results[r.key]!.all, 0)]);
    }
    printTable(rows);
    const h = results['1h']!;
    const m = results['30d']!;
    console.log(`30 days vs 1 hour: queries ${fmt(m.queries / h.queries)}×, first chart ${fmt(m.first / h.first)}×, all charts ${fmt(m.all / h.all)}×`);
    console.log(`goals at 30 days: overview queries under 200 ms: ${fmt(m.queries, 1)} ms (${m.queries < 200 ? 'met' : 'NOT met'}; the server's CPU time for them: ${fmt(m.cpu, 0)} ms); first chart under 1 s: ${fmt(m.first, 0)} ms (${m.first < 1000 ? 'met' : 'NOT met'})`);
  } finally {
    await browser.close();
    await larder?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
