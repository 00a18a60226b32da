/**
 * Packed chunks on PostgreSQL, the SQL: raw chunks (schema version 8) and the chunks of
 * the tiers' rows (`rollup_<tier>`, version 9) alike. A closed raw chunk (a partition of
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
 *
 * A tier chunk is packed the same way, one row per series with an array per column
 * (`rollup_<tier>_packed`). A slice rolled up again into a packed tier chunk (a host
 * that was behind, rolling up its spooled samples) is computed into a temporary table
 * and merged into the packed rows (mergeTierSliceSql).
 */
import { KIND_COLUMNS } from './table-kinds.js';
import { PACKED_ROWS, packedColumns, packedRowsSql, packedSelectSql, packedTable, pgIdent, pgPackedParent, tombstoneTable, tsLiteral, tsOf } from './pg-sql.js';
import type { ChunkInfo } from './store.js';

/** The name of the CHECK (false) constraint on a packed chunk's emptied row partition. */
export const TOMBSTONE_CHECK = 'larder_packed';

/**
 * Statements that pack one chunk of a packable table (raw samples, a tier's rows), in
 * order, to run in one transaction after locking the chunk's catalog row and checking
 * the chunk is not packed yet.
 */
export function packChunkSql(c: ChunkInfo): { readonly lockAndFill: readonly string[]; readonly swap: readonly string[] } {
  const rows = pgIdent(c.name);
  const packed = pgIdent(packedTable(c.name));
  const start = tsLiteral(c.startMs);
  const cols = packedColumns(c.table).map((x) => pgIdent(x.name));
  return {
    lockAndFill: [
      // Writers into this chunk wait; readers go on until the TRUNCATE below.
      `LOCK TABLE ${rows} IN EXCLUSIVE MODE`,
      `CREATE TABLE ${packed} (LIKE ${pgIdent(pgPackedParent(c.table))} INCLUDING ALL)`,
      `INSERT INTO ${packed} (series_id, start_ts, ts, ${cols.join(', ')})
       SELECT series_id, ${start}, array_agg(ts ORDER BY ts), ${cols.map((x) => `array_agg(${x} ORDER BY ts)`).join(', ')} FROM ${rows} GROUP BY series_id`,
    ],
    swap: [
      `TRUNCATE ${rows}`,
      `ALTER TABLE ${rows} RENAME TO ${pgIdent(tombstoneTable(c.name))}`,
      `ALTER TABLE ${pgIdent(tombstoneTable(c.name))} ADD CONSTRAINT ${TOMBSTONE_CHECK} CHECK (false)`,
      `CREATE VIEW ${rows} AS SELECT ${packedSelectSql(c.table)} FROM ${packed} p ${packedRowsSql(c.table)}`,
      // ShareUpdateExclusive on the parent only: readers of the logical view are not blocked.
      `ALTER TABLE ${pgIdent(pgPackedParent(c.table))} ATTACH PARTITION ${packed} FOR VALUES FROM (${start}) TO (${tsLiteral(c.endMs)})`,
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

/**
 * Writes a tier slice's rows, computed into the temporary table `staging` (same
 * columns as the tier's rows), into a packed tier chunk: the packed rows' elements in
 * `[from, to)` of the slice's series (those of host `$3`, every series when NULL) are replaced by the
 * staged rows, as the slice's DELETE and INSERT do on a row partition. Two statements,
 * in order, after `LOCK TABLE <packed> IN SHARE ROW EXCLUSIVE MODE`: rewrite the rows
 * of the series staged or holding elements in the range (arrays in time order), then
 * drop those left with no element outside the range and none staged. `$1`, `$2`: the
 * range in epoch ms.
 */
export function mergeTierSliceSql(c: ChunkInfo, staging: string): readonly string[] {
  const packed = pgIdent(packedTable(c.name));
  const cols = KIND_COLUMNS.rollup.map((x) => pgIdent(x.name));
  const own = '($3::text IS NULL OR p.series_id = ANY (ARRAY(SELECT id FROM series WHERE host = $3::text)))';
  const inRange = `u.ts >= ${tsOf('$1')} AND u.ts < ${tsOf('$2')} AND ${own}`;
  const touched = `(p.series_id IN (SELECT series_id FROM ${pgIdent(staging)}) OR ${own} AND p.ts[cardinality(p.ts)] >= ${tsOf('$1')} AND p.ts[1] < ${tsOf('$2')})`;
  return [
    `INSERT INTO ${packed} (series_id, start_ts, ts, ${cols.join(', ')})
SELECT m.series_id, ${tsLiteral(c.startMs)}, array_agg(m.ts ORDER BY m.ts), ${cols.map((x) => `array_agg(m.${x} ORDER BY m.ts)`).join(', ')}
FROM (
  SELECT series_id, ts, ${cols.join(', ')} FROM ${pgIdent(staging)}
  UNION ALL
  SELECT ${packedSelectSql(c.table)} FROM ${packed} p ${packedRowsSql(c.table)}
  WHERE ${touched} AND NOT (${inRange})
) m
GROUP BY m.series_id
ON CONFLICT (series_id, start_ts) DO UPDATE SET ts = EXCLUDED.ts, ${cols.map((x) => `${x} = EXCLUDED.${x}`).join(', ')}`,
    // Series whose every element was in the range and that have no staged row: nothing left.
    `DELETE FROM ${packed} p WHERE ${touched} AND p.series_id NOT IN (SELECT series_id FROM ${pgIdent(staging)})
  AND NOT EXISTS (SELECT 1 FROM unnest(p.ts) AS u(ts) WHERE NOT (${inRange}))`,
  ];
}

/** Drops a packed chunk: its view, its packed rows and its emptied row partition. */
export function dropPackedSql(c: { readonly name: string }): readonly string[] {
  return [
    `DROP VIEW IF EXISTS ${pgIdent(c.name)}`,
    `DROP TABLE IF EXISTS ${pgIdent(packedTable(c.name))}`,
    `DROP TABLE IF EXISTS ${pgIdent(tombstoneTable(c.name))}`,
  ];
}
