/**
 * Stale markers in both stores (storage/stale.ts): kept apart from an ordinary NaN,
 * left out of the raw-sample views, the latest values, getMetricStats and the rollup
 * tiers, and migration 5 on a store written before it.
 */
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { SQLITE_MIGRATIONS } from '../../storage/sqlite-sql.js';
import { PG_MIGRATIONS } from '../../storage/pg-sql.js';
import { openPgStore } from '../../storage/pg-store.js';
import { isStaleNaN, staleNaN } from '../../storage/stale.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Dialect, Sample, Store } from '../../storage/store.js';
import { PG, need } from '../helpers/peers.js';
import { ROLLUP_COLS, tableRows } from '../rollup/tables.js';
import { DIALECTS, dropSchema, schemaName, tempDir } from './fixtures/stores.js';
import { undoVersion8 } from './fixtures/before-v8.js';

const T0 = Date.UTC(2026, 0, 1);
const S = 15_000;

/** An opener of one store (the same file or schema each time), or undefined when the peer is missing. */
async function opener(t: Test, dialect: Dialect, now: () => number): Promise<(() => Promise<Store>) | undefined> {
  if (dialect === 'sqlite') {
    const path = join(tempDir(t), 'monitoring.db');
    return () => openSqliteStore({ path, now });
  }
  if (!(await need(t, 'postgres'))) return undefined;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  return () => openPgStore({ ...PG, schema, now, poolSize: 2 });
}

/** What a sample value is, as a word: a stale marker and NaN must differ. */
function kind(v: number): string {
  return isStaleNaN(v) ? 'stale' : Number.isNaN(v) ? 'NaN' : String(v);
}

const count = async (s: Store, sql: string): Promise<number> => Number((await s.query<{ n: unknown }>(sql))[0]!.n);

