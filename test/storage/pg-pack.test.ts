/**
 * Packed raw chunks on PostgreSQL (storage/pg-pack.ts): every reader sees the same samples
 * before and after packing, late samples merge into a packed chunk exactly once, a kill
 * in the middle of packing leaves the chunk as it was, and a store of schema version 7
 * migrates with its views' columns unchanged.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import pgPromise from 'pg-promise';
import { PG, need } from '../helpers/peers.js';
import { dropSchema } from './fixtures/stores.js';
import { openPgStore, type PgStore } from '../../storage/pg-store.js';
import { PG_MIGRATIONS } from '../../storage/pg-sql.js';
import { isStaleNaN, staleNaN } from '../../storage/stale.js';
import type { Sample } from '../../storage/store.js';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 0, 10);
const NOW = Date.UTC(2026, 0, 20);
const CHILD = fileURLToPath(new URL('./pg-pack-child.ts', import.meta.url));
const pgp = pgPromise({ noWarnings: true });

function schemaName(): string {
  return `pgpack_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Two days of 3 series every 10 minutes, with NaN, ±Inf and stale markers among them. */
function twoDays(ids: readonly number[]): Sample[] {
  const out: Sample[] = [];
  for (let ms = D0; ms < D0 + 2 * DAY; ms += 600_000) {
    const i = (ms - D0) / 600_000;
    for (const [k, id] of ids.entries()) {
      let value = k * 1000 + i * 0.5;
      if (k === 1 && i % 50 === 7) value = Number.NaN;
      if (k === 2 && i % 40 === 3) value = staleNaN();
      if (k === 0 && i === 11) value = Number.POSITIVE_INFINITY;
      out.push({ seriesId: id, timeMs: ms, value });
    }
  }
  return out;
}

/** Everything a reader may look at, as comparable text. */
async function snapshot(s: PgStore, ids: readonly number[]): Promise<Record<string, unknown>> {
  const read = await s.readSamples({ seriesIds: [...ids], fromMs: D0 - DAY, toMs: D0 + 3 * DAY });
  const part = await s.readSamples({ seriesIds: [ids[1]!], fromMs: D0 + 3_600_000, toMs: D0 + 7_200_000 });
  const rows = (sql: string): Promise<string[]> => s.query(sql).then((r) => r.map((x) => JSON.stringify(x)));
  const chunks = await s.listChunks('samples');
  const perChunk: Record<string, string[]> = {};
  for (const c of chunks) perChunk[c.name] = await rows(`SELECT series_id, ts::text, value::text FROM "${c.name}" ORDER BY series_id, ts`);
  return {
    // A stale marker apart from an ordinary NaN (isStaleNaN reads the bits).
    read: read.samples.map((x) => `${x.seriesId}@${x.timeMs}=${isStaleNaN(x.value) ? 'stale' : String(x.value)}`),
    part: part.samples.map((x) => `${x.timeMs}=${x.value}`),
    samples: await rows('SELECT series_id, ts::text, value::text FROM samples ORDER BY series_id, ts'),
    samplesAll: await rows('SELECT * FROM samples_all ORDER BY series_id, ts'),
    systemMetrics: await rows('SELECT ts::text, metric_name, value::text, series_id FROM system_metrics ORDER BY series_id, ts'),
    named: await rows("SELECT ts::text, metric_name, job, value::text FROM samples_named WHERE ts >= '2026-01-10T05:00:00Z' AND ts < '2026-01-11T05:00:00Z' ORDER BY series_id, ts"),
    chunks: chunks.map((c) => `${c.name} ${c.startMs} ${c.endMs}`),
    perChunk,
    stats: (await s.getMetricStats('pack_g', 24 * 12)).count,
    ext: await s.getDatabaseStats().then((d) => [d.oldestSampleMs, d.newestSampleMs, d.tables.find((x) => x.table === 'samples')?.rows]),
  };
}

async function freshStore(t: Test, now = NOW): Promise<{ s: PgStore; schema: string; ids: number[] }> {
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const s = await openPgStore({ ...PG, schema, now: () => now });
  t.teardown(() => s.close());
  const ids = await s.resolveSeries([0, 1, 2].map((k) => ({ name: 'pack_g', labels: { job: 'j', k: String(k) }, type: 'gauge' as const })));
  await s.writeSamples(twoDays(ids));
  return { s, schema, ids };
}

