/**
 * What Larder costs against the pair it replaces. Started together: `larder serve` (the
 * built binary, SQLite in a temp folder, default collectors and bundled rules, collect
 * and record every 15 s) and Debian's prometheus-node-exporter plus a Debian prometheus
 * scraping it every 15 s into a temporary TSDB. After WARMUP_SECONDS:
 *
 * - CPU seconds per minute over MEASURE_SECONDS (every thread's time on a CPU from
 *   /proc/<pid>/task/<tid>/schedstat, or utime+stime of /proc/<pid>/stat if a thread ended
 *   in the window; Larder's helper processes included, live or reaped) and RSS (VmRSS, median of a
 *   sample every 5 s; Larder's live helpers added);
 * - bytes written to disk per sample (`write_bytes` of /proc/<pid>/io) over
 *   WRITE_SECONDS, which starts with the CPU window and is one longer window (the CPU
 *   and RSS figures come from its first MEASURE_SECONDS); samples are Prometheus'
 *   `prometheus_tsdb_head_samples_appended_total` and Larder's
 *   `larder_recorder_samples_written_total`.
 *
 * Beside them, two floors over the same window: `node` alone (a process that only sleeps),
 * and the stack floor (bench/lib/stack-floor.mjs: node, express, prom-client and a
 * node-sqlite3-wasm worker committing one 500-row transaction every 15 s, none of
 * Larder's own code), so the ratios can be read against what the chosen dependencies and
 * one commit per tick cost by themselves.
 *
 * Medians of RUNS runs, printed with ratios against the pair. Then the library mode:
 * the examples/recipes service (on the local PostgreSQL and Redis) at rest with
 * `createLarder` and its default collectors, against a bare service with the same
 * modules and connections but no Larder, CPU and RSS over EXAMPLE_SECONDS after the
 * warm-up.
 *
 *   ./scripts/run-bench.sh cost   (RUNS=3 WARMUP_SECONDS=60 MEASURE_SECONDS=120 WRITE_SECONDS=600
 *                                 EXAMPLE_SECONDS=120; LARDER_ARGS='--no-collector.x' adds flags)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { fmt, median, printTable } from './lib/stats.js';
import { cpuSpentSeconds, treeCost, type TreeCost } from './lib/proc.js';
import { freePort, launchPrometheus } from '../test/helpers/prometheus.js';
import { startLarderProcess } from '../test/helpers/larder-process.js';

const RUNS = Number(process.env['RUNS'] ?? 3);
const WARMUP = Number(process.env['WARMUP_SECONDS'] ?? 60);
const MEASURE = Number(process.env['MEASURE_SECONDS'] ?? 120);
const WRITE = Math.max(MEASURE, Number(process.env['WRITE_SECONDS'] ?? 600));
const EXAMPLE = Number(process.env['EXAMPLE_SECONDS'] ?? 120);
/** Extra flags for `larder serve` (to measure what turning something off saves). */
const LARDER_ARGS = (process.env['LARDER_ARGS'] ?? '').split(' ').filter((a) => a !== '');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): string => `${fmt(bytes / 1e6, 1)} MB`;

