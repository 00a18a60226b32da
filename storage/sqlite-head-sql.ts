/**
 * SQL of the raw-sample head, pure (storage/sqlite-head.ts manages it; docs/storage.md
 * describes the layout).
 *
 * A record tick appends its samples to a head table keyed `(ts, series_id)`: time-major, so
 * a tick writes the right edge of one B-tree (a leaf or two and their parents), where the
 * chunk tables, keyed `(series_id, ts)` so that one series reads as one key range, would
 * take one leaf per series. Two head tables take turns: one is appended to, the other
 * (once rotated out) is folded into the chunk tables series range by series range, each
 * step its own transaction that also raises the folding head's `folded_below`. Rows of
 * the folding head with `series_id < folded_below` are already in the chunk tables and
 * every reader leaves them out (`headVisible`), so a sample is seen exactly once at any
 * commit; the last step empties the folding head.
 */
import { sqliteLive } from './stale.js';

/** Quotes one of this module's constant names (sqlite-sql.ts imports this module, so not its `ident`). */
function ident(name: string): string {
  return `"${name}"`;
}

/** The schema version that added the head (storage/sqlite-sql.ts): an older store has none. */
export const HEAD_SCHEMA_VERSION = 8;

/** The two head tables. */
export const HEAD_TABLES = ['samples_head_a', 'samples_head_b'] as const;
export type HeadTable = (typeof HEAD_TABLES)[number];

/** Where each head's role and fold progress are kept. */
export const HEADS_STATE_TABLE = 'samples_heads';

/** DDL of migration 8: both heads (the first appended to) and their state. */
export function headMigrationSql(): string {
  const tables = HEAD_TABLES.map(
    (t) => `CREATE TABLE ${ident(t)} (ts INTEGER NOT NULL, series_id INTEGER NOT NULL, value REAL, PRIMARY KEY (ts, series_id)) WITHOUT ROWID;`,
  ).join('\n');
  return `${tables}
CREATE TABLE ${HEADS_STATE_TABLE} (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('append','fold')),
  folded_below INTEGER NOT NULL
);
INSERT INTO ${HEADS_STATE_TABLE} (name, role, folded_below) VALUES ('${HEAD_TABLES[0]}', 'append', -1), ('${HEAD_TABLES[1]}', 'fold', -1);
${latestViewDdl(latestSql())}`;
}

/** Where `series_latest` stands in the heads (migration 9): one row. */
export const HEAD_LATEST_TABLE = 'samples_head_latest';

/**
 * DDL of migration 9: `samples_head_latest(through_ms)`. Every live head row at or before
 * `through_ms` is in `series_latest` (the head refreshes it every 15 minutes of sample
 * time, sqlite-head.ts), so `latest_metrics` reads only the heads' newer rows: with six
 * hours in the head, grouping all of it took seconds.
 */
export function headLatestMigrationSql(): string {
  return `CREATE TABLE ${HEAD_LATEST_TABLE} (through_ms INTEGER NOT NULL);
INSERT INTO ${HEAD_LATEST_TABLE} (through_ms) VALUES (-1);
${latestViewDdl(boundedLatestSql())}`;
}

function latestViewDdl(latest: string): string {
  return `DROP VIEW latest_metrics;
CREATE VIEW latest_metrics AS
  SELECT se.name AS metric_name, se.labels AS labels, l.value AS value, l.ts AS ts,
         strftime('%Y-%m-%dT%H:%M:%fZ', l.ts / 1000.0, 'unixepoch') AS timestamp, se.id AS series_id
  FROM (${latest}) l JOIN series se ON se.id = l.series_id;
`;
}

/** Each series' newest sample, the heads read past `through_ms` only (schema version 9). */
function boundedLatestSql(): string {
  return `SELECT series_id, MAX(ts) AS ts, value FROM (SELECT series_id, ts, value FROM series_latest UNION ALL ${headArms('series_id, ts, value', `${sqliteLive(ident('value'))} AND ts > (SELECT through_ms FROM ${HEAD_LATEST_TABLE})`)}) GROUP BY series_id`;
}

/** How a row upserted into `series_latest` lands: a newer sample replaces, an older never does. */
export const LATEST_UPSERT = 'ON CONFLICT (series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value WHERE excluded.ts >= series_latest.ts';

/**
 * The upsert that brings `series_latest` up to the heads' live rows past the stored bound
 * and up to `?1`: each series' newest (the bare `value` of one MAX(), as in the views),
 * never moving a series back in time. It starts from the stored bound, not the caller's
 * idea of it, so a rolled-back refresh leaves no gap.
 */
export function refreshLatestSql(): string {
  return `INSERT INTO series_latest (series_id, ts, value)
  SELECT series_id, MAX(ts), value FROM (${headArms('series_id, ts, value', `${sqliteLive(ident('value'))} AND ts > (SELECT through_ms FROM ${HEAD_LATEST_TABLE}) AND ts <= ?1`)}) WHERE true GROUP BY series_id
  ${LATEST_UPSERT}`;
}

/**
 * Each series' newest sample (schema version 8): `series_latest` is written when the head
 * is folded (and by late writes), no longer by every tick (which rewrote its pages, with
 * their journal copies, at every commit); the head's newer samples are taken from the
 * head, all of it (version 9 bounds that). With one
 * MAX() the bare `value` comes from the row holding it (SQLite's documented rule); a
 * (series, time) is never in both.
 */
function latestSql(): string {
  return `SELECT series_id, MAX(ts) AS ts, value FROM (SELECT series_id, ts, value FROM series_latest UNION ALL ${headArms('series_id, ts, value', sqliteLive(ident('value')))}) GROUP BY series_id`;
}

/** The condition that keeps a head's rows not yet folded (`alias.` prefix optional). */
export function headVisible(head: HeadTable, alias = ''): string {
  return `${alias}series_id >= (SELECT folded_below FROM ${HEADS_STATE_TABLE} WHERE name = '${head}')`;
}

/**
 * `SELECT <cols> FROM head WHERE <visible> [AND where]` for each head, joined by UNION
 * ALL: the head's part of a read. `where` may use `?NNN` parameters (bound once for both).
 */
export function headArms(cols: string, where = ''): string {
  return HEAD_TABLES.map((h) => `SELECT ${cols} FROM ${ident(h)} WHERE ${headVisible(h)}${where === '' ? '' : ` AND ${where}`}`).join(' UNION ALL ');
}

/** The head arms of the `samples_all` view: visible rows, stale markers left out. */
export function headViewArms(cols: string): string {
  return headArms(cols, sqliteLive(ident('value')));
}

/** Whether the heads hold a visible row in `[?1, ?2)`: one row or none. */
export function headHasRowsSql(): string {
  return `SELECT 1 AS x FROM (${headArms('ts', 'ts >= ?1 AND ts < ?2')}) LIMIT 1`;
}
