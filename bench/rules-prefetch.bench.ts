/**
 * What one rule group's evaluation costs when its window is hours long: the host pack's
 * two filesystem rules (`predict_linear(node_filesystem_avail_bytes[6h])`) over FS
 * filesystems × 6 h at 15 s in a real SQLite store, evaluated as the rule manager does
 * (GroupReads' one prefetch, then each rule through the engine over the snapshot).
 * Prints the main thread's CPU per evaluation (schedstat: time on a CPU, not waiting),
 * the whole process' (the SQLite worker included; its chunk cache stays warm here, as
 * nothing writes), and garbage collections per evaluation. The cost bench's fresh store
 * holds minutes, so it does not show this (docs/cost.md).
 *
 *   ./scripts/run-bench.sh rules-prefetch   (FS=15, ROUNDS=40)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createQueryEngine } from '../query/engine.js';
import { GroupReads } from '../src/alerting/group-reads.js';
import { loadRules } from '../src/alerting/load.js';
import { openSqliteStore } from '../storage/sqlite-store.js';
import type { Sample } from '../storage/store.js';
import { fmt } from './lib/stats.js';

const FS = Number(process.env['FS'] ?? 15);
const ROUNDS = Number(process.env['ROUNDS'] ?? 40);
const MIN = 60_000;
const STEP = 15_000;
const N = (6 * 60 * MIN) / STEP;
const TS = Math.floor(Date.now() / MIN) * MIN;

/** Nanoseconds the calling thread has run on a CPU. */
const ranNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);

const dir = mkdtempSync(join(tmpdir(), 'larder-rules-prefetch-'));
const store = await openSqliteStore({ path: join(dir, 'monitoring.db'), now: () => TS });
try {
  for (let f = 0; f < FS; f++) {
    const labels = { device: `/dev/d${f}`, fstype: 'ext4', mountpoint: `/m${f}`, job: 'larder', instance: 'h:1' };
    const [avail, size] = await store.resolveSeries([
      { name: 'node_filesystem_avail_bytes', labels, type: 'gauge' },
      { name: 'node_filesystem_size_bytes', labels, type: 'gauge' },
    ]);
    const samples: Sample[] = [];
    for (let i = 0; i < N; i++) {
      const t = TS - (N - i) * STEP;
      samples.push({ seriesId: avail!, timeMs: t, value: 5e9 - i * 1e5 * f }, { seriesId: size!, timeMs: t, value: 1e10 });
    }
    await store.writeSamples(samples);
  }
  const rules = {
    groups: [
      {
        name: 'fs',
        rules: [
          { alert: 'FillingUp', expr: '(node_filesystem_avail_bytes{fstype!=""} / node_filesystem_size_bytes{fstype!=""} < 0.4 and predict_linear(node_filesystem_avail_bytes{fstype!=""}[6h], 86400) < 0)' },
          { alert: 'Low', expr: 'node_filesystem_avail_bytes{fstype!=""} / node_filesystem_size_bytes{fstype!=""} < 0.05' },
        ],
      },
    ],
  };
  const [def] = loadRules([], [{ file: 'bench', rules }]);
  const view = new GroupReads(store);
  const engine = createQueryEngine(view.store);
  let gcs = 0;
  const obs = new PerformanceObserver((l) => (gcs += l.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  const round = async (): Promise<void> => {
    await view.prefetch(def!, TS);
    for (const r of def!.rules) await engine.instant(r.expr, TS, { rawOnly: true });
    view.clear();
  };
  for (let i = 0; i < 5; i++) await round(); // JIT, the worker's chunk cache
  const main0 = ranNs();
  const cpu0 = process.cpuUsage();
  const gc0 = gcs;
  for (let i = 0; i < ROUNDS; i++) await round();
  await new Promise((r) => setTimeout(r, 50)); // the last GC entries
  const cpu = process.cpuUsage(cpu0);
  obs.disconnect();
  console.log(`${FS} filesystems × 6 h at 15 s (${FS * N * 2} samples), ${ROUNDS} evaluations of the group, per evaluation:`);
  console.log(`  main thread ${fmt((ranNs() - main0) / 1e6 / ROUNDS)} ms, process ${fmt((cpu.user + cpu.system) / 1000 / ROUNDS)} ms, ${fmt((gcs - gc0) / ROUNDS)} GCs; snapshot hits ${view.hits}, misses ${view.misses}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
