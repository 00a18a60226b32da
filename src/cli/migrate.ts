/**
 * `larder migrate --to postgres://…`: copies a SQLite store into PostgreSQL.
 *
 * - Chunked tables (raw samples, every tier's rollup and quantile tables) are copied
 *   chunk by chunk, each chunk one binary COPY fed by keyset batches of the source: all
 *   of it lands or none. Where the target already has rows in the chunk's range (a run
 *   killed mid-chunk under an older version, rows of its own), the COPY goes into a
 *   staging table and is merged as an upsert that leaves identical rows untouched.
 * - After a chunk is copied its rows are read back from PostgreSQL (COPY TO, binary) and
 *   compared with the source: row count and a SHA-256 over the binary tuples in key
 *   order, the very bytes that were sent (storage/pg-copy-binary.ts). Only then is the
 *   chunk recorded in `larder_migrate_progress` in the target. A later run skips a
 *   chunk whose source still has the recorded count and checksum: a run killed half-way
 *   resumes where it stopped, and a second run writes nothing.
 * - The other tables (series, series_latest, alert history, summaries, metrics_raw,
 *   metrics_hourly, watermarks, the carry) are upserted whole, columns converted by
 *   the target's types (epoch ms → timestamptz, JSON text → jsonb), and verified by
 *   count.
 * - While a Larder runs on the source, a snapshot is taken first (VACUUM INTO, as
 *   `larder backup`), so what is verified is one consistent state; running migrate
 *   again after stopping Larder copies what changed since.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Client, ClientConfig } from 'pg';
import pgPromise from 'pg-promise';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { openSqliteReader, type SqliteReader } from '../../storage/sqlite-reader.js';
import { ident } from '../../storage/sqlite-sql.js';
import { pgIdent, pgRowsTable } from '../../storage/pg-sql.js';
import { KIND_COLUMNS, type TableKind } from '../../storage/table-kinds.js';
import type { ChunkInfo, SqlValue, Store } from '../../storage/store.js';
import { carryTableDdl } from '../../rollup/sql.js';
import { FailedError, intFlag, UsageError, type Command } from './command.js';
import { formatEta, ProgressBar } from './output.js';
import { COPY_HEADER, COPY_TRAILER, CopyTupleReader, encodeTuples, type CopyType } from '../../storage/pg-copy-binary.js';
import { assertNoDeadWriter, explainOpenError, liveOwner, storeOptionsOf } from './store-access.js';
import { vacuumInto } from './backup.js';
import { HEAD_LATEST_TABLE, HEAD_TABLES, HEADS_STATE_TABLE, headArms } from '../../storage/sqlite-head-sql.js';

/** The target's bookkeeping table: one row per verified chunk or table. */
export const PROGRESS_TABLE = 'larder_migrate_progress';

/** Tables that are the store's own catalog: made by openPgStore / ensureChunk, never copied. */
const CATALOG = new Set(['schema_migrations', 'chunks', 'chunk_tables']);

/** The raw-sample head's tables (storage/sqlite-head-sql.ts): their rows are copied with the chunk they fall in; its state is SQLite's own. */
const HEAD = new Set<string>([...HEAD_TABLES, HEADS_STATE_TABLE, HEAD_LATEST_TABLE]);

/** Copy order: referenced tables first. Tables not named here follow, by name. */
const FIRST = ['series', 'series_latest'];

/** Columns that hold NaN as NULL on SQLite (docs/storage.md): NULL there is NaN on PostgreSQL. */
const NAN_AS_NULL = new Set(['samples.value', 'series_latest.value']);

/** Count and SHA-256 (first 128 bits, hex) of a chunk's rows as binary COPY tuples. */
interface Digest {
  readonly rows: number;
  readonly checksum: string;
}

