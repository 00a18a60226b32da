/**
 * Packed tier chunks on PostgreSQL (storage/pg-pack.ts, schema version 9): the tier
 * views, the named views and readTierRows answer the same before and after packing; a
 * host that was behind (its samples spooled) still gets its samples into packed raw days
 * and its rollup rows into packed tier chunks, exactly once, even rolled up twice; a
 * SIGKILL while packing a tier chunk, while merging a slice into one, or while merging a
 * late raw sample into a packed day leaves everything as it was; a store of schema
 * version 8 migrates with its tier views' columns and rows unchanged.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import pgPromise from 'pg-promise';
import { PG, need } from '../helpers/peers.js';
import { dropSchema } from './fixtures/stores.js';
import { openPgStore, type PgStore } from '../../storage/pg-store.js';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { PG_MIGRATIONS } from '../../storage/pg-sql.js';
import type { Sample, SeriesDef } from '../../storage/store.js';

const DAY = 86_400_000;
const MIN = 60_000;
const D0 = Date.UTC(2026, 0, 10);
const NOW = Date.UTC(2026, 0, 20);
const CHILD = fileURLToPath(new URL('./pg-tier-pack-child.ts', import.meta.url));
const pgp = pgPromise({ noWarnings: true });

function schemaName(): string {
  return `pgtierpack_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A host's series: a gauge, a counter and a histogram's series. */
function defs(host: string): SeriesDef[] {
  return [
    { name: 'tp_g', labels: { h: host }, type: 'gauge' },
    { name: 'tp_c_total', labels: { h: host }, type: 'counter' },
    { name: 'tp_h_bucket', labels: { h: host, le: '0.1' }, type: 'histogram' },
    { name: 'tp_h_bucket', labels: { h: host, le: '+Inf' }, type: 'histogram' },
    { name: 'tp_h_count', labels: { h: host }, type: 'histogram' },
    { name: 'tp_h_sum', labels: { h: host }, type: 'histogram' },
  ];
}

/** Samples every minute over days [from, to) of D0: the counter resets, NaN now and then. */
function samples(ids: readonly number[], fromDay: number, toDay: number): Sample[] {
  const out: Sample[] = [];
  for (let ms = D0 + fromDay * DAY; ms < D0 + toDay * DAY; ms += MIN) {
    const i = (ms - D0) / MIN;
    const v = [Math.round(50 + 40 * Math.sin(i / 97)) / 2, (i % 700) * 3, i * 2, i * 5, i * 5, i * 0.75];
    for (const [k, id] of ids.entries()) out.push({ seriesId: id, timeMs: ms, value: k === 0 && i % 333 === 5 ? Number.NaN : v[k]! });
  }
  return out;
}

interface Host {
  store: PgStore;
  engine: RollupEngine;
  ids: number[];
}

async function host(t: Test, schema: string, name: string): Promise<Host> {
  const store = await openPgStore({ ...PG, schema, now: () => NOW, instance: name });
  t.teardown(() => store.close());
  const engine = new RollupEngine({ store, tiers: DEFAULT_TIERS, now: () => NOW, instance: name });
  return { store, engine, ids: await store.resolveSeries(defs(name)) };
}

