/**
 * Schema version 2, pure SQL: views that name the metric and its labels, per tier, so
 * that SQL users and Grafana select by metric name and label without joining `series`
 * and parsing its JSON for every query. Frozen once released (a migration never changes):
 * a later change to these views is a new migration.
 *
 * | view | rows |
 * | --- | --- |
 * | `samples_named` | raw samples |
 * | `metrics_<tier>` | `rollup_<tier>` rows, with `avg` and `rate` (per second) |
 * | `quantiles_<tier>` | `rollup_<tier>_quantiles` rows, named by the histogram's base name |
 * | `histogram_buckets_<tier>` | the `_bucket` increases of `rollup_<tier>`, `le` as a number |
 *
 * Every view has `ts`, `metric_name`, `job`, `instance` (NULL when the series has no such
 * label), `labels` and `series_id`.
 */

/** The tiers that get named views: the default chain and the 1-minute tier. */
export const NAMED_VIEW_TIERS: readonly { readonly name: string; readonly seconds: number }[] = Object.freeze([
  { name: '1m', seconds: 60 },
  { name: '5m', seconds: 300 },
  { name: '1h', seconds: 3600 },
  { name: '1d', seconds: 86400 },
]);

/** SQLite's value columns of a `rollup_<tier>` row, with the derived avg and rate. */
function rollupColumns(seconds: number): string {
  return `r.count AS count, r.sum AS sum, r.sum / NULLIF(r.count, 0) AS avg, r.min AS min, r.max AS max,
         r.first AS first, r.last AS last, r.increase AS increase, r.increase / ${seconds}.0 AS rate`;
}

/**
 * SQLite DDL of version 2. A tier's `rollup_<tier>_all` view may not exist yet (tiers are
 * registered by the rollup engine at start): an empty placeholder is created so the named
 * views answer (with no rows) at once; `ensureRollupTier` replaces it.
 */
export function sqliteNamedViewsDdl(): string {
  const job = "json_extract(se.labels, '$.job') AS job, json_extract(se.labels, '$.instance') AS instance";
  const out: string[] = [
    `CREATE VIEW samples_named AS
  SELECT s.ts AS ts, se.name AS metric_name, ${job}, se.labels AS labels, s.value AS value, se.type AS type, se.id AS series_id
  FROM samples_all s JOIN series se ON se.id = s.series_id;`,
  ];
  const empty = (cols: readonly string[]): string => `SELECT ${['series_id', 'ts', ...cols].map((c) => `NULL AS "${c}"`).join(', ')} WHERE 0`;
  for (const { name, seconds } of NAMED_VIEW_TIERS) {
    out.push(`CREATE VIEW IF NOT EXISTS "rollup_${name}_all" AS ${empty(['count', 'sum', 'min', 'max', 'first', 'last', 'increase'])};
CREATE VIEW IF NOT EXISTS "rollup_${name}_quantiles_all" AS ${empty(['count', 'sum', 'p50', 'p95', 'p99'])};
CREATE VIEW metrics_${name} AS
  SELECT r.ts AS ts, se.name AS metric_name, ${job}, se.labels AS labels, se.type AS type,
         ${rollupColumns(seconds)}, se.id AS series_id
  FROM "rollup_${name}_all" r JOIN series se ON se.id = r.series_id;
CREATE VIEW quantiles_${name} AS
  SELECT r.ts AS ts, substr(se.name, 1, length(se.name) - 6) AS metric_name, ${job}, se.labels AS labels,
         r.count AS count, r.sum AS sum, r.sum / NULLIF(r.count, 0) AS avg, r.p50 AS p50, r.p95 AS p95, r.p99 AS p99, se.id AS series_id
  FROM "rollup_${name}_quantiles_all" r JOIN series se ON se.id = r.series_id;
CREATE VIEW histogram_buckets_${name} AS
  SELECT r.ts AS ts, substr(se.name, 1, length(se.name) - 7) AS metric_name, ${job}, json_remove(se.labels, '$.le') AS labels,
         CASE WHEN json_extract(se.labels, '$.le') IN ('+Inf', 'Inf', '+inf', 'inf') THEN 9e999 ELSE CAST(json_extract(se.labels, '$.le') AS REAL) END AS le,
         r.increase AS increase, se.id AS series_id
  FROM "rollup_${name}_all" r JOIN series se ON se.id = r.series_id
  WHERE se.type = 'histogram' AND se.name LIKE '%\\_bucket' ESCAPE '\\' AND json_type(se.labels, '$.le') = 'text';`);
  }
  return out.join('\n');
}

/**
 * PostgreSQL DDL of version 2. The tiers' partitioned tables are created if missing
 * (no partition and no `chunk_tables` row: `ensureRollupTier` registers them), so the
 * named views can reference them.
 */
export function pgNamedViewsDdl(tableDdl: (logical: string, kind: 'rollup' | 'quantiles') => string): string {
  const job = "se.labels->>'job' AS job, se.labels->>'instance' AS instance";
  const out: string[] = [
    `CREATE VIEW samples_named AS
  SELECT s.ts AS ts, se.name AS metric_name, ${job}, se.labels AS labels, s.value AS value, se.type AS type, se.id AS series_id
  FROM samples s JOIN series se ON se.id = s.series_id;`,
  ];
  for (const { name, seconds } of NAMED_VIEW_TIERS) {
    out.push(`${tableDdl(`rollup_${name}`, 'rollup')}
${tableDdl(`rollup_${name}_quantiles`, 'quantiles')}
CREATE VIEW metrics_${name} AS
  SELECT r.ts AS ts, se.name AS metric_name, ${job}, se.labels AS labels, se.type AS type,
         r.count AS count, r.sum AS sum, r.sum / NULLIF(r.count, 0) AS avg, r.min AS min, r.max AS max,
         r.first AS first, r.last AS last, r.increase AS increase, r.increase / ${seconds} AS rate, se.id AS series_id
  FROM "rollup_${name}" r JOIN series se ON se.id = r.series_id;
CREATE VIEW quantiles_${name} AS
  SELECT r.ts AS ts, left(se.name, -6) AS metric_name, ${job}, se.labels AS labels,
         r.count AS count, r.sum AS sum, r.sum / NULLIF(r.count, 0) AS avg, r.p50 AS p50, r.p95 AS p95, r.p99 AS p99, se.id AS series_id
  FROM "rollup_${name}_quantiles" r JOIN series se ON se.id = r.series_id;
CREATE VIEW histogram_buckets_${name} AS
  SELECT r.ts AS ts, left(se.name, -7) AS metric_name, ${job}, se.labels - 'le' AS labels,
         CASE WHEN se.labels->>'le' IN ('+Inf', 'Inf', '+inf', 'inf') THEN 'Infinity'::float8 ELSE (se.labels->>'le')::float8 END AS le,
         r.increase AS increase, se.id AS series_id
  FROM "rollup_${name}" r JOIN series se ON se.id = r.series_id
  WHERE se.type = 'histogram' AND se.name LIKE '%\\_bucket' AND jsonb_typeof(se.labels->'le') = 'string';`);
  }
  return out.join('\n');
}
