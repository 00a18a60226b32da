/** The database metrics every instrumented client (pg-promise, pg) shares. */
import type { GuardedCounter, GuardedHistogram, SeriesGuard } from '../guard/series-guard.js';

/** Query duration buckets (seconds): from 0.5 ms (a cached primary-key lookup) to 10 s. */
export const DEFAULT_DB_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `db_queries_total{operation,status}` and `db_query_duration_seconds{operation}`. */
export interface DbMetrics {
  readonly queries: GuardedCounter<'operation' | 'status'>;
  readonly duration: GuardedHistogram<'operation'>;
  /** Records one finished query; `seconds` is left out when the query never ran (e.g. no connection). */
  record(operation: string, ok: boolean, seconds?: number): void;
}

/** Registers the database metrics on the guard's registry. */
export function createDbMetrics(guard: SeriesGuard, buckets: readonly number[] = DEFAULT_DB_BUCKETS): DbMetrics {
  const queries = guard.counter({ name: 'db_queries_total', help: 'Database queries run, by SQL verb and outcome (ok or error).', labelNames: ['operation', 'status'] });
  const duration = guard.histogram({ name: 'db_query_duration_seconds', help: 'Time from sending a database query to its result or error, by SQL verb.', labelNames: ['operation'], buckets });
  return {
    queries,
    duration,
    record(operation, ok, seconds) {
      queries.inc({ operation, status: ok ? 'ok' : 'error' });
      if (seconds !== undefined) duration.observe({ operation }, seconds);
    },
  };
}
