/**
 * Cost of the bundled alert rules (issue 15): two `larder serve` side by side on
 * SQLite, one with the bundled rules at the default 1 m evaluation interval, one with
 * `--rules.bundled=false`; CPU seconds per minute of each (from /proc/<pid>/stat
 * utime+stime, after a warm-up) and the longest event-loop stall each reported in the
 * window (`nodejs_eventloop_lag_max_seconds`, read from /metrics every POLL_SECONDS;
 * prom-client resets it at each read, so the maximum of the reads is the window's).
 * Both read /metrics equally, so the polling costs both the same. Medians of RUNS runs.
 *
 * The lag metric counts time spent waiting for a CPU too, which on a loaded machine
 * dwarfs any stall; so a last phase runs the pair again with the stall probe of
 * bench/lib/stall-probe.ts (1 ms timer, the main thread's own run time per gap from
 * schedstat) for STALL_SECONDS, and reports the longest gap's run time on the CPU.
 *
 * The rules' own stall is read from Larder: `larder_rule_evaluation_longest_slice_seconds`
 * (src/alerting/slice-clock.ts), the longest synchronous slice of each group's last
 * evaluation, time on a CPU; the maximum over the groups and the polls is the window's.
 * The whole process's stall (collectors, GC, the rules) is reported beside it, with
 * rules and without.
 *
 * Goal: the rules add under 20 % to Larder's idle CPU, and no stall over 5 ms.
 *
 *   ./scripts/run-bench.sh rules    (RUNS=3, WARMUP_SECONDS=45, MEASURE_SECONDS=120,
 *                                    EVAL_INTERVAL=1m, STALL_SECONDS=120,
 *                                    LARDER_CLI=dist/src/cli.js)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sysconf } from './lib/sysconf.js';
import { fmt, median, printTable } from './lib/stats.js';
import { STALL_PROBE } from './lib/stall-probe.js';
import { freePort } from '../test/helpers/prometheus.js';
import { CLI } from '../test/helpers/larder-process.js';

const RUNS = Number(process.env['RUNS'] ?? 3);
const WARMUP = Number(process.env['WARMUP_SECONDS'] ?? 45);
const MEASURE = Number(process.env['MEASURE_SECONDS'] ?? 120);
const POLL = Number(process.env['POLL_SECONDS'] ?? 5);
const EVAL_INTERVAL = process.env['EVAL_INTERVAL'] ?? '1m';
const cli = process.env['LARDER_CLI'] ?? CLI;
const STALL = Number(process.env['STALL_SECONDS'] ?? 120);

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / sysconf.clockTicks;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly dir: string;
}

async function start(bundled: boolean, env: Record<string, string> = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-rules-bench-'));
  const port = await freePort();
  const args = ['serve', `--listen=127.0.0.1:${port}`, `--storage.sqlite-path=${join(dir, 'm.db')}`, '--storage.spool-path=', `--rules.evaluation-interval=${EVAL_INTERVAL}`];
  if (!bundled) args.push('--rules.bundled=false');
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, LARDER_RECORD_INTERVAL: '15s', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (const until = Date.now() + 30_000; ; await sleep(200)) {
    if (child.exitCode !== null) throw new Error(`larder exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > until) throw new Error(`larder did not start: ${stderr}`);
    if ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true) break;
  }
  return { child, url, dir };
}

/**
 * The lag maximum since the last read, the summed last durations of the rule groups and
 * their longest slice, in ms; `steadyMs` is the longest slice of the groups past their
 * second evaluation (the first compiles the engine's code, the second restores the `for`
 * state: start-up, once per process).
 */
async function readMetrics(url: string): Promise<{ lagMs: number; groupsMs: number; sliceMs: number; steadyMs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const lag = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  let groups = 0;
  for (const m of text.matchAll(/^larder_rule_group_last_duration_seconds\{[^}]*\} (\S+)$/gm)) groups += Number(m[1]);
  const runs = new Map<string, number>();
  for (const m of text.matchAll(/^larder_rule_group_iterations_total\{rule_group="([^"]*)"\} (\S+)$/gm)) runs.set(m[1]!, Number(m[2]));
  let slice = 0;
  let steady = 0;
  for (const m of text.matchAll(/^larder_rule_evaluation_longest_slice_seconds\{rule_group="([^"]*)"\} (\S+)$/gm)) {
    slice = Math.max(slice, Number(m[2]));
    if ((runs.get(m[1]!) ?? 0) > 2) steady = Math.max(steady, Number(m[2]));
  }
  return { lagMs: Number(lag?.[1] ?? Number.NaN) * 1000, groupsMs: groups * 1000, sliceMs: slice * 1000, steadyMs: steady * 1000 };
}

async function stop(r: Running): Promise<void> {
  const exited = new Promise((res) => r.child.once('exit', res));
  if (r.child.exitCode === null) r.child.kill('SIGTERM');
  await exited;
  rmSync(r.dir, { recursive: true, force: true });
}

interface RunFigures {
  withCpu: number;
  withoutCpu: number;
  withLagMs: number;
  withoutLagMs: number;
  groupsMs: number;
  /** The rules' longest slice in the window (their own stall), ms on a CPU. */
  sliceMs: number;
  /** The same from each group's third evaluation on (start-up left out), ms. */
  steadyMs: number;
}

