/**
 * The series and raw-sample reads of a SQLite store, shared by the engine (the owner, in
 * its worker, with its statement cache) and the read-only view other processes use
 * (sqlite-reader.ts), so both answer alike (a stale marker, a zero-length BLOB, reads as
 * the stale NaN in both). Callers wrap them in one read transaction: one dotfile lock.
 */
import { ident } from './sqlite-sql.js';
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

/** Raw samples of the series `q` picks in `[fromMs, toMs)`, from `chunks` (those of `samples` that overlap it, oldest first). */
export function readSamplesFrom(db: ReadDb, q: ReadQuery, chunks: readonly ChunkInfo[]): ReadResult {
  const series = selectSeries(db, q);
  const limit = q.limit ?? Number.POSITIVE_INFINITY;
  const samples: Sample[] = [];
  outer: for (const s of series) {
    for (const c of chunks) {
      for (const r of db.all(`SELECT ts, value FROM ${ident(c.name)} WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts`, [s.id, q.fromMs, q.toMs])) {
        if (samples.length >= limit) break outer;
        const v = r['value'];
        samples.push({ seriesId: s.id, timeMs: Number(r['ts']), value: v === null ? Number.NaN : v instanceof Uint8Array ? staleNaN() : Number(v) });
      }
    }
  }
  return { series, samples };
}