/** Every tier row and named-view row, keyed by series name and labels (ids differ between schemas). */
async function tiers(s: PgStore): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const key = "se.name || se.labels::text || '@' || r.ts::text";
  for (const tier of ['5m', '1h', '1d']) {
    out[`rollup_${tier}`] = (await s.query(`SELECT ${key} AS k, r.count, r.sum::text, r.min::text, r.max::text, r.first::text, r.last::text, r.increase::text FROM rollup_${tier} r JOIN series se ON se.id = r.series_id ORDER BY 1`)).map((x) => JSON.stringify(x));
    out[`all_${tier}`] = (await s.query(`SELECT count(*)::int AS n, sum(count)::int AS c FROM rollup_${tier}_all`)).map((x) => JSON.stringify(x));
    out[`quantiles_${tier}`] = (await s.query(`SELECT ${key} AS k, r.count, r.p50::text, r.p99::text FROM rollup_${tier}_quantiles r JOIN series se ON se.id = r.series_id ORDER BY 1`)).map((x) => JSON.stringify(x));
    out[`metrics_${tier}`] = (await s.query(`SELECT metric_name, labels::text, ts::text, avg::text, rate::text FROM metrics_${tier} ORDER BY 1, 2, 3`)).map((x) => JSON.stringify(x));
    out[`hb_${tier}`] = (await s.query(`SELECT metric_name, labels::text, le, ts::text, increase::text FROM histogram_buckets_${tier} ORDER BY 1, 2, 3, 4`)).map((x) => JSON.stringify(x));
    const series = await s.listSeries();
    const r = await s.readTierRows({ tier, seriesIds: series.map((x) => x.id), fromMs: D0 - DAY, toMs: NOW });
    const fp = new Map(series.map((x) => [x.id, x.fingerprint]));
    out[`read_${tier}`] = [...r.seriesIds].map((id, i) => `${fp.get(id)}@${r.ts[i]}:${r.nulls[i]}:${r.values.map((v) => v[i]).join(',')}`).sort();
    const part = await s.readTierRows({ tier, seriesIds: [series[1]!.id], fromMs: D0 + DAY + 3_600_000, toMs: D0 + DAY + 7_200_000, columns: ['count', 'increase'] });
    out[`part_${tier}`] = [...part.ts].map((x, i) => `${x}:${part.values[0]![i]}:${part.values[1]![i]}`);
  }
  out['watermarks'] = (await s.query('SELECT tier, host, watermark_ms::text FROM rollup_watermarks ORDER BY 1, 2')).map((x) => JSON.stringify(x));
  return out;
}

/** Both hosts record 3 days and roll up; nothing packed. */
async function reference(t: Test): Promise<Record<string, string[]>> {
  const { schema, a, b } = await bothRolledUp(t);
  return tiers(a.store);
}

/** Hosts a and b on a fresh schema, each with 3 days written and rolled up. */
async function bothRolledUp(t: Test): Promise<{ schema: string; a: Host; b: Host }> {
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const a = await host(t, schema, 'a');
  const b = await host(t, schema, 'b');
  await a.store.writeSamples(samples(a.ids, 0, 3));
  await b.store.writeSamples(samples(b.ids, 0, 3));
  await a.engine.run();
  await b.engine.run();
  return { schema, a, b };
}

/**
 * Host a records 3 days, rolls up and packs; host b recorded 2 days and was cut off
 * (no rollups), its third day spooled.
 */
async function behind(t: Test): Promise<{ schema: string; a: Host; b: Host }> {
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const a = await host(t, schema, 'a');
  const b = await host(t, schema, 'b');
  await a.store.writeSamples(samples(a.ids, 0, 3));
  await b.store.writeSamples(samples(b.ids, 0, 2));
  await a.engine.run();
  const packed = await a.store.packClosedChunks(NOW);
  t.same(packed.filter((c) => c.table === 'samples').length, 3, 'the 3 raw days packed');
  const tier = packed.filter((c) => c.table === 'rollup_5m').map((c) => c.name);
  t.same(tier.slice(0, 3), ['rollup_5m_20260110t000000', 'rollup_5m_20260111t000000', 'rollup_5m_20260112t000000'], 'the 5m chunks host a closed packed');
  return { schema, a, b };
}

