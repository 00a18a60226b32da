/**
 * query/aggregate-rate.ts answers `sum|count|min|max by|without (…) (rate|increase|delta(sel[r]))`
 * without the generic aggregation. Its answers must be the generic path's, to the bit and
 * in the same group order: each query is compared with the same query written so that the
 * fused path cannot take it (`(rate(…) * 1)` goes through a binary operation first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createQueryEngine } from '../../query/engine.js';
import type { QueryValue } from '../../query/types.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Sample } from '../../storage/store.js';
import { staleNaN } from '../../storage/stale.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

const dir = mkdtempSync(join(tmpdir(), 'larder-aggregate-rate-'));
const store = await openSqliteStore({ path: join(dir, 'a.db'), now: () => T0 + 3 * 3_600_000 });
t.teardown(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

// 24 counters in 4 groups over 2 h, with resets, uneven gaps, huge and tiny rates (so a
// plain sum and a compensated one differ), and one series that starts late.
const ids = await store.resolveSeries(Array.from({ length: 24 }, (_, i) => ({ name: 'req_total', labels: { g: `g${i % 4}`, i: String(i), ...(i % 5 === 0 ? { extra: 'x' } : {}) }, type: 'counter' as const })));
const [gauge] = await store.resolveSeries([{ name: 'gauge_with_stale', labels: { g: 'g0' }, type: 'gauge' }]);
const samples: Sample[] = [];
for (const [k, id] of ids.entries()) {
  let v = 0;
  const gap = k % 3 === 0 ? 15_000 : 60_000 + k * 1000;
  for (let ts = T0 + (k === 7 ? 50 * MIN : 0); ts < T0 + 120 * MIN; ts += gap) {
    v += k % 4 === 0 ? 1e15 + k : 0.1 * (k + 1);
    if (k % 6 === 1 && ts > T0 + 40 * MIN && ts < T0 + 40 * MIN + gap) v = 3; // a reset
    samples.push({ seriesId: id, timeMs: ts, value: v });
  }
}
for (let ts = T0; ts < T0 + 120 * MIN; ts += MIN) samples.push({ seriesId: gauge!, timeMs: ts, value: ts === T0 + 60 * MIN ? staleNaN() : ts / MIN });
await store.writeSamples(samples);
const engine = createQueryEngine(store);

function dump(v: QueryValue): string {
  if (v.type !== 'matrix') throw new Error(`expected a matrix, got ${v.type}`);
  return JSON.stringify(v.series.map((s) => [s.metric, s.points.map((p) => [p.timeMs, Object.is(p.value, -0) ? '-0' : String(p.value)])]));
}

t.test('the same answers as the generic path', async (t) => {
  const cases = [
    ['sum by (g) (rate(req_total[5m]))', 'sum by (g) (rate(req_total[5m]) * 1)'],
    ['sum(increase(req_total[10m]))', 'sum(increase(req_total[10m]) * 1)'],
    ['count by (g) (rate(req_total[2m]))', 'count by (g) (rate(req_total[2m]) * 1)'],
    ['min by (g) (rate(req_total[5m]))', 'min by (g) (rate(req_total[5m]) * 1)'],
    ['max without (i) (delta(req_total[5m]))', 'max without (i) (delta(req_total[5m]) * 1)'],
    ['sum by (extra) (rate(req_total[5m] offset 10m))', 'sum by (extra) (rate(req_total[5m] offset 10m) * 1)'],
    ['sum by (g) (rate(req_total[5m] @ 3000))', 'sum by (g) (rate(req_total[5m] @ 3000) * 1)'],
    ['sum by (g) ((rate(req_total{g!="g1"}[5m])))', 'sum by (g) (rate(req_total{g!="g1"}[5m]) * 1)'],
    ['sum by (g) (rate(gauge_with_stale[5m]))', 'sum by (g) (rate(gauge_with_stale[5m]) * 1)'],
    // a subquery evaluates the aggregation at its own times, on and off the range's grid
    ['max_over_time(sum by (g) (rate(req_total[5m]))[30m:2m])', 'max_over_time(sum by (g) (rate(req_total[5m]) * 1)[30m:2m])'],
    ['sum by (g) (rate(req_total[5m])) - sum by (g) (rate(req_total[5m] offset 1m))', 'sum by (g) (rate(req_total[5m]) * 1) - sum by (g) (rate(req_total[5m] offset 1m) * 1)'],
  ];
  for (const [fused, generic] of cases) {
    for (const step of [MIN, 7 * MIN]) {
      const a = await engine.range(fused!, T0 + 3 * MIN, T0 + 119 * MIN, step);
      const b = await engine.range(generic!, T0 + 3 * MIN, T0 + 119 * MIN, step);
      t.equal(dump(a.value), dump(b.value), `${fused} at a ${step / MIN} min step`);
      t.same(a.warnings, b.warnings, `${fused}: warnings`);
    }
    const at = T0 + 61 * MIN;
    const a = await engine.instant(fused!, at);
    const b = await engine.instant(generic!, at);
    t.same(a.value, b.value, `${fused} instant`);
  }
});

t.test('rate over a name that is no counter keeps its info', async (t) => {
  const r = await engine.range('sum(rate(gauge_with_stale[5m]))', T0 + 10 * MIN, T0 + 20 * MIN, MIN);
  t.match(r.warnings.join('\n'), /metric might not be a counter/);
});