for (const dialect of DIALECTS) {
  t.test(`${dialect}: a stale marker round-trips apart from NaN and stays out of views, latest values and stats`, async (t) => {
    const now = T0 + 10 * 60_000;
    const open = await opener(t, dialect, () => now);
    if (!open) return;
    const s = await open();
    t.teardown(() => s.close());
    const [a, b] = await s.resolveSeries([
      { name: 'g', labels: { job: 'j' }, type: 'gauge' },
      { name: 'g', labels: { job: 'k' }, type: 'gauge' },
    ]);
    const samples: Sample[] = [
      { seriesId: a!, timeMs: T0, value: 1 },
      { seriesId: a!, timeMs: T0 + S, value: Number.NaN },
      { seriesId: a!, timeMs: T0 + 2 * S, value: staleNaN() },
      { seriesId: a!, timeMs: T0 + 3 * S, value: 2 },
      { seriesId: b!, timeMs: T0, value: 4 },
      { seriesId: b!, timeMs: T0 + S, value: staleNaN() },
    ];
    await s.writeSamples(samples);
    const r = await s.readSamples({ seriesIds: [a!, b!], fromMs: T0, toMs: T0 + 60_000 });
    t.same(
      r.samples.map((x) => [x.seriesId === a ? 'a' : 'b', x.timeMs - T0, kind(x.value)]),
      [['a', 0, '1'], ['a', S, 'NaN'], ['a', 2 * S, 'stale'], ['a', 3 * S, '2'], ['b', 0, '4'], ['b', S, 'stale']],
      'NaN reads back as NaN, the marker as the marker',
    );
    if (s.readSamplesPacked !== undefined) {
      // the query engine's read: the same triples, the marker's bits kept across the worker
      const p = await s.readSamplesPacked({ seriesIds: [a!, b!], fromMs: T0, toMs: T0 + 60_000 });
      const ids = [...p.runs].flatMap((x, k) => (k % 2 === 0 ? Array<number>(p.runs[k + 1]!).fill(x) : []));
      const triples = ids.map((id, i) => [id === a ? 'a' : 'b', p.ts[i]! - T0, kind(p.vs[i]!)]);
      t.same(triples, r.samples.map((x) => [x.seriesId === a ? 'a' : 'b', x.timeMs - T0, kind(x.value)]), 'readSamplesPacked reads what readSamples reads');
      t.same(p.series.map((x) => x.id), [a, b]);
    } else t.equal(dialect, 'postgresql', 'the SQLite store has the packed read');
    for (const view of ['samples_all', 'samples_named', 'system_metrics']) {
      t.equal(await count(s, `SELECT COUNT(*) AS n FROM ${view}`), 4, `${view} leaves the 2 markers out and keeps the NaN sample`);
    }
    const cols = await s.query<Record<string, unknown>>('SELECT * FROM samples_named LIMIT 1');
    t.same(Object.keys(cols[0]!), ['ts', 'metric_name', 'job', 'instance', 'labels', 'value', 'type', 'series_id'], 'samples_named keeps its columns');
    const latest = await s.getLatestMetrics();
    t.same(
      latest.map((l) => [l.labels['job'], l.value]),
      [['j', 2], ['k', 4]],
      'a marker is no latest value: series k keeps its last sample',
    );
    const st = await s.getMetricStats('g', 1);
    t.equal(st.count, 4, 'getMetricStats counts samples, not markers');
    t.equal(st.max, 4);
  });

  t.test(`${dialect}: the rollup tiers ignore stale markers`, async (t) => {
    const clock = { now: T0 + 3 * 3_600_000 };
    const runTiers = async (withMarkers: boolean): Promise<unknown> => {
      const open = await opener(t, dialect, () => clock.now);
      if (!open) return undefined;
      const s = await open();
      t.teardown(() => s.close());
      const ids = await s.resolveSeries([
        { name: 'jobs_total', labels: {}, type: 'counter' },
        { name: 'temp', labels: {}, type: 'gauge' },
      ]);
      const samples: Sample[] = [];
      // A counter across two 5m buckets with markers between samples, at a bucket's
      // start and alone in a bucket; a gauge likewise.
      const counter: (number | 'stale')[] = [10, 20, 'stale', 30, 35, 'stale', 40];
      const gauge: (number | 'stale')[] = [5, 'stale', 7, 'stale', 6, 9, 'stale'];
      const times = [0, 60_000, 120_000, 180_000, 300_000, 600_000, 900_000].map((x) => T0 + x);
      for (const [series, values] of [[ids[0]!, counter], [ids[1]!, gauge]] as const) {
        values.forEach((v, i) => {
          if (v === 'stale' && !withMarkers) return;
          samples.push({ seriesId: series, timeMs: times[i]!, value: v === 'stale' ? staleNaN() : v });
        });
      }
      await s.writeSamples(samples);
      await new RollupEngine({ store: s, tiers: DEFAULT_TIERS, graceMs: 60_000, now: () => clock.now }).run();
      const indexOf = new Map(ids.map((id, i) => [id, i]));
      return { m5: await tableRows(s, 'rollup_5m', ROLLUP_COLS, indexOf), h1: await tableRows(s, 'rollup_1h', ROLLUP_COLS, indexOf) };
    };
    const without = await runTiers(false);
    if (without === undefined) return;
    const withMarkers = await runTiers(true);
    t.same(withMarkers, without, 'the same tier rows as without the markers');
    const m5 = (without as { m5: Record<string, number | null>[] }).m5;
    t.same(
      m5.filter((r) => r['series'] === 0).map((r) => [r['ts']! - T0, r['count'], r['increase']]),
      [[0, 3, 20], [300_000, 1, 5], [900_000, 1, 5]],
      'the counter rows (no row for the bucket holding only a marker)',
    );
  });

  t.test(`${dialect}: migration 5 on a store written by the previous version`, async (t) => {
    const now = T0 + 10 * 60_000;
    const open = await opener(t, dialect, () => now);
    if (!open) return;
    const s1 = await open();
    const [a] = await s1.resolveSeries([{ name: 'g', labels: {}, type: 'gauge' }]);
    await s1.writeSamples([{ seriesId: a!, timeMs: T0, value: 1 }, { seriesId: a!, timeMs: T0 + S, value: 2 }]);
    // Back to version 3: the raw view without the filter.
    const [chunk] = await s1.listChunks('samples');
    await undoVersion8(s1);
    if (dialect === 'sqlite') await s1.execute(`DROP VIEW samples_all; CREATE VIEW samples_all AS SELECT "series_id", "ts", "value" FROM "${chunk!.name}"`);
    else await s1.execute('CREATE OR REPLACE VIEW samples_all AS SELECT * FROM samples');
    // (and the later migrations: their versions are deleted too, their tables dropped)
    await s1.execute('DROP TABLE notification_log');
    await s1.execute('DELETE FROM schema_migrations WHERE version >= 5');
    await s1.close();

    const s2 = await open();
    t.teardown(() => s2.close());
    t.equal(s2.schemaVersion, (dialect === 'sqlite' ? SQLITE_MIGRATIONS : PG_MIGRATIONS).at(-1)!.version, 'migrated to 5 and the later versions on open');
    t.equal(await count(s2, 'SELECT COUNT(*) AS n FROM samples_all'), 2, 'the samples written before are all there');
    await s2.writeSamples([{ seriesId: a!, timeMs: T0 + 2 * S, value: staleNaN() }]);
    t.equal(await count(s2, 'SELECT COUNT(*) AS n FROM samples_all'), 2, 'the migrated view leaves a new marker out');
    const r = await s2.readSamples({ seriesIds: [a!], fromMs: T0, toMs: T0 + 60_000 });
    t.same(r.samples.map((x) => kind(x.value)), ['1', '2', 'stale']);
  });
}
