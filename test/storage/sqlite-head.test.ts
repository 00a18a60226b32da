/**
 * The raw-sample head of the SQLite store (storage/sqlite-head.ts): ticks land in the head,
 * not the chunk table; every read path sees them; a fold moves them into the chunk in
 * steps without any read seeing a sample twice or missing one; rewrites and late samples
 * keep one row per (series, time); retention drops head rows with their chunk.
 */
import t from 'tap';
import { join } from 'node:path';
import { SqliteEngine } from '../../storage/sqlite-engine.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { tempDir } from './fixtures/stores.js';
import { undoVersion8 } from './fixtures/before-v8.js';
import type { Sample } from '../../storage/store.js';
import { SQLITE_MIGRATIONS } from '../../storage/sqlite-sql.js';
import { staleNaN } from '../../storage/stale.js';

const T0 = Date.UTC(2026, 0, 10);
const STEP = 15_000;

/** `ticks` ticks of `series` series, value = tick * 1000 + series index. */
function ticks(ids: readonly number[], from: number, count: number): Sample[] {
  const out: Sample[] = [];
  for (let k = from; k < from + count; k++) ids.forEach((id, i) => out.push({ seriesId: id, timeMs: T0 + k * STEP, value: k * 1000 + i }));
  return out;
}

function count(e: SqliteEngine, sql: string, params: (number | string)[] = []): number {
  return Number(e.query(sql, params)[0]!['n']);
}

/** What every read path answers for all series over the day, as comparable rows. */
function everyRead(e: SqliteEngine, ids: readonly number[]): { view: unknown[]; plain: unknown[]; packed: unknown[]; dupes: number } {
  const q = { seriesIds: ids, fromMs: T0, toMs: T0 + 86_400_000 };
  const view = e.query('SELECT series_id, ts, value FROM samples_all ORDER BY series_id, ts').map((r) => [Number(r['series_id']), Number(r['ts']), Number(r['value'])]);
  const plain = e.readSamples(q).samples.map((s) => [s.seriesId, s.timeMs, s.value]);
  const p = e.readPacked(q);
  const packed: number[][] = [];
  let at = 0;
  for (let k = 0; k < p.runs.length; k += 2) for (let j = 0; j < p.runs[k + 1]!; j++, at++) packed.push([p.runs[k]!, p.ts[at]!, p.vs[at]!]);
  const dupes = count(e, 'SELECT COUNT(*) AS n FROM (SELECT 1 FROM samples_all GROUP BY series_id, ts HAVING COUNT(*) > 1)');
  return { view, plain, packed, dupes };
}

function open(dir: string, head = {}): SqliteEngine {
  return new SqliteEngine({ path: join(dir, 'monitoring.db'), nowMs: T0, head });
}