interface Ctx {
  readonly src: SqliteReader;
  /** Whether the source has the raw-sample head (schema 8 on). */
  readonly headed: boolean;
  readonly dst: Store;
  /** A connection of its own for COPY (and the session's staging tables). */
  readonly copy: Client;
  readonly batch: number;
  readonly bar: ProgressBar;
  copied: number;
  written: number;
  /**
   * Values for target columns the SQLite store has no counterpart for: `host`, the owner
   * of a series and of its rollup watermarks on PostgreSQL (docs/many-hosts.md), is the
   * migrating host's --instance, so the Larder that goes on with that instance rolls up
   * the series it already had.
   */
  readonly fill: Readonly<Record<string, string>>;
}

/** PostgreSQL types of a chunk table's columns, in order (storage/pg-sql.ts makes them so). */
function copyTypes(kind: TableKind): CopyType[] {
  return ['int4', 'timestamptz', ...KIND_COLUMNS[kind].map((k): CopyType => (k.integer ? 'int4' : 'float8'))];
}

/**
 * Source rows of a chunk in key order, batch by batch, in PostgreSQL's encoding: SQLite's
 * NULL (NaN) becomes NaN, and its zero-length BLOB (a stale marker, storage/stale.ts)
 * becomes NULL, PostgreSQL's stale marker. Each batch is one statement (one read lock).
 */
function* sourceBatches(ctx: Ctx, c: ChunkInfo, kind: TableKind): Generator<unknown[][]> {
  const cols = KIND_COLUMNS[kind].map((k) => k.name);
  const nanCols = cols.map((col) => NAN_AS_NULL.has(`${kind === 'samples' ? 'samples' : c.table}.${col}`));
  // A raw chunk with the head's samples of its time range (a snapshot of a running Larder
  // holds up to an hour there); a (series, time) is never in both.
  const source =
    kind === 'samples' && ctx.headed
      ? `(SELECT series_id, ts, value FROM ${ident(c.name)} UNION ALL ${headArms('series_id, ts, value', `ts >= ${c.startMs} AND ts < ${c.endMs}`)})`
      : ident(c.name);
  let after: [number, number] | undefined;
  for (;;) {
    const rows = ctx.src.all(
      `SELECT series_id, ts, ${cols.map(ident).join(', ')} FROM ${source}${after ? ' WHERE (series_id, ts) > (?, ?)' : ''} ORDER BY series_id, ts LIMIT ${ctx.batch}`,
      after ?? [],
    );
    if (rows.length === 0) return;
    yield rows.map((r) => [Number(r['series_id']), Number(r['ts']), ...cols.map((col, i) => (nanCols[i] ? pgValue(r[col]) : r[col]))]);
    const last = rows[rows.length - 1]!;
    after = [Number(last['series_id']), Number(last['ts'])];
    if (rows.length < ctx.batch) return;
  }
}

/** A sample value as PostgreSQL keeps it: NaN for SQLite's NULL, NULL for a stale marker (a BLOB). */
function pgValue(v: unknown): unknown {
  if (v === null) return Number.NaN;
  if (v instanceof Uint8Array) return null;
  return v;
}

/** Source tuples of a chunk, batch by batch, each handed to `each` (which may write them). */
async function sourceTuples(ctx: Ctx, c: ChunkInfo, kind: TableKind, each?: (tuples: Buffer, rows: number) => Promise<void>): Promise<Digest> {
  const types = copyTypes(kind);
  const h = createHash('sha256');
  let rows = 0;
  for (const batch of sourceBatches(ctx, c, kind)) {
    const tuples = encodeTuples(types, batch);
    h.update(tuples);
    rows += batch.length;
    await each?.(tuples, batch.length);
  }
  return { rows, checksum: h.digest('hex').slice(0, 32) };
}

/** Time-range condition of a chunk, as literals (COPY takes no parameters). */
function rangeSql(c: ChunkInfo): string {
  return `ts >= '${new Date(c.startMs).toISOString()}' AND ts < '${new Date(c.endMs).toISOString()}'`;
}

