/**
 * Migration 3 on a store made before it: metrics_hourly (rows kept) gains increase and
 * rate, and the next aggregation fills them. The "before" store is a current one taken
 * back to version 1 (columns dropped, the row of version 3 deleted), on both dialects.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { PG, need } from '../helpers/peers.js';
import { openPgStore } from '../../storage/pg-store.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { undoVersion4 } from './fixtures/before-v4.js';
import type { Dialect, Store } from '../../storage/store.js';
import { SQLITE_MIGRATIONS } from '../../storage/sqlite-sql.js';
import { PG_MIGRATIONS } from '../../storage/pg-sql.js';
import { DIALECTS, dropSchema, msExpr, schemaName, tempDir } from './fixtures/stores.js';

const H = 3_600_000;
const DAY0 = Date.UTC(2026, 0, 10);

async function opener(t: Test, dialect: Dialect): Promise<((now: () => number) => Promise<Store>) | undefined> {
  if (dialect === 'sqlite') {
    const path = join(tempDir(t), 'monitoring.db');
    return (now) => openSqliteStore({ path, now });
  }
  if (!(await need(t, 'postgres'))) return undefined;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  return (now) => openPgStore({ ...PG, schema, now, poolSize: 2 });
}

for (const dialect of DIALECTS) {
  t.test(`${dialect}: a version-2 store is migrated to the latest and its counters get an increase`, async (t) => {
    const open = await opener(t, dialect);
    if (!open) return;
    let now = DAY0 + 12 * H;
    const s1 = await open(() => now);
    const [c] = await s1.resolveSeries([{ name: 'jobs_total', labels: {}, type: 'counter' }]);
    await s1.writeSamples([10, 20, 30, 40].map((v, i) => ({ seriesId: c!, timeMs: DAY0 + 10 * H + i * 20 * 60_000, value: v })));
    // back to version 1: what a store written by the previous Larder looks like
    await s1.execute('ALTER TABLE metrics_hourly DROP COLUMN increase');
    await s1.execute('ALTER TABLE metrics_hourly DROP COLUMN rate');
    // (and before the later migrations: a version-2 store has none of their tables)
    await s1.execute('DROP TABLE notification_log');
    await undoVersion4(s1);
    await s1.execute('DELETE FROM schema_migrations WHERE version >= 3');
    // A row of the old hourly table first, so the run below starts from it (without reading the catalog, whose columns are newer).
    await s1.execute(`INSERT INTO metrics_hourly (series_id, ts, metric_name, labels, avg, min, max, count) VALUES (${c}, ${dialect === 'sqlite' ? DAY0 + 9 * H : `to_timestamp(${(DAY0 + 9 * H) / 1000})`}, 'jobs_total', '{}', 5, 5, 5, 1)`);
    t.equal(await s1.aggregateHourlyMetrics().catch((e: Error) => e.message.includes('increase') || e.message.includes('rate')), true, 'the new code needs the new columns');
    await s1.close();

    now += 60_000;
    const s2 = await open(() => now);
    t.teardown(() => s2.close());
    const migrations = dialect === 'sqlite' ? SQLITE_MIGRATIONS : PG_MIGRATIONS;
    t.equal(s2.schemaVersion, migrations.at(-1)!.version);
    const versions = (await s2.query<{ version: unknown }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => Number(r.version));
    t.same(versions, migrations.map((m) => m.version), 'version 3 and the later ones applied on open');
    await s2.aggregateHourlyMetrics();
    const rows = await s2.query<{ t: number; count: unknown; increase: number | null; rate: number | null }>(`SELECT ${msExpr(dialect, 'ts')} AS t, count, increase, rate FROM metrics_hourly ORDER BY ts`);
    t.same(rows.map((r) => [(r.t - DAY0) / H, Number(r.count), r.increase, r.rate]), [
      [9, 1, null, null],
      [10, 3, 20, 20 / 3600],
      [11, 1, 10, 10 / 3600],
    ], 'the row from before is kept (no increase); new hours have theirs');
  });
}
