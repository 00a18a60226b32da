/**
 * The series and raw-sample reads of a SQLite store, shared by the engine (the owner, in
 * its worker, with its statement cache) and the read-only view other processes use
 * (sqlite-reader.ts), so both answer alike (a stale marker, a zero-length BLOB, reads as
 * the stale NaN in both). Callers wrap them in one read transaction: one dotfile lock.
 */
import { ident } from './sqlite-sql.js';
import { HEAD_TABLES, headArms, headVisible, type HeadTable } from './sqlite-head-sql.js';
import { staleNaN } from './stale.js';
import { matchSeries, seriesFromRow, type SeriesRow } from './store-common.js';
import type { ChunkInfo, ReadQuery, ReadResult, Row, Sample, SeriesInfo, SqlValue } from './store.js';

/** What the reads need of a connection: rows of a statement (the engine's is cached). */
export interface ReadDb {
  all(sql: string, params: SqlValue[]): Row[];
}

const SERIES_SQL = 'SELECT id, name, labels, type, help, fingerprint, created_at FROM series';

/** Series rows, all (by id) or the given ids (unknown ids are left out). */
export function readSeries(db: ReadDb, ids?: readonly number[]): SeriesInfo[] {
  if (ids === undefined) return db.all(`${SERIES_SQL} ORDER BY id`, []).map((r) => seriesFromRow(r as unknown as SeriesRow));
  const out: SeriesInfo[] = [];
  for (const id of ids) {
    const r = db.all(`${SERIES_SQL} WHERE id = ?`, [id])[0];
    if (r !== undefined) out.push(seriesFromRow(r as unknown as SeriesRow));
  }
  return out;
}

/** The series a read picks (its ids, or its name and matchers), by id. */
export function selectSeries(db: ReadDb, q: ReadQuery): SeriesInfo[] {
  if (q.seriesIds !== undefined) return readSeries(db, q.seriesIds).sort((a, b) => a.id - b.id);
  return matchSeries(db.all(`${SERIES_SQL} WHERE name = ? ORDER BY id`, [q.name!]).map((r) => seriesFromRow(r as unknown as SeriesRow)), q.matchers ?? []);
}

/** Ids bound per statement: well under SQLite's bound-parameter limit. */
export const SQLITE_IDS_PER_STATEMENT = 500;

/**
 * Up to this many series, a head read seeks each of the range's distinct times (a tick
 * writes all its samples at one time: 240 seeks for an hour at 15 s) instead of scanning
 * every row of the range (a full head holds an hour of every series).
 */
const HEAD_SEEK_MAX_IDS = 32;

/**
 * The SQL and parameters reading the heads' rows (not yet folded, stale markers included)
 * of `ids` in `[fromMs, toMs)`, by series then time, `SQLITE_IDS_PER_STATEMENT` ids each.
 * The heads are keyed by (ts, series_id): many ids scan the time range; a few seek.
 */
export function headStatements(ids: readonly number[], fromMs: number, toMs: number): { sql: string; params: number[] }[] {
  const out: { sql: string; params: number[] }[] = [];
  if (fromMs >= toMs) return out;
  for (let i = 0; i < ids.length; i += SQLITE_IDS_PER_STATEMENT) {
    const batch = ids.slice(i, i + SQLITE_IDS_PER_STATEMENT);
    const inList = batch.map((_, k) => `?${k + 3}`).join(',');
    const sql =
      batch.length <= HEAD_SEEK_MAX_IDS
        ? HEAD_TABLES.map((h) => headSeekSql(h, inList)).join(' UNION ALL ')
        : headArms('series_id, ts, value', `ts >= ?1 AND ts < ?2 AND series_id IN (${inList})`);
    out.push({ sql: `${sql} ORDER BY 1, 2`, params: [fromMs, toMs, ...batch] });
  }
  return out;
}

/** One head's rows of the ids `inList` in `[?1, ?2)`: its distinct times walked by seeks (a recursive CTE), a key lookup per time and id. */
function headSeekSql(h: HeadTable, inList: string): string {
  const t = ident(h);
  return `SELECT r.series_id AS series_id, r.ts AS ts, r.value AS value FROM (
      WITH RECURSIVE d(ts) AS (SELECT (SELECT MIN(ts) FROM ${t} WHERE ts >= ?1) UNION ALL SELECT (SELECT MIN(ts) FROM ${t} WHERE ts > d.ts) FROM d WHERE d.ts < ?2)
      SELECT ts FROM d WHERE ts < ?2
    ) d CROSS JOIN ${t} r ON r.ts = d.ts AND r.series_id IN (${inList}) WHERE ${headVisible(h, 'r.')}`;
}