/** Sum of a counter's series in a Prometheus text exposition (0 when absent). */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function waitUp(url: string, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${what} did not answer ${url} within 30 s`);
    await sleep(200);
  }
}

/** One measured process (tree) with where its sample count is read. */
interface Subject {
  readonly name: string;
  readonly pid: number;
  /** Samples stored so far (undefined: not a store). */
  samples?(): Promise<number>;
}

interface Figures {
  cpuPerMinute: number;
  rss: number;
  written: number;
  samples: number;
}

/** CPU and RSS over MEASURE seconds, then writes and samples over the whole WRITE window. */
async function window(subjects: readonly Subject[]): Promise<Map<string, Figures>> {
  const start = new Map<string, { cost: TreeCost; samples: number }>();
  for (const s of subjects) start.set(s.name, { cost: treeCost(s.pid), samples: (await s.samples?.()) ?? 0 });
  const rss = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  const t0 = Date.now();
  while (Date.now() - t0 < MEASURE * 1000) {
    await sleep(Math.min(5000, MEASURE * 1000 - (Date.now() - t0)));
    for (const s of subjects) rss.get(s.name)!.push(treeCost(s.pid).rssBytes);
  }
  const cpu = new Map(subjects.map((s) => [s.name, (cpuSpentSeconds(start.get(s.name)!.cost, treeCost(s.pid)) / ((Date.now() - t0) / 1000)) * 60]));
  await sleep(Math.max(0, WRITE * 1000 - (Date.now() - t0)));
  const out = new Map<string, Figures>();
  for (const s of subjects) {
    const begin = start.get(s.name)!;
    out.set(s.name, {
      cpuPerMinute: cpu.get(s.name)!,
      rss: median(rss.get(s.name)!),
      written: treeCost(s.pid).writeBytes - begin.cost.writeBytes,
      samples: ((await s.samples?.()) ?? 0) - begin.samples,
    });
  }
  return out;
}

/** One run of Larder against the pair, all three started together. */
async function run(dir: string): Promise<Map<string, Figures>> {
  const nePort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["127.0.0.1:${nePort}"]\n`,
  );
  const ne: ChildProcess = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`], { stdio: 'ignore' });
  const floorPort = await freePort();
  // Larder's shebang sets the same malloc threshold
  const floorEnv = { ...process.env, MALLOC_TRIM_THRESHOLD_: '131072' };
  const floor: ChildProcess = spawn(process.execPath, [join(ROOT, 'bench/lib/stack-floor.mjs'), String(floorPort), join(dir, 'floor.db')], { stdio: ['ignore', 'ignore', 'inherit'], env: floorEnv });
  const bare: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 15000)'], { stdio: 'ignore', env: floorEnv });
  const floors = [floor, bare];
  const neFailed = new Promise<never>((_, reject) => ne.once('error', (e) => reject(new Error(`prometheus-node-exporter did not start (${e.message}); make system-deps installs it`))));
  neFailed.catch(() => undefined); // seen through the race below when it happens at start
  const started = await Promise.allSettled([
    launchPrometheus(join(dir, 'prometheus.yml'), join(dir, 'tsdb')),
    startLarderProcess(await freePort(), LARDER_ARGS, {
      MONITORING_DB: 'sqlite',
      SQLITE_DB_PATH: join(dir, 'monitoring.db'),
      LARDER_SPOOL_PATH: join(dir, 'spool.db'),
      LARDER_COLLECT_INTERVAL: '15s',
      LARDER_RECORD_INTERVAL: '15s',
    }, {}, 120_000), // a loaded machine can take more than the default 20 s to start it
    Promise.race([waitUp(`http://127.0.0.1:${nePort}/metrics`, 'node_exporter'), neFailed]),
    waitUp(`http://127.0.0.1:${floorPort}/metrics`, 'the stack floor'),
  ]);
  const [promStart, larderStart, neStart, floorStart] = started;
  if (promStart.status === 'rejected' || larderStart.status === 'rejected' || neStart.status === 'rejected' || floorStart.status === 'rejected') {
    ne.kill();
    for (const f of floors) f.kill();
    if (promStart.status === 'fulfilled') await promStart.value.stop();
    if (larderStart.status === 'fulfilled') await larderStart.value.stop();
    throw started.map((r) => (r.status === 'rejected' ? (r.reason as Error) : undefined)).find((e) => e !== undefined);
  }
  const prom = promStart.value;
  const larder = larderStart.value;
  try {
    await sleep(WARMUP * 1000);
    return await window([
      { name: 'node_exporter', pid: ne.pid! },
      { name: 'prometheus', pid: prom.pid, samples: () => counter(`${prom.url}/metrics`, 'prometheus_tsdb_head_samples_appended_total') },
      { name: 'larder', pid: larder.child.pid!, samples: () => counter(`${larder.url}/metrics`, 'larder_recorder_samples_written_total') },
      { name: 'stack floor', pid: floor.pid!, samples: () => counter(`http://127.0.0.1:${floorPort}/metrics`, 'floor_samples_written_total') },
      { name: 'node alone', pid: bare.pid! },
    ]);
  } finally {
    ne.kill();
    for (const f of floors) f.kill();
    await Promise.all([prom.stop(), larder.stop()]);
  }
}

/**
 * The recipes example compiled to dist/examples/ (one file, types dropped), so it runs
 * on plain node against dist/src like a service importing the package: under the tests'
 * TypeScript loader the compiler's own heap would be counted as the service's.
 */
function buildExample(): string {
  const out = join(ROOT, 'dist/examples/recipes/server.js');
  const source = readFileSync(join(ROOT, 'examples/recipes/server.ts'), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, js.outputText);
  return out;
}

/** The bare service: the example's modules, connections and a listening express app, no Larder. */
const BARE = `
import express from 'express';
import pgPromise from 'pg-promise';
import { Redis } from 'ioredis';
const pgp = pgPromise();
const db = pgp(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
await redis.connect();
await db.one('SELECT 1');
const app = express();
app.use(express.json({ limit: '64kb' }));
app.get('/healthz', (_req, res) => res.send('ok'));
app.listen(Number(process.env.PORT), '127.0.0.1');
`;