t.test('a tick goes to the head; reads see it; a fold in steps moves it without a read seeing it twice', async (t) => {
  const e = open(tempDir(t), { maxRows: 1000, stepRows: 100 });
  t.teardown(() => e.close());
  const ids = e.resolveSeries(Array.from({ length: 20 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, type: 'gauge' as const })), T0);
  const samples = ticks(ids, 0, 40); // 800 rows: below maxRows, no rotation
  e.writeSamples(samples, T0);
  const chunk = e.listChunks('samples')[0]!.name;
  t.equal(count(e, `SELECT COUNT(*) AS n FROM "${chunk}"`), 0, 'nothing written to the chunk table');
  t.equal(count(e, 'SELECT COUNT(*) AS n FROM samples_head_a') + count(e, 'SELECT COUNT(*) AS n FROM samples_head_b'), 800, 'all in the head');
  const want = samples.map((s) => [s.seriesId, s.timeMs, s.value]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  const before = everyRead(e, ids);
  t.same(before.view, want, 'samples_all');
  t.same(before.plain, want, 'readSamples');
  t.same(before.packed, want, 'readPacked');
  t.equal(e.maintainHead(), false, 'not due yet');
  const latest = (): number[][] => e.getLatestMetrics().map((l) => [l.seriesId, l.timeMs, l.value]).sort((a, b) => a[0]! - b[0]!);
  const newest = ids.map((id, i) => [id, T0 + 39 * STEP, 39 * 1000 + i]);
  t.same(latest(), newest, 'latest_metrics: the head\'s newest samples');
  // refreshed from the head every 15 minutes of sample time (the first write finds no bound), not by every write
  t.equal(count(e, 'SELECT COUNT(*) AS n FROM series_latest WHERE ts = ?', [T0 + 39 * STEP]), ids.length, 'series_latest: the first write\'s newest');

  e.writeSamples(ticks(ids, 40, 20), T0); // 1,200 rows: due
  t.equal(count(e, 'SELECT MAX(ts) AS n FROM series_latest'), T0 + 39 * STEP, 'not the next write\'s, five minutes later: read from the head');
  const all = ticks(ids, 0, 60).map((s) => [s.seriesId, s.timeMs, s.value]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let steps = 0;
  for (let more = e.maintainHead(); ; more = e.maintainHead()) {
    steps++;
    // between steps, and with a tick written while the fold runs
    const r = everyRead(e, ids);
    t.equal(r.dupes, 0, `step ${steps}: no sample twice`);
    t.same(r.view, all, `step ${steps}: samples_all whole`);
    t.same(r.packed, all, `step ${steps}: readPacked whole`);
    t.same(r.plain, all, `step ${steps}: readSamples whole`);
    if (!more) break;
  }
  t.ok(steps >= 3, `folded in ${steps} steps of about 100 rows`);
  t.equal(count(e, `SELECT COUNT(*) AS n FROM "${chunk}"`), 1200, 'all in the chunk table now');
  t.same(latest(), ids.map((id, i) => [id, T0 + 59 * STEP, 59 * 1000 + i]), 'latest_metrics after the fold');
  t.equal(count(e, 'SELECT COUNT(*) AS n FROM series_latest WHERE ts = ?', [T0 + 59 * STEP]), 20, 'series_latest written by the fold');
  t.equal(count(e, 'SELECT COUNT(*) AS n FROM samples_head_a') + count(e, 'SELECT COUNT(*) AS n FROM samples_head_b'), 0, 'the heads are empty');
  const stats = e.getDatabaseStats(0).tables.find((x) => x.table === 'samples')!;
  t.equal(stats.rows, 1200, 'stats count the samples once');
});

t.test('rewrites and late samples keep one row per series and time, the last value winning', async (t) => {
  const e = open(tempDir(t), { maxRows: 100, stepRows: 30 });
  t.teardown(() => e.close());
  const ids = e.resolveSeries(Array.from({ length: 10 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, type: 'gauge' as const })), T0);
  e.writeSamples(ticks(ids, 0, 12), T0); // 120 rows: due
  t.equal(e.maintainHead(), true, 'rotated: fold steps ahead');
  t.equal(e.maintainHead(), true, 'one step folded, more left');
  t.ok(count(e, "SELECT COUNT(*) AS n FROM samples_heads WHERE role = 'fold' AND folded_below > 0") === 1, 'a fold is in progress');
  e.writeSamples(ticks(ids, 12, 2), T0); // to the new head
  // a rewrite of a folded sample, of one still in the folding head, of one in the appending head
  const rewrites: Sample[] = [
    { seriesId: ids[0]!, timeMs: T0, value: -1 },
    { seriesId: ids[9]!, timeMs: T0 + 5 * STEP, value: -2 },
    { seriesId: ids[4]!, timeMs: T0 + 13 * STEP, value: -3 },
    { seriesId: ids[4]!, timeMs: T0 + 13 * STEP, value: -4 }, // twice in one batch: the last wins
  ];
  e.writeSamples(rewrites, T0);
  const check = (when: string): void => {
    t.equal(count(e, 'SELECT COUNT(*) AS n FROM samples_all'), 140, `${when}: 140 samples`);
    t.equal(count(e, 'SELECT COUNT(*) AS n FROM (SELECT 1 FROM samples_all GROUP BY series_id, ts HAVING COUNT(*) > 1)'), 0, `${when}: none twice`);
    const v = (id: number, k: number): number => Number(e.query('SELECT value FROM samples_all WHERE series_id = ? AND ts = ?', [id, T0 + k * STEP])[0]!['value']);
    t.same([v(ids[0]!, 0), v(ids[9]!, 5), v(ids[4]!, 13)], [-1, -2, -4], `${when}: the rewritten values`);
  };
  check('mid-fold');
  while (e.maintainHead());
  check('after the fold');
  e.foldHead();
  check('all folded');
  // a late sample into a folded range, then more ticks
  e.writeSamples([{ seriesId: ids[1]!, timeMs: T0 + 3 * STEP + 1, value: 7 }], T0);
  e.writeSamples(ticks(ids, 14, 1), T0);
  t.equal(count(e, 'SELECT COUNT(*) AS n FROM samples_all'), 151);
  t.same(
    e.readSamples({ seriesIds: [ids[1]!], fromMs: T0 + 3 * STEP, toMs: T0 + 5 * STEP }).samples.map((s) => s.value),
    [3001, 7, 4001],
    'the late sample in time order',
  );
});

