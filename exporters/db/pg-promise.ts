/**
 * pg-promise instrumentation through its init options' events (`query`, `receive`,
 * `error`): pass the returned options to `pgPromise(options)`. Handlers already in
 * the options still run, after the measurement.
 *
 * pg-promise gives each event a fresh context object, so a query is matched to its
 * result by connection and query text: a connection runs its queries one after the
 * other, and pending ones wait in order.
 */
import type { DbMetrics } from './db-metrics.js';
import { sqlOperation } from './sql-operation.js';

/** The operation label of a failure to connect, when no query was sent. */
export const CONNECT_OPERATION = 'CONNECT';

/** The part of pg-promise's event context used here (structural: pg-promise stays the caller's). */
export interface PgPromiseEventContext {
  readonly client?: object;
  readonly query?: unknown;
}

/** The init-option events this module sets. */
export interface PgPromiseEvents<E extends PgPromiseEventContext = PgPromiseEventContext> {
  query?(e: E): void;
  receive?(e: { data: unknown; result: unknown; ctx: E }): void;
  error?(err: unknown, e: E): void;
}

interface Pending {
  readonly text: unknown;
  readonly operation: string;
  readonly started: number;
}

// Bounds the pending list of a connection whose queries never report back.
const MAX_PENDING = 1000;

function queryText(q: unknown): unknown {
  // a prepared statement or QueryFile object carries its SQL in `text` / `query`
  if (q !== null && typeof q === 'object') {
    const o = q as { text?: unknown; query?: unknown };
    return typeof o.text === 'string' ? o.text : o.query;
  }
  return q;
}

/**
 * Returns `initOptions` with `query`, `receive` and `error` handlers that update
 * `metrics`; the caller's own handlers are chained.
 */
export function instrumentPgPromise<T extends object>(metrics: DbMetrics, initOptions: T = {} as T): T {
  type E = PgPromiseEventContext;
  const pending = new WeakMap<object, Pending[]>();
  const noClient = {};
  const own = initOptions as PgPromiseEvents;
  const user = { query: own.query, receive: own.receive, error: own.error };

  const take = (ctx: E | undefined): Pending | undefined => {
    const list = pending.get(ctx?.client ?? noClient);
    if (!list) return undefined;
    const text = queryText(ctx?.query);
    const i = list.findIndex((p) => p.text === text);
    return i < 0 ? undefined : list.splice(i, 1)[0];
  };

  return {
    ...initOptions,
    query(e: E) {
      const key = e.client ?? noClient;
      let list = pending.get(key);
      if (!list) pending.set(key, (list = []));
      if (list.length >= MAX_PENDING) list.shift();
      const text = queryText(e.query);
      list.push({ text, operation: sqlOperation(text), started: performance.now() });
      user.query?.call(this, e);
    },
    receive(e: { data: unknown; result: unknown; ctx: E }) {
      // a multi-statement query reports one receive per result; the first one ends it
      const p = take(e.ctx);
      if (p) metrics.record(p.operation, true, (performance.now() - p.started) / 1000);
      user.receive?.call(this, e);
    },
    error(err: unknown, e: E) {
      const p = take(e);
      if (p) {
        metrics.record(p.operation, false, (performance.now() - p.started) / 1000);
      } else if ((err as { name?: unknown } | null)?.name !== 'QueryResultError') {
        // failed before the query was sent: without a query in the context the connection
        // failed (operation CONNECT), else e.g. formatting did. A QueryResultError (.one()
        // got no rows) comes after a receive that already counted the query.
        const text = queryText(e?.query);
        metrics.record(text === undefined ? CONNECT_OPERATION : sqlOperation(text), false);
      }
      user.error?.call(this, err, e);
    },
  } as T;
}
