/**
 * The PromQL engine's contract: what `src/` (the HTTP API, alerting, the CLI) may ask
 * of `query/`. Times cross it as epoch milliseconds; values as IEEE doubles.
 * Members are added, never renamed or removed.
 */
import type { Labels } from '../storage/store.js';

/** One element of an instant vector. */
export interface InstantSample {
  readonly metric: Labels;
  readonly timeMs: number;
  readonly value: number;
}

/** One point of a range result. */
export interface Point {
  readonly timeMs: number;
  readonly value: number;
}

/** One series of a matrix (a range query's answer, or a range selector's). */
export interface RangeSeries {
  readonly metric: Labels;
  readonly points: readonly Point[];
}

/** A query's value, as Prometheus' `resultType` names it. */
export type QueryValue =
  | { readonly type: 'scalar'; readonly timeMs: number; readonly value: number }
  | { readonly type: 'string'; readonly timeMs: number; readonly value: string }
  | { readonly type: 'vector'; readonly samples: readonly InstantSample[] }
  | { readonly type: 'matrix'; readonly series: readonly RangeSeries[] };

/** An answer with the warnings Prometheus would attach (e.g. a tier answered instead of raw samples). */
export interface QueryResult {
  readonly value: QueryValue;
  readonly warnings: readonly string[];
}

/** Prometheus' error types, as its HTTP API names them in `errorType`. */
export type QueryErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal';

/** A failed query; `type` decides the HTTP status (bad_data 400, execution 422, timeout 503). */
export class QueryError extends Error {
  /**
   * @param param the request parameter the error is about, when it is one (`query`,
   *   `match[]`): the HTTP API then says `invalid parameter "<param>": <message>`, as
   *   Prometheus' does, and every other caller reads the bare message.
   */
  constructor(
    readonly type: QueryErrorType,
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

/** Per-query limits and switches. */
export interface QueryOptions {
  /** Abort after this long. @default the engine's timeout */
  readonly timeoutMs?: number;
  /** Lookback delta for instant selectors. @default 300_000 (5 minutes) */
  readonly lookbackMs?: number;
  /** Read raw samples only, never a rollup tier. @default false */
  readonly rawOnly?: boolean;
}

/** Which series exist, for `/api/v1/series`, `/labels` and `/label/<name>/values`. */
export interface SeriesQuery {
  /** Selectors (`match[]`), each a PromQL series selector; empty = all series. */
  readonly match: readonly string[];
  readonly startMs: number;
  readonly endMs: number;
  /** Most results; 0 = no limit. */
  readonly limit?: number;
}

/** The engine over one store. */
export interface QueryEngine {
  /** Evaluates `query` at one instant. Rejects with QueryError. */
  instant(query: string, timeMs: number, opts?: QueryOptions): Promise<QueryResult>;
  /** Evaluates `query` at every step from `startMs` to `endMs` inclusive; always a matrix. Rejects with QueryError. */
  range(query: string, startMs: number, endMs: number, stepMs: number, opts?: QueryOptions): Promise<QueryResult>;
  /** Label sets of the series that match any selector and have samples in the range. */
  series(q: SeriesQuery): Promise<Labels[]>;
  /** Label names of those series, sorted. */
  labelNames(q: SeriesQuery): Promise<string[]>;
  /** Values of one label on those series, sorted. */
  labelValues(name: string, q: SeriesQuery): Promise<string[]>;
}
