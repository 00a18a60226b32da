/** Pure parts of storage: series identity, chunk maths, SQL generation, validation. */
import t from 'tap';
import { canonicalLabels, checkMetricName, checkTimeMs, fingerprint } from '../../storage/series-key.js';
import { checkChunkMs, chunkName, chunkRange } from '../../storage/chunking.js';
import { allViewDdl, chunkTableDdl } from '../../storage/sqlite-sql.js';
import { partitionDdl } from '../../storage/pg-sql.js';
import { checkAlert, checkDate, matchSeries } from '../../storage/store-common.js';
import type { SeriesInfo } from '../../storage/store.js';

t.test('canonical labels and fingerprints', async (t) => {
  t.equal(canonicalLabels({ b: '2', a: '1' }, 'x'), '{"a":"1","b":"2"}');
  t.equal(canonicalLabels(undefined, 'x'), '{}');
  t.equal(canonicalLabels({ q: `"'\n` }, 'x'), '{"q":"\\"\'\\n"}');
  t.equal(fingerprint('m', '{"a":"1"}'), fingerprint('m', canonicalLabels({ a: '1' }, 'x')));
  t.not(fingerprint('m', '{}'), fingerprint('n', '{}'));
  t.not(fingerprint('a', '{"b":"c"}'), fingerprint('a{', '"b":"c"}'), 'name and labels are separated');
  t.match(fingerprint('m', '{}'), /^[0-9a-f]{16}$/);
  t.throws(() => canonicalLabels({ __name__: 'x' }, 'here'), /here: invalid label name "__name__"/);
  t.throws(() => canonicalLabels({ '1a': 'x' }, 'here'), /invalid label name "1a"/);
  t.throws(() => canonicalLabels([] as unknown as Record<string, string>, 'here'), /labels must be an object of strings, got an array/);
  for (const ok of ['a', 'a_b:c', '_x', 'node_cpu_seconds_total']) t.doesNotThrow(() => checkMetricName(ok, 'w'), ok);
  for (const bad of ['', '1a', 'a-b', 'a b', 'ü', 5]) t.throws(() => checkMetricName(bad, 'w'), /w: invalid metric name/, String(bad));
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 253_402_300_800_000, '1']) t.throws(() => checkTimeMs(bad, 'w'), /w: invalid time/, String(bad));
});

t.test('chunk ranges and names', async (t) => {
  const D = 86_400_000;
  const ts = Date.UTC(2026, 0, 10, 13, 5);
  t.same(chunkRange(ts, D), { startMs: Date.UTC(2026, 0, 10), endMs: Date.UTC(2026, 0, 11) });
  t.same(chunkRange(Date.UTC(2026, 0, 10), D), { startMs: Date.UTC(2026, 0, 10), endMs: Date.UTC(2026, 0, 11) }, 'start is inside');
  t.same(chunkRange(Date.UTC(2026, 0, 11) - 1, D).endMs, Date.UTC(2026, 0, 11), 'last ms is inside');
  t.same(chunkRange(ts, 3_600_000), { startMs: Date.UTC(2026, 0, 10, 13), endMs: Date.UTC(2026, 0, 10, 14) });
  t.equal(chunkName('samples', Date.UTC(2026, 0, 10)), 'samples_20260110t000000');
  t.equal(chunkName('rollup_5m', Date.UTC(2026, 0, 10, 13)), 'rollup_5m_20260110t130000');
  t.throws(() => checkChunkMs(59_999, 'c'), /c: invalid chunk interval 59999 ms/);
  t.throws(() => checkChunkMs(90_500, 'c'), /invalid chunk interval/);
  t.doesNotThrow(() => checkChunkMs(D, 'c'));
});

