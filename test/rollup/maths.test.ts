import t from 'tap';
import { histogramQuantile, parseLe } from '../../rollup/quantile.js';
import { increase, resetDelta } from '../../rollup/counter.js';
import { bucketStart, closedRange, slices } from '../../rollup/buckets.js';
import { DEFAULT_TIERS, MINUTE_TIER, formatTiers, parseTiers, resolveTiers } from '../../rollup/tiers.js';

const H = (pairs: [number, number][]) => pairs.map(([le, count]) => ({ le, count }));

t.test('histogramQuantile matches Prometheus quantile.go', async (t) => {
  const b = H([[0.1, 10], [0.5, 60], [1, 90], [Infinity, 100]]);
  const cases: [string, number, ReturnType<typeof H>, number][] = [
    ['median in second bucket', 0.5, b, 0.1 + 0.4 * (40 / 50)],
    ['p95 in +Inf bucket → second-highest bound', 0.95, b, 1],
    ['p90 lands exactly on a bound', 0.9, b, 1],
    ['p5 in first bucket interpolates from 0', 0.05, b, 0.05],
    ['q < 0', -0.1, b, -Infinity],
    ['q > 1', 1.5, b, Infinity],
    ['no +Inf bucket', 0.5, H([[1, 1], [2, 2]]), NaN],
    ['one bucket', 0.5, H([[Infinity, 2]]), NaN],
    ['no observations', 0.5, H([[1, 0], [Infinity, 0]]), NaN],
    ['negative first bound returns the bound', 0.1, H([[-1, 5], [1, 10], [Infinity, 10]]), -1],
    ['unsorted and duplicated bounds coalesce', 0.5, H([[Infinity, 50], [1, 25], [0.5, 10], [1, 25]]), 0.5 + 0.5 * (15 / 40)],
    ['non-monotonic counts are made monotonic', 0.5, H([[1, 10], [2, 8], [Infinity, 20]]), 1],
    ['monotonic fix moves the rank', 0.75, H([[1, 10], [2, 8], [Infinity, 20]]), 2],
    ['rank in empty bucket after full one', 0.5, H([[1, 0], [2, 10], [3, 10], [Infinity, 10]]), 1.5],
  ];
  for (const [name, q, buckets, want] of cases) t.same(histogramQuantile(q, buckets), want, name);
  t.equal(parseLe('+Inf'), Infinity);
  t.equal(parseLe('0.25'), 0.25);
  t.ok(Number.isNaN(parseLe('abc')));
});

t.test('counter increase treats a drop as a restart from zero', async (t) => {
  t.equal(resetDelta(5, 8), 3);
  t.equal(resetDelta(8, 2), 2);
  t.equal(increase([10, 12, 15]), 5, 'first sample only sets the level');
  t.equal(increase([10, 12, 15], 9), 6, 'measured from the sample before');
  t.equal(increase([10, 12, 3, 5], 9), 1 + 2 + 3 + 2, 'reset in the middle');
  t.equal(increase([]), 0);
});

t.test('bucket maths', async (t) => {
  t.equal(bucketStart(299_999, 300_000), 0);
  t.equal(bucketStart(300_000, 300_000), 300_000);
  t.same(closedRange(undefined, undefined, 1e6, 300_000), undefined, 'no data');
  t.same(closedRange(undefined, 310_000, 1_000_000, 300_000), { from: 300_000, to: 900_000 });
  t.same(closedRange(900_000, 0, 1_199_999, 300_000), undefined, 'next bucket not closed yet');
  t.same(closedRange(900_000, 0, 1_200_000, 300_000), { from: 900_000, to: 1_200_000 });
  t.same(slices(0, 1_000, 100, 4), [{ from: 0, to: 400 }, { from: 400, to: 800 }, { from: 800, to: 1000 }]);
});

t.test('tiers', async (t) => {
  t.equal(formatTiers(DEFAULT_TIERS), '5m:90d,1h:2y,1d:10y');
  t.same(resolveTiers(undefined, 60_000), DEFAULT_TIERS);
  t.same(resolveTiers(undefined, 15_000), [MINUTE_TIER, ...DEFAULT_TIERS], '1m tier when recording faster than a minute');
  t.equal(formatTiers(parseTiers('1m:7d, 5m:90d,1h:2y')), '1m:7d,5m:90d,1h:2y');
  const bad: [string, RegExp][] = [
    ['5m', /resolution:retention/],
    ['5x:1d', /not a duration/],
    ['1h:1d,5m:1d', /must increase/],
    ['5m:1d,7m:1d', /divide a day/],
    ['2m:1d,5m:1d', /multiple of 2m/],
    ['30s:1d', /at least 1m/],
    ['1h:30m', /at least one bucket/],
    ['', /at least one tier/],
  ];
  for (const [text, err] of bad) t.throws(() => parseTiers(text), err, text);
});

t.test('the PostgreSQL rollup SQL binds every parameter it declares', async (t) => {
  const { rawRollupSql, tierRollupSql, carryUpdateSql } = await import('../../rollup/sql.js');
  const used = (sql: string): number[] => [...new Set([...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  for (const sources of [[], ['samples_a'], ['samples_a', 'samples_b']]) {
    const r = rawRollupSql({ target: 'rollup_5m_x', sources, carryTable: 'rollup_carry', tier: '5m', resolutionMs: 300_000, from: 0, to: 600_000 });
    t.same(used(r.sql), r.params.map((_, i) => i + 1), `raw, ${sources.length} sources: every parameter used`);
    t.same(used(r.boundary.sql), r.boundary.params.map((_, i) => i + 1), 'boundary: every parameter used');
    const h = tierRollupSql({ target: 'x', sources, resolutionMs: 3_600_000, from: 0, to: 1 });
    if (sources.length === 0) t.equal(h, undefined, 'no source, no statement');
    else t.same(used(h!.sql), h!.params.map((_, i) => i + 1), `tier, ${sources.length} sources: every parameter used`);
  }
  const c = carryUpdateSql({ carryTable: 'rollup_carry', target: 'x', tier: '5m', from: 0, to: 1 });
  t.same(used(c.sql), c.params.map((_, i) => i + 1), 'carry: every parameter used');
});