async function run(): Promise<RunFigures> {
  const [a, b] = await Promise.all([start(true), start(false)]);
  try {
    await sleep(WARMUP * 1000);
    await Promise.all([readMetrics(a.url), readMetrics(b.url)]); // resets the lag maxima
    const c0 = [cpuSeconds(a.child.pid!), cpuSeconds(b.child.pid!)];
    const t0 = performance.now();
    let lagA = 0;
    let lagB = 0;
    let groupsMs = 0;
    let sliceMs = 0;
    let steadyMs = 0;
    while (performance.now() - t0 < MEASURE * 1000) {
      await sleep(POLL * 1000);
      const [ma, mb] = await Promise.all([readMetrics(a.url), readMetrics(b.url)]);
      lagA = Math.max(lagA, ma.lagMs);
      lagB = Math.max(lagB, mb.lagMs);
      groupsMs = ma.groupsMs;
      sliceMs = Math.max(sliceMs, ma.sliceMs);
      steadyMs = Math.max(steadyMs, ma.steadyMs);
    }
    const minutes = (performance.now() - t0) / 60_000;
    return {
      withCpu: (cpuSeconds(a.child.pid!) - c0[0]!) / minutes,
      withoutCpu: (cpuSeconds(b.child.pid!) - c0[1]!) / minutes,
      withLagMs: lagA,
      withoutLagMs: lagB,
      groupsMs,
      sliceMs,
      steadyMs,
    };
  } finally {
    await Promise.all([stop(a), stop(b)]);
  }
}

console.log(`rules bench: ${RUNS} runs, warm-up ${WARMUP}s, window ${MEASURE}s, evaluation interval ${EVAL_INTERVAL}, ${cli}`);
console.log(`load average at start: ${loadavg().map((x) => fmt(x, 2)).join(' ')}`);
const runs: RunFigures[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await run();
  runs.push(r);
  console.log(
    `run ${i + 1}: with rules ${fmt(r.withCpu, 3)} s/min, without ${fmt(r.withoutCpu, 3)} s/min; longest stall ${fmt(r.withLagMs, 1)} ms vs ${fmt(r.withoutLagMs, 1)} ms; rule groups last took ${fmt(r.groupsMs, 1)} ms in all; the rules' longest slice ${fmt(r.sliceMs, 2)} ms (${fmt(r.steadyMs, 2)} ms from each group's third evaluation)`,
  );
}
if (runs.length > 0) {
  const w = median(runs.map((r) => r.withCpu));
  const wo = median(runs.map((r) => r.withoutCpu));
  const added = (w - wo) / wo;
  const lagW = median(runs.map((r) => r.withLagMs));
  const lagWo = median(runs.map((r) => r.withoutLagMs));
  const slice = median(runs.map((r) => r.sliceMs));
  const steady = median(runs.map((r) => r.steadyMs));
  printTable([
    ['', 'bundled rules', 'no rules', 'goal'],
    ['CPU s/min (median)', fmt(w, 3), fmt(wo, 3), ''],
    ['CPU added by rules', `${fmt(added * 100, 1)}%`, '', `< 20% (ratio to goal ${fmt(added / 0.2, 2)})`],
    ['rules\' longest slice ms (median of the runs\' maxima; on a CPU)', fmt(slice, 2), '', `≤ 5 ms (ratio to goal ${fmt(slice / 5, 2)})`],
    ['the same, from each group\'s third evaluation', fmt(steady, 2), '', `≤ 5 ms (ratio to goal ${fmt(steady / 5, 2)})`],
    ['whole process: longest lag ms (median; counts waiting for a CPU)', fmt(lagW, 1), fmt(lagWo, 1), 'see the probe below'],
  ]);
}

/** The longest main-thread run time (ms) in one gap of the probe's 1 ms timer, over STALL seconds. */
async function stalls(): Promise<{ withMs: number; withoutMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-rules-probe-'));
  const probe = join(dir, 'probe.mjs');
  writeFileSync(probe, STALL_PROBE);
  const env = (n: string): Record<string, string> => ({ NODE_OPTIONS: `--import=${pathToFileURL(probe).href}`, LARDER_BENCH_PROBE_OUT: join(dir, `${n}.json`) });
  const [a, b] = await Promise.all([start(true, env('with')), start(false, env('without'))]);
  try {
    await sleep(WARMUP * 1000);
    a.child.kill('SIGUSR2');
    b.child.kill('SIGUSR2');
    await sleep(STALL * 1000);
    a.child.kill('SIGUSR2');
    b.child.kill('SIGUSR2');
    const longest = async (n: string): Promise<number> => {
      const f = join(dir, `${n}.json`);
      for (let i = 0; i < 50 && !existsSync(f); i++) await sleep(100);
      const gaps = JSON.parse(readFileSync(f, 'utf8')) as { runMs: number }[];
      return gaps.reduce((m, g) => Math.max(m, g.runMs - 1), 0);
    };
    return { withMs: await longest('with'), withoutMs: await longest('without') };
  } finally {
    await Promise.all([stop(a), stop(b)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (STALL > 0) {
  const s = await stalls();
  console.log(
    `whole process, longest stall on the CPU (probe, ${STALL}s after ${WARMUP}s; collectors and GC too): with rules ${fmt(s.withMs, 1)} ms, without ${fmt(s.withoutMs, 1)} ms (goal < 5 ms; ratio to goal ${fmt(s.withMs / 5, 2)})`,
  );
}
console.log(`load average at end: ${loadavg().map((x) => fmt(x, 2)).join(' ')}`);
