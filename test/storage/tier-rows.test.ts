/**
 * Store.readTierRows, the packed tier read, against the row-object read it replaced
 * (kept here as the oracle): on SQLite and the real PostgreSQL the same rows, values
 * (NaN, ±Inf and NULL included) and order, across several chunks, for empty answers,
 * with fewer columns, through readTier, and through the plain-SQL fallback. And the
 * bounds on its input.
 */
import t from 'tap';
import { readTier } from '../../rollup/read.js';
import { ident, Params, tsMs } from '../../rollup/sql.js';
import type { ReadQuery, Row, Store, TierRows, TierRowsQuery } from '../../storage/store.js';
import { MAX_TIER_READ_IDS, readTierRowsBySql, tierValue } from '../../storage/tier-rows.js';
import { DIALECTS, openTestStore } from '../rollup/stores.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 5);
/** Small chunks, so that a read spans several (SQLite reads chunk by chunk, then orders). */
const CHUNK_MS = DAY;

interface OldPoint { seriesId: number; ts: number; count: number; avg: number | null; min: number | null; max: number | null; last: number | null; increase: number | null }

/** readTier as it was before the packed read (6b1b0e5): one row object per bucket through `query`. */
async function oldReadTier(store: Store, tier: string, ids: readonly number[], fromMs: number, toMs: number): Promise<OldPoint[]> {
  if (ids.length === 0) return [];
  const d = store.dialect;
  const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  const out: OldPoint[] = [];
  const tables = d === 'postgresql' ? [`rollup_${tier}`] : (await store.listChunks(`rollup_${tier}`)).filter((c) => c.endMs > fromMs && c.startMs < toMs).map((c) => c.name);
  for (const table of tables) {
    const p = new Params(d);
    const from = p.time(fromMs);
    const to = p.time(toMs);
    const list = ids.map((id) => p.add(id)).join(', ');
    const rows: Row[] = await store.query(`SELECT series_id, ${tsMs(d, 'ts')} AS t, count, sum, min, max, last, increase FROM ${ident(table)} WHERE series_id IN (${list}) AND ts >= ${from} AND ts < ${to} ORDER BY series_id, ts`, p.values);
    for (const r of rows) {
      const count = Number(r['count'] ?? 0);
      const sum = n(r['sum']);
      out.push({ seriesId: Number(r['series_id']), ts: Number(r['t']), count, avg: sum !== null && count > 0 ? sum / count : null, min: n(r['min']), max: n(r['max']), last: n(r['last']), increase: n(r['increase']) });
    }
  }
  return out.sort((a, b) => a.seriesId - b.seriesId || a.ts - b.ts);
}

/** Awkward values: NaN (NULL on SQLite), ±Inf, zero, negatives, NULL. */
const SPECIAL = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1.5, null, 1e300, 5e-324];

/** Writes tier rows for 3 series over 3 days, every column cycling through SPECIAL. */
async function fill(store: Store, ids: readonly number[]): Promise<number> {
  await store.ensureRollupTier({ tier: '1h', chunkMs: CHUNK_MS });
  for (let d = 0; d < 3; d++) await store.ensureChunk('rollup_1h', T0 + d * DAY);
  let k = 0;
  let rows = 0;
  // Inserted newest first, series interleaved: the order must come from the read.
  for (let h = 3 * 24 - 1; h >= 0; h--) {
    for (const id of ids) {
      const ts = T0 + h * HOUR;
      const v = (): number | null => SPECIAL[k++ % SPECIAL.length]!;
      const p = new Params(store.dialect);
      const cols = [p.add(id), p.time(ts), p.add(h % 5 === 0 ? null : (h % 7) - 1), p.add(v()), p.add(v()), p.add(v()), p.add(v()), p.add(v()), p.add(v())];
      const table = store.dialect === 'postgresql' ? 'rollup_1h_rows' : (await store.listChunks('rollup_1h')).find((c) => c.startMs <= ts && ts < c.endMs)!.name;
      await store.execute(`INSERT INTO ${ident(table)} (series_id, ts, count, sum, min, max, first, last, increase) VALUES (${cols.join(', ')})`, p.values);
      rows++;
    }
  }
  return rows;
}

/** A TierRows as plain rows of nullable values, for comparison. */
function plain(r: TierRows): (number | null)[][] {
  return Array.from(r.seriesIds, (id, i) => [id, r.ts[i]!, ...r.columns.map((_, c) => tierValue(r, c, i))]);
}

