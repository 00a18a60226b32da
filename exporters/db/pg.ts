/**
 * node-postgres (`pg`) instrumentation: wraps `query` on a Client, or on every client
 * of a Pool (those already open and those it opens later), so `pool.query()`,
 * checked-out clients and transactions are all measured once. Promise, callback and
 * submittable (Cursor, QueryStream) calls are supported.
 *
 * Limits: a `pool.query()` that fails before it gets a connection is not counted
 * (no query was sent); do not also instrument a pg-promise database built on the same
 * pool, or its queries count twice.
 */
import type { DbMetrics } from './db-metrics.js';
import { sqlOperation } from './sql-operation.js';

/** The part of a pg Client used here. */
export interface PgClientLike {
  query(...args: never[]): unknown;
}

/** The part of a pg Pool used here. */
export interface PgPoolLike {
  query(...args: never[]): unknown;
  connect(...args: never[]): unknown;
  on(event: 'connect', listener: (client: PgClientLike) => void): unknown;
  readonly totalCount: number;
}

type AnyFn = (...args: unknown[]) => unknown;
interface Emitter {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
}

const WRAPPED = Symbol('larder.pg.instrumented');

function textOf(first: unknown): unknown {
  if (typeof first === 'string') return first;
  if (first !== null && typeof first === 'object') return (first as { text?: unknown }).text;
  return undefined;
}

function isPool(target: PgClientLike | PgPoolLike): target is PgPoolLike {
  return typeof (target as Partial<PgPoolLike>).totalCount === 'number' && typeof (target as Partial<PgPoolLike>).on === 'function';
}

function wrapClient(metrics: DbMetrics, client: PgClientLike): void {
  const c = client as unknown as { query: AnyFn; [WRAPPED]?: true };
  if (c[WRAPPED]) return;
  c[WRAPPED] = true;
  const original = c.query;
  c.query = function instrumentedQuery(this: unknown, ...args: unknown[]): unknown {
    const first = args[0];
    const operation = sqlOperation(textOf(first));
    const started = performance.now();
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      metrics.record(operation, ok, (performance.now() - started) / 1000);
    };
    if (first !== null && typeof first === 'object' && typeof (first as { submit?: unknown }).submit === 'function') {
      const s = first as Emitter;
      s.once('end', () => finish(true));
      s.once('error', () => finish(false));
      return original.apply(this, args);
    }
    const last = args.length - 1;
    if (last >= 0 && typeof args[last] === 'function') {
      const callback = args[last] as AnyFn;
      args[last] = function (this: unknown, err: unknown, ...rest: unknown[]) {
        finish(!err);
        return callback.call(this, err, ...rest);
      };
    }
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (err) {
      finish(false);
      throw err;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(
        () => finish(true),
        () => finish(false),
      );
    }
    return result;
  };
}

/** Instruments a pg Client or Pool in place and returns it. */
export function instrumentPg<T extends PgClientLike | PgPoolLike>(metrics: DbMetrics, target: T): T {
  if (isPool(target)) {
    // pg keeps its open clients in _clients; new ones announce themselves with 'connect'
    const open = (target as unknown as { _clients?: unknown })._clients;
    if (Array.isArray(open)) for (const c of open as PgClientLike[]) wrapClient(metrics, c);
    target.on('connect', (client) => wrapClient(metrics, client));
  } else {
    wrapClient(metrics, target);
  }
  return target;
}
