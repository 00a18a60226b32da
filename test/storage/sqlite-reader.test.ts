/**
 * The read-only view of another process (storage/sqlite-reader.ts) reads series and raw
 * samples as the engine does: the same series, the same values, a stale marker as the
 * stale NaN (it once read the zero-length BLOB as 0), a limit and label matchers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { openSqliteReader } from '../../storage/sqlite-reader.js';
import { isStaleNaN, staleNaN } from '../../storage/stale.js';

t.test('reader and engine answer alike', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-reader-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'm.db');
  const T0 = Date.UTC(2026, 0, 1);
  const store = await openSqliteStore({ path, now: () => T0 });
  const ids = await store.resolveSeries([
    { name: 'g', labels: { k: 'a' }, type: 'gauge' },
    { name: 'g', labels: { k: 'b' }, type: 'gauge' },
  ]);
  await store.writeSamples(ids.flatMap((id) => [0, 1, 2, 3].map((i) => ({ seriesId: id, timeMs: T0 + i * 60_000, value: i === 2 ? staleNaN() : i === 3 ? Number.NaN : i * id }))));
  const q = { name: 'g', fromMs: T0, toMs: T0 + 3_600_000 };
  const fromEngine = await store.readSamples(q);
  await store.close();
  const reader = openSqliteReader({ path });
  t.teardown(() => reader.close());
  const fromReader = await reader.readSamples(q);
  t.same(fromReader.series, fromEngine.series, 'same series');
  t.equal(fromReader.samples.length, 8);
  t.same(fromReader.samples.map((s) => [s.seriesId, s.timeMs, isStaleNaN(s.value) ? 'stale' : s.value]), fromEngine.samples.map((s) => [s.seriesId, s.timeMs, isStaleNaN(s.value) ? 'stale' : s.value]));
  t.ok(isStaleNaN(fromReader.samples[2]!.value), 'the stale marker reads as the stale NaN, not 0');
  t.ok(Number.isNaN(fromReader.samples[3]!.value) && !isStaleNaN(fromReader.samples[3]!.value), 'a NaN stays a plain NaN');
  const b = await reader.readSamples({ ...q, matchers: [{ label: 'k', op: '=', value: 'b' }], limit: 2 });
  t.same(b.samples.map((s) => s.seriesId), [ids[1], ids[1]], 'matchers and limit');
  t.same((await reader.listSeries([ids[1]!, 999])).map((s) => s.id), [ids[1]], 'unknown ids left out');
});
