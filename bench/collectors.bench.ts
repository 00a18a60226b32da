/**
 * Cost of collection: CPU and wall time per full round of the host collectors (median
 * over ROUNDS rounds), the longest event-loop stall while collecting, and the same
 * figures for one pass of the equivalent systeminformation calls in the same run.
 *
 *   ./scripts/run-bench.sh collectors        (ROUNDS=60 by default)
 *
 * CPU is this process's user+system time (libuv's thread pool included, where the file
 * reads run) plus that of waited-for children (systeminformation spawns some).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createHook } from 'node:async_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import * as si from 'systeminformation';
import { CollectorSet } from '../exporters/collector-set.js';
import type { CollectorDefinition } from '../exporters/collector.js';
import { HOST_COLLECTORS } from '../exporters/index.js';
import { loadConfig } from '../src/config.js';
import { fmt, median, printTable, quantile } from './lib/stats.js';
import { sysconf } from './lib/sysconf.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 60);
const SI_ROUNDS = Number(process.env['SI_ROUNDS'] ?? 5);
const options = loadConfig({ argv: [], env: {} }).config.collectors;

/** CPU seconds of this process and its reaped children, from /proc/self/stat. */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / sysconf.clockTicks;
}

/** process.cpuUsage() is finer-grained (µs) than /proc ticks, but misses children. */
function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Cost {
  readonly cpuMs: number[];
  readonly wallMs: number[];
  /** Longest event-loop stall over all rounds, ms. */
  readonly stallMs: number;
  /** 99th percentile of the event-loop delay, ms. */
  readonly stallP99Ms: number;
  /** CPU ms of children over all rounds. */
  readonly childCpuMs: number;
}

/** Runs `round` n times; CPU and wall per round, stall measured by a 1 ms-resolution delay monitor. */
async function measure(n: number, round: () => Promise<unknown>): Promise<Cost> {
  const cpuMs: number[] = [];
  const wallMs: number[] = [];
  const h = monitorEventLoopDelay({ resolution: 1 });
  const childBefore = cpuSeconds() * 1000 - ownCpuMs();
  h.enable();
  for (let i = 0; i < n; i++) {
    const c0 = ownCpuMs();
    const t0 = performance.now();
    await round();
    wallMs.push(performance.now() - t0);
    cpuMs.push(ownCpuMs() - c0);
    // let the monitor's timer fire between rounds, as the real schedule would
    await new Promise((r) => setTimeout(r, 5));
  }
  h.disable();
  const childAfter = cpuSeconds() * 1000 - ownCpuMs();
  // the histogram counts delay beyond the 1 ms timer resolution, in ns
  return {
    cpuMs,
    wallMs,
    stallMs: Math.max(0, h.max / 1e6 - 1),
    stallP99Ms: Math.max(0, h.percentile(99) / 1e6 - 1),
    childCpuMs: Math.max(0, childAfter - childBefore),
  };
}

/**
 * Durations of single callbacks (synchronous stretches of JavaScript) over n rounds, timed
 * between async_hooks' before and after. Unlike the loop-delay monitor this does not
 * count time the OS gives to other processes or to libuv's threads while the loop waits,
 * so on a busy shared machine it is what collection itself blocks for. Preemption inside
 * a callback still counts, so it is an upper bound.
 */
async function callbackTimes(n: number, round: () => Promise<unknown>): Promise<{ p999: number; max: number }> {
  const starts: number[] = [];
  const durations: number[] = [];
  const hook = createHook({
    before() {
      starts.push(performance.now());
    },
    after() {
      const s = starts.pop();
      if (s !== undefined) durations.push(performance.now() - s);
    },
  });
  hook.enable();
  for (let i = 0; i < n; i++) await round();
  hook.disable();
  return { p999: quantile(durations, 0.999), max: Math.max(...durations) };
}

function collectorSet(defs: readonly CollectorDefinition[]): CollectorSet {
  return new CollectorSet({ registry: new Registry(), options, log: { warn: () => {}, info: () => {} }, now: Date.now }, defs, {
    interval: 15_000,
    slowInterval: 60_000,
    timeout: 10_000,
  });
}

const fast = HOST_COLLECTORS.filter((c) => !c.slow);
const slow = HOST_COLLECTORS.filter((c) => c.slow);
const fastSet = collectorSet(fast);
const slowSet = collectorSet(slow);
await fastSet.updateAll(); // warm up: first reads, JIT, the usage collector's first CPU sample
await slowSet.updateAll();

