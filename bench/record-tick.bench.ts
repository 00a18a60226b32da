/**
 * The main thread's CPU for one record tick: a registry of 600 gauge series (60 gauges ×
 * 10 label values) and a histogram, recorded with job and instance added (as `larder
 * serve` records its own registry) into a real SQLite store, TICKS ticks after 10.
 * Prints time on a CPU per tick (schedstat, the main thread alone: the snapshot, the
 * recorder's work and the hand-over to the worker) and garbage collections per tick.
 *
 *   ./scripts/run-bench.sh record-tick   (TICKS=100)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { Gauge, Histogram, Registry } from 'prom-client';
import { Logger } from '../src/log.js';
import { Recorder } from '../src/recorder/recorder.js';
import { openSqliteStore } from '../storage/sqlite-store.js';
import { fmt } from './lib/stats.js';

const TICKS = Number(process.env['TICKS'] ?? 100);

/** Nanoseconds the calling thread has run on a CPU. */
const ranNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);

const dir = mkdtempSync(join(tmpdir(), 'larder-record-tick-'));
const store = await openSqliteStore({ path: join(dir, 'monitoring.db') });
try {
  const registry = new Registry();
  for (let g = 0; g < 60; g++) {
    const m = new Gauge({ name: `g${g}`, help: 'h', labelNames: ['a', 'b'], registers: [registry] });
    for (let v = 0; v < 10; v++) m.set({ a: `x${v}`, b: 'y' }, v);
  }
  const h = new Histogram({ name: 'h', help: 'h', labelNames: ['r'], registers: [registry] });
  for (let r = 0; r < 5; r++) h.observe({ r: String(r) }, 0.1);
  const recorder = new Recorder({ registry, store, log: new Logger('error', () => {}), ownLabels: { job: 'larder', instance: 'h:1' } });
  let gcs = 0;
  const obs = new PerformanceObserver((l) => (gcs += l.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < 10; i++) await recorder.tick(); // series created, JIT
  const main0 = ranNs();
  const gc0 = gcs;
  for (let i = 0; i < TICKS; i++) await recorder.tick();
  await new Promise((r) => setTimeout(r, 50)); // the last GC entries
  obs.disconnect();
  const series = (await store.query<{ n: number }>('SELECT count(*) AS n FROM series'))[0]!.n;
  console.log(`${series} series, ${TICKS} record ticks: main thread ${fmt((ranNs() - main0) / 1e6 / TICKS)} ms per tick, ${fmt((gcs - gc0) / TICKS)} GCs per tick`);
  await recorder.stop();
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
