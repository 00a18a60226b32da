/**
 * GET /metrics latency of a running `larder serve` (default settings, the built
 * binary) against Debian's prometheus-node-exporter measured in the same run, plus
 * Larder's idle CPU, idle RSS and the longest event-loop stall while idle.
 *
 * Order: start, then two idle windows (no scrapes: CPU and RSS), then, in a second
 * process carrying the stall probe, as long idle again and the stall window, then the
 * scrape latency burst, which is last because 300 back-to-back
 * scrapes grow V8's young generation for a minute or more and would otherwise be
 * counted as idle RSS (its RSS right after the burst is printed too).
 *
 *   ./scripts/run-bench.sh scrape            (SCRAPES=300, IDLE_SECONDS=60, STALL_SECONDS=60, LONG_IDLE_MINUTES=0)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { cpuSeconds, rssBytes } from './lib/proc.js';
import { STALL_PROBE } from './lib/stall-probe.js';
import { fmt, median, printTable, quantile } from './lib/stats.js';
import { freePort } from '../test/helpers/prometheus.js';
import { CLI, startLarderProcess } from '../test/helpers/larder-process.js';

const SCRAPES = Number(process.env['SCRAPES'] ?? 300);
const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string): Promise<{ ms: number; body: string }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ ms: performance.now() - start, body }));
    })
      .on('error', reject)
      .end();
  });
}

async function measure(name: string, url: string): Promise<{ name: string; p50: number; p99: number; bytes: number; series: number }> {
  for (let i = 0; i < 10; i++) await get(url); // warm up
  const times: number[] = [];
  let body = '';
  for (let i = 0; i < SCRAPES; i++) {
    const r = await get(url);
    times.push(r.ms);
    body = r.body;
  }
  const series = body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  return { name, p50: median(times), p99: quantile(times, 0.99), bytes: Buffer.byteLength(body), series };
}

/** Bytes in both units RSS is read in: MB (10^6 bytes) and MiB (2^20 bytes, what top, PM2 and Grafana's IEC units show as "M"). */
function mem(bytes: number): string {
  return `${fmt(bytes / 1e6, 1)} MB = ${fmt(bytes / 2 ** 20, 1)} MiB`;
}