/** A stored value as a sample's: NULL is NaN, a zero-length BLOB the stale marker. */
function valueOf(v: unknown): number {
  return v === null ? Number.NaN : v instanceof Uint8Array ? staleNaN() : Number(v);
}

/**
 * Raw samples of the series `q` picks in `[fromMs, toMs)`, from `chunks` (those of
 * `samples` that overlap it, oldest first) and, with `withHead` (a store of schema 8 or
 * later), the raw-sample heads (sqlite-head-sql.ts), each series' samples in time order.
 */
export function readSamplesFrom(db: ReadDb, q: ReadQuery, chunks: readonly ChunkInfo[], withHead = true): ReadResult {
  const series = selectSeries(db, q);
  const limit = q.limit ?? Number.POSITIVE_INFINITY;
  const samples: Sample[] = [];
  const head = new Map<number, Sample[]>();
  if (withHead && chunks.length > 0 && series.length > 0) {
    for (const st of headStatements(series.map((s) => s.id), q.fromMs, q.toMs)) {
      for (const r of db.all(st.sql, st.params)) {
        const id = Number(r['series_id']);
        let list = head.get(id);
        if (list === undefined) head.set(id, (list = []));
        list.push({ seriesId: id, timeMs: Number(r['ts']), value: valueOf(r['value']) });
      }
    }
  }
  outer: for (const s of series) {
    const own: Sample[] = [];
    for (const c of chunks) {
      for (const r of db.all(`SELECT ts, value FROM ${ident(c.name)} WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts`, [s.id, q.fromMs, q.toMs])) {
        own.push({ seriesId: s.id, timeMs: Number(r['ts']), value: valueOf(r['value']) });
      }
    }
    const h = head.get(s.id);
    if (h !== undefined) {
      // Usually all newer than the chunk's rows; a late sample may sit in between.
      own.push(...h);
      own.sort((a, b) => a.timeMs - b.timeMs);
    }
    for (const x of own) {
      if (samples.length >= limit) break outer;
      samples.push(x);
    }
  }
  return { series, samples };
}

/** Whether a table is one of the raw-sample heads (counted with `samples` in the stats). */
export function isHeadTable(name: string): name is HeadTable {
  return (HEAD_TABLES as readonly string[]).includes(name);
}

/** The rows of a head table not yet folded (a folding head still holds the folded ones). */
export function headRowCount(db: ReadDb, head: HeadTable): number {
  return Number(db.all(`SELECT COUNT(*) AS n FROM ${ident(head)} WHERE ${headVisible(head)}`, [])[0]?.['n'] ?? 0);
}

/**
 * The oldest and newest raw sample times: each end's first chunk table holding any, and
 * the heads (with `withHead`), whose key leads with the time.
 */
export function rawExtent(db: ReadDb, chunks: readonly ChunkInfo[], withHead: boolean): { oldest: number | null; newest: number | null } {
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  let oldest: number | null = null;
  let newest: number | null = null;
  for (const c of chunks) {
    oldest = num(db.all(`SELECT MIN(ts) AS t FROM ${ident(c.name)}`, [])[0]?.['t']);
    if (oldest !== null) break;
  }
  for (let i = chunks.length - 1; i >= 0; i--) {
    newest = num(db.all(`SELECT MAX(ts) AS t FROM ${ident(chunks[i]!.name)}`, [])[0]?.['t']);
    if (newest !== null) break;
  }
  if (withHead) {
    for (const h of HEAD_TABLES) {
      const lo = num(db.all(`SELECT ts FROM ${ident(h)} WHERE ${headVisible(h)} ORDER BY ts LIMIT 1`, [])[0]?.['ts']);
      const hi = num(db.all(`SELECT ts FROM ${ident(h)} WHERE ${headVisible(h)} ORDER BY ts DESC LIMIT 1`, [])[0]?.['ts']);
      if (lo !== null && (oldest === null || lo < oldest)) oldest = lo;
      if (hi !== null && (newest === null || hi > newest)) newest = hi;
    }
  }
  return { oldest, newest };
}
