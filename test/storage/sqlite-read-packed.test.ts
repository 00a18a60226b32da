/**
 * The query engine's raw read on SQLite (storage/sqlite-read-packed.ts, through
 * `readSamplesPacked`) and the worker's cache of decoded chunks (sqlite-read-cache.ts):
 * the same samples, in the same order, as the samples written (stale markers' bits,
 * NaN, series without samples, several chunks, the limit's cut), and never a stale answer
 * after a write through any path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { isStaleNaN, staleNaN } from '../../storage/stale.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { PackedReadResult, Sample } from '../../storage/store.js';

const HOUR = 3_600_000;
const MIN = 60_000;
/** Chunks of 6 h, so a day spans 4 of them. */
const CHUNK = 6 * HOUR;
const T0 = Date.UTC(2026, 0, 1);

const dir = mkdtempSync(join(tmpdir(), 'larder-read-packed-'));
const store = await openSqliteStore({ path: join(dir, 'p.db'), chunkMs: CHUNK, now: () => T0 + 30 * HOUR });
t.teardown(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ids = await store.resolveSeries(
  Array.from({ length: 7 }, (_, i) => ({ name: i < 6 ? 'm_total' : 'other', labels: { i: String(i), even: String(i % 2 === 0) }, type: 'counter' as const })),
);
// Series 5 has no samples; series 1 a stale marker and a NaN; every 5 min over 24 h.
let written: Sample[] = [];
for (const [k, id] of ids.entries()) {
  if (k === 5) continue;
  for (let ts = T0; ts < T0 + 24 * HOUR; ts += 5 * MIN) {
    let value = k * 1000 + (ts - T0) / MIN;
    if (k === 1 && ts === T0 + 7 * HOUR) value = staleNaN();
    if (k === 1 && ts === T0 + 8 * HOUR) value = Number.NaN;
    written.push({ seriesId: id, timeMs: ts, value });
  }
}
await store.writeSamples(written);

/** The samples written for `want` in `[from, to)`, by series then time. */
function expected(want: readonly number[], from: number, to: number): Sample[] {
  return written.filter((s) => want.includes(s.seriesId) && s.timeMs >= from && s.timeMs < to).sort((a, b) => a.seriesId - b.seriesId || a.timeMs - b.timeMs);
}

/** The series id of each sample of a packed read, from its runs. */
function idsOf(r: PackedReadResult): number[] {
  const ids: number[] = [];
  for (let k = 0; k < r.runs.length; k += 2) for (let n = 0; n < r.runs[k + 1]!; n++) ids.push(r.runs[k]!);
  return ids;
}

/** Compares a packed read with samples, value bits included (a stale marker is not any NaN). */
function same(r: PackedReadResult, want: readonly Sample[]): string | undefined {
  const ids = idsOf(r);
  if (r.ts.length !== want.length || r.vs.length !== want.length || ids.length !== want.length) return `${r.ts.length} samples (${ids.length} in runs), want ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const v = r.vs[i]!;
    if (ids[i] !== w.seriesId || r.ts[i] !== w.timeMs) return `sample ${i}: ${ids[i]}@${r.ts[i]}, want ${w.seriesId}@${w.timeMs}`;
    const ok = isStaleNaN(w.value) ? isStaleNaN(v) : Number.isNaN(w.value) ? Number.isNaN(v) && !isStaleNaN(v) : v === w.value;
    if (!ok) return `sample ${i} (${w.seriesId}@${w.timeMs}): ${v}, want ${w.value}`;
  }
  return undefined;
}

t.test('the samples as written, over chunk edges, by ids and by name', async (t) => {
  const ranges: [number, number][] = [
    [T0, T0 + 24 * HOUR], // every chunk whole (the cache fills)
    [T0 + HOUR, T0 + 5 * HOUR], // inside one chunk, less than half of it (not cached)
    [T0 + 5 * HOUR, T0 + 13 * HOUR + 1], // across two edges
    [T0 + 3 * HOUR, T0 + 24 * HOUR], // again, partly from the cache
    [T0 - HOUR, T0], // before the data
  ];
  for (const [from, to] of ranges) {
    for (let round = 0; round < 2; round++) {
      const r = await store.readSamplesPacked!({ seriesIds: [...ids].reverse(), fromMs: from, toMs: to });
      t.equal(same(r, expected(ids, from, to)), undefined, `ids ${new Date(from).toISOString()}..${new Date(to).toISOString()} round ${round}`);
      t.same(r.series.map((s) => s.id), ids, 'every series picked, in id order, with or without samples');
    }
  }
  const byName = await store.readSamplesPacked!({ name: 'm_total', matchers: [{ label: 'even', op: '=', value: 'true' }], fromMs: T0, toMs: T0 + 24 * HOUR });
  const even = [ids[0]!, ids[2]!, ids[4]!];
  t.same(byName.series.map((s) => s.id), even);
  t.equal(same(byName, expected(even, T0, T0 + 24 * HOUR)), undefined, 'by name and matcher');
  const many = await store.readSamplesMany!([
    { seriesIds: [ids[1]!], fromMs: T0, toMs: T0 + 12 * HOUR },
    { name: 'other', fromMs: T0 + 6 * HOUR, toMs: T0 + 24 * HOUR },
  ]);
  t.same(
    many.map((r) => r.samples.length),
    [expected([ids[1]!], T0, T0 + 12 * HOUR).length, expected([ids[6]!], T0 + 6 * HOUR, T0 + 24 * HOUR).length],
    'readSamplesMany counts',
  );
});

t.test('a read cut by its limit stops at the same sample as before (by series, then time)', async (t) => {
  const all = expected(ids, T0, T0 + 24 * HOUR);
  for (const limit of [0, 1, 100, 288, 289, 700, all.length - 1, all.length, all.length + 1]) {
    const r = await store.readSamplesPacked!({ seriesIds: ids, fromMs: T0, toMs: T0 + 24 * HOUR, limit });
    t.equal(same(r, all.slice(0, limit)), undefined, `limit ${limit}`);
  }
});

t.test('no stale answer from the cache after a write', async (t) => {
  const day = (): Promise<PackedReadResult> => store.readSamplesPacked!({ seriesIds: ids, fromMs: T0, toMs: T0 + 24 * HOUR });
  t.equal(same(await day(), expected(ids, T0, T0 + 24 * HOUR)), undefined, 'cached');

  // writeSamples (the worker's writePacked): a replaced value and a new sample.
  const changed: Sample[] = [
    { seriesId: ids[0]!, timeMs: T0 + 2 * HOUR, value: -1 },
    { seriesId: ids[5]!, timeMs: T0 + 20 * HOUR, value: 42 },
  ];
  await store.writeSamples(changed);
  written = written.filter((s) => !(s.seriesId === ids[0] && s.timeMs === T0 + 2 * HOUR)).concat(changed);
  t.equal(same(await day(), expected(ids, T0, T0 + 24 * HOUR)), undefined, 'after writeSamples');

  // SQL through execute, naming the chunk.
  const chunks = (await store.listChunks('samples')).filter((c) => c.startMs === T0 + 6 * HOUR);
  t.equal(chunks.length, 1);
  await store.execute(`DELETE FROM "${chunks[0]!.name}" WHERE series_id = ?`, [ids[2]!]);
  written = written.filter((s) => !(s.seriesId === ids[2] && s.timeMs >= T0 + 6 * HOUR && s.timeMs < T0 + 12 * HOUR));
  t.equal(same(await day(), expected(ids, T0, T0 + 24 * HOUR)), undefined, 'after execute');

  // A transaction that writes and rolls back: its rows are not read afterwards.
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.execute(`UPDATE "${chunks[0]!.name}" SET value = 7 WHERE series_id = ?`, [ids[3]!]);
      await day();
      throw new Error('roll back');
    }),
    /roll back/,
  );
  t.equal(same(await day(), expected(ids, T0, T0 + 24 * HOUR)), undefined, 'after a rollback');
});