/** Target rows of the chunk's time range in key order, read back with COPY … TO STDOUT (FORMAT binary). */
async function targetDigest(ctx: Ctx, c: ChunkInfo, kind: TableKind): Promise<Digest> {
  const cols = ['series_id', 'ts', ...KIND_COLUMNS[kind].map((k) => k.name)].map(pgIdent).join(', ');
  const h = createHash('sha256');
  const reader = new CopyTupleReader((b) => h.update(b));
  const stream = ctx.copy.query(copyTo(`COPY (SELECT ${cols} FROM ${pgIdent(c.table)} WHERE ${rangeSql(c)} ORDER BY series_id, ts) TO STDOUT (FORMAT binary)`));
  for await (const piece of stream) reader.push(piece as Buffer);
  if (!reader.ended) throw new FailedError(`reading chunk ${c.name} back from PostgreSQL ended early`);
  return { rows: reader.rows, checksum: h.digest('hex').slice(0, 32) };
}

/**
 * Copies a chunk's rows with one COPY (FORMAT binary), so the chunk is all there or not at
 * all. Into the table itself when the target has no row in the chunk's range (a fresh
 * target, or a run killed before this COPY ended); otherwise into a session staging table,
 * then merged as an upsert that leaves identical rows untouched. Returns the source digest,
 * taken from the bytes sent.
 */
async function copyChunk(ctx: Ctx, c: ChunkInfo, kind: TableKind): Promise<Digest> {
  // Written into the partitioned row table (raw samples: samples_rows, since `samples` is a view of rows and packed chunks).
  const t = pgIdent(pgRowsTable(c.table));
  const names = KIND_COLUMNS[kind].map((k) => pgIdent(k.name));
  const all = `series_id, ts, ${names.join(', ')}`;
  const empty = (await ctx.copy.query(`SELECT 1 FROM ${pgIdent(c.table)} WHERE ${rangeSql(c)} LIMIT 1`)).rowCount === 0;
  const stage = pgIdent(`larder_stage_${c.table}`);
  if (!empty) await ctx.copy.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${t}); TRUNCATE ${stage}`);
  const stream = ctx.copy.query(copyFrom(`COPY ${empty ? t : stage} (${all}) FROM STDIN (FORMAT binary)`));
  const done = finished(stream);
  done.catch(() => undefined); // awaited below; a failure also ends the race with 'drain'
  let digest: Digest;
  try {
    stream.write(COPY_HEADER);
    digest = await sourceTuples(ctx, c, kind, async (tuples, rows) => {
      if (!stream.write(tuples)) await Promise.race([once(stream, 'drain'), done]);
      ctx.copied += rows;
      ctx.bar.update(ctx.copied);
    });
    stream.end(COPY_TRAILER);
    await done;
  } catch (e) {
    stream.destroy(e as Error); // sends CopyFail: nothing of this chunk is kept
    throw e;
  }
  if (empty) ctx.written += stream.rowCount;
  else {
    const r = await ctx.copy.query(
      `INSERT INTO ${t} (${all}) SELECT ${all} FROM ${stage}
       ON CONFLICT (series_id, ts) DO UPDATE SET (${names.join(', ')}) = ROW(${names.map((n) => `EXCLUDED.${n}`).join(', ')})
       WHERE (${names.map((n) => `${t}.${n}`).join(', ')}) IS DISTINCT FROM (${names.map((n) => `EXCLUDED.${n}`).join(', ')})`,
    );
    ctx.written += r.rowCount ?? 0;
    await ctx.copy.query(`TRUNCATE ${stage}`);
  }
  return digest;
}

/** Creates the target chunks covering `c` (the target may cut time differently). */
async function ensureTargetChunks(dst: Store, c: ChunkInfo): Promise<void> {
  for (let t = c.startMs; t < c.endMs; ) {
    const made = await dst.ensureChunk(c.table, t);
    t = made.endMs;
  }
}

async function recorded(dst: Store, item: string): Promise<Digest | undefined> {
  const r = (await dst.query(`SELECT rows::float8 AS rows, checksum FROM ${PROGRESS_TABLE} WHERE item = $1`, [item]))[0];
  return r ? { rows: Number(r['rows']), checksum: String(r['checksum']) } : undefined;
}

async function record(dst: Store, item: string, d: Digest): Promise<void> {
  await dst.execute(
    `INSERT INTO ${PROGRESS_TABLE} (item, rows, checksum, done_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (item) DO UPDATE SET rows = EXCLUDED.rows, checksum = EXCLUDED.checksum, done_at = EXCLUDED.done_at`,
    [item, d.rows, d.checksum],
  );
}

/**
 * Copies and verifies one chunk unless the target already holds it verified. The source
 * is read once for a chunk not yet recorded (checksummed as it is sent), twice for one
 * recorded with another checksum (a changed source).
 */
async function migrateChunk(ctx: Ctx, c: ChunkInfo, kind: TableKind, rowsHint: number): Promise<'skipped' | 'copied'> {
  const item = `chunk:${c.table}:${c.name}`;
  const done = await recorded(ctx.dst, item);
  if (done) {
    const now = await sourceTuples(ctx, c, kind);
    if (done.rows === now.rows && done.checksum === now.checksum) {
      ctx.copied += rowsHint;
      ctx.bar.update(ctx.copied);
      return 'skipped';
    }
  }
  await ensureTargetChunks(ctx.dst, c);
  const source = await copyChunk(ctx, c, kind);
  const target = await targetDigest(ctx, c, kind);
  if (target.rows !== source.rows || target.checksum !== source.checksum) {
    throw new FailedError(
      `verification of chunk ${c.name} (${c.table}) failed: the source has ${source.rows} rows (checksum ${source.checksum}), PostgreSQL ${target.rows} (checksum ${target.checksum}); ` +
        'the target holds rows in that time range that the source does not (an earlier Larder wrote there?): migrate into an empty schema',
    );
  }
  await record(ctx.dst, item, source);
  return 'copied';
}

interface PgColumn {
  readonly name: string;
  readonly type: string;
}

/** Columns of a target table with their types, in order. */
async function targetColumns(dst: Store, schema: string, table: string): Promise<PgColumn[]> {
  const rows = await dst.query(`SELECT column_name AS n, data_type AS t FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, [schema, table]);
  return rows.map((r) => ({ name: String(r['n']), type: String(r['t']) }));
}

