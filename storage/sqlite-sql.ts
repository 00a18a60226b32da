/**
 * SQLite DDL and SQL, pure: the migrations, the DDL of one chunk, and the
 * `<logical>_all` view over a table's chunks. Times are epoch ms INTEGER in `ts`
 * columns; NaN is stored as NULL (SQLite cannot hold a NaN REAL), a stale marker as a
 * zero-length BLOB (storage/stale.ts).
 */
import { KIND_COLUMNS, type TableKind } from './table-kinds.js';
import { sqliteNamedViewsDdl } from './named-views-sql.js';
import { sqliteLive } from './stale.js';
import { headLatestMigrationSql, headMigrationSql, headViewArms } from './sqlite-head-sql.js';

/** A forward-only schema migration. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Statements run in one transaction. */
  readonly sql: string;
}

/** Quotes an identifier (names come from validated patterns, but quote anyway). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQLite migrations, in order. Append only: a released migration never changes. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  fingerprint TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL CHECK (type IN ('counter','gauge','histogram','summary','untyped')),
  help TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX series_name ON series (name);
CREATE TABLE series_latest (
  series_id INTEGER PRIMARY KEY REFERENCES series (id),
  ts INTEGER NOT NULL,
  value REAL
) WITHOUT ROWID;
CREATE TABLE chunk_tables (
  logical TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('samples','rollup','quantiles')),
  chunk_ms INTEGER NOT NULL
);
CREATE TABLE chunks (
  name TEXT PRIMARY KEY,
  logical TEXT NOT NULL REFERENCES chunk_tables (logical),
  start_ts INTEGER NOT NULL,
  end_ts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (logical, start_ts)
);
CREATE TABLE rollup_watermarks (tier TEXT PRIMARY KEY, watermark_ms INTEGER NOT NULL);
CREATE TABLE metrics_raw (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX metrics_raw_ts ON metrics_raw (ts);
CREATE TABLE metrics_hourly (
  series_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  metric_name TEXT NOT NULL,
  labels TEXT NOT NULL,
  avg REAL,
  min REAL,
  max REAL,
  count INTEGER NOT NULL,
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
CREATE INDEX metrics_hourly_name ON metrics_hourly (metric_name, ts);
CREATE TABLE daily_summaries (
  date TEXT PRIMARY KEY,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE alert_history (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('info','warning','critical')),
  message TEXT NOT NULL,
  value REAL,
  threshold REAL,
  labels TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('firing','resolved')),
  fired_at INTEGER NOT NULL,
  resolved_at INTEGER
);
CREATE INDEX alert_history_open ON alert_history (status, name);
CREATE INDEX alert_history_fired ON alert_history (fired_at);
CREATE VIEW latest_metrics AS
  SELECT se.name AS metric_name, se.labels AS labels, l.value AS value, l.ts AS ts,
         strftime('%Y-%m-%dT%H:%M:%fZ', l.ts / 1000.0, 'unixepoch') AS timestamp, se.id AS series_id
  FROM series_latest l JOIN series se ON se.id = l.series_id;
CREATE VIEW active_alerts AS
  SELECT * FROM alert_history WHERE status = 'firing';
INSERT INTO chunk_tables (logical, kind, chunk_ms) VALUES ('samples', 'samples', 86400000);
CREATE VIEW samples_all AS SELECT NULL AS series_id, NULL AS ts, NULL AS value WHERE 0;
CREATE VIEW system_metrics AS
  SELECT s.ts AS ts, strftime('%Y-%m-%dT%H:%M:%fZ', s.ts / 1000.0, 'unixepoch') AS timestamp,
         se.name AS metric_name, s.value AS value, se.labels AS labels, se.id AS series_id
  FROM samples_all s JOIN series se ON se.id = s.series_id;
`,
  },
  { version: 2, name: 'named views per tier', sql: sqliteNamedViewsDdl() },
  {
    version: 3,
    name: 'metrics_hourly: increase and rate of counters',
    sql: `
ALTER TABLE metrics_hourly ADD COLUMN increase REAL;
ALTER TABLE metrics_hourly ADD COLUMN rate REAL;
`,
  },
  {
    version: 4,
    name: 'many hosts: series awaiting host labels',
    // The series recorded before host labels existed; the Larder that opens the store gives
    // them its labels (storage/host-labels.ts) and empties the table. A SQLite file has one
    // writer, so neither series nor watermarks need an owner here.
    sql: `
CREATE TABLE series_unlabelled (id INTEGER PRIMARY KEY);
INSERT INTO series_unlabelled (id) SELECT id FROM series;
`,
  },
  {
    // A stale marker is a zero-length BLOB in a raw chunk's `value` (NaN stays NULL):
    // storage/stale.ts. The version keeps an older Larder, which would read the BLOB as
    // 0, from opening the store. `samples_all` (and so `samples_named`, `system_metrics`)
    // leaves the markers out: the engine rebuilds it from its chunks at open
    // (sqlite-engine.ts, ensureSamplesView), as SQL alone cannot list them.
    version: 5,
    name: 'stale markers: a zero-length BLOB value, left out of samples_all',
    sql: `DROP VIEW IF EXISTS samples_all;
CREATE VIEW samples_all AS SELECT NULL AS series_id, NULL AS ts, NULL AS value WHERE 0;
`,
  },
  {
    version: 7,
    name: 'notification_log: notifications that failed for good',
    sql: `
CREATE TABLE notification_log (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  receiver TEXT NOT NULL,
  integration TEXT NOT NULL,
  group_key TEXT NOT NULL,
  alerts INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('failed','dropped')),
  error TEXT NOT NULL
);
CREATE INDEX notification_log_ts ON notification_log (ts);
`,
  },
  {
    // Raw samples are appended to a time-keyed head and folded into the chunk tables in
    // bulk (storage/sqlite-head-sql.ts): a tick wrote one B-tree leaf per series before.
    // `samples_all` gains the heads' arms when the engine rebuilds it at open.
    version: 8,
    name: 'raw samples: an append-only head folded into the chunks',
    sql: headMigrationSql(),
  },
  {
    // With six hours in the head, latest_metrics grouped all of it: series_latest is now
    // refreshed from the head every 15 minutes and the view reads only what is newer.
    version: 9,
    name: 'latest_metrics: series_latest refreshed from the head, the view reads past it',
    sql: headLatestMigrationSql(),
  },
];

/** Columns of one kind, SQLite types. */
function columnsDdl(kind: TableKind): string {
  return KIND_COLUMNS[kind].map((c) => `${ident(c.name)} ${c.integer ? 'INTEGER' : 'REAL'}`).join(', ');
}

