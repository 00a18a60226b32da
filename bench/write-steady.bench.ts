/**
 * Disk bytes written per sample by the SQLite store in its steady state, hours into its
 * chunks, which the ten minutes of the cost bench never reach: SERIES series (a third
 * counters) recorded every STEP_S seconds through `Store.writeSamples` (the head and its
 * folds), with the jobs `larder serve` schedules run on a simulated clock: the rollups
 * (`--rollup.cron`) and the hourly job (`--rollup.hourly-cron`, the seed's metrics_hourly).
 * The figure is `write_bytes` of /proc/self/io (the SQLite worker is a thread of this
 * process) per simulated hour, divided by the samples written in it.
 *
 * Two schedules, the same samples, in the same run:
 *  - before: rollups every minute at second 20, the head folded every hour (200,000 rows);
 *  - now: the defaults (rollups at minute 2 of every sixth hour, the head folded every 6 hours).
 *
 *   ./scripts/run-bench.sh write-steady        (SERIES=470 STEP_S=60 HOURS=24)
 *   STEP_S=15 HOURS=12 ./scripts/run-bench.sh write-steady
 *   ONLY=now HOURS=72 ./scripts/run-bench.sh write-steady   (one schedule, a longer window)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RollupEngine } from '../rollup/engine.js';
import { resolveTiers } from '../rollup/tiers.js';
import type { HeadOptions } from '../storage/sqlite-head.js';
import { openSqliteStore } from '../storage/sqlite-store.js';
import type { Sample, SeriesDef } from '../storage/store.js';
import { writeBytes } from './lib/proc.js';
import { fmt, printTable } from './lib/stats.js';

const SERIES = Number(process.env['SERIES'] ?? 470);
const STEP = Number(process.env['STEP_S'] ?? 60) * 1000;
const HOURS = Number(process.env['HOURS'] ?? 24);
const MIN = 60_000;
const HOUR = 3_600_000;
/** A UTC midnight, so the simulated day is one raw chunk. */
const T0 = Date.UTC(2026, 0, 1);

/** A job fires at `offsetMs` into every `periodMs` of the simulated clock. */
interface Every {
  readonly periodMs: number;
  readonly offsetMs: number;
}

interface Schedule {
  readonly name: string;
  readonly rollup: Every;
  readonly hourly: Every;
  /** Whether the hourly job also runs the rollups (it did before). */
  readonly hourlyRollsUp: boolean;
  readonly head: HeadOptions;
}

const SCHEDULES: readonly Schedule[] = [
  { name: 'before: rollups every minute, head 1 h', rollup: { periodMs: MIN, offsetMs: 20_000 }, hourly: { periodMs: HOUR, offsetMs: 0 }, hourlyRollsUp: true, head: { maxSpanMs: HOUR, maxRows: 200_000 } },
  { name: 'now: rollups every 6 h, head 6 h (defaults)', rollup: { periodMs: 6 * HOUR, offsetMs: 2 * MIN + 20_000 }, hourly: { periodMs: HOUR, offsetMs: 0 }, hourlyRollsUp: false, head: {} },
];

/** Fire times of `e` in `(from, to]`. */
function firings(e: Every, from: number, to: number): number[] {
  const out: number[] = [];
  let k = Math.floor((from - T0 - e.offsetMs) / e.periodMs) + 1;
  for (let at = T0 + e.offsetMs + k * e.periodMs; at <= to; at = T0 + e.offsetMs + ++k * e.periodMs) if (at > from) out.push(at);
  return out;
}

/** Bytes written per sample in each simulated hour under one schedule. */
async function run(s: Schedule): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-steady-'));
  let clock = T0;
  const store = await openSqliteStore({ path: join(dir, 'monitoring.db'), now: () => clock, head: s.head });
  try {
    const defs: SeriesDef[] = [];
    for (let i = 0; i < SERIES; i++) defs.push(i % 3 === 0 ? { name: `c_${i % 40}_total`, labels: { i: String(i) }, type: 'counter' } : { name: `g_${i % 40}`, labels: { i: String(i) }, type: 'gauge' });
    const ids = await store.resolveSeries(defs);
    const rollups = new RollupEngine({ store, tiers: resolveTiers(undefined, STEP), now: () => clock });
    const counters = new Float64Array(SERIES);
    const perHour: number[] = [];
    for (let h = 0; h < HOURS; h++) {
      const before = writeBytes(process.pid);
      let samples = 0;
      for (let t = T0 + h * HOUR; t < T0 + (h + 1) * HOUR; t += STEP) {
        clock = t;
        const batch: Sample[] = ids.map((id, i) => {
          counters[i] = counters[i]! + Math.floor(Math.random() * 1000);
          return { seriesId: id, timeMs: t, value: i % 3 === 0 ? counters[i]! : Math.random() * 100 };
        });
        await store.writeSamples(batch);
        samples += batch.length;
        // the jobs that fire before the next tick, in time order, each at its own time
        const jobs = [...firings(s.rollup, t, t + STEP - 1).map((at) => ({ at, job: 'rollup' })), ...firings(s.hourly, t, t + STEP - 1).map((at) => ({ at, job: 'hourly' }))].sort((a, b) => a.at - b.at);
        for (const j of jobs) {
          clock = j.at;
          if (j.job === 'rollup') await rollups.run(HOUR);
          else {
            if (s.hourlyRollsUp) await rollups.run(HOUR);
            await store.aggregateHourlyMetrics();
          }
        }
      }
      perHour.push((writeBytes(process.pid) - before) / samples);
    }
    return perHour;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`${SERIES} series every ${STEP / 1000} s, ${HOURS} simulated hours from a UTC midnight; bytes written per sample (load ${loadavg().map((l) => fmt(l, 1)).join(' ')})`);
/** ONLY=now (or before) runs one schedule, for long windows. */
const only = process.env['ONLY'];
const schedules = SCHEDULES.filter((s) => only === undefined || s.name.startsWith(only));
const results: number[][] = [];
for (const s of schedules) results.push(await run(s));
const rows: string[][] = [['hour', ...schedules.map((s) => s.name)]];
for (let h = 0; h < HOURS; h++) rows.push([String(h + 1), ...results.map((r) => fmt(r[h]!, 1))]);
const mean = (r: number[]): number => r.reduce((a, b) => a + b, 0) / r.length;
rows.push(['mean', ...results.map((r) => fmt(mean(r), 1))]);
printTable(rows);
if (results.length === 2) console.log(`ratio before / now over the ${HOURS} hours: ${fmt(mean(results[0]!) / mean(results[1]!), 2)}×`);
