/**
 * The database and Redis client pack: the instrumentation of pg / pg-promise
 * (`db_queries_total{operation,status}`, `db_query_duration_seconds{operation}`) and of
 * ioredis / node-redis (`redis_commands_total{command,status}`, `redis_command_duration_seconds{command}`).
 */
import { alert, num, pct, secs, type RulePack } from '../model.js';

const errorRatio = (metric: string, verb: string): string => `(
  sum without (${verb}, status) (rate(${metric}{status="error"}[5m]))
/
  sum without (${verb}, status) (rate(${metric}[5m]))
)`;

export const clientsPack: RulePack = {
  name: 'clients',
  group: 'larder-clients',
  title: 'Database and Redis clients',
  about: 'A service whose PostgreSQL (pg, pg-promise) and Redis (ioredis, node-redis) clients are instrumented by Larder: what the service sees of its database and cache.',
  alerts: [
    alert({
      name: 'DbHighErrorRatio',
      severity: 'warning',
      for: '5m',
      params: { threshold: { default: 0.05, unit: 'ratio', help: 'share of queries failing above which it fires', min: 0, max: 1 } },
      expr: (p) => `${errorRatio('db_queries_total', 'operation')} > ${num(p.threshold)}`,
      summary: () => 'Database queries of {{ $labels.job }} on {{ $labels.instance }} fail.',
      description: (p) => `{{ $value | humanizePercentage }} of the database queries of {{ $labels.job }} on {{ $labels.instance }} failed over the last 5 minutes (threshold ${pct(p.threshold)}).`,
      meaning: 'Queries fail: the database is down or refuses connections, a pool is exhausted, or a deploy broke a query.',
      action: 'Split by operation (`sum by (operation) (rate(db_queries_total{status="error"}[5m]))`), read the service log for the error, check the database server and its connection count.',
    }),
    alert({
      name: 'DbSlowQueries',
      severity: 'warning',
      for: '10m',
      params: { threshold: { default: 0.5, unit: 'seconds', help: 'p95 query time of an operation above which it fires', min: 0, max: 3600 } },
      expr: (p) => `histogram_quantile(0.95, rate(db_query_duration_seconds_bucket[5m])) > ${num(p.threshold)}`,
      summary: () => '{{ $labels.operation }} queries of {{ $labels.job }} on {{ $labels.instance }} are slow.',
      description: (p) => `95% of the {{ $labels.operation }} queries of {{ $labels.job }} on {{ $labels.instance }} take up to {{ $value | humanizeDuration }} (threshold ${secs(p.threshold)}).`,
      meaning: 'The database answers slowly: a missing index, lock waits, a busy server, or a client pool queueing.',
      action: 'Look at `pg_stat_activity` and `pg_stat_statements` for the slow statements and lock waits; check the server\'s CPU and I/O.',
    }),
    alert({
      name: 'RedisHighErrorRatio',
      severity: 'warning',
      for: '5m',
      params: { threshold: { default: 0.05, unit: 'ratio', help: 'share of commands failing above which it fires', min: 0, max: 1 } },
      expr: (p) => `${errorRatio('redis_commands_total', 'command')} > ${num(p.threshold)}`,
      summary: () => 'Redis commands of {{ $labels.job }} on {{ $labels.instance }} fail.',
      description: (p) => `{{ $value | humanizePercentage }} of the Redis commands of {{ $labels.job }} on {{ $labels.instance }} failed over the last 5 minutes (threshold ${pct(p.threshold)}).`,
      meaning: 'Redis commands fail: the server is down, out of memory (OOM command not allowed), or the connection drops.',
      action: 'Split by command (`sum by (command) (rate(redis_commands_total{status="error"}[5m]))`); `redis-cli info` for memory and clients; read the service log.',
    }),
    alert({
      name: 'RedisSlowCommands',
      severity: 'warning',
      for: '10m',
      params: { threshold: { default: 0.05, unit: 'seconds', help: 'p95 time of a Redis command above which it fires', min: 0, max: 3600 } },
      expr: (p) => `histogram_quantile(0.95, rate(redis_command_duration_seconds_bucket[5m])) > ${num(p.threshold)}`,
      summary: () => 'Redis {{ $labels.command }} commands of {{ $labels.job }} on {{ $labels.instance }} are slow.',
      description: (p) => `95% of the Redis {{ $labels.command }} commands of {{ $labels.job }} on {{ $labels.instance }} take up to {{ $value | humanizeDuration }} (threshold ${secs(p.threshold)}).`,
      meaning: 'Redis usually answers in well under a millisecond; slow replies mean a blocking command (KEYS, a big SMEMBERS), a saturated server or network trouble.',
      action: '`redis-cli --latency`, `SLOWLOG GET 10`; look for O(N) commands over big keys and the service\'s event-loop lag (which inflates every measured time).',
    }),
  ],
};