t.test('retention drops the head rows of a dropped chunk; stats and the extent count the head', async (t) => {
  const e = open(tempDir(t));
  t.teardown(() => e.close());
  const [id] = e.resolveSeries([{ name: 'm', labels: {}, type: 'gauge' }], T0);
  e.writeSamples([{ seriesId: id!, timeMs: T0 - 3 * 86_400_000, value: 1 }, { seriesId: id!, timeMs: T0, value: 2 }], T0);
  const stats = e.getDatabaseStats(0);
  t.equal(stats.oldestSampleMs, T0 - 3 * 86_400_000);
  t.equal(stats.newestSampleMs, T0);
  t.equal(e.getMetricStats('m', 1, T0).count, 1, 'getMetricStats reads the head');
  e.cleanupOldMetrics(2, T0);
  t.same(e.query('SELECT value FROM samples_all').map((r) => r['value']), [2], 'the old chunk and its head rows are gone');
});

t.test('through the worker: the fold runs after writes, and foldHead folds all', async (t) => {
  const dir = tempDir(t);
  const s = await openSqliteStore({ path: join(dir, 'monitoring.db'), now: () => T0, head: { maxRows: 50, stepRows: 20 } });
  t.teardown(() => s.close());
  const ids = await s.resolveSeries(Array.from({ length: 10 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, type: 'gauge' as const })));
  for (let k = 0; k < 30; k++) await s.writeSamples(ticks(ids, k, 1));
  const chunk = (await s.listChunks('samples'))[0]!.name;
  const inChunk = Number((await s.query(`SELECT COUNT(*) AS n FROM "${chunk}"`))[0]!['n']);
  t.ok(inChunk > 0 && inChunk < 300, `folded by the worker as it went: ${inChunk} of 300 in the chunk`);
  await s.foldHead();
  t.equal(Number((await s.query(`SELECT COUNT(*) AS n FROM "${chunk}"`))[0]!['n']), 300);
  t.equal(Number((await s.query('SELECT COUNT(*) AS n FROM system_metrics'))[0]!['n']), 300);
});

t.test('a store written before the head (schema 7) opens, migrates and keeps its samples', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const s1 = await openSqliteStore({ path, now: () => T0 });
  const ids = await s1.resolveSeries(Array.from({ length: 5 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, type: 'gauge' as const })));
  await s1.writeSamples(ticks(ids, 0, 10));
  await undoVersion8(s1);
  t.equal(Number((await s1.query('SELECT MAX(version) AS n FROM schema_migrations'))[0]!['n']), 7, 'back to schema 7, its samples in the chunk table');
  await s1.close();

  const s2 = await openSqliteStore({ path, now: () => T0 });
  t.teardown(() => s2.close());
  t.equal(s2.schemaVersion, SQLITE_MIGRATIONS.at(-1)!.version);
  const want = ticks(ids, 0, 12).map((s) => [s.seriesId, s.timeMs, s.value]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  await s2.writeSamples(ticks(ids, 10, 2));
  t.equal(Number((await s2.query('SELECT COUNT(*) AS n FROM samples_head_a'))[0]!['n']), 10, 'new ticks go to the head');
  const read = async (): Promise<number[][]> => (await s2.readSamples({ seriesIds: ids, fromMs: T0, toMs: T0 + 86_400_000 })).samples.map((s) => [s.seriesId, s.timeMs, s.value]);
  t.same(await read(), want, 'old and new samples read together');
  t.same((await s2.query('SELECT series_id, ts, value FROM system_metrics ORDER BY series_id, ts')).map((r) => [Number(r['series_id']), Number(r['ts']), Number(r['value'])]), want, 'system_metrics too');
  await s2.foldHead();
  t.same(await read(), want, 'and after the fold');
});