/** Distinguishes NaN from null and -0 from 0 where t.same would not. */
const key = (v: unknown): string => JSON.stringify(v, (_, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));

for (const dialect of DIALECTS) {
  t.test(`${dialect}: readTierRows returns exactly the rows the row-object read did`, async (t) => {
    const store = await openTestStore(t, dialect, () => T0 + 4 * DAY);
    if (!store) return;
    const ids = await store.resolveSeries(['a', 'b', 'c'].map((s) => ({ name: 'tr_gauge', labels: { s }, type: 'gauge' as const })));
    const written = await fill(store, ids);
    if (dialect === 'sqlite') t.ok((await store.listChunks('rollup_1h')).length >= 3, 'the rows span several chunks');

    const cases: [string, readonly number[], number, number][] = [
      ['all, every chunk', ids, T0 - DAY, T0 + 4 * DAY],
      ['two series across a chunk edge, ids unsorted and repeated', [ids[2]!, ids[0]!, ids[2]!], T0 + 20 * HOUR, T0 + 50 * HOUR],
      ['one bucket (half-open range)', [ids[1]!], T0 + 5 * HOUR, T0 + 6 * HOUR],
      ['empty range', ids, T0 + 5 * HOUR, T0 + 5 * HOUR],
      ['before the data', ids, T0 - 2 * DAY, T0 - DAY],
      ['a series without rows', [ids[2]! + 1000], T0, T0 + 3 * DAY],
      ['no series', [], T0, T0 + 3 * DAY],
    ];
    for (const [what, sel, from, to] of cases) {
      const old = await oldReadTier(store, '1h', sel, from, to);
      const now = await readTier(store, '1h', sel, from, to);
      t.equal(key(now), key(old), `${what}: readTier's points are the old read's`);
      const packed = await store.readTierRows!({ tier: '1h', seriesIds: sel, fromMs: from, toMs: to });
      t.equal(packed.seriesIds.length, old.length, `${what}: ${old.length} rows`);
      t.equal(key(plain(packed)), key(plain(await readTierRowsBySql(store, { tier: '1h', seriesIds: sel, fromMs: from, toMs: to }))), `${what}: the plain-SQL fallback reads the same`);
    }
    const all = await store.readTierRows!({ tier: '1h', seriesIds: ids, fromMs: T0, toMs: T0 + 3 * DAY });
    t.equal(all.seriesIds.length, written, 'every written row');
    t.ok(all.seriesIds instanceof Int32Array && all.ts instanceof Float64Array && all.values.every((v) => v instanceof Float64Array), 'typed arrays');
    const vals = plain(all).flatMap((r) => r.slice(3));
    t.ok(vals.includes(Number.POSITIVE_INFINITY) && vals.includes(Number.NEGATIVE_INFINITY) && vals.includes(null), '±Inf and NULL read back');
    if (dialect === 'postgresql') t.ok(vals.some((v) => v !== null && Number.isNaN(v)), 'NaN reads back apart from NULL');

    const some = await store.readTierRows!({ tier: '1h', seriesIds: ids, fromMs: T0, toMs: T0 + 3 * DAY, columns: ['max', 'count'] });
    t.same(some.columns, ['max', 'count']);
    t.equal(key(plain(some)), key(plain(all).map((r) => [r[0], r[1], r[2 + 3], r[2]])), 'fewer columns: the same values of those');
    const fewer = await readTier(store, '1h', ids, T0, T0 + 3 * DAY, ['max']);
    const full = await readTier(store, '1h', ids, T0, T0 + 3 * DAY);
    t.equal(key(fewer), key(full.map((p) => ({ ...p, avg: null, min: null, last: null, increase: null }))), 'readTier with fields: those, the rest null');

    await t.rejects(store.readTierRows!({ tier: 'nope', seriesIds: ids, fromMs: T0, toMs: T0 + DAY }), 'an unknown tier');
  });
}