t.test('packing a closed chunk: same samples for every reader, a fraction of the bytes', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const { s, ids } = await freshStore(t);
  const before = await snapshot(s, ids);
  t.equal((before['read'] as string[]).length, 3 * 288, 'every sample read back');
  const [day0] = await s.listChunks('samples');
  const bytesBefore = await s.chunkBytes('samples', day0!.name);
  const packed = await s.packClosedChunks(D0 + DAY);
  t.same(packed.map((c) => c.name), [day0!.name], 'only the chunk that ended is packed');
  t.ok(s.isPacked(day0!.name));
  t.same(await s.packClosedChunks(D0 + DAY), [], 'packing again does nothing');
  t.same(await snapshot(s, ids), before, 'every reader sees the same samples');
  const bytesAfter = await s.chunkBytes('samples', day0!.name);
  t.ok(bytesAfter < bytesBefore, `chunk bytes ${bytesBefore} -> ${bytesAfter}`);
  t.same(await s.query(`SELECT count(*)::int AS n FROM "${day0!.name}_rows"`), [{ n: 0 }], 'the emptied row partition holds nothing');
  // Retention drops a packed chunk whole.
  t.same((await s.dropChunksBefore('samples', D0 + DAY)).map((c) => c.name), [day0!.name]);
  t.same(await s.query(`SELECT to_regclass('${day0!.name}') AS a, to_regclass('${day0!.name}_packed') AS b, to_regclass('${day0!.name}_rows') AS c`), [{ a: null, b: null, c: null }]);
  const left = await s.readSamples({ seriesIds: ids, fromMs: D0 - DAY, toMs: D0 + 3 * DAY });
  t.equal(left.samples.length, 3 * 144, 'the second day is left');
});

t.test('late samples into a packed chunk merge, exactly once, also from a store whose catalog predates the packing', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const { s, schema, ids } = await freshStore(t);
  const other = await openPgStore({ ...PG, schema, now: () => NOW }); // its catalog: nothing packed
  t.teardown(() => other.close());
  await s.packClosedChunks(D0 + 2 * DAY);
  const late: Sample[] = [
    { seriesId: ids[0]!, timeMs: D0 + 61_000, value: 42 }, // between two samples
    { seriesId: ids[1]!, timeMs: D0 + 600_000, value: -1 }, // replaces one
    { seriesId: ids[2]!, timeMs: D0 + DAY + 5_000, value: 7 }, // the second packed day
  ];
  const extra = await s.resolveSeries([{ name: 'pack_new', labels: {}, type: 'gauge' }]);
  late.push({ seriesId: extra[0]!, timeMs: D0 + 3_000, value: 1 }); // a series the chunk did not hold
  await other.writeSamples(late); // rows refused by the emptied partition: reload, merge
  await s.writeSamples(late); // the spool forwarding the same batch again
  const read = await s.readSamples({ seriesIds: [...ids, extra[0]!], fromMs: D0, toMs: D0 + 2 * DAY });
  t.equal(read.samples.length, 3 * 288 + 3, 'two new samples, one replaced, none twice');
  const at = (id: number, ms: number): number[] => read.samples.filter((x) => x.seriesId === id && x.timeMs === ms).map((x) => x.value);
  t.same(at(ids[0]!, D0 + 61_000), [42]);
  t.same(at(ids[1]!, D0 + 600_000), [-1]);
  t.same(at(ids[2]!, D0 + DAY + 5_000), [7]);
  t.same(at(extra[0]!, D0 + 3_000), [1]);
  const times = read.samples.filter((x) => x.seriesId === ids[0]).map((x) => x.timeMs);
  t.same(times, [...times].sort((a, b) => a - b), 'in time order');
  t.same(await s.query('SELECT count(*)::int AS n FROM samples_rows'), [{ n: 0 }], 'no row beside the packed ones');
  const dupes = await s.query('SELECT series_id, ts FROM samples GROUP BY 1, 2 HAVING count(*) > 1');
  t.same(dupes, [], 'the samples view holds each (series, time) once');
});

