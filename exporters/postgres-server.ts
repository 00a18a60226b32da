/**
 * The `postgres` collector: the monitored PostgreSQL server seen from outside, named as
 * the community postgres_exporter names its metrics (`pg_up`, `pg_static`,
 * `pg_settings_max_connections`, `pg_stat_database_*`, `pg_database_size_bytes`,
 * `pg_stat_activity_count`, `pg_stat_activity_max_tx_duration`,
 * `pg_replication_lag_seconds`), so its dashboards and the usual alert rules work.
 *
 * Never in the service's way: one connection per server (application_name=larder),
 * read-only transactions, a 2 s statement timeout, one round trip of catalog reads per
 * update, on the slow interval. A server that does not answer shows `pg_up 0` and no
 * other series; the cause is logged once.
 */
import { createRequire } from 'node:module';
import type pgPromiseType from 'pg-promise';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric, type ConstSample } from './const-metric.js';
import { FailureLog, maskSecrets, type PostgresTarget } from './server-target.js';

/** Statement timeout of the collector's queries, ms: a catalog read takes a few ms; longer means the server is struggling. */
export const PG_STATEMENT_TIMEOUT_MS = 2000;
/** Connecting may take this long, ms. */
const CONNECT_TIMEOUT_MS = 3000;

/** pg_stat_activity states, reported at 0 when no backend is in them (as postgres_exporter does). */
const STATES = ['active', 'idle', 'idle in transaction', 'idle in transaction (aborted)', 'fastpath function call', 'disabled'] as const;

/**
 * pg_stat_database columns that are counters, in postgres_exporter's names. They have no
 * `_total` suffix there; they are declared untyped (as node_exporter's vmstat counters)
 * so the OpenMetrics exposition does not rename them to `…_total` and break its dashboards.
 */
const DATABASE_COUNTERS = [
  'xact_commit', 'xact_rollback', 'blks_read', 'blks_hit', 'tup_returned', 'tup_fetched', 'tup_inserted', 'tup_updated', 'tup_deleted',
  'conflicts', 'temp_files', 'temp_bytes', 'deadlocks',
] as const;

const SERVER_SQL = `SELECT version() AS version,
  current_setting('server_version_num')::int AS version_num,
  current_setting('max_connections')::float8 AS max_connections,
  extract(epoch FROM pg_postmaster_start_time())::float8 AS start_time,
  pg_is_in_recovery() AS is_replica,
  CASE WHEN pg_is_in_recovery() THEN GREATEST(0, COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0))::float8 ELSE 0 END AS lag`;

const DATABASE_SQL = `SELECT datid::text AS datid, datname, numbackends::float8 AS numbackends, ${DATABASE_COUNTERS.map((c) => `${c}::float8 AS ${c}`).join(', ')}
  FROM pg_stat_database WHERE datname IS NOT NULL ORDER BY datname`;

// pg_database_size needs CONNECT on the database (or pg_read_all_stats): the others are left out
const SIZE_SQL = `SELECT datname, pg_database_size(datname)::float8 AS size FROM pg_database
  WHERE datallowconn AND has_database_privilege(datname, 'CONNECT') ORDER BY datname`;

const ACTIVITY_SQL = `SELECT d.datname, s.state, COALESCE(a.count, 0)::float8 AS count, COALESCE(a.max_tx, 0)::float8 AS max_tx
  FROM pg_database d
  CROSS JOIN (VALUES ${STATES.map((s) => `('${s}')`).join(', ')}) AS s(state)
  LEFT JOIN (SELECT datname, state, count(*) AS count, max(extract(epoch FROM now() - xact_start)) AS max_tx
             FROM pg_stat_activity WHERE datname IS NOT NULL GROUP BY datname, state) a
    ON a.datname = d.datname AND a.state = s.state
  WHERE d.datallowconn ORDER BY d.datname, s.state`;

interface ServerRow { version: string; version_num: number; max_connections: number; start_time: number; is_replica: boolean; lag: number }
type DatabaseRow = { datid: string; datname: string; numbackends: number } & Record<(typeof DATABASE_COUNTERS)[number], number>;
interface SizeRow { datname: string; size: number }
interface ActivityRow { datname: string; state: string; count: number; max_tx: number }

/** `15.20.0` from server_version_num 150020 (10 and later), `9.6.24` from 90624: the exporter's short_version. */
export function shortVersion(num: number): string {
  if (num >= 100000) return `${Math.floor(num / 10000)}.${num % 10000}.0`;
  return `${Math.floor(num / 10000)}.${Math.floor(num / 100) % 100}.${num % 100}`;
}

/** The `server` label of a target (host:port, as postgres_exporter labels it) and its password, for masking. */
export function describeTarget(t: PostgresTarget): { server: string; password: string | undefined } {
  if (typeof t !== 'string') return { server: `${t.host}:${t.port}`, password: t.password };
  try {
    const u = new URL(t);
    return { server: `${u.hostname || 'localhost'}:${u.port || '5432'}`, password: u.password ? decodeURIComponent(u.password) : undefined };
  } catch {
    return { server: 'invalid-url', password: undefined };
  }
}

/** A hint for the failures a setting fixes; other causes speak for themselves. */
function hintOf(code: string | undefined): string | undefined {
  if (code === '28P01' || code === '28000') return 'the user or password of this target is wrong (DB_USER / DB_PASSWORD, the URL, or postgres.targets)';
  if (code === '3D000') return 'the database of this target does not exist';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') return 'nothing answers at this host and port';
  return undefined;
}