/** RSS every 5 s for `seconds`. */
async function sampleRss(pid: number, seconds: number): Promise<number[]> {
  const samples: number[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await sleep(Math.min(5000, end - Date.now()));
    samples.push(rssBytes(pid));
  }
  return samples;
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Default settings: recording into SQLite every 60s, collectors every 15s.
const dataDir = mkdtempSync(join(tmpdir(), 'larder-bench-'));
const probePath = join(dataDir, 'stall-probe.mjs');
const probeOut = join(dataDir, 'stall.json');
writeFileSync(probePath, STALL_PROBE);
const storeEnv = (name: string): Record<string, string> => ({
  MONITORING_DB: 'sqlite',
  SQLITE_DB_PATH: join(dataDir, `${name}.db`),
  LARDER_SPOOL_PATH: join(dataDir, `${name}-spool.db`),
});
// Idle CPU and RSS are measured on a plain `larder serve`; the stall probe (loaded into
// both threads with --import) would add its own memory, so it gets a second process.
const plain = await startLarderProcess(await freePort(), [], storeEnv('plain'));
let larder = plain;
const nePort = await freePort();
const ne: ChildProcess = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`], { stdio: 'ignore' });
try {
  await waitReady(`http://127.0.0.1:${nePort}/metrics`);
  const pid = plain.child.pid!;
  console.log(`larder: ${CLI} (default settings: SQLite recording in a temp folder), node_exporter: prometheus-node-exporter`);

  // Idle cost at the default 15s collect interval: CPU over windows with no scrapes,
  // each holding at least one record tick (60s) and one sub-daily rollup run (every
  // minute). The first window from start-up also pays one-time work (the recorder
  // creating every series, first collections, JIT warm-up); the second is steady state.
  const window = Number(process.env['IDLE_SECONDS'] ?? 60);
  let steadyRss: number[] = [];
  for (const which of ['first window from start-up, one-time work included', 'second window, steady state']) {
    const cpu0 = cpuSeconds(pid);
    steadyRss = await sampleRss(pid, window);
    const perMinute = ((cpuSeconds(pid) - cpu0) / window) * 60;
    console.log(`larder idle CPU: ${fmt(perMinute, 3)} s per minute = ${fmt((perMinute / 60) * 100, 3)}% of one core (${window}s, ${which}; target < 0.5%)`);
  }
  console.log(`larder idle RSS: ${mem(rssBytes(pid))} after the idle windows (second window: median ${mem(median(steadyRss))}, max ${mem(Math.max(...steadyRss))}; before any scrape burst; target < 80 MB)`);
  // V8 collects the old generation only when it has grown by a step since the last
  // collection, so idle RSS is a slow sawtooth; LONG_IDLE_MINUTES watches it.
  const longMinutes = Number(process.env['LONG_IDLE_MINUTES'] ?? 0);
  if (longMinutes > 0) {
    const rss = await sampleRss(pid, longMinutes * 60);
    console.log(`larder idle RSS over ${longMinutes} more minutes: min ${mem(Math.min(...rss))}, median ${mem(median(rss))}, max ${mem(Math.max(...rss))}`);
  }

  await plain.stop();
  // Event-loop stalls while idle, after start-up: the same kind of window, probe on.
  larder = await startLarderProcess(await freePort(), [], {
    ...storeEnv('probed'),
    NODE_OPTIONS: `--import=${pathToFileURL(probePath).href}`,
    LARDER_BENCH_PROBE_OUT: probeOut,
  });
  await sleep(2 * window * 1000); // as long after start-up as the plain process's idle windows
  const stallWindow = Number(process.env['STALL_SECONDS'] ?? 60);
  larder.child.kill('SIGUSR2');
  await sleep(stallWindow * 1000);
  larder.child.kill('SIGUSR2');
  for (let i = 0; i < 50; i++) {
    try {
      readFileSync(probeOut);
      break;
    } catch {
      await sleep(100);
    }
  }
  const gaps = JSON.parse(readFileSync(probeOut, 'utf8')) as { atMs: number; gapMs: number; runMs: number; waitMs: number }[];
  // A gap's stall is the time the main thread ran in it, less the 1 ms tick itself.
  const stalls = gaps.map((g) => ({ ...g, stallMs: Math.max(0, g.runMs - 1) })).sort((x, y) => y.stallMs - x.stallMs);
  const longestGap = gaps.reduce((m, g) => Math.max(m, g.gapMs), 0);
  const top = stalls[0];
  console.log(
    `larder longest event-loop stall while idle: ${fmt(top?.stallMs ?? 0, 1)} ms on the CPU` +
      (top ? ` (in a ${fmt(top.gapMs, 1)} ms gap, ${fmt(top.waitMs, 1)} ms of it waiting for a CPU, at :${String(new Date(top.atMs).getSeconds()).padStart(2, '0')})` : '') +
      `; longest gap ${fmt(longestGap, 1)} ms wall; ${stalls.filter((x) => x.stallMs > 5).length} stalls > 5 ms in ${stallWindow}s, after two idle windows from start-up (target <= 5 ms)`,
  );

  console.log(`${SCRAPES} sequential scrapes each:`);
  const rows = [await measure('larder', `${larder.url}/metrics`), await measure('node_exporter', `http://127.0.0.1:${nePort}/metrics`)];
  printTable([
    ['target', 'median ms', 'p99 ms', 'bytes', 'series'],
    ...rows.map((r) => [r.name, fmt(r.p50), fmt(r.p99), String(r.bytes), String(r.series)]),
  ]);
  console.log(`ratio larder/node_exporter median latency: ${fmt(rows[0]!.p50 / rows[1]!.p50)} (target <= 0.5)`);
  console.log(`larder RSS right after the scrape burst: ${mem(rssBytes(larder.child.pid!))} (young generation grown by the burst; not idle)`);
} finally {
  ne.kill();
  await larder.stop();
  agent.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
