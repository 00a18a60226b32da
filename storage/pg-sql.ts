/**
 * PostgreSQL DDL and SQL, pure. Times are `timestamptz` columns named `ts` (Grafana's
 * `$__timeFilter(ts)` works as is); values `double precision`, which holds NaN and
 * ±Infinity natively; a raw sample's NULL value is a stale marker (storage/stale.ts).
 * Chunked tables are native range partitions on `ts`.
 */
import { KIND_COLUMNS, type TableKind } from './table-kinds.js';
import type { Migration } from './sqlite-sql.js';
import { pgNamedViewsDdl } from './named-views-sql.js';

/**
 * The advisory-lock key for Larder's DDL (migrations, partitions, the rollups' own
 * tables) in one database: several Larder hosts may run DDL at the same moment, and
 * two concurrent `CREATE TABLE IF NOT EXISTS` of one table fail on PostgreSQL.
 */
export const PG_DDL_LOCK = 0x4c617264; // 'Lard'

/** Quotes an identifier. */
export function pgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The `ts` column of a row as epoch ms (a float8, so the driver returns a number). */
export function msOf(col: string): string {
  return `round(extract(epoch from ${col}) * 1000)::float8`;
}

/** An epoch-ms parameter as timestamptz. */
export function tsOf(param: string): string {
  return `to_timestamp((${param})::float8 / 1000)`;
}

/** Columns of one kind, PostgreSQL types. */
function columnsDdl(kind: TableKind): string {
  return KIND_COLUMNS[kind].map((c) => `${pgIdent(c.name)} ${c.integer ? 'integer' : 'double precision'}`).join(', ');
}

/** DDL of a partitioned logical table of `kind`, and its `<logical>_all` view. */
export function logicalTableDdl(logical: string, kind: TableKind): string {
  return `CREATE TABLE IF NOT EXISTS ${pgIdent(logical)} (series_id integer NOT NULL, ts timestamptz NOT NULL, ${columnsDdl(kind)}, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
CREATE OR REPLACE VIEW ${pgIdent(`${logical}_all`)} AS SELECT * FROM ${pgIdent(logical)};`;
}

/** A rollup tier's table of rows (`rollup_<tier>`, not its quantiles): packed since schema 9. */
const ROLLUP_LOGICAL = /^rollup_[0-9a-z]{1,10}$/;

/** Whether a logical table's closed chunks are packed (storage/pg-pack.ts): raw samples and the tiers' rows. */
export function isPackedKind(logical: string): boolean {
  return logical === 'samples' || ROLLUP_LOGICAL.test(logical);
}

/**
 * The partitioned table holding a logical table's rows. Since schema version 8 the raw
 * samples' row table is `samples_rows`, and `samples` is a view adding the packed chunks;
 * since version 9 likewise `rollup_<tier>_rows` under the view `rollup_<tier>`.
 */
export function pgRowsTable(logical: string): string {
  return isPackedKind(logical) ? `${logical}_rows` : logical;
}

/** The partitioned table of a packable logical table's packed chunks (`samples_packed`, `rollup_<tier>_packed`). */
export function pgPackedParent(logical: string): string {
  return `${logical}_packed`;
}

/** The value columns of a packable logical table (`value`, or a rollup row's). */
export function packedColumns(logical: string): readonly { name: string; integer: boolean }[] {
  return KIND_COLUMNS[logical === 'samples' ? 'samples' : 'rollup'];
}

/**
 * A packable table's packed rows as rows: `p` is a packed row, `u(ts, <columns>)` one
 * element of its arrays. For raw samples this is PACKED_ROWS.
 */
export function packedRowsSql(logical: string): string {
  const cols = packedColumns(logical).map((c) => pgIdent(c.name));
  return `CROSS JOIN LATERAL unnest(p.ts, ${cols.map((c) => `p.${c}`).join(', ')}) AS u(ts, ${cols.join(', ')})`;
}

/** `p.series_id, u.ts, u.<col>…`: the columns selected from packedRowsSql. */
export function packedSelectSql(logical: string): string {
  return `p.series_id, u.ts, ${packedColumns(logical).map((c) => `u.${pgIdent(c.name)}`).join(', ')}`;
}