/** CPU per minute and median RSS of a service at rest, after the warm-up. */
async function atRest(args: readonly string[], env: Record<string, string>, port: number): Promise<{ cpuPerMinute: number; rss: number }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitUp(`http://127.0.0.1:${port}/healthz`, 'the service').catch((e: Error) => {
      throw new Error(`${e.message}; its stderr: ${stderr.slice(-2000)}`);
    });
    await sleep(WARMUP * 1000);
    const c0 = treeCost(child.pid!);
    const t0 = Date.now();
    const rss: number[] = [];
    while (Date.now() - t0 < EXAMPLE * 1000) {
      await sleep(5000);
      rss.push(treeCost(child.pid!).rssBytes);
    }
    return { cpuPerMinute: (cpuSpentSeconds(c0, treeCost(child.pid!)) / ((Date.now() - t0) / 1000)) * 60, rss: median(rss) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

/** The subjects that store samples (the others have no bytes per sample). */
const STORES = new Set(['prometheus', 'larder', 'stack floor']);

/** The medians of the runs, the pair's sums, and Larder's and the floors' ratios to them. */
function printPair(runs: readonly Map<string, Figures>[]): void {
  const med = (name: string, pick: (f: Figures) => number): number => median(runs.map((r) => pick(r.get(name)!)));
  const perSample = (f: Figures): number => f.written / f.samples;
  const row = (name: string): string[] => [
    name,
    fmt(med(name, (f) => f.cpuPerMinute), 3),
    fmt(((med(name, (f) => f.cpuPerMinute) / 60) * 100), 3),
    mb(med(name, (f) => f.rss)),
    mb(med(name, (f) => f.written)),
    STORES.has(name) ? fmt(med(name, (f) => f.samples), 0) : '',
    STORES.has(name) ? fmt(med(name, perSample), 1) : '',
  ];
  const pairCpu = median(runs.map((r) => r.get('node_exporter')!.cpuPerMinute + r.get('prometheus')!.cpuPerMinute));
  const pairRss = median(runs.map((r) => r.get('node_exporter')!.rss + r.get('prometheus')!.rss));
  printTable([
    ['process', 'CPU s/min', '% of a core', 'RSS', `written (${WRITE}s)`, 'samples', 'bytes/sample'],
    row('node_exporter'),
    row('prometheus'),
    ['the pair', fmt(pairCpu, 3), fmt((pairCpu / 60) * 100, 3), mb(pairRss), '', '', ''],
    row('larder'),
    row('stack floor'),
    row('node alone'),
  ]);
  // medians of each run's ratio: to the pair's sum (CPU, RSS) and to Prometheus (bytes per sample)
  const toPair = (name: string, pick: (f: Figures) => number): number => median(runs.map((r) => pick(r.get(name)!) / (pick(r.get('node_exporter')!) + pick(r.get('prometheus')!))));
  const toPrometheus = (name: string): number => median(runs.map((r) => perSample(r.get(name)!) / perSample(r.get('prometheus')!)));
  const cpu = (f: Figures): number => f.cpuPerMinute;
  const rss = (f: Figures): number => f.rss;
  console.log(`ratio larder/pair CPU: ${fmt(toPair('larder', cpu))} (goal <= 1.0)`);
  console.log(`ratio larder/pair RSS: ${fmt(toPair('larder', rss))} (goal <= 1.0)`);
  console.log(`ratio larder/prometheus bytes written per sample: ${fmt(toPrometheus('larder'), 1)} over ${WRITE}s (goal <= 2, over at least 600s)`);
  for (const name of ['stack floor', 'node alone']) {
    const bytes = STORES.has(name) ? `, bytes per sample ${fmt(toPrometheus(name), 1)}` : '';
    console.log(`ratio ${name}/pair: CPU ${fmt(toPair(name, cpu))}, RSS ${fmt(toPair(name, rss))}${bytes}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'larder-cost-'));
try {
  console.log(`Larder (larder serve, SQLite, default collectors and rules, collect+record every 15s) vs prometheus-node-exporter + prometheus (scrape every 15s)`);
  console.log(`${RUNS} runs; each: ${WARMUP}s warm-up, CPU and RSS over ${MEASURE}s, disk writes over ${WRITE}s from the same start`);
  const runs: Map<string, Figures>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const runDir = join(dir, `run${i}`);
    mkdirSync(runDir);
    runs.push(await run(runDir));
    const r = runs[i]!;
    console.log(`run ${i + 1}: ` + [...r].map(([n, f]) => `${n} ${fmt(f.cpuPerMinute, 3)} s/min ${mb(f.rss)} ${f.samples ? `${fmt(f.written / f.samples, 1)} B/sample` : `${mb(f.written)} written`}`).join('; '));
  }
  if (RUNS > 0) printPair(runs);

  if (EXAMPLE > 0) {
    const script = buildExample();
    const db = join(dir, 'recipes.db');
    const withLarder = await atRest([script], { SQLITE_DB_PATH: db, LARDER_SPOOL_PATH: join(dir, 'recipes-spool.db') }, await freePort());
    const bare = await atRest(['--input-type=module', '-e', BARE], {}, await freePort());
    console.log(`library mode: the recipes example (createLarder, default collectors, recording into SQLite every 60s) vs the same modules and connections without Larder, at rest, ${EXAMPLE}s after ${WARMUP}s:`);
    printTable([
      ['service', 'CPU s/min', 'RSS'],
      ['with Larder', fmt(withLarder.cpuPerMinute, 3), mb(withLarder.rss)],
      ['without', fmt(bare.cpuPerMinute, 3), mb(bare.rss)],
      ['Larder adds', fmt(withLarder.cpuPerMinute - bare.cpuPerMinute, 3), mb(withLarder.rss - bare.rss)],
    ]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
