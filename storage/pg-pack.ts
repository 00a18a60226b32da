/**
 * Packed raw chunks on PostgreSQL, the SQL. A closed raw chunk (a partition of
 * `samples_rows`, one row per sample, ~95 bytes each with its index) is rewritten as
 * one row per series holding the chunk's times and values as arrays (`<chunk>_packed`,
 * a partition of `samples_packed`; the arrays are TOASTed, ~16 bytes a sample), as
 * TimescaleDB's compression and Promscale did. The chunk's name becomes a view that
 * unnests them, so every reader by chunk name (rollups, migrate's checks, SQL users)
 * and the `samples` view see the same rows as before.
 *
 * The whole step is one transaction: the packed rows are committed in the same
 * transaction that empties the row partition, so a kill at any point leaves the chunk
 * either as it was or packed. The emptied partition stays (renamed `<chunk>_rows`)
 * with a `CHECK (false)`: a writer whose catalog predates the packing gets a check
 * violation instead of writing beside the packed rows, reloads, and merges instead.
 * Keeping it avoids locking the `samples_rows` parent, which DETACH or DROP would.
 */
import { PACKED_ROWS, packedTable, pgIdent, tombstoneTable, tsLiteral, tsOf } from './pg-sql.js';
import type { ChunkInfo } from './store.js';

/** The name of the CHECK (false) constraint on a packed chunk's emptied row partition. */
export const TOMBSTONE_CHECK = 'larder_packed';

/**
 * Statements that pack one raw chunk, in order, to run in one transaction after taking
 * Larder's DDL advisory lock and checking the chunk is not packed yet.
 */
export function packChunkSql(c: ChunkInfo): { readonly lockAndFill: readonly string[]; readonly swap: readonly string[] } {
  const rows = pgIdent(c.name);
  const packed = pgIdent(packedTable(c.name));
  const start = tsLiteral(c.startMs);
  return {
    lockAndFill: [
      // Writers into this chunk wait; readers go on until the TRUNCATE below.
      `LOCK TABLE ${rows} IN EXCLUSIVE MODE`,
      `CREATE TABLE ${packed} (LIKE samples_packed INCLUDING ALL)`,
      `INSERT INTO ${packed} (series_id, start_ts, ts, value)
       SELECT series_id, ${start}, array_agg(ts ORDER BY ts), array_agg(value ORDER BY ts) FROM ${rows} GROUP BY series_id`,
    ],
    swap: [
      `TRUNCATE ${rows}`,
      `ALTER TABLE ${rows} RENAME TO ${pgIdent(tombstoneTable(c.name))}`,
      `ALTER TABLE ${pgIdent(tombstoneTable(c.name))} ADD CONSTRAINT ${TOMBSTONE_CHECK} CHECK (false)`,
      `CREATE VIEW ${rows} AS SELECT p.series_id, u.ts, u.value FROM ${packed} p ${PACKED_ROWS}`,
      // ShareUpdateExclusive on the parent only: readers of `samples` are not blocked.
      `ALTER TABLE samples_packed ATTACH PARTITION ${packed} FOR VALUES FROM (${start}) TO (${tsLiteral(c.endMs)})`,
    ],
  };
}

/**
 * Merges samples into a packed chunk's rows (late samples, the spool's forwarding):
 * `$1` series ids, `$2` epoch-ms times, `$3` values (NULL: a stale marker). A sample at a
 * time already held replaces it, as an upsert of a row does; the arrays stay in time
 * order. Run after `LOCK TABLE <packed> IN SHARE ROW EXCLUSIVE MODE`, which serialises
 * merges into one chunk (each rewrites whole rows it read).
 */
export function mergePackedSql(c: ChunkInfo): string {
  const packed = pgIdent(packedTable(c.name));
  return `WITH n AS MATERIALIZED (SELECT s, ${tsOf('t')} AS ts, v FROM unnest($1::int[], $2::float8[], $3::float8[]) AS x(s, t, v))
INSERT INTO ${packed} (series_id, start_ts, ts, value)
SELECT m.s, ${tsLiteral(c.startMs)}, array_agg(m.ts ORDER BY m.ts), array_agg(m.v ORDER BY m.ts)
FROM (
  SELECT s, ts, v FROM n
  UNION ALL
  SELECT p.series_id, u.ts, u.value FROM ${packed} p ${PACKED_ROWS}
  WHERE p.series_id IN (SELECT s FROM n) AND NOT EXISTS (SELECT 1 FROM n WHERE n.s = p.series_id AND n.ts = u.ts)
) m
GROUP BY m.s
ON CONFLICT (series_id, start_ts) DO UPDATE SET ts = EXCLUDED.ts, value = EXCLUDED.value`;
}

/** Drops a packed chunk: its view, its packed rows and its emptied row partition. */
export function dropPackedSql(c: { readonly name: string }): readonly string[] {
  return [
    `DROP VIEW IF EXISTS ${pgIdent(c.name)}`,
    `DROP TABLE IF EXISTS ${pgIdent(packedTable(c.name))}`,
    `DROP TABLE IF EXISTS ${pgIdent(tombstoneTable(c.name))}`,
  ];
}