/**
 * DDL of a tier's logical tables as of schema version 9, idempotent (ensureRollupTier):
 * quantiles as before; a `rollup_<tier>` is a view of its row partitions
 * (`rollup_<tier>_rows`) and its packed chunks (`rollup_<tier>_packed`), with the same
 * columns as the table it was.
 */
export function pgTierTableDdl(logical: string, kind: 'rollup' | 'quantiles'): string {
  if (kind === 'quantiles' || !isPackedKind(logical)) return logicalTableDdl(logical, kind);
  const rows = pgIdent(pgRowsTable(logical));
  const packed = pgIdent(pgPackedParent(logical));
  const names = KIND_COLUMNS.rollup.map((c) => pgIdent(c.name));
  const arrays = KIND_COLUMNS.rollup.map((c) => `${pgIdent(c.name)} ${c.integer ? 'integer' : 'double precision'}[] NOT NULL`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${rows} (series_id integer NOT NULL, ts timestamptz NOT NULL, ${columnsDdl('rollup')}, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS ${packed} (series_id integer NOT NULL, start_ts timestamptz NOT NULL, ts timestamptz[] NOT NULL, ${arrays}, PRIMARY KEY (series_id, start_ts)) PARTITION BY RANGE (start_ts);
CREATE OR REPLACE VIEW ${pgIdent(logical)} AS
  SELECT series_id, ts, ${names.join(', ')} FROM ${rows}
  UNION ALL
  SELECT ${packedSelectSql(logical)} FROM ${packed} p ${packedRowsSql(logical)};
CREATE OR REPLACE VIEW ${pgIdent(`${logical}_all`)} AS SELECT * FROM ${pgIdent(logical)};`;
}

/** A packed raw chunk's table of arrays: one row per series (storage/pg-pack.ts). */
export function packedTable(chunk: string): string {
  return `${chunk}_packed`;
}

/** A packed raw chunk's emptied partition of `samples_rows`, kept as a tombstone that refuses rows. */
export function tombstoneTable(chunk: string): string {
  return `${chunk}_rows`;
}

/** `'2026-01-01T00:00:00.000Z'`: an epoch-ms time as a timestamptz literal. */
export function tsLiteral(ms: number): string {
  return `'${new Date(ms).toISOString()}'::timestamptz`;
}

/** DDL of one partition. */
export function partitionDdl(logical: string, name: string, startMs: number, endMs: number): string {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return `CREATE TABLE IF NOT EXISTS ${pgIdent(name)} PARTITION OF ${pgIdent(pgRowsTable(logical))} FOR VALUES FROM ('${iso(startMs)}') TO ('${iso(endMs)}')`;
}

/**
 * One series' rows of a tier (`se.id`, from the enclosing query), from its row partitions
 * and its packed chunks: both are keyed by series_id first, so each arm is an index scan.
 */
function tierRowsOfSeries(tier: string): string {
  const cols = KIND_COLUMNS.rollup.map((c) => c.name).join(', ');
  return `SELECT ts, ${cols} FROM ${pgIdent(`rollup_${tier}_rows`)} WHERE series_id = se.id
    UNION ALL SELECT ${packedSelectSql('rollup').replace('p.series_id, ', '')} FROM ${pgIdent(`rollup_${tier}_packed`)} p ${packedRowsSql('rollup')} WHERE p.series_id = se.id`;
}

/** The raw samples of packed chunks as rows: `p` is a `samples_packed` row, `u` one element. */
export const PACKED_ROWS = 'CROSS JOIN LATERAL unnest(p.ts, p.value) AS u(ts, value)';

/** PostgreSQL migrations, in order. Append only. */
export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE series (
  id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  labels jsonb NOT NULL,
  fingerprint text NOT NULL UNIQUE,
  type text NOT NULL CHECK (type IN ('counter','gauge','histogram','summary','untyped')),
  help text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL
);
CREATE INDEX series_name ON series (name);
CREATE TABLE series_latest (
  series_id integer PRIMARY KEY REFERENCES series (id),
  ts timestamptz NOT NULL,
  value double precision
);
CREATE TABLE chunk_tables (
  logical text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('samples','rollup','quantiles')),
  chunk_ms bigint NOT NULL
);
CREATE TABLE chunks (
  name text PRIMARY KEY,
  logical text NOT NULL REFERENCES chunk_tables (logical),
  start_ts timestamptz NOT NULL,
  end_ts timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (logical, start_ts)
);
CREATE TABLE rollup_watermarks (tier text PRIMARY KEY, watermark_ms bigint NOT NULL);
CREATE TABLE metrics_raw (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  ts timestamptz NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL
);
CREATE INDEX metrics_raw_ts ON metrics_raw (ts);
CREATE TABLE metrics_hourly (
  series_id integer NOT NULL,
  ts timestamptz NOT NULL,
  metric_name text NOT NULL,
  labels jsonb NOT NULL,
  avg double precision,
  min double precision,
  max double precision,
  count integer NOT NULL,
  PRIMARY KEY (series_id, ts)
);
CREATE INDEX metrics_hourly_name ON metrics_hourly (metric_name, ts);
CREATE TABLE daily_summaries (
  date date PRIMARY KEY,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE alert_history (
  id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info','warning','critical')),
  message text NOT NULL,
  value double precision,
  threshold double precision,
  labels jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('firing','resolved')),
  fired_at timestamptz NOT NULL,
  resolved_at timestamptz
);
CREATE INDEX alert_history_open ON alert_history (status, name);
CREATE INDEX alert_history_fired ON alert_history (fired_at);
${logicalTableDdl('samples', 'samples')}
CREATE VIEW latest_metrics AS
  SELECT se.name AS metric_name, se.labels AS labels, l.value AS value, l.ts AS ts, l.ts AS timestamp, se.id AS series_id
  FROM series_latest l JOIN series se ON se.id = l.series_id;
CREATE VIEW system_metrics AS
  SELECT s.ts AS ts, s.ts AS timestamp, se.name AS metric_name, s.value AS value, se.labels AS labels, se.id AS series_id
  FROM samples s JOIN series se ON se.id = s.series_id;
CREATE VIEW active_alerts AS SELECT * FROM alert_history WHERE status = 'firing';
INSERT INTO chunk_tables (logical, kind, chunk_ms) VALUES ('samples', 'samples', 86400000);
`,
  },
  { version: 2, name: 'named views per tier', sql: pgNamedViewsDdl(logicalTableDdl) },
  {
    version: 3,
    name: 'metrics_hourly: increase and rate of counters',
    sql: `
ALTER TABLE metrics_hourly ADD COLUMN increase double precision, ADD COLUMN rate double precision;
`,
  },
  {
    version: 4,
    name: 'many hosts: series owner, watermarks per host, series awaiting host labels',
    // series.host: the Larder (its --instance) that created the series and rolls it up.
    // Rollup watermarks are kept per tier and host; updated_ms tells live hosts from gone ones.
    // series_unlabelled: the series recorded before host labels existed; the first Larder
    // that opens the store gives them its labels (storage/host-labels.ts) and empties it.
    sql: `
ALTER TABLE series ADD COLUMN host text NOT NULL DEFAULT '';
CREATE INDEX series_host ON series (host);
ALTER TABLE rollup_watermarks ADD COLUMN host text NOT NULL DEFAULT '', ADD COLUMN updated_ms bigint;
ALTER TABLE rollup_watermarks DROP CONSTRAINT rollup_watermarks_pkey, ADD PRIMARY KEY (tier, host);
CREATE TABLE series_unlabelled (id integer PRIMARY KEY);
INSERT INTO series_unlabelled (id) SELECT id FROM series;
`,
  },
  {
    // A stale marker is a NULL `value` in `samples` (NaN is stored as NaN): storage/stale.ts.
    // The views that show raw samples leave the markers out; their columns do not change.
    version: 5,
    name: 'stale markers: a NULL value, left out of the raw sample views',
    sql: `
CREATE OR REPLACE VIEW samples_all AS SELECT * FROM samples WHERE value IS NOT NULL;
CREATE OR REPLACE VIEW system_metrics AS
  SELECT s.ts AS ts, s.ts AS timestamp, se.name AS metric_name, s.value AS value, se.labels AS labels, se.id AS series_id
  FROM samples s JOIN series se ON se.id = s.series_id WHERE s.value IS NOT NULL;
CREATE OR REPLACE VIEW samples_named AS
  SELECT s.ts AS ts, se.name AS metric_name, se.labels->>'job' AS job, se.labels->>'instance' AS instance, se.labels AS labels, s.value AS value, se.type AS type, se.id AS series_id
  FROM samples s JOIN series se ON se.id = s.series_id WHERE s.value IS NOT NULL;
`,
  },
  {
    version: 7,
    name: 'notification_log: notifications that failed for good',
    sql: `
CREATE TABLE notification_log (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  ts timestamptz NOT NULL,
  receiver text NOT NULL,
  integration text NOT NULL,
  group_key text NOT NULL,
  alerts integer NOT NULL,
  attempts integer NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('failed','dropped')),
  error text NOT NULL
);
CREATE INDEX notification_log_ts ON notification_log (ts);
`,
  },
  {
    // Closed raw chunks are packed (storage/pg-pack.ts): one row per series per chunk
    // holding the chunk's times and values as arrays. The row table becomes
    // samples_rows; 'samples' is now a view of both, with the same columns, and the
    // views over it are re-pointed at it (their columns do not change).
    version: 8,
    name: 'packed raw chunks: samples_rows, samples_packed, samples as a view of both',
    sql: `
ALTER TABLE samples RENAME TO samples_rows;
CREATE TABLE samples_packed (
  series_id integer NOT NULL,
  start_ts timestamptz NOT NULL,
  ts timestamptz[] NOT NULL,
  value double precision[] NOT NULL,
  PRIMARY KEY (series_id, start_ts)
) PARTITION BY RANGE (start_ts);
CREATE VIEW samples AS
  SELECT series_id, ts, value FROM samples_rows
  UNION ALL
  SELECT p.series_id, u.ts, u.value FROM samples_packed p ${PACKED_ROWS};
CREATE OR REPLACE VIEW samples_all AS SELECT * FROM samples WHERE value IS NOT NULL;
CREATE OR REPLACE VIEW system_metrics AS
  SELECT s.ts AS ts, s.ts AS timestamp, se.name AS metric_name, s.value AS value, se.labels AS labels, se.id AS series_id
  FROM samples s JOIN series se ON se.id = s.series_id WHERE s.value IS NOT NULL;
CREATE OR REPLACE VIEW samples_named AS
  SELECT s.ts AS ts, se.name AS metric_name, se.labels->>'job' AS job, se.labels->>'instance' AS instance, se.labels AS labels, s.value AS value, se.type AS type, se.id AS series_id
  FROM samples s JOIN series se ON se.id = s.series_id WHERE s.value IS NOT NULL;
ALTER TABLE chunks ADD COLUMN packed boolean NOT NULL DEFAULT false;
`,
  },
  {
    // Closed chunks of the tiers' rows are packed too (storage/pg-pack.ts): each
    // partitioned rollup_<tier> table becomes rollup_<tier>_rows, beside a
    // rollup_<tier>_packed of arrays, and rollup_<tier> a view of both with the same
    // columns. Views over it (rollup_<tier>_all, the named views) followed the rename
    // and are re-pointed at the view. Every tier is converted, including those only
    // the rollup engine registered. Quantile tables are left as they are (few rows).
    version: 9,
    name: 'packed tier chunks: rollup_<tier>_rows, rollup_<tier>_packed, rollup_<tier> as a view of both',
    sql: `
DO $larder$
DECLARE t text;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'p' AND c.relname ~ '^rollup_[0-9a-z]{1,10}$' ORDER BY 1 LOOP
    EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_rows');
    EXECUTE format('CREATE TABLE %I (series_id integer NOT NULL, start_ts timestamptz NOT NULL, ts timestamptz[] NOT NULL, '
      'count integer[] NOT NULL, sum double precision[] NOT NULL, min double precision[] NOT NULL, max double precision[] NOT NULL, '
      'first double precision[] NOT NULL, last double precision[] NOT NULL, increase double precision[] NOT NULL, '
      'PRIMARY KEY (series_id, start_ts)) PARTITION BY RANGE (start_ts)', t || '_packed');
    EXECUTE format('CREATE VIEW %I AS SELECT series_id, ts, count, sum, min, max, first, last, increase FROM %I '
      'UNION ALL SELECT p.series_id, u.ts, u.count, u.sum, u.min, u.max, u.first, u.last, u.increase FROM %I p '
      'CROSS JOIN LATERAL unnest(p.ts, p.count, p.sum, p.min, p.max, p.first, p.last, p.increase) AS u(ts, count, sum, min, max, first, last, increase)',
      t, t || '_rows', t || '_packed');
    EXECUTE format('CREATE OR REPLACE VIEW %I AS SELECT * FROM %I', t || '_all', t);
  END LOOP;
END
$larder$;
${[['1m', 60], ['5m', 300], ['1h', 3600], ['1d', 86400]]
  .map(
    ([name, seconds]) => `CREATE OR REPLACE VIEW metrics_${name} AS
  SELECT r.ts AS ts, se.name AS metric_name, se.labels->>'job' AS job, se.labels->>'instance' AS instance, se.labels AS labels, se.type AS type,
         r.count AS count, r.sum AS sum, r.sum / NULLIF(r.count, 0) AS avg, r.min AS min, r.max AS max,
         r.first AS first, r.last AS last, r.increase AS increase, r.increase / ${seconds} AS rate, se.id AS series_id
  FROM "rollup_${name}" r JOIN series se ON se.id = r.series_id;
CREATE OR REPLACE VIEW histogram_buckets_${name} AS
  SELECT r.ts AS ts, left(se.name, -7) AS metric_name, se.labels->>'job' AS job, se.labels->>'instance' AS instance, se.labels - 'le' AS labels,
         CASE WHEN se.labels->>'le' IN ('+Inf', 'Inf', '+inf', 'inf') THEN 'Infinity'::float8 ELSE (se.labels->>'le')::float8 END AS le,
         r.increase AS increase, se.id AS series_id
  FROM "rollup_${name}" r JOIN series se ON se.id = r.series_id
  WHERE se.type = 'histogram' AND se.name LIKE '%\\_bucket' AND jsonb_typeof(se.labels->'le') = 'string';`,
  )
  .join('\n')}
`,
  },
  {
    // The named views of the tiers joined `series` to the rollup_<tier> view, whose packed
    // arm PostgreSQL cannot filter by a joined series id: a query of one metric over many
    // hosts (a nested loop over its series) unnested every packed row once per series,
    // 17.4 s for 100 hosts' 30 days at 1 h. Each series now reads its own rows and packed
    // rows (both keyed by series_id first) in a LATERAL subquery; columns and answers are
    // unchanged.
    version: 10,
    name: 'named tier views read each series\' rows and packed rows by its id',
    sql: [['1m', 60], ['5m', 300], ['1h', 3600], ['1d', 86400]]
      .map(
        ([name, seconds]) => `CREATE OR REPLACE VIEW metrics_${name} AS
  SELECT r.ts AS ts, se.name AS metric_name, se.labels->>'job' AS job, se.labels->>'instance' AS instance, se.labels AS labels, se.type AS type,
         r.count AS count, r.sum AS sum, r.sum / NULLIF(r.count, 0) AS avg, r.min AS min, r.max AS max,
         r.first AS first, r.last AS last, r.increase AS increase, r.increase / ${seconds} AS rate, se.id AS series_id
  FROM series se CROSS JOIN LATERAL (${tierRowsOfSeries(String(name))}) r;
CREATE OR REPLACE VIEW histogram_buckets_${name} AS
  SELECT r.ts AS ts, left(se.name, -7) AS metric_name, se.labels->>'job' AS job, se.labels->>'instance' AS instance, se.labels - 'le' AS labels,
         CASE WHEN se.labels->>'le' IN ('+Inf', 'Inf', '+inf', 'inf') THEN 'Infinity'::float8 ELSE (se.labels->>'le')::float8 END AS le,
         r.increase AS increase, se.id AS series_id
  FROM series se CROSS JOIN LATERAL (${tierRowsOfSeries(String(name))}) r
  WHERE se.type = 'histogram' AND se.name LIKE '%\\_bucket' AND jsonb_typeof(se.labels->'le') = 'string';`,
      )
      .join('\n'),
  },
];