// The same loop doing nothing: on a shared machine the scheduler alone stalls the loop,
// so stalls are only attributable to collection beyond this baseline.
const idleCost = await measure(ROUNDS, () => new Promise((r) => setTimeout(r, 10)));
const fastCost = await measure(ROUNDS, () => fastSet.updateAll());
const slowCost = await measure(ROUNDS, () => slowSet.updateAll());
const fastBlock = await callbackTimes(ROUNDS, () => fastSet.updateAll());
const slowBlock = await callbackTimes(ROUNDS, () => slowSet.updateAll());
fastSet.stop();
slowSet.stop();

// The equivalent systeminformation pass: load, memory, filesystems, network, disk I/O, processes.
const siPass = (): Promise<unknown> => Promise.all([si.currentLoad(), si.mem(), si.fsSize(), si.networkStats('*'), si.disksIO(), si.processes()]);
await siPass(); // warm up (first calls cache static facts)
const siCost = await measure(SI_ROUNDS, siPass);
const siBlock = await callbackTimes(SI_ROUNDS, siPass);

const ms = (cost: Cost): { cpu: number; cpuP90: number; wall: number; child: number } => ({
  cpu: median(cost.cpuMs),
  cpuP90: quantile(cost.cpuMs, 0.9),
  wall: median(cost.wallMs),
  child: cost.childCpuMs / cost.cpuMs.length,
});
const f = ms(fastCost);
const s = ms(slowCost);
const x = ms(siCost);
const larderRound = f.cpu + f.child + s.cpu + s.child; // one round of every host collector
const siRound = x.cpu + x.child;

console.log(`host collectors: ${fast.map((c) => c.name).join(', ')} every ${options.collectInterval / 1000}s; ${slow.map((c) => c.name).join(', ')} every ${options.slowCollectInterval / 1000}s`);
printTable([
  ['what', 'rounds', 'CPU ms (median)', 'CPU ms (p90)', 'children CPU ms', 'wall ms (median)', 'loop delay p99 ms', 'loop delay max ms', 'callback p99.9 ms', 'callback max ms'],
  ['idle baseline (no work)', String(ROUNDS), '-', '-', '-', '-', fmt(idleCost.stallP99Ms), fmt(idleCost.stallMs), '-', '-'],
  ['larder fast collectors', String(ROUNDS), fmt(f.cpu), fmt(f.cpuP90), fmt(f.child), fmt(f.wall), fmt(fastCost.stallP99Ms), fmt(fastCost.stallMs), fmt(fastBlock.p999), fmt(fastBlock.max)],
  ['larder slow (os, processes)', String(ROUNDS), fmt(s.cpu), fmt(s.cpuP90), fmt(s.child), fmt(s.wall), fmt(slowCost.stallP99Ms), fmt(slowCost.stallMs), fmt(slowBlock.p999), fmt(slowBlock.max)],
  ['systeminformation pass', String(SI_ROUNDS), fmt(x.cpu), fmt(x.cpuP90), fmt(x.child), fmt(x.wall), fmt(siCost.stallP99Ms), fmt(siCost.stallMs), fmt(siBlock.p999), fmt(siBlock.max)],
]);
console.log(`machine load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (${cpus().length} CPUs)`);
const perSecond = (f.cpu + f.child) / (options.collectInterval / 1000) + (s.cpu + s.child) / (options.slowCollectInterval / 1000);
console.log(`one round of every host collector: ${fmt(larderRound)} ms CPU vs systeminformation ${fmt(siRound)} ms: ratio ${fmt(larderRound / siRound, 3)}`);
console.log(`collection CPU at the default intervals: ${fmt(perSecond / 10, 4)}% of one core (target < 0.5%)`);
console.log(
  `longest event-loop stall during collection: ${fmt(Math.max(fastCost.stallMs, slowCost.stallMs))} ms by the delay monitor (idle baseline ${fmt(idleCost.stallMs)} ms), ` +
    `callbacks p99.9 ${fmt(Math.max(fastBlock.p999, slowBlock.p999), 3)} ms, max ${fmt(Math.max(fastBlock.max, slowBlock.max))} ms (target <= 5 ms; a max far above the p99.9 is the OS preempting the process); ` +
    `systeminformation: ${fmt(siCost.stallMs)} ms, longest callback ${fmt(siBlock.max)} ms`,
);
