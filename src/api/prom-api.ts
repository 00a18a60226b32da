/**
 * The Prometheus HTTP query API (`/api/v1/*`) over Larder's store, answered by the
 * PromQL engine (query/): query, query_range, series, labels, label values,
 * metadata, buildinfo, format_query, parse_query and an empty query_exemplars, with Prometheus' JSON envelope,
 * error types and status codes, so Grafana's stock Prometheus data source reads
 * Larder's history. GET and form-encoded POST take the same parameters.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { SeriesInfo, Store } from '../../storage/store.js';
import { QueryError, type QueryEngine, type QueryErrorType, type SeriesQuery } from '../../query/types.js';
import type { Expr } from '../../query/ast.js';
import { exprJson, prettyExpr } from '../../query/format.js';
import { parseQuery } from '../../query/parse.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import { encodeValue, sortedLabels } from './encode.js';
import { Gate } from './gate.js';
import { BadData, checkRange, isLabelName, MAX_PARAM_LENGTH, MAX_TIME_MS, MIN_TIME_MS, parseDurationParam, parseLimit, parseTime, parseTimeOr, STORE_MAX_MS, STORE_MIN_MS } from './params.js';

/** What the API needs. */
export interface PromApiOptions {
  /** The store queries read; undefined while none is open (or storage is off: `--storage.engine=none`). */
  readonly store: () => Store | undefined;
  /** Builds the engine over a store; called once per store. */
  readonly createEngine: (store: Store) => QueryEngine;
  readonly log: Logger;
  /** Longest a query may run; a `timeout` parameter can only shorten it. */
  readonly timeoutMs: number;
  /** Queries evaluated at once. @default 4 */
  readonly concurrency?: number;
  /** Queries waiting for a slot before more are refused with 503. @default 64 */
  readonly queue?: number;
  /** The clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** The Prometheus release whose query API and PromQL semantics Larder follows (its promqltest corpus). */
export const PROMETHEUS_API_VERSION = '3.0.0';

/** HTTP status per Prometheus error type (web/api/v1/api.go). */
const STATUS: Record<QueryErrorType | 'unavailable' | 'not_found', number> = {
  bad_data: 400,
  execution: 422,
  canceled: 503,
  timeout: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
};

type ErrorType = keyof typeof STATUS;

class ApiError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
  ) {
    super(message);
  }
}

/** Values of a parameter from the query string and a form body (`match[]` arrives as `match` or `match[]`). */
function values(req: Request, name: string): unknown[] {
  const out: unknown[] = [];
  const bare = name.endsWith('[]') ? name.slice(0, -2) : name;
  const sources = [req.query as Record<string, unknown>, (req.body ?? {}) as Record<string, unknown>];
  for (const src of sources) {
    for (const key of new Set([name, bare, `${bare}[]`])) {
      const v = src[key];
      if (v === undefined) continue;
      if (Array.isArray(v)) out.push(...(v as unknown[]));
      else out.push(v);
    }
  }
  return out;
}

function checked(name: string, v: unknown): string {
  if (typeof v !== 'string') throw new BadData(`invalid parameter ${JSON.stringify(name)}: expected a string`);
  if (v.length > MAX_PARAM_LENGTH) throw new BadData(`invalid parameter ${JSON.stringify(name)}: longer than ${MAX_PARAM_LENGTH} characters`);
  return v;
}

/** The first value of a single-valued parameter (as Go's FormValue), or undefined. */
function param(req: Request, name: string): string | undefined {
  const all = values(req, name);
  return all.length === 0 ? undefined : checked(name, all[0]);
}

/** Every value of a repeated parameter such as `match[]`. */
function params(req: Request, name: string): string[] {
  const all = values(req, name);
  if (all.length > 1000) throw new BadData(`too many ${name} parameters (${all.length}); at most 1000`);
  return all.map((v) => checked(name, v));
}