/** The `postgres` collector (off by default, slow interval). */
export const postgresCollector: CollectorDefinition = {
  name: 'postgres',
  defaultEnabled: false,
  slow: true,
  create(ctx) {
    const targets = ctx.options.postgresTargets ?? [];
    const described = targets.map(describeTarget);
    const seen = new Set<string>();
    for (const d of described) {
      if (seen.has(d.server)) throw new Error(`postgres collector: two targets name the server ${d.server}; one per server is enough (its statistics cover every database)`);
      seen.add(d.server);
    }
    // loaded here, not at import: the collector is off by default, and pg-promise with pg
    // added about 18 MB to the RSS of every Larder that never reads a PostgreSQL server
    const pgPromise = createRequire(import.meta.url)('pg-promise') as typeof pgPromiseType;
    const pgp = pgPromise({ noWarnings: true });
    const common = {
      max: 1,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // pg's client-side timeout in case the server stops answering altogether
      query_timeout: PG_STATEMENT_TIMEOUT_MS * 2,
      statement_timeout: PG_STATEMENT_TIMEOUT_MS,
      // the one connection stays open between updates, and never holds the process up
      idleTimeoutMillis: 0,
      allowExitOnIdle: true,
      keepAlive: true,
      application_name: 'larder',
      // pg's startup `options` (not in pg-promise's typings, hence this separate object)
      options: `-c default_transaction_read_only=on -c lock_timeout=${PG_STATEMENT_TIMEOUT_MS} -c idle_in_transaction_session_timeout=${PG_STATEMENT_TIMEOUT_MS * 5}`,
    };
    const dbs = targets.map((t) =>
      pgp(typeof t === 'string' ? { connectionString: t, ...common } : { host: t.host, port: t.port, database: t.database, user: t.user, password: t.password ?? '', ...common }),
    );

    const r = ctx.registry;
    const g = (name: string, help: string, type: 'gauge' | 'untyped' = 'gauge'): ConstMetric => new ConstMetric(r, { name, help, type });
    const up = g('pg_up', 'Whether the last connection to the PostgreSQL server succeeded (1) or not (0).');
    const stat = g('pg_static', 'Version string as reported by PostgreSQL (value 1).');
    const startTime = g('pg_postmaster_start_time_seconds', 'Time at which the PostgreSQL postmaster started, in seconds since the epoch.');
    const maxConn = g('pg_settings_max_connections', 'Server Parameter: max_connections.');
    const isReplica = g('pg_replication_is_replica', 'Whether the server is a replica (1) or a primary (0).');
    const lag = g('pg_replication_lag_seconds', 'Replication lag behind the primary in seconds (0 on a primary).');
    const numBackends = g('pg_stat_database_numbackends', 'Number of backends currently connected to this database.');
    const counters = new Map(DATABASE_COUNTERS.map((c) => [c, g(`pg_stat_database_${c}`, `pg_stat_database.${c} of this database, since the last statistics reset (a counter).`, 'untyped')]));
    const size = g('pg_database_size_bytes', 'Disk space used by the database.');
    const actCount = g('pg_stat_activity_count', 'Number of connections in this state.');
    const actMaxTx = g('pg_stat_activity_max_tx_duration', 'Longest running transaction in this state, in seconds (0 when none).');
    const serverMetrics = [stat, startTime, maxConn, isReplica, lag, numBackends, ...counters.values(), size, actCount, actMaxTx];
    const failures = new FailureLog(ctx.log, 'postgres');

    type Result = { server: string; rows?: [ServerRow, DatabaseRow[], SizeRow[], ActivityRow[]] };
    const readOne = async (i: number): Promise<Result> => {
      const { server, password } = described[i]!;
      try {
        const [s, d, z, a] = await dbs[i]!.multi(`${SERVER_SQL}; ${DATABASE_SQL}; ${SIZE_SQL}; ${ACTIVITY_SQL}`);
        failures.succeeded(server);
        return { server, rows: [s![0] as ServerRow, d as DatabaseRow[], z as SizeRow[], a as ActivityRow[]] };
      } catch (err) {
        const e = err as Error & { code?: string };
        const code = e.code ? ` (${e.code})` : '';
        failures.failed(server, maskSecrets(`${e.message}${code}`, [password]), hintOf(e.code));
        return { server };
      }
    };

    return {
      async update() {
        const results = await Promise.all(dbs.map((_, i) => readOne(i)));
        const out = new Map<ConstMetric, ConstSample[]>(serverMetrics.map((m) => [m, []]));
        const push = (m: ConstMetric, labels: Record<string, string>, value: number): void => void out.get(m)!.push({ labels, value: Number(value) });
        up.set(results.map((res) => ({ labels: { server: res.server }, value: res.rows ? 1 : 0 })));
        for (const { server, rows } of results) {
          if (!rows) continue;
          const [s, databases, sizes, activity] = rows;
          push(stat, { server, short_version: shortVersion(s.version_num), version: s.version }, 1);
          push(startTime, { server }, s.start_time);
          push(maxConn, { server }, s.max_connections);
          push(isReplica, { server }, s.is_replica ? 1 : 0);
          push(lag, { server }, s.lag);
          for (const d of databases) {
            const labels = { server, datid: d.datid, datname: d.datname };
            push(numBackends, labels, d.numbackends);
            for (const [c, m] of counters) push(m, labels, d[c]);
          }
          for (const z of sizes) push(size, { server, datname: z.datname }, z.size);
          for (const a of activity) {
            push(actCount, { server, datname: a.datname, state: a.state }, a.count);
            push(actMaxTx, { server, datname: a.datname, state: a.state }, a.max_tx);
          }
        }
        for (const [m, samples] of out) m.set(samples);
      },
      close() {
        for (const db of dbs) void db.$pool.end();
      },
    };
  },
};