t.test('SQL generation', async (t) => {
  t.equal(
    chunkTableDdl('samples_20260110t000000', 'samples'),
    'CREATE TABLE IF NOT EXISTS "samples_20260110t000000" (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, "value" REAL, PRIMARY KEY (series_id, ts)) WITHOUT ROWID',
  );
  t.match(chunkTableDdl('r', 'rollup'), /"count" INTEGER, "sum" REAL, "min" REAL, "max" REAL, "first" REAL, "last" REAL, "increase" REAL, PRIMARY KEY \(series_id, ts\)\) WITHOUT ROWID$/);
  // the raw-sample heads' rows not yet folded (storage/sqlite-head-sql.ts) always follow the chunks'
  const heads = ['a', 'b']
    .map((h) => `SELECT "series_id", "ts", "value" FROM "samples_head_${h}" WHERE series_id >= (SELECT folded_below FROM samples_heads WHERE name = 'samples_head_${h}') AND typeof("value") <> 'blob'`)
    .join(' UNION ALL ');
  t.same(allViewDdl('samples', 'samples', []), ['DROP VIEW IF EXISTS "samples_all"', `CREATE VIEW "samples_all" AS ${heads}`]);
  t.equal(
    allViewDdl('samples', 'samples', ['a', 'b'])[1],
    `CREATE VIEW "samples_all" AS SELECT "series_id", "ts", "value" FROM "a" WHERE typeof("value") <> 'blob' UNION ALL SELECT "series_id", "ts", "value" FROM "b" WHERE typeof("value") <> 'blob' UNION ALL ${heads}`,
    'raw chunks and heads leave out stale markers (zero-length BLOBs)',
  );
  t.same(allViewDdl('rollup_5m', 'rollup', []), ['DROP VIEW IF EXISTS "rollup_5m_all"', `CREATE VIEW "rollup_5m_all" AS SELECT NULL AS "series_id", NULL AS "ts", ${['count', 'sum', 'min', 'max', 'first', 'last', 'increase'].map((c) => `NULL AS "${c}"`).join(', ')} WHERE 0`]);
  // SQLite allows 500 arms per compound select: more chunks are nested in groups
  const many = allViewDdl('samples', 'samples', Array.from({ length: 900 }, (_, i) => `c${i}`))[1]!;
  t.equal(many.split('SELECT * FROM (').length - 1, 3);
  // raw partitions hang off samples_rows since PostgreSQL schema 8 (samples is a view over rows and packed chunks)
  t.equal(
    partitionDdl('samples', 'samples_20260110t000000', Date.UTC(2026, 0, 10), Date.UTC(2026, 0, 11)),
    `CREATE TABLE IF NOT EXISTS "samples_20260110t000000" PARTITION OF "samples_rows" FOR VALUES FROM ('2026-01-10T00:00:00.000Z') TO ('2026-01-11T00:00:00.000Z')`,
  );
});

t.test('validation and matchers', async (t) => {
  const s = (id: number, labels: Record<string, string>): SeriesInfo => ({ id, name: 'm', labels, type: 'gauge', help: '', fingerprint: '', createdMs: 0 });
  const all = [s(1, { a: 'x' }), s(2, { a: 'xy' }), s(3, {})];
  t.same(matchSeries(all, [{ label: 'a', op: '=', value: '' }]).map((x) => x.id), [3], 'missing label equals empty, as in PromQL');
  t.same(matchSeries(all, [{ label: 'a', op: '=~', value: 'x' }]).map((x) => x.id), [1], 'anchored');
  t.same(matchSeries(all, [{ label: 'a', op: '=~', value: 'x|xy' }]).map((x) => x.id), [1, 2]);
  t.same(matchSeries(all, [{ label: 'a', op: '!~', value: 'x.*' }]).map((x) => x.id), [3]);
  t.throws(() => matchSeries(all, [{ label: 'a', op: '==' as '=', value: '' }]), /invalid op "=="/);
  for (const ok of ['2026-01-31', '2024-02-29']) t.doesNotThrow(() => checkDate(ok));
  for (const bad of ['2026-1-31', '2025-02-29', '2026-13-01', '', 20260101]) t.throws(() => checkDate(bad), /invalid date/, String(bad));
  t.same(checkAlert({ name: 'A', severity: 'info', message: 'm', status: 'resolved' }, 5), {
    name: 'A', severity: 'info', message: 'm', value: null, threshold: null, labels: '{}', status: 'resolved', firedMs: 5, resolvedMs: 5,
  });
  t.throws(() => checkAlert({ name: 'A', severity: 'info', message: 'm', value: '1' as unknown as number }, 5), /value must be a number or null/);
});