function send(res: Response, data: unknown, warnings: readonly string[] = []): void {
  res.type('application/json').send(JSON.stringify(warnings.length ? { status: 'success', data, warnings } : { status: 'success', data }));
}

function sendError(res: Response, type: ErrorType, message: string): void {
  res.status(STATUS[type]).type('application/json').send(JSON.stringify({ status: 'error', errorType: type, error: message }));
}

/** Family name of a stored series: histogram and summary parts share their base name's metadata. */
function familyName(s: SeriesInfo): string {
  if (s.type === 'histogram' || s.type === 'summary') return s.name.replace(/_(bucket|sum|count)$/, '');
  return s.name;
}

/** Builds the `/api/v1` router. Mount it behind the same auth as /metrics. */
export function createPromApi(opts: PromApiOptions): Router {
  const now = opts.now ?? Date.now;
  const gate = new Gate(opts.concurrency ?? 4, opts.queue ?? 64);
  let engineOf: { store: Store; engine: QueryEngine } | undefined;

  const storeOrFail = (): Store => {
    const store = opts.store();
    if (!store) throw new ApiError('unavailable', 'no store to query yet: the store is not open');
    return store;
  };
  const engine = (): QueryEngine => {
    const store = storeOrFail();
    if (engineOf?.store !== store) engineOf = { store, engine: opts.createEngine(store) };
    return engineOf.engine;
  };
  const timeoutOf = (req: Request): number => {
    const raw = param(req, 'timeout');
    if (raw === undefined || raw === '') return opts.timeoutMs;
    const ms = parseDurationParam('timeout', raw);
    return ms > 0 ? Math.min(ms, opts.timeoutMs) : opts.timeoutMs;
  };
  const seriesQuery = (req: Request, requireMatch: boolean): SeriesQuery => {
    const match = params(req, 'match[]');
    if (requireMatch && match.length === 0) throw new BadData('no match[] parameter provided');
    const startMs = parseTimeOr('start', param(req, 'start'), MIN_TIME_MS);
    const endMs = parseTimeOr('end', param(req, 'end'), MAX_TIME_MS);
    // An end before the start is no error here (Prometheus reads an empty range): no series, no names.
    // absent start/end mean all time; the store holds 1970 to 9999, so ask it for no more
    const clamp = (ms: number): number => Math.min(STORE_MAX_MS, Math.max(STORE_MIN_MS, ms));
    return { match, startMs: clamp(startMs), endMs: clamp(endMs), limit: parseLimit(param(req, 'limit')) };
  };
  /** The engine's query for a limited list: one more than the limit, so truncation can be told apart. */
  const oneMore = (q: SeriesQuery): SeriesQuery => (q.limit ? { ...q, limit: Math.min(q.limit + 1, Number.MAX_SAFE_INTEGER) } : q);
  /** Truncates a list answer to `limit`, with Prometheus' warning. */
  const limited = <T>(items: T[], limit: number | undefined): { items: T[]; warnings: string[] } =>
    limit && items.length > limit ? { items: items.slice(0, limit), warnings: ['results truncated due to limit'] } : { items, warnings: [] };

  /** Wraps a handler: gate, error envelope, and a log line for failures that are ours. */
  const handle =
    (fn: (req: Request, res: Response) => Promise<void>, gated = true) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        if (!gated) return await fn(req, res);
        const ran = await gate.run(() => fn(req, res));
        if (!ran) sendError(res, 'unavailable', 'too many queries in flight; try again');
      } catch (err) {
        if (err instanceof BadData) return sendError(res, 'bad_data', err.message);
        if (err instanceof ApiError) return sendError(res, err.type, err.message);
        if (err instanceof QueryError) return sendError(res, err.type, err.param === undefined ? err.message : `invalid parameter ${JSON.stringify(err.param)}: ${err.message}`);
        opts.log.error('query API request failed', { path: req.path, err: err as Error });
        sendError(res, 'internal', 'internal error');
      }
    };

  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '256kb', parameterLimit: 2000 }));

  router.all('/query', handle(async (req, res) => {
    const query = param(req, 'query') ?? '';
    const timeMs = parseTimeOr('time', param(req, 'time'), now());
    const result = await engine().instant(query, timeMs, { timeoutMs: timeoutOf(req) });
    send(res, encodeValue(result.value), result.warnings);
  }));

  router.all('/query_range', handle(async (req, res) => {
    const query = param(req, 'query') ?? '';
    const startMs = parseTime('start', param(req, 'start') ?? '');
    const endMs = parseTime('end', param(req, 'end') ?? '');
    const stepMs = parseDurationParam('step', param(req, 'step') ?? '');
    checkRange(startMs, endMs, stepMs);
    const result = await engine().range(query, startMs, endMs, stepMs, { timeoutMs: timeoutOf(req) });
    send(res, encodeValue(result.value), result.warnings);
  }));

  router.all('/series', handle(async (req, res) => {
    const q = seriesQuery(req, true);
    const { items, warnings } = limited((await engine().series(oneMore(q))).map(sortedLabels), q.limit);
    send(res, items, warnings);
  }));

  router.all('/labels', handle(async (req, res) => {
    const q = seriesQuery(req, false);
    const { items, warnings } = limited(await engine().labelNames(oneMore(q)), q.limit);
    send(res, items, warnings);
  }));

  router.get('/label/:name/values', handle(async (req, res) => {
    const name = String(req.params.name);
    if (!isLabelName(name)) throw new BadData(`invalid label name: ${JSON.stringify(name)}`);
    const q = seriesQuery(req, false);
    const { items, warnings } = limited(await engine().labelValues(name, oneMore(q)), q.limit);
    send(res, items, warnings);
  }));

  router.all('/metadata', handle(async (req, res) => {
    const limit = parseLimit(param(req, 'limit'));
    const perMetric = parseLimit(param(req, 'limit_per_metric'));
    const metric = param(req, 'metric') ?? '';
    const out: Record<string, { type: string; help: string; unit: string }[]> = {};
    for (const s of await storeOrFail().listSeries()) {
      const name = familyName(s);
      if (metric !== '' && name !== metric) continue;
      const list = (out[name] ??= []);
      if (perMetric && list.length >= perMetric) continue;
      if (!list.some((m) => m.type === s.type && m.help === s.help)) list.push({ type: s.type === 'untyped' ? 'unknown' : s.type, help: s.help, unit: '' });
    }
    const names = Object.keys(out).sort();
    const kept = limit ? names.slice(0, limit) : names;
    send(res, Object.fromEntries(kept.map((n) => [n, out[n]])));
  }));

  // Parse only: no store, no gate (Prometheus answers them without touching its TSDB).
  const parsed = (req: Request): Expr => parseQuery(param(req, 'query') ?? '');
  router.all('/format_query', handle(async (req, res) => send(res, prettyExpr(parsed(req))), false));
  router.all('/parse_query', handle(async (req, res) => send(res, exprJson(parsed(req))), false));

  router.all('/query_exemplars', handle(async (req, res) => {
    // Larder keeps no exemplars; the parameters are still checked as Prometheus checks them.
    parseTimeOr('start', param(req, 'start'), MIN_TIME_MS);
    parseTimeOr('end', param(req, 'end'), MAX_TIME_MS);
    send(res, []);
  }, false));

  router.get('/status/buildinfo', handle(async (_req, res) => {
    // `version` is the Prometheus API Larder answers as: Grafana and other clients gate
    // features on it (and treat an `application` member as Mimir/Cortex). Larder's own
    // version is in `larderVersion`.
    send(res, { version: PROMETHEUS_API_VERSION, revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '', larderVersion: VERSION });
  }, false));

  router.use(handle(async (req) => {
    throw new ApiError('not_found', `unknown API endpoint ${req.method} /api/v1${req.path}`);
  }, false));
  return router;
}
