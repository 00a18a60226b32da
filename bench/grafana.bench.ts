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
      const filled = await fillForDashboards(store, { instances: INSTANCES, start: END - DAYS * DAY, end: END, stepMs: STEP_MS });
      console.log(`${dialect}: ${filled.samples} samples of ${filled.series} series written and rolled up in ${fmt((performance.now() - t0) / 1000)} s`);
      if (dialect === 'postgresql') await store.execute('ANALYZE');
      for (const [name, span] of RANGES) {
        const range = rangeOf(END - span, END);
        let slowest = { ms: 0, what: '' };
        let whole = 0;
        let queries = 0;
        for (const key of ['host', 'nodejs', 'business', 'larder']) {
          const d = JSON.parse(readFileSync(join(grafanaDir(), 'dashboards', dialect, `${key}.json`), 'utf8')) as { panels: { title: string; targets?: { refId: string; rawSql?: string; queryText?: string }[] }[] };
          let dash = 0;
          for (const p of d.panels) {
            for (const target of p.targets ?? []) {
              const vars = { job: ['larder'], instance: INSTANCES };
              const sql = dialect === 'sqlite' ? expandSqlite(target.queryText!, range, vars) : expandPostgres(target.rawSql!, range, vars);
              const times: number[] = [];
              for (let i = 0; i < 3; i++) {
                const s = performance.now();
                await store.query(sql);
                times.push(performance.now() - s);
              }
              const ms = median(times);
              queries++;
              dash += ms;
              if (ms > slowest.ms) slowest = { ms, what: `${key} / ${p.title} ${target.refId}` };
            }
          }
          whole = Math.max(whole, dash);
        }
        rows.push([dialect, name, String(queries), fmt(slowest.ms), slowest.what, fmt(whole)]);
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      if (dialect === 'postgresql') {
        await dropPgSchema(schema);
      }
    }
  }
  printTable([['dialect', 'range', 'queries', 'slowest ms', 'slowest panel', 'slowest dashboard ms (sequential)'], ...rows]);
}

await main();
