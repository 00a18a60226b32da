/**
 * A variant of test/helpers/prometheus.ts: a real Prometheus over a TSDB folder made
 * by `promtool tsdb create-blocks-from openmetrics`, with no scrape jobs, queried
 * through its HTTP API at chosen times.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchPrometheus } from '../helpers/prometheus.js';

/** A running Prometheus over backfilled blocks. */
export interface BackfilledPrometheus {
  /** query_range: series → [[t seconds, value text]]. */
  queryRange(expr: string, startSec: number, endSec: number, stepSec: number): Promise<{ metric: Record<string, string>; values: [number, string][] }[]>;
  stop(): Promise<void>;
}

/** Writes `openMetrics` to `dir`, backfills blocks with promtool and starts Prometheus on them. */
export async function startBackfilledPrometheus(dir: string, openMetrics: string): Promise<BackfilledPrometheus> {
  const input = join(dir, 'samples.om');
  const data = join(dir, 'data');
  writeFileSync(input, openMetrics);
  const r = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, data], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`promtool backfill failed: ${r.stdout}${r.stderr}`);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
  const prom = await launchPrometheus(join(dir, 'prometheus.yml'), data, ['--storage.tsdb.retention.time=100y']);
  const url = prom.url;
  return {
    async queryRange(expr, startSec, endSec, stepSec) {
      const q = new URLSearchParams({ query: expr, start: String(startSec), end: String(endSec), step: String(stepSec) });
      const res = await fetch(`${url}/api/v1/query_range?${q}`);
      const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
      return body.data.result;
    },
    stop: () => prom.stop(),
  };
}
