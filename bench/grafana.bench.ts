/**
 * Every SQL panel of the four dashboards over about 1,000 series of the dashboards' own
 * metrics (test/grafana/fixture.ts with as many instances as it takes), written raw and
 * rolled up into the default tiers, raw samples kept for the last 2 days, on both dialects.
 * Each panel query runs with Grafana's macros expanded for ranges of 6 hours (raw),
 * 7 days (5m tier), 30 and 90 days (1h tier) ending at the data's end; median of 3 runs.
 * Printed per dialect and range: the slowest panel query and the whole dashboard's
 * (every target one after the other; Grafana runs them in parallel).
 *
 *   ./scripts/run-bench.sh grafana                    (7 days, a sample every 5 minutes)
 *   DAYS=30 STEP_S=60 ./scripts/run-bench.sh grafana  (the issue's 30 days at 60 s)
 *   DIALECTS=sqlite ./scripts/run-bench.sh grafana
 *   LAG_MIN=60 ./scripts/run-bench.sh grafana         (the rollups ran 60 minutes before the data's end)
 *   SQL_FROM=/tmp/old-dashboards ./scripts/run-bench.sh grafana
 *       (also the dashboards in that folder, <dialect>/<key>.json, e.g. an older commit's
 *       grafana/dashboards: each query alternates between the versions, same store)
 *
 * The issue's goal: every panel under 200 ms on both dialects for a 90-day range.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grafanaDir } from '../grafana/generate.js';
import { openPgStore } from '../storage/pg-store.js';
import { openSqliteStore } from '../storage/sqlite-store.js';
import type { Store } from '../storage/store.js';
import { fillForDashboards, fixtureSeries } from '../test/grafana/fixture.js';
import { expandPostgres, expandSqlite, rangeOf } from '../test/grafana/grafana-macros.js';
import { dropPgSchema, PG_CONN } from './lib/pg.js';
import { fmt, median, printTable } from './lib/stats.js';

const DAY = 86_400_000;
const DAYS = Number(process.env['DAYS'] ?? 7);
const STEP_MS = Number(process.env['STEP_S'] ?? 300) * 1000;
const DIALECTS = (process.env['DIALECTS'] ?? 'sqlite,postgresql').split(',') as ('sqlite' | 'postgresql')[];
const END = Date.UTC(2026, 2, 11, 12);
/** Minutes before the data's end at which the rollups ran (the tiers' lag); 0: two hours after it. */
const LAG_MIN = Number(process.env['LAG_MIN'] ?? 0);
/** The dashboards' folders compared: this checkout's, then SQL_FROM's. */
const VERSIONS: readonly { label: string; dir: string }[] = [
  { label: 'this', dir: join(grafanaDir(), 'dashboards') },
  ...(process.env['SQL_FROM'] ? [{ label: 'SQL_FROM', dir: process.env['SQL_FROM'] }] : []),
];
const RANGES = [['6 h', DAY / 4], ['7 d', 7 * DAY], ['30 d', 30 * DAY], ['90 d', 90 * DAY]] as const;

const perInstance = fixtureSeries(['x']).length;
const INSTANCES = Array.from({ length: Math.ceil(1000 / perInstance) }, (_, i) => `host-${i}:9100`);

async function open(dialect: 'sqlite' | 'postgresql', dir: string, schema: string): Promise<Store> {
  if (dialect === 'sqlite') return openSqliteStore({ path: join(dir, 'monitoring.db'), now: () => END });
  return openPgStore({ ...PG_CONN, schema, now: () => END });
}

async function main(): Promise<void> {
  console.log(`${INSTANCES.length} instances × ${perInstance} series = ${INSTANCES.length * perInstance} series, ${DAYS} days, a sample every ${STEP_MS / 1000} s`);
  const rows: string[][] = [];
  for (const dialect of DIALECTS) {
    const dir = mkdtempSync(join(tmpdir(), 'larder-grafana-bench-'));
    const schema = `larder_grafana_bench_${process.pid}`;
    const store = await open(dialect, dir, schema);
    try {
      const t0 = performance.now();
      const shape = { instances: INSTANCES, start: END - DAYS * DAY, end: END, stepMs: STEP_MS };
      const filled = await fillForDashboards(store, shape, LAG_MIN > 0 ? { rollupNow: END - LAG_MIN * 60_000 + 120_000 } : {});
      console.log(`${dialect}: ${filled.samples} samples of ${filled.series} series written and rolled up in ${fmt((performance.now() - t0) / 1000)} s`);
      if (dialect === 'postgresql') await store.execute('ANALYZE');
      for (const [name, span] of RANGES) {
        const range = rangeOf(END - span, END);
        const slowest = VERSIONS.map(() => ({ ms: 0, what: '' }));
        const whole = VERSIONS.map(() => 0);
        let queries = 0;
        for (const key of ['host', 'nodejs', 'business', 'larder']) {
          type Dash = { panels: { title: string; targets?: { refId: string; rawSql?: string; queryText?: string }[] }[] };
          const dashes = VERSIONS.map((v) => JSON.parse(readFileSync(join(v.dir, dialect, `${key}.json`), 'utf8')) as Dash);
          const dash = VERSIONS.map(() => 0);
          for (const [pi, p] of dashes[0]!.panels.entries()) {
            for (const [ti, target] of (p.targets ?? []).entries()) {
              const vars = { job: ['larder'], instance: INSTANCES };
              const sqls = dashes.map((d) => {
                const tg = d.panels[pi]!.targets![ti]!;
                return dialect === 'sqlite' ? expandSqlite(tg.queryText!, range, vars) : expandPostgres(tg.rawSql!, range, vars);
              });
              const times: number[][] = VERSIONS.map(() => []);
              for (let i = 0; i < 3; i++) {
                for (const [vi, sql] of sqls.entries()) {
                  const s = performance.now();
                  await store.query(sql);
                  times[vi]!.push(performance.now() - s);
                }
              }
              queries++;
              times.forEach((ts, vi) => {
                const ms = median(ts);
                dash[vi]! += ms;
                if (ms > slowest[vi]!.ms) slowest[vi] = { ms, what: `${key} / ${p.title} ${target.refId}` };
              });
            }
          }
          dash.forEach((ms, vi) => (whole[vi] = Math.max(whole[vi]!, ms)));
        }
        VERSIONS.forEach((v, vi) => rows.push([dialect, v.label, name, String(queries), fmt(slowest[vi]!.ms), slowest[vi]!.what, fmt(whole[vi]!)]));
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      if (dialect === 'postgresql') {
        await dropPgSchema(schema);
      }
    }
  }
  console.log(`rollups ${LAG_MIN > 0 ? `${LAG_MIN} min before the data's end` : 'to the end'}; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  printTable([['dialect', 'dashboards', 'range', 'queries', 'slowest ms', 'slowest panel', 'slowest dashboard ms (sequential)'], ...rows]);
}

await main();