async function primaryKey(dst: Store, schema: string, table: string): Promise<string[]> {
  const rows = await dst.query(
    `SELECT a.attname AS n FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
     WHERE i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
    [schema, table],
  );
  return rows.map((r) => String(r['n']));
}

/** A SQLite value converted for a PostgreSQL column, as json_populate_recordset reads it. */
function convert(v: unknown, col: PgColumn, nanIfNull: boolean): unknown {
  if (v === null || v === undefined) return nanIfNull ? 'NaN' : null;
  if (col.type === 'timestamp with time zone' && typeof v === 'number') return new Date(v).toISOString();
  if (col.type === 'jsonb' || col.type === 'json') return typeof v === 'string' ? JSON.parse(v) : v;
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  return v;
}

/** Upserts a plain table whole (keyset batches on its primary key) and checks the counts. */
async function migrateTable(ctx: Ctx, schema: string, table: string, warn: (s: string) => void): Promise<void> {
  const pgCols = await targetColumns(ctx.dst, schema, table);
  if (pgCols.length === 0) {
    warn(`table ${table} has no counterpart in PostgreSQL (made by a newer Larder?): not copied`);
    return;
  }
  const srcCols = new Set(ctx.src.all(`SELECT name FROM pragma_table_info(?)`, [table]).map((r) => String(r['name'])));
  const cols = pgCols.filter((c) => srcCols.has(c.name));
  const filled = pgCols.filter((c) => !srcCols.has(c.name) && ctx.fill[c.name] !== undefined);
  const missing = [...srcCols].filter((c) => !pgCols.some((p) => p.name === c));
  if (missing.length > 0) warn(`columns ${missing.join(', ')} of ${table} have no counterpart in PostgreSQL: not copied`);
  const pk = await primaryKey(ctx.dst, schema, table);
  const srcPk = pk.filter((k) => srcCols.has(k));
  if (srcPk.length === 0 || !pk.every((k) => srcCols.has(k) || filled.some((f) => f.name === k))) {
    warn(`table ${table} has no primary key shared by both sides: not copied`);
    return;
  }
  const rest = cols.filter((c) => !pk.includes(c.name)).map((c) => pgIdent(c.name));
  const targetCols = [...cols, ...filled];
  const t = pgIdent(table);
  const update =
    rest.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET (${rest.join(', ')}) = ROW(${rest.map((n) => `EXCLUDED.${n}`).join(', ')}) WHERE (${rest.map((n) => `${t}.${n}`).join(', ')}) IS DISTINCT FROM (${rest.map((n) => `EXCLUDED.${n}`).join(', ')})`;
  const sql = `INSERT INTO ${t} (${targetCols.map((c) => pgIdent(c.name)).join(', ')})
    SELECT ${targetCols.map((c) => pgIdent(c.name)).join(', ')} FROM json_populate_recordset(NULL::${t}, $1::json)
    ON CONFLICT (${pk.map(pgIdent).join(', ')}) ${update}`;
  let after: unknown[] | undefined;
  let count = 0;
  for (;;) {
    const where = after ? ` WHERE (${srcPk.map(ident).join(', ')}) > (${srcPk.map(() => '?').join(', ')})` : '';
    const rows = ctx.src.all(`SELECT ${cols.map((c) => ident(c.name)).join(', ')} FROM ${ident(table)}${where} ORDER BY ${srcPk.map(ident).join(', ')} LIMIT ${ctx.batch}`, (after ?? []) as SqlValue[]);
    if (rows.length === 0) break;
    const json = JSON.stringify(
      rows.map((r) => ({
        ...Object.fromEntries(cols.map((c) => [c.name, convert(r[c.name], c, NAN_AS_NULL.has(`${table}.${c.name}`))])),
        ...Object.fromEntries(filled.map((c) => [c.name, ctx.fill[c.name]])),
      })),
    );
    const r = await ctx.dst.execute(sql, [json]);
    ctx.written += r.changes;
    count += rows.length;
    ctx.copied += rows.length;
    ctx.bar.update(ctx.copied);
    const last = rows[rows.length - 1]!;
    after = srcPk.map((k) => last[k]);
    if (rows.length < ctx.batch) break;
  }
  // Identity columns continue after the copied ids.
  const seq = pgCols.some((c) => c.name === 'id') ? (await ctx.dst.query(`SELECT pg_get_serial_sequence($1, 'id') AS s`, [`${pgIdent(schema)}.${t}`]))[0]?.['s'] : undefined;
  if (typeof seq === 'string') {
    await ctx.dst.query(`SELECT setval($1::regclass, GREATEST((SELECT MAX(id) FROM ${t}), 1))`, [seq]);
  }
  const n = Number((await ctx.dst.query(`SELECT COUNT(*)::float8 AS n FROM ${t}`))[0]?.['n'] ?? 0);
  if (n < count) throw new FailedError(`verification of ${table} failed: copied ${count} rows, PostgreSQL holds ${n}`);
  if (n > count) warn(`${table}: PostgreSQL holds ${n} rows, the source ${count} (the target had rows of its own); the source's rows are all there`);
}

/**
 * A pg client of its own on the target schema, for COPY streams and the session's staging
 * tables. pg-promise's types do not model a Submittable query (it returns itself), so the
 * client is typed as pg's own Client, which it is.
 */
async function copyConnection(url: string, schema: string): Promise<Client> {
  const { pg } = pgPromise({ noWarnings: true });
  const PgClient = pg.Client as unknown as new (config: ClientConfig) => Client;
  const client = new PgClient({ connectionString: url, options: `-c search_path=${schema}`, application_name: 'larder-migrate-copy' });
  await client.connect();
  return client;
}

/** Where a URL points, without its credentials. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(the --to URL)';
  }
}

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'copy the SQLite store into PostgreSQL (resumable, verified per chunk)',
  usage: `Usage: larder migrate --to postgres://user:password@host:5432/db [--to-schema NAME]

Copies the SQLite store (--storage.sqlite-path / SQLITE_DB_PATH) into PostgreSQL: series,
every raw chunk, every rollup tier, watermarks, alert history, daily summaries,
metrics_raw and metrics_hourly. Chunks are copied in batches, then read back and
verified (row count and SHA-256 checksum) before they are recorded as done in the
target's ${PROGRESS_TABLE} table: an interrupted run resumes where it stopped, and
a second run changes nothing. While Larder runs on the file, a snapshot is migrated:
stop Larder and run migrate again to copy what was recorded since, then switch
MONITORING_DB to postgresql.`,
  flags: [
    { name: 'to', value: 'URL', help: 'the target PostgreSQL (postgres://…); required' },
    { name: 'to-schema', value: 'NAME', help: 'schema in the target that holds the tables (default public; created if missing)' },
    { name: 'batch', value: 'ROWS', help: 'rows per batch (default 10000)' },
  ],
  async run({ flags, words, config, stdout, stderr }) {
    if (words.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(words[0])}`);
    const to = flags.get('to');
    if (to === undefined) throw new UsageError('--to URL is required: the target PostgreSQL, e.g. --to postgres://larder@db.example:5432/monitoring');
    if (!/^postgres(ql)?:\/\//.test(to)) throw new UsageError('--to expects a postgres:// or postgresql:// URL');
    try {
      new URL(to);
    } catch {
      throw new UsageError('--to is not a valid URL: percent-encode characters such as @ : / # % in the user or password');
    }
    const schema = flags.get('to-schema') ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new UsageError(`invalid --to-schema ${JSON.stringify(schema.slice(0, 70))}: expected [a-z_][a-z0-9_]*`);
    const batch = flags.has('batch') ? intFlag('batch', flags.get('batch')!, 100, 1_000_000) : 10_000;
    const opts = storeOptionsOf(config);
    if (opts.engine !== 'sqlite') throw new UsageError('larder migrate copies a SQLite store: set --storage.engine=sqlite (MONITORING_DB) and --storage.sqlite-path to the file');
    const path = opts.sqlitePath!;
    const warn = (s: string): void => void stderr.write(`larder: warning: ${s}\n`);

    // A running Larder keeps writing: migrate one consistent snapshot of it.
    let source = path;
    let snapshotDir: string | undefined;
    const owner = liveOwner(path);
    if (owner !== undefined) {
      snapshotDir = mkdtempSync(join(tmpdir(), 'larder-migrate-'));
      source = join(snapshotDir, 'snapshot.db');
      stderr.write(`larder: Larder (pid ${owner.pid}) is running on ${path}: migrating a snapshot taken now; samples recorded later are copied by running migrate again after stopping it\n`);
      try {
        await vacuumInto(path, source, stderr);
      } catch (e) {
        rmSync(snapshotDir, { recursive: true, force: true });
        throw new FailedError(`snapshot of ${path} failed: ${(e as Error).message}`);
      }
    }
    let src: SqliteReader;
    try {
      if (snapshotDir === undefined) assertNoDeadWriter(path);
      src = openSqliteReader({ path: source });
    } catch (e) {
      if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
      throw new FailedError((e as Error).message);
    }
    let dst: Store | undefined;
    let copy: Client | undefined;
    const started = Date.now();
    try {
      const chunkMs = Number(src.all("SELECT chunk_ms FROM chunk_tables WHERE logical = 'samples'")[0]?.['chunk_ms'] ?? 86_400_000);
      const { openPgStore } = await import('../../storage/pg-store.js');
      try {
        dst = await openPgStore({ databaseUrl: to, schema, poolSize: 2, chunkMs, applicationName: 'larder-migrate' });
        copy = await copyConnection(to, schema);
      } catch (e) {
        const err = explainOpenError({ engine: 'postgresql', databaseUrl: to }, e);
        throw new FailedError(err.message.replace(/PostgreSQL \(DATABASE_URL\)|DATABASE_URL or DB_HOST\/DB_PORT point at it/g, (m) => (m.startsWith('PostgreSQL') ? safeUrl(to) : 'the --to URL points at it')));
      }
      await dst.execute(`CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (item text PRIMARY KEY, rows bigint NOT NULL, checksum text NOT NULL, done_at timestamptz NOT NULL)`);
      await dst.execute(carryTableDdl('rollup_carry'));
      // Tiers first, so their logical tables exist in the target.
      const logicals = src.all('SELECT logical, kind, chunk_ms FROM chunk_tables').map((r) => ({ logical: String(r['logical']), kind: String(r['kind']) as TableKind, chunkMs: Number(r['chunk_ms']) }));
      for (const l of logicals) {
        if (l.kind === 'rollup') await dst.ensureRollupTier({ tier: l.logical.replace(/^rollup_/, ''), chunkMs: l.chunkMs });
      }
      const kindOf = new Map(logicals.map((l) => [l.logical, l.kind]));
      const chunks = src.chunksSync();
      const chunkRows = chunks.map((c) => Number(src.all(`SELECT COUNT(*) AS n FROM ${ident(c.name)}`)[0]?.['n'] ?? 0));
      const chunkNames = new Set(chunks.map((c) => c.name));
      const plain = src
        .all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .map((r) => String(r['name']))
        .filter((n) => !CATALOG.has(n) && !HEAD.has(n) && !chunkNames.has(n))
        .sort((a, b) => (FIRST.indexOf(a) + 1 || 99) - (FIRST.indexOf(b) + 1 || 99) || (a < b ? -1 : 1));
      const plainRows = plain.map((t) => Number(src.all(`SELECT COUNT(*) AS n FROM ${ident(t)}`)[0]?.['n'] ?? 0));
      const total = chunkRows.reduce((a, b) => a + b, 0) + plainRows.reduce((a, b) => a + b, 0);
      const bar = new ProgressBar(stderr, 'migrate', total, (n) => `${n}`);
      const headed = src.all(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = '${HEADS_STATE_TABLE}'`).length > 0;
      const ctx: Ctx = { src, dst, copy, batch, bar, headed, copied: 0, written: 0, fill: { host: config.identity.instance } };
      // series first (the others refer to it), then the chunks, then the rest.
      const [series, ...others] = plain;
      if (series !== 'series') throw new FailedError(`${path} has no series table: not a Larder store`);
      await migrateTable(ctx, schema, 'series', warn);
      let copied = 0;
      let skipped = 0;
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i]!;
        const kind = kindOf.get(c.table);
        if (kind === undefined) continue;
        if ((await migrateChunk(ctx, c, kind, chunkRows[i]!)) === 'copied') copied++;
        else skipped++;
      }
      for (const t of others) await migrateTable(ctx, schema, t, warn);
      bar.finish();
      const secs = (Date.now() - started) / 1000;
      stdout.write(
        `migrated ${path} to ${safeUrl(to)} schema ${schema} in ${formatEta(secs)}: ${chunks.length} chunks (${copied} copied and verified, ${skipped} already there), ` +
          `${plain.length} tables, ${total} rows read, ${ctx.written} rows written\n`,
      );
      return 0;
    } finally {
      await src.close();
      await dst?.close();
      await copy?.end().catch(() => undefined);
      if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
    }
  },
};