t.test('a batch of many samples per series (a backfill) goes to the chunk table, ticks to the head', async (t) => {
  const e = open(tempDir(t));
  t.teardown(() => e.close());
  const ids = e.resolveSeries(Array.from({ length: 10 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, type: 'gauge' as const })), T0);
  e.writeSamples(ticks(ids, 0, 120), T0); // 1,200 samples, 120 per series
  const chunk = e.listChunks('samples')[0]!.name;
  t.equal(count(e, `SELECT COUNT(*) AS n FROM "${chunk}"`), 1200, 'the backfill is in the chunk table');
  e.writeSamples(ticks(ids, 120, 1), T0);
  t.equal(count(e, `SELECT COUNT(*) AS n FROM "${chunk}"`), 1200, 'a tick is not');
  t.equal(count(e, 'SELECT COUNT(*) AS n FROM samples_all'), 1210);
  t.same(e.getLatestMetrics().map((l) => l.value), ids.map((_, i) => 120_000 + i), 'latest_metrics: the tick');
});

t.test('latest_metrics reads the head only past series_latest, and misses no newest sample', async (t) => {
  const e = open(tempDir(t), { maxSpanMs: 1e12, maxRows: 1e9 });
  t.teardown(() => e.close());
  const ids = e.resolveSeries(Array.from({ length: 4 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, type: 'gauge' as const })), T0);
  const [a, b, c, d] = ids as [number, number, number, number];
  const latest = (): number[][] => e.query('SELECT series_id, ts, value FROM latest_metrics ORDER BY series_id').map((r) => [Number(r['series_id']), Number(r['ts']), Number(r['value'])]);
  // The newest live sample of each series, from every raw row: what latest_metrics must say.
  const truth = (): number[][] =>
    e.query('SELECT series_id, MAX(ts) AS ts, value FROM samples_all GROUP BY series_id ORDER BY series_id').map((r) => [Number(r['series_id']), Number(r['ts']), Number(r['value'])]);
  const through = (): number => count(e, 'SELECT through_ms AS n FROM samples_head_latest');
  t.equal(through(), -1, 'a new store has no bound yet');
  // Series d stops after tick 9; a, b, c go on for 30 minutes of ticks (15 s).
  for (let k = 0; k < 120; k++) e.writeSamples(ticks(k < 10 ? ids : [a, b, c], k, 1), T0);
  t.ok(through() >= T0 + 15 * 60_000, 'the bound moved once the head ran 15 minutes past it');
  t.equal(count(e, 'SELECT COUNT(*) AS n FROM samples_head_a'), 10 * 4 + 110 * 3, 'every tick is still in the head (nothing folded)');
  t.same(latest(), truth(), 'each series newest sample, the stopped one (its newest is before the bound) included');
  t.same(latest().find((r) => r[0] === d), [d, T0 + 9 * STEP, 9 * 1000 + 3], 'd: its last tick');
  // A target scrape written after a later tick: older than the bound, yet b's newest.
  const bound = through();
  e.writeSamples([{ seriesId: c, timeMs: T0 + 200 * STEP, value: 7 }], T0);
  e.writeSamples([{ seriesId: b, timeMs: T0 + 130 * STEP, value: 5 }], T0);
  t.ok(T0 + 130 * STEP > bound, 'setting up: b\'s sample is past the bound');
  e.writeSamples([{ seriesId: d, timeMs: bound - STEP / 2, value: 42 }], T0);
  t.ok(bound - STEP / 2 <= through(), 'd\'s late sample is at or before the bound');
  t.same(latest(), truth(), 'a late sample at or before the bound is its series newest at once');
  t.same(latest().find((r) => r[0] === d), [d, bound - STEP / 2, 42]);
  // A stale marker is not a latest value.
  e.writeSamples([{ seriesId: a, timeMs: T0 + 201 * STEP, value: staleNaN() }], T0);
  for (let k = 202; k < 300; k++) e.writeSamples(ticks([b], k, 1), T0);
  t.ok(through() >= T0 + 201 * STEP, 'the bound passed the marker');
  t.same(latest(), truth(), 'after a marker the series keeps its last live sample');
  e.foldHead();
  t.same(latest(), truth(), 'and after the fold');
});