t.test('sqlite: readTierRows bounds its input', async (t) => {
  const store = await openTestStore(t, 'sqlite', () => T0);
  if (!store) return;
  await store.ensureRollupTier({ tier: '1h', chunkMs: CHUNK_MS });
  const q = { tier: '1h', seriesIds: [1], fromMs: T0, toMs: T0 + DAY };
  const bad: [string, object, RegExp][] = [
    ['too many ids', { seriesIds: Array.from({ length: MAX_TIER_READ_IDS + 1 }, (_, i) => i + 1) }, /100001 series ids, at most 100000/],
    ['a fractional id', { seriesIds: [1.5] }, /invalid series id 1\.5/],
    ['an id past int32', { seriesIds: [2 ** 31] }, /invalid series id/],
    ['a negative time', { fromMs: -1 }, /fromMs: invalid time -1/],
    ['a time past 9999', { toMs: 1e15 }, /toMs: invalid time/],
    ['an unknown column', { columns: ['p99'] }, /unknown column "p99"/],
    ['a repeated column', { columns: ['sum', 'sum'] }, /column sum asked twice/],
    ['a bad tier name', { tier: '1h; DROP' }, /invalid rollup tier/],
  ];
  for (const [what, change, message] of bad) await t.rejects(store.readTierRows!({ ...q, ...change } as typeof q), message, what);
  t.equal((await store.readTierRows!({ ...q, seriesIds: Array.from({ length: MAX_TIER_READ_IDS }, (_, i) => i + 1) })).seriesIds.length, 0, 'the most ids: read (in batches under SQLite\'s parameter limit)');
});

t.test('sqlite: readTiered answers what readSamplesPacked and readTierRows answer apart', async (t) => {
  const store = await openTestStore(t, 'sqlite', () => T0 + 4 * DAY);
  if (!store) return;
  const ids = await store.resolveSeries(['a', 'b', 'c'].map((s) => ({ name: 'tr_gauge', labels: { s }, type: 'gauge' as const })));
  await fill(store, ids);
  // Raw samples after the tier's rows, one series without any.
  await store.writeSamples(ids.slice(0, 2).flatMap((id, k) => [0, 1, 2].map((m) => ({ seriesId: id, timeMs: T0 + 3 * DAY + m * 60_000, value: k * 10 + m }))));
  const cases: [string, ReadQuery, Omit<TierRowsQuery, 'seriesIds'>][] = [
    ['every series of the name', { name: 'tr_gauge', fromMs: T0 + 3 * DAY, toMs: T0 + 4 * DAY }, { tier: '1h', fromMs: T0, toMs: T0 + 3 * DAY, columns: ['count', 'sum'] }],
    ['one series by matcher, all columns', { name: 'tr_gauge', matchers: [{ label: 's', op: '=', value: 'b' }], fromMs: T0 + 3 * DAY, toMs: T0 + 4 * DAY }, { tier: '1h', fromMs: T0 + 20 * HOUR, toMs: T0 + 50 * HOUR }],
    ['no raw samples in range', { name: 'tr_gauge', matchers: [{ label: 's', op: '!=', value: 'a' }], fromMs: T0, toMs: T0 + 1 }, { tier: '1h', fromMs: T0, toMs: T0 + DAY, columns: ['max'] }],
    ['a name without series', { name: 'tr_none', fromMs: T0, toMs: T0 + 4 * DAY }, { tier: '1h', fromMs: T0, toMs: T0 + DAY }],
  ];
  for (const [what, raw, tier] of cases) {
    const both = await store.readTiered!({ raw, tier });
    const apart = await store.readSamplesPacked!(raw);
    t.same(both.raw.series, apart.series, `${what}: the same series`);
    t.same([Array.from(both.raw.runs), Array.from(both.raw.ts), Array.from(both.raw.vs)], [Array.from(apart.runs), Array.from(apart.ts), Array.from(apart.vs)], `${what}: the same raw samples`);
    const rows = await store.readTierRows!({ ...tier, seriesIds: apart.series.map((s) => s.id) });
    t.equal(key(plain(both.tier)), key(plain(rows)), `${what}: the same tier rows (${rows.seriesIds.length})`);
    t.same(both.tier.columns, rows.columns, `${what}: the same columns`);
  }
  t.ok((await store.readTiered!({ raw: cases[0]![1], tier: cases[0]![2] })).tier.seriesIds.length > 100, 'rows were read');
  await t.rejects(store.readTiered!({ raw: cases[0]![1], tier: { tier: 'nope', fromMs: T0, toMs: T0 + DAY } }), /nope/, 'an unknown tier is refused');
  await t.rejects(store.readTiered!({ raw: cases[0]![1], tier: { tier: '1h', fromMs: T0, toMs: T0 + DAY, columns: ['p99' as 'sum'] } }), /unknown column "p99"/, 'an unknown column is refused');
  await t.rejects(store.readTiered!({ raw: { ...cases[0]![1], fromMs: -1 }, tier: cases[0]![2] }), /invalid time/, 'a bad raw read is refused');
});
