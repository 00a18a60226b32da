/**
 * `larder serve` hands its rollup tiers to the query API: over a store with two days
 * rolled up, `avg_over_time(x[1h])` at a 1 h step is answered by the hourly tier (with
 * Prometheus-style warning saying so), and `--query.max-resolution=raw` answers the
 * same query from raw samples with the same values.
 */
import t from 'tap';
import { join } from 'node:path';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { freePort } from '../helpers/prometheus.js';
import { startLarderProcess } from '../helpers/larder-process.js';
import { tempDir } from '../storage/fixtures/stores.js';

const MIN = 60_000;
const HOUR = 3_600_000;

interface Answer {
  status: string;
  warnings?: string[];
  data: { result: { values: [number, string][] }[] };
}

async function ask(base: string, startS: number, endS: number): Promise<Answer> {
  const body = new URLSearchParams({ query: 'avg_over_time(tier_test_gauge[1h])', start: String(startS), end: String(endS), step: '3600' });
  const res = await fetch(`${base}/api/v1/query_range`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return (await res.json()) as Answer;
}

t.test('the hourly tier answers through larder serve, raw when asked', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.db');
  // two whole days ending at the last hour boundary at least 2 h ago, so every bucket is closed
  const end = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
  const start = end - 48 * HOUR;
  const store = await openSqliteStore({ path });
  const [id] = await store.resolveSeries([{ name: 'tier_test_gauge', labels: { job: 'test' }, type: 'gauge' }]);
  const samples = [];
  // 7 s past each minute, as the recorder's ticks fall: a sample exactly on a bucket edge
  // would count in the next window from a tier (docs/promql.md says so)
  for (let ts = start; ts < end; ts += MIN) samples.push({ seriesId: id!, timeMs: ts + 7000, value: (ts / MIN) % 60 });
  await store.writeSamples(samples);
  const rollup = new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN });
  await rollup.prepare();
  await rollup.run();
  t.ok((await rollup.watermark('1h'))! >= end, 'the hourly tier is rolled up to the end of the data');
  await store.close();

  const env = { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: path, LARDER_SPOOL_PATH: '' };
  const window = [(start + 2 * HOUR) / 1000, end / 1000] as const;
  const tiered = await startLarderProcess(await freePort(), [], env);
  const a = await ask(tiered.url, ...window);
  await tiered.stop();
  t.equal(a.status, 'success');
  t.match((a.warnings ?? []).join('\n'), /read the 1h rollup tier/, 'answered by the hourly tier, and the answer says so');

  const raw = await startLarderProcess(await freePort(), ['--query.max-resolution=raw'], env);
  const b = await ask(raw.url, ...window);
  await raw.stop();
  t.equal(b.status, 'success');
  t.same(b.warnings ?? [], [], 'raw samples only');
  const av = a.data.result[0]!.values;
  const bv = b.data.result[0]!.values;
  t.equal(av.length, 47, 'one point an hour');
  t.same(av.map(([ts]) => ts), bv.map(([ts]) => ts));
  const off = av.filter(([, v], i) => Math.abs(Number(v) - Number(bv[i]![1])) > 1e-9);
  t.same(off, [], 'the tier and raw answers agree');
});
