/**
 * The hourly (and 5-minute) percentiles equal what a real Prometheus computes with
 * histogram_quantile over the same buckets. The fixture's histogram is written as
 * OpenMetrics, backfilled with promtool, and queried at each bucket's end.
 *
 * Why `increase(x[<bucket>+1m])` evaluated 1 ms before the bucket end: a bucket
 * [T-r, T) holds the deltas whose later sample falls in it, the first measured from
 * the last sample before T-r. That is exactly the samples in [T-r-1m, T-1ms]. Prometheus
 * then extrapolates every `le` series by the same factor (same timestamps, counters
 * far from zero), and a quantile is invariant under scaling all buckets alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { need } from '../helpers/peers.js';
import { HOUR, MIN, MINUTES, SERIES, T0, fixtureSamples } from '../fixtures/rollup/fixture.js';
import { tableRows, QUANTILE_COLS } from './tables.js';
import { startBackfilledPrometheus } from './prometheus-tsdb.js';
import { openTestStore } from './stores.js';

/** The fixture's histogram as OpenMetrics (timestamps in seconds). */
function histogramOpenMetrics(): string {
  const lines = ['# HELP fx_latency_seconds Fixture latency.', '# TYPE fx_latency_seconds histogram'];
  const samples = fixtureSamples().filter((s) => s.series >= 2 && s.series <= 7);
  const byTs = new Map<number, typeof samples>();
  for (const s of samples) {
    if (!byTs.has(s.ts)) byTs.set(s.ts, []);
    byTs.get(s.ts)!.push(s);
  }
  for (const [ts, group] of [...byTs].sort((a, b) => a[0] - b[0])) {
    for (const s of group.sort((a, b) => a.series - b.series)) {
      const def = SERIES[s.series]!;
      const labels = Object.entries(def.labels).map(([k, v]) => `${k}="${v}"`).join(',');
      lines.push(`${def.name}{${labels}} ${s.value} ${ts / 1000}`);
    }
  }
  lines.push('# EOF');
  return lines.join('\n') + '\n';
}

t.test('percentiles equal Prometheus histogram_quantile', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  const clock = { now: T0 + MINUTES * MIN + HOUR };
  const store = await openTestStore(t, 'sqlite', () => clock.now);
  if (!store) return;
  const ids = await store.resolveSeries(SERIES);
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  await store.writeSamples(fixtureSamples().map((s) => ({ seriesId: ids[s.series]!, timeMs: s.ts, value: s.value })));
  await new RollupEngine({ store, tiers: DEFAULT_TIERS.slice(0, 2), graceMs: 2 * MIN, now: () => clock.now }).run();

  const dir = mkdtempSync(join(tmpdir(), 'larder-prom-backfill-'));
  const prom = await startBackfilledPrometheus(dir, histogramOpenMetrics());
  t.teardown(async () => {
    await prom.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [tier, res, range] of [['1h', HOUR, '61m'], ['5m', 5 * MIN, '6m']] as const) {
    const ours = await tableRows(store, `rollup_${tier}_quantiles`, QUANTILE_COLS, indexOf);
    t.equal(ours.length, (MINUTES * MIN) / res, `${tier}: one quantile row per bucket`);
    for (const [q, col] of [[0.5, 'p50'], [0.95, 'p95'], [0.99, 'p99']] as const) {
      const startSec = (T0 + res) / 1000 - 0.001;
      const result = await prom.queryRange(`histogram_quantile(${q}, increase(fx_latency_seconds_bucket[${range}]))`, startSec, startSec + (ours.length - 1) * (res / 1000), res / 1000);
      t.equal(result.length, 1, `${tier} ${col}: one series from Prometheus`);
      const theirs = new Map(result[0]!.values.map(([ts, v]) => [Math.round(ts * 1000 + 1) - res, Number(v)]));
      let mismatches = 0;
      for (const row of ours) {
        const p = theirs.get(row['ts']!);
        const mine = row[col];
        const same = p !== undefined && mine !== null && Math.abs(p - mine) <= 1e-9 * Math.max(1, Math.abs(p));
        if (!same) {
          mismatches++;
          t.fail(`${tier} ${col} at ${new Date(row['ts']!).toISOString()}: larder ${mine}, prometheus ${p}`);
        }
      }
      t.equal(mismatches, 0, `${tier} ${col}: all ${ours.length} buckets equal Prometheus`);
    }
  }
});
