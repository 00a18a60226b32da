/**
 * GET /metrics latency of a running `larder serve` (default settings, the built
 * binary) against Debian's prometheus-node-exporter measured in the same run, plus
 * Larder's CPU per minute, RSS and event-loop lag.
 *
 *   ./scripts/run-bench.sh scrape            (SCRAPES=300 by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { sysconf } from './lib/sysconf.js';
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

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / sysconf.clockTicks;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) * 1024;
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

// Default settings: recording into SQLite every 60s, collectors every 15s.
const dataDir = mkdtempSync(join(tmpdir(), 'larder-bench-'));
const larderPort = await freePort();
const larder = await startLarderProcess(larderPort, [], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dataDir, 'monitoring.db'), LARDER_SPOOL_PATH: join(dataDir, 'spool.db') });
const nePort = await freePort();
const ne: ChildProcess = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`], { stdio: 'ignore' });
try {
  await waitReady(`http://127.0.0.1:${nePort}/metrics`);
  console.log(`larder: ${CLI} (default settings: SQLite recording in a temp folder), node_exporter: prometheus-node-exporter; ${SCRAPES} sequential scrapes each`);
  const rows = [await measure('larder', `${larder.url}/metrics`), await measure('node_exporter', `http://127.0.0.1:${nePort}/metrics`)];
  printTable([
    ['target', 'median ms', 'p99 ms', 'bytes', 'series'],
    ...rows.map((r) => [r.name, fmt(r.p50), fmt(r.p99), String(r.bytes), String(r.series)]),
  ]);
  console.log(`ratio larder/node_exporter median latency: ${fmt(rows[0]!.p50 / rows[1]!.p50)} (target <= 0.5)`);

  // Idle cost at the default 15s collect interval: CPU over a window with no scrapes.
  const window = Number(process.env['IDLE_SECONDS'] ?? 60);
  const pid = larder.child.pid!;
  const cpu0 = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, window * 1000));
  const cpu1 = cpuSeconds(pid);
  const perMinute = ((cpu1 - cpu0) / window) * 60;
  console.log(`larder idle CPU: ${fmt(perMinute, 3)} s per minute = ${fmt((perMinute / 60) * 100, 3)}% of one core (window ${window}s; target < 0.5%)`);
  console.log(`larder RSS: ${fmt(rssBytes(pid) / 1e6, 1)} MB (target < 80 MB)`);
  const metrics = (await get(`${larder.url}/metrics`)).body;
  const lag = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(metrics)?.[1];
  console.log(`larder event-loop lag max since start, start-up included (prom-client monitor, 100 ms sampling): ${lag === undefined ? 'n/a' : fmt(Number(lag) * 1000, 1)} ms`);
} finally {
  ne.kill();
  await larder.stop();
  agent.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