function child(args: string[], until: string): { ready: Promise<void>; exited: Promise<number | null>; kill(): void } {
  const c = spawn(process.execPath, [...process.execArgv, CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => c.on('exit', (code, sig) => r(sig === 'SIGKILL' ? 9 : code)));
  const ready = new Promise<void>((resolve, reject) => {
    c.stdout.on('data', (b: Buffer) => (b.toString().includes(until) ? resolve() : undefined));
    c.on('exit', () => reject(new Error(`child ended before "${until}"`)));
  });
  return { ready, exited, kill: () => c.kill('SIGKILL') };
}

/** Waits until no backend runs a statement matching `like` (the server rolls back a killed client's transaction). */
async function gone(s: PgStore, like: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const n = await s.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state <> 'idle' AND query LIKE $1`, [like]);
    if (Number(n[0]!['n']) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`a backend still runs ${like}`);
}

t.test('packing tier chunks: every view and reader answers the same, in a fraction of the bytes', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const want = await reference(t);
  const { schema, a, b } = await bothRolledUp(t);
  t.same(await tiers(a.store), want, 'the reference');
  const chunks = await a.store.listChunks('rollup_5m');
  let bytesBefore = 0;
  for (const c of chunks) bytesBefore += await a.store.chunkBytes('rollup_5m', c.name);
  const statsBefore = (await a.store.getDatabaseStats()).tables.find((x) => x.table === 'rollup_5m');
  const packed = await a.store.packClosedChunks(NOW);
  const wm = Number((await a.store.query("SELECT min(watermark_ms)::text AS w FROM rollup_watermarks WHERE tier = '5m'"))[0]!['w']);
  t.same(packed.filter((c) => c.table === 'rollup_5m').map((c) => c.name), chunks.filter((c) => c.endMs <= wm).map((c) => c.name), 'every 5m chunk the watermark has passed');
  t.same(packed.filter((c) => c.table !== 'samples' && c.table !== 'rollup_5m'), [], 'the open 1h and 1d chunks are not');
  t.same(await a.store.packClosedChunks(NOW), [], 'packing again does nothing');
  t.same(await tiers(a.store), want, 'the same rows everywhere once packed');
  let bytesAfter = 0;
  for (const c of chunks) bytesAfter += await a.store.chunkBytes('rollup_5m', c.name);
  t.ok(bytesAfter < bytesBefore / 2, `5m bytes ${bytesBefore} -> ${bytesAfter}`);
  const statsAfter = (await a.store.getDatabaseStats()).tables.find((x) => x.table === 'rollup_5m');
  t.equal(statsAfter?.rows, statsBefore?.rows, 'getDatabaseStats counts the packed rows');
  t.equal(statsAfter?.chunks, statsBefore?.chunks, 'and the same chunks');
  t.same(await a.store.query('SELECT count(*)::int AS n FROM rollup_5m_rows'), [{ n: 0 }], 'no row partition holds rows');
  // Retention drops a packed tier chunk whole.
  await a.store.dropChunk('rollup_5m', chunks[0]!.name);
  t.same(await a.store.query(`SELECT to_regclass('${chunks[0]!.name}') AS a, to_regclass('${chunks[0]!.name}_packed') AS b, to_regclass('${chunks[0]!.name}_rows') AS c`), [{ a: null, b: null, c: null }]);
});

t.test('a host that was behind: its late samples and its rollups reach packed chunks exactly once', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const want = await reference(t);
  const { a, b } = await behind(t);
  await b.store.writeSamples(samples(b.ids, 2, 3)); // the spool forwarded into packed raw days
  await b.store.writeSamples(samples(b.ids, 2, 3)); // and again
  await b.engine.run(); // every slice into a packed 5m chunk
  t.same(await tiers(a.store), want, 'the same rows as if nothing had been packed');
  await b.engine.run();
  t.same(await tiers(a.store), want, 'a second run changes nothing');
  // Rolled up again from scratch (its watermarks lost): each bucket replaced, never doubled.
  await b.store.execute("DELETE FROM rollup_watermarks WHERE host = 'b'");
  await b.engine.run();
  t.same(await tiers(a.store), want, 'rolled up again into the packed chunks: exactly once');
  t.same(await a.store.query('SELECT count(*)::int AS n FROM rollup_5m_rows'), [{ n: 0 }], 'nothing written beside the packed rows');
  t.same(await a.store.query('SELECT series_id, ts FROM rollup_5m GROUP BY 1, 2 HAVING count(*) > 1'), [], 'each (series, bucket) once');
});

t.test('SIGKILL while packing a tier chunk: the chunk is as it was; packing again completes', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const want = await reference(t);
  const { schema, a, b } = await bothRolledUp(t);
  const name = 'rollup_5m_20260111t000000';
  const c = child(['pack', schema, name], 'filled');
  await c.ready;
  t.same(await a.store.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction' AND query LIKE 'INSERT INTO "${name}_packed"%'`), [{ n: 1 }], 'inside the packing transaction');
  c.kill();
  t.equal(await c.exited, 9);
  await gone(a.store, `INSERT INTO "${name}_packed"%`);
  await a.store.listChunks();
  t.notOk(a.store.isPacked(name), 'not packed');
  t.same(await a.store.query(`SELECT to_regclass('${name}_packed') AS p`), [{ p: null }], 'no packed table left behind');
  t.same(await tiers(a.store), want, 'every row as it was, once');
  t.ok((await a.store.packClosedChunks(NOW)).some((x) => x.name === name), 'packed by the next daily job');
  t.same(await tiers(a.store), want, 'the same rows once packed');
});

