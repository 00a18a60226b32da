/**
 * The folds of rollup/fold.ts: known rows for counters (resets, carry, NaN), gauges
 * and tiers; series fed interleaved; and sums equal to SQLite's own sum() on values
 * where plain addition loses digits (a real in-memory SQLite computes the reference).
 */
import sqlite3 from 'node-sqlite3-wasm';
import t from 'tap';
import { RawFold, ROW_WIDTH, TierFold } from '../../rollup/fold.js';

const M5 = 300_000;
type Row = [number, number, number, number, number, number, number, number, number];

function collect(): { rows: Row[]; sink: (r: Float64Array) => void } {
  const rows: Row[] = [];
  return { rows, sink: (r) => rows.push([...r] as Row) };
}

t.test('raw fold: counter with a reset and a carry, gauge with a NaN', async (t) => {
  const { rows, sink } = collect();
  const fold = new RawFold(M5, (id) => id === 1, new Map([[1, 8]]), sink);
  // counter 1: carry 8 → 10 (+2), 12 (+2) | next bucket: 3 (reset: +3), 5 (+2)
  fold.add(1, 0, 10);
  fold.add(1, 60_000, 12);
  fold.add(1, M5, 3);
  fold.add(1, M5 + 60_000, 5);
  // gauge 2: 4, NaN, 6 in one bucket
  fold.add(2, 0, 4);
  fold.add(2, 60_000, NaN);
  fold.add(2, 120_000, 6);
  fold.finish();
  t.same(rows, [
    [1, 0, 2, 22, 10, 12, 10, 12, 4],
    [1, M5, 2, 8, 3, 5, 3, 5, 5],
    [2, 0, 2, 10, 4, 6, 4, 6, NaN],
  ]);
  t.same(fold.lastValues(), [{ seriesId: 1, bucket: M5, last: 5 }, { seriesId: 2, bucket: 0, last: 6 }], 'each series\' last bucket and value (the next carry)');
});

t.test('raw fold: a NaN breaks the delta chain on both sides; a bucket of NaN only has NULL aggregates', async (t) => {
  const { rows, sink } = collect();
  const fold = new RawFold(M5, () => true, new Map([[1, NaN]]), sink);
  fold.add(1, 0, 5); // carry NULL: no delta
  fold.add(1, 60_000, 7); // +2
  fold.add(1, 120_000, NaN); // none
  fold.add(1, 180_000, 9); // none (previous is NaN)
  fold.add(1, M5, NaN);
  fold.finish();
  t.same(rows, [
    [1, 0, 3, 21, 5, 9, 5, 9, 2],
    [1, M5, 0, NaN, NaN, NaN, NaN, NaN, 0],
  ], 'a counter bucket with no delta has increase 0, as coalesce(sum, 0)');
});

t.test('raw fold: series interleaved (one chunk after another) keep their own state', async (t) => {
  const { rows, sink } = collect();
  const fold = new RawFold(M5, () => true, new Map(), sink);
  fold.add(1, 0, 1);
  fold.add(2, 0, 100);
  fold.add(1, 60_000, 2); // a later chunk: back to series 1, same bucket
  fold.add(2, 60_000, 50); // reset: +50
  fold.finish();
  t.same(rows.sort((a, b) => a[0] - b[0]), [
    [1, 0, 2, 3, 1, 2, 1, 2, 1],
    [2, 0, 2, 150, 50, 100, 100, 50, 50],
  ]);
});

t.test('tier fold: counts and sums added, extremes, first of the first and last of the last, NULLs skipped', async (t) => {
  const { rows, sink } = collect();
  const H = 3_600_000;
  const fold = new TierFold(H, sink);
  fold.add(Float64Array.of(1, 0, 5, 10, 1, 3, 2, 3, NaN));
  fold.add(Float64Array.of(1, M5, 0, NaN, NaN, NaN, NaN, NaN, NaN));
  fold.add(Float64Array.of(1, 2 * M5, 4, 8, 0.5, 4, 4, NaN, NaN));
  fold.add(Float64Array.of(1, H, 1, 1, 1, 1, 1, 1, 7));
  fold.finish();
  t.same(rows, [
    [1, 0, 9, 18, 0.5, 4, 2, NaN, NaN],
    [1, H, 1, 1, 1, 1, 1, 1, 7],
  ]);
  t.equal(ROW_WIDTH, 9);
});

t.test('sums equal SQLite\'s sum() to the last bit, where plain addition differs', async (t) => {
  const db = new sqlite3.Database(':memory:');
  t.teardown(() => db.close());
  const cases = [
    [1e16, 1, -1e16, 1],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    [1e308, 1e308, -1e308],
    Array.from({ length: 500 }, (_, i) => Math.sin(i) * 10 ** (i % 12)),
  ];
  for (const values of cases) {
    const { rows, sink } = collect();
    const fold = new RawFold(1e15, () => false, new Map(), sink);
    values.forEach((v, i) => fold.add(1, i, v));
    fold.finish();
    db.exec('DROP TABLE IF EXISTS v; CREATE TABLE v (x REAL)');
    for (const v of values) db.run('INSERT INTO v VALUES (?)', [v]);
    const sql = Number(db.get('SELECT sum(x) AS s FROM v')!['s']);
    t.equal(Object.is(rows[0]![3], sql), true, `${values.length} values: fold ${rows[0]![3]} = SQLite ${sql}`);
  }
  const naive = [1e16, 1, -1e16, 1].reduce((a, v) => a + v, 0);
  t.equal(naive, 1, 'plain addition loses a 1 in the first case (SQLite and the fold give 2): the check above can fail');
});