/** DDL of one chunk table: WITHOUT ROWID, keyed (series_id, ts) — 22 bytes/sample measured. */
export function chunkTableDdl(name: string, kind: TableKind): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(name)} (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, ${columnsDdl(kind)}, PRIMARY KEY (series_id, ts)) WITHOUT ROWID`;
}

/** Column list of a kind, for selects and inserts. */
export function kindColumnList(kind: TableKind): string {
  return ['series_id', 'ts', ...KIND_COLUMNS[kind].map((c) => c.name)].map(ident).join(', ');
}

/** An empty select with the kind's columns (the view when no chunk exists yet). */
function emptySelect(kind: TableKind): string {
  const cols = ['series_id', 'ts', ...KIND_COLUMNS[kind].map((c) => c.name)];
  return `SELECT ${cols.map((c) => `NULL AS ${ident(c)}`).join(', ')} WHERE 0`;
}

// SQLite limits a compound SELECT to 500 arms (SQLITE_MAX_COMPOUND_SELECT); nest groups.
const ARMS = 400;

/** The raw chunks' arms of `samples_all`: stale markers (zero-length BLOBs, storage/stale.ts) left out; nested by ARMS. */
function chunkArms(chunks: readonly string[], cols: string): string[] {
  const where = ` WHERE ${sqliteLive(ident('value'))}`;
  const groups: string[] = [];
  for (let i = 0; i < chunks.length; i += ARMS) groups.push(chunks.slice(i, i + ARMS).map((c) => `SELECT ${cols} FROM ${ident(c)}${where}`).join(' UNION ALL '));
  return groups.length <= 1 ? groups : groups.map((g) => `SELECT * FROM (${g})`);
}

/**
 * `DROP VIEW` + `CREATE VIEW <logical>_all` as the UNION ALL of `chunks` (oldest first);
 * for `samples`, also the raw-sample heads (sqlite-head-sql.ts), stale markers left out.
 */
export function allViewDdl(logical: string, kind: TableKind, chunks: readonly string[]): string[] {
  const view = ident(`${logical}_all`);
  const cols = kindColumnList(kind);
  let body: string;
  if (kind === 'samples') body = [...chunkArms(chunks, cols), headViewArms(cols)].join(' UNION ALL ');
  else if (chunks.length === 0) body = emptySelect(kind);
  else {
    const groups: string[] = [];
    for (let i = 0; i < chunks.length; i += ARMS) groups.push(chunks.slice(i, i + ARMS).map((c) => `SELECT ${cols} FROM ${ident(c)}`).join(' UNION ALL '));
    body = groups.length === 1 ? groups[0]! : groups.map((g) => `SELECT * FROM (${g})`).join(' UNION ALL ');
  }
  return [`DROP VIEW IF EXISTS ${view}`, `CREATE VIEW ${view} AS ${body}`];
}