t.test('SIGKILL in the middle of packing: the chunk is as it was; packing again completes', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const { s, schema, ids } = await freshStore(t);
  const before = await snapshot(s, ids);
  const [day0] = await s.listChunks('samples');
  const child = spawn(process.execPath, [...process.execArgv, CHILD, schema, day0!.name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (_c, sig) => r(sig === 'SIGKILL' ? 9 : _c)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => (b.toString().includes('filled') ? resolve() : undefined));
    child.on('exit', () => reject(new Error('child ended before filling')));
  });
  t.same(await s.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction' AND query LIKE 'INSERT INTO "${day0!.name}_packed"%'`), [{ n: 1 }], 'the child is inside the packing transaction');
  child.kill('SIGKILL');
  t.equal(await exited, 9, 'killed');
  // The server rolls back once it sees the socket gone; wait for that backend to go.
  for (let i = 0; i < 100; i++) {
    const held = await s.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'INSERT INTO "${day0!.name}_packed"%'`);
    if (Number(held[0]!['n']) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const fresh = await openPgStore({ ...PG, schema, now: () => NOW });
  t.teardown(() => fresh.close());
  await fresh.listChunks();
  t.notOk(fresh.isPacked(day0!.name), 'not packed');
  t.same(await snapshot(fresh, ids), before, 'every sample as it was, once');
  t.same(await fresh.query(`SELECT to_regclass('${day0!.name}_packed') AS p`), [{ p: null }], 'no packed table left behind');
  // A restart packs it for good (here a second child, which runs to the end).
  const again = spawn(process.execPath, [...process.execArgv, CHILD, schema, day0!.name, 'run'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.equal(await new Promise((r) => again.on('exit', r)), 0);
  await fresh.listChunks();
  t.ok(fresh.isPacked(day0!.name), 'packed after the restart');
  t.same(await snapshot(fresh, ids), before, 'exactly the same samples once packed');
});

t.test('a store of schema version 7 migrates: views keep their columns and rows, then pack', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const db = pgp({ connectionString: `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}?options=-c%20search_path%3D${schema}`, max: 1 });
  t.teardown(() => db.$pool.end());
  await db.none(`CREATE SCHEMA ${schema}`);
  await db.tx(async (tx) => {
    await tx.none('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const m of PG_MIGRATIONS.filter((x) => x.version <= 7)) {
      await tx.none(m.sql);
      await tx.none('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
  });
  // Rows written as version 7 wrote them: into the samples partition.
  await db.none("INSERT INTO series (id, name, labels, fingerprint, type, created_at) VALUES (1, 'old_g', '{\"job\":\"j\"}', 'fp1', 'gauge', now())");
  await db.none(`CREATE TABLE samples_20260110t000000 PARTITION OF samples FOR VALUES FROM ('2026-01-10T00:00:00Z') TO ('2026-01-11T00:00:00Z')`);
  await db.none("INSERT INTO chunks (name, logical, start_ts, end_ts, created_at) VALUES ('samples_20260110t000000', 'samples', '2026-01-10T00:00:00Z', '2026-01-11T00:00:00Z', now())");
  await db.none("INSERT INTO samples SELECT 1, '2026-01-10T00:00:00Z'::timestamptz + i * interval '1 minute', CASE WHEN i = 5 THEN NULL ELSE i END FROM generate_series(0, 1439) i");
  const VIEWS = ['samples', 'samples_all', 'system_metrics', 'samples_named', 'latest_metrics', 'metrics_1m', 'metrics_1h', 'quantiles_5m', 'histogram_buckets_1d'];
  const columns = (): Promise<unknown[]> =>
    db.any(`SELECT table_name, column_name, data_type, ordinal_position FROM information_schema.columns WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY table_name, ordinal_position`, [schema, VIEWS]);
  const data = async (): Promise<unknown[]> => [
    await db.any('SELECT count(*)::int AS n, sum(value) AS s FROM samples_all'),
    await db.any('SELECT count(*)::int AS n FROM samples'),
    await db.any("SELECT ts::text, value FROM samples_named WHERE metric_name = 'old_g' ORDER BY ts LIMIT 8"),
    await db.any('SELECT count(*)::int AS n, max(value) AS m FROM system_metrics'),
  ];
  const cols7 = await columns();
  const data7 = await data();
  t.equal(cols7.filter((c) => (c as { table_name: string }).table_name === 'samples').length, 3);
  const s = await openPgStore({ ...PG, schema, now: () => NOW });
  t.teardown(() => s.close());
  t.equal(s.schemaVersion, PG_MIGRATIONS.at(-1)!.version);
  t.same(await columns(), cols7, 'every view keeps its columns and types');
  t.same(await data(), data7, 'and its rows');
  t.same((await s.packClosedChunks(NOW)).map((c) => c.name), ['samples_20260110t000000']);
  t.same(await data(), data7, 'the same rows once packed');
  const r = await s.readSamples({ name: 'old_g', fromMs: D0, toMs: D0 + DAY });
  t.equal(r.samples.length, 1440);
  t.ok(isStaleNaN(r.samples[5]!.value), 'the stale marker is kept');
  t.notOk(isStaleNaN(r.samples[6]!.value));
});

t.test('two hosts packing the same chunks at once: each chunk packed once, writes go on', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const { s, schema, ids } = await freshStore(t);
  const before = await snapshot(s, ids);
  const other = await openPgStore({ ...PG, schema, now: () => NOW });
  t.teardown(() => other.close());
  const [a, b] = await Promise.all([
    s.packClosedChunks(D0 + 2 * DAY),
    other.packClosedChunks(D0 + 2 * DAY),
    // a new day's partition is created meanwhile: packing does not hold the DDL lock
    other.writeSamples([{ seriesId: ids[0]!, timeMs: D0 + 5 * DAY, value: 5 }]),
  ]);
  t.same([...a!, ...b!].map((c) => c.name).sort(), (await s.listChunks('samples')).filter((c) => c.endMs <= D0 + 2 * DAY).map((c) => c.name), 'each chunk packed by one of them');
  t.same(await s.query('SELECT series_id, ts::text AS ts FROM samples_20260115t000000'), [{ series_id: ids[0], ts: '2026-01-15 00:00:00+00' }], 'the write landed');
  await s.dropChunk('samples', 'samples_20260115t000000');
  t.same(await snapshot(s, ids), before, 'the same samples');
});