t.test('SIGKILL while merging a slice into a packed tier chunk: nothing of it is kept; the next run completes', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const want = await reference(t);
  const { schema, a, b } = await behind(t);
  await b.store.writeSamples(samples(b.ids, 2, 3));
  const before = await tiers(a.store);
  const c = child(['rollup', schema], 'slice');
  await c.ready;
  t.same(await a.store.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction' AND query LIKE 'INSERT INTO rollup_watermarks%'`), [{ n: 1 }], 'inside the slice transaction, past its merge');
  c.kill();
  t.equal(await c.exited, 9);
  await gone(a.store, 'INSERT INTO rollup_watermarks%');
  t.same(await tiers(a.store), before, 'the packed chunk and the watermarks as they were');
  await b.engine.run();
  t.same(await tiers(a.store), want, 'the next run rolls it up, once');
});

t.test('SIGKILL while merging a late raw sample into a packed day: the day is as it was; the next write lands once', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const { schema, a, b } = await behind(t);
  const late = { id: b.ids[0]!, ms: D0 + 2 * DAY + 90_000, v: 123.5 };
  const read = async (): Promise<string[]> =>
    (await a.store.readSamples({ seriesIds: [late.id], fromMs: D0, toMs: D0 + 3 * DAY })).samples.map((x) => `${x.timeMs}=${x.value}`);
  const day = 'samples_20260112t000000';
  t.ok(a.store.isPacked(day), 'the day is packed');
  const packedBefore = await a.store.query(`SELECT series_id, ts::text, value::text FROM "${day}" ORDER BY 1, 2`);
  const before = await read();
  // series_latest locked: the write merges into the packed day, then waits inside its transaction.
  const lock = a.store.transaction(async (tx) => {
    await tx.execute('LOCK TABLE series_latest IN EXCLUSIVE MODE');
    const c = child(['late', schema, String(late.id), String(late.ms), String(late.v)], 'writing');
    await c.ready;
    let waiting = 0;
    for (let i = 0; i < 100 && waiting === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      waiting = Number((await a.store.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO series_latest%'`))[0]!['n']);
    }
    t.equal(waiting, 1, 'the write waits inside its transaction, after the merge');
    c.kill();
    t.equal(await c.exited, 9);
  });
  await lock;
  await gone(a.store, '%INSERT INTO series_latest%');
  t.same(await read(), before, 'the sample is not there');
  t.same(await a.store.query(`SELECT series_id, ts::text, value::text FROM "${day}" ORDER BY 1, 2`), packedBefore, 'the packed day as it was');
  await b.store.writeSamples([{ seriesId: late.id, timeMs: late.ms, value: late.v }]);
  await b.store.writeSamples([{ seriesId: late.id, timeMs: late.ms, value: late.v }]);
  const after = await read();
  t.equal(after.length, before.length + 1, 'one sample more');
  t.equal(after.filter((x) => x === `${late.ms}=${late.v}`).length, 1, 'the late sample, once');
});

t.test('a store of schema version 8 migrates: tier tables become views with the same columns and rows, then pack', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const db = pgp({ connectionString: `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}?options=-c%20search_path%3D${schema}`, max: 1 });
  t.teardown(() => db.$pool.end());
  await db.none(`CREATE SCHEMA ${schema}`);
  await db.tx(async (tx) => {
    await tx.none('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const m of PG_MIGRATIONS.filter((x) => x.version <= 8)) {
      await tx.none(m.sql);
      await tx.none('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
  });
  // Rows as version 8 wrote them: a 5m chunk (the named views' tier) and a tier only the engine registered (2m).
  await db.none("INSERT INTO series (id, name, labels, fingerprint, type, created_at) VALUES (1, 'old_c_total', '{\"job\":\"j\"}', 'fp1', 'counter', now())");
  await db.none(`CREATE TABLE rollup_2m (series_id integer NOT NULL, ts timestamptz NOT NULL, "count" integer, "sum" double precision, "min" double precision, "max" double precision, "first" double precision, "last" double precision, "increase" double precision, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
    CREATE OR REPLACE VIEW rollup_2m_all AS SELECT * FROM rollup_2m;
    INSERT INTO chunk_tables (logical, kind, chunk_ms) VALUES ('rollup_5m', 'rollup', 86400000), ('rollup_2m', 'rollup', 86400000)`);
  for (const tier of ['5m', '2m']) {
    const name = `rollup_${tier}_20260110t000000`;
    await db.none(`CREATE TABLE ${name} PARTITION OF rollup_${tier} FOR VALUES FROM ('2026-01-10T00:00:00Z') TO ('2026-01-11T00:00:00Z')`);
    await db.none(`INSERT INTO chunks (name, logical, start_ts, end_ts, created_at) VALUES ($1, $2, '2026-01-10T00:00:00Z', '2026-01-11T00:00:00Z', now())`, [name, `rollup_${tier}`]);
    await db.none(`INSERT INTO rollup_${tier} SELECT 1, '2026-01-10T00:00:00Z'::timestamptz + i * interval '5 minutes', 5, i * 10, i, i + 4, i, i + 4, CASE WHEN i = 3 THEN NULL ELSE 4 END FROM generate_series(0, 287) i`);
  }
  await db.none("INSERT INTO rollup_watermarks (tier, host, watermark_ms, updated_ms) VALUES ('5m', '', $1, $2), ('2m', '', $1, $2)", [D0 + DAY, NOW]);
  const VIEWS = ['rollup_5m', 'rollup_5m_all', 'metrics_5m', 'histogram_buckets_5m', 'metrics_1h', 'rollup_2m', 'rollup_2m_all'];
  const columns = (): Promise<unknown[]> =>
    db.any(`SELECT table_name, column_name, data_type, ordinal_position FROM information_schema.columns WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY table_name, ordinal_position`, [schema, VIEWS]);
  const data = async (): Promise<unknown[]> => [
    await db.any('SELECT count(*)::int AS n, sum(sum) AS s, sum(increase) AS i FROM rollup_5m_all'),
    await db.any("SELECT ts::text, avg, rate FROM metrics_5m WHERE metric_name = 'old_c_total' ORDER BY ts LIMIT 6"),
    await db.any('SELECT count(*)::int AS n, sum(max) AS m FROM rollup_2m_all'),
    await db.any('SELECT series_id, ts::text, increase FROM rollup_2m ORDER BY ts LIMIT 5'),
  ];
  const cols8 = await columns();
  const data8 = await data();
  const s = await openPgStore({ ...PG, schema, now: () => NOW });
  t.teardown(() => s.close());
  t.equal(s.schemaVersion, PG_MIGRATIONS.at(-1)!.version);
  t.same(await columns(), cols8, 'every view keeps its columns and types');
  t.same(await data(), data8, 'and its rows');
  t.same(await s.query("SELECT relname, relkind::text FROM pg_class WHERE relnamespace = $1::regnamespace AND relname IN ('rollup_5m', 'rollup_2m', 'rollup_2m_rows') ORDER BY 1", [schema]), [
    { relname: 'rollup_2m', relkind: 'v' },
    { relname: 'rollup_2m_rows', relkind: 'p' },
    { relname: 'rollup_5m', relkind: 'v' },
  ]);
  const packed = (await s.packClosedChunks(NOW)).map((c) => c.name).sort();
  t.same(packed, ['rollup_2m_20260110t000000', 'rollup_5m_20260110t000000']);
  t.same(await data(), data8, 'the same rows once packed');
  const r = await s.readTierRows({ tier: '2m', seriesIds: [1], fromMs: D0, toMs: D0 + DAY });
  t.equal(r.seriesIds.length, 288, 'readTierRows reads the packed rows');
});
