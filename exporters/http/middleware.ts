/**
 * Express middleware measuring every request: count, duration, request and response
 * size by method, route pattern and final status code, and the number in flight.
 * Mount it first (`app.use(metrics.middleware)`), so it sees every request,
 * including those that end in a 404 or in an error thrown by a handler (counted with
 * the status the error handler finally sent).
 *
 * It does little per request (one close listener, two Map lookups, array increments;
 * see request-series.ts) and touches req and res as little as it can (see the
 * middleware below), because for a small handler the middleware's own cost is a
 * visible share of the request: bench/middleware.bench.ts measures it.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { EventEmitter } from 'node:events';
import { IncomingMessage, OutgoingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { assertBuckets, type SeriesGroup, type SeriesGuard } from '../guard/series-guard.js';
import { KNOWN_METHODS, RequestSeries } from './request-series.js';
import { RoutePatterns, type RouteLike } from './route-pattern.js';

/**
 * Request duration buckets (seconds): dense from 5 ms to 1 s, where a web service's
 * p50, p95 and p99 usually fall, so `histogram_quantile` interpolates within narrow buckets.
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2.5, 5, 10];
/** Body size buckets (bytes): powers of 4 from 64 B to 16 MiB. */
export const DEFAULT_SIZE_BUCKETS: readonly number[] = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
/** The `route` label of requests no route matched (404s, static files, middleware answers). */
export const UNMATCHED_ROUTE = '<unmatched>';
/** The `status_code` label of a request whose client went away before the response was finished (nginx's convention). */
export const ABORTED_STATUS = '499';

const METHODS = new Set<string>(KNOWN_METHODS);

/** Options of the HTTP metrics. */
export interface HttpMetricsOptions {
  /** Bounds the label sets (and holds the registry). */
  readonly guard: SeriesGuard;
  /** Upper bounds (s) of `http_request_duration_seconds`. @default DEFAULT_DURATION_BUCKETS */
  readonly durationBuckets?: readonly number[];
  /** Upper bounds (bytes) of the request and response size histograms. @default DEFAULT_SIZE_BUCKETS */
  readonly sizeBuckets?: readonly number[];
  /** Requests for which this returns true are not measured (e.g. the scrape endpoint itself). @default none */
  readonly ignore?: (req: Request) => boolean;
}

type Names = 'method' | 'route' | 'status_code';

/** The HTTP metrics of one registry and the middleware that updates them. */
export interface HttpMetrics {
  /** Mount first: `app.use(http.middleware)`. */
  readonly middleware: RequestHandler;
  /** The label sets of the HTTP metrics, bounded together (drops count under `http_requests_total`). */
  readonly series: SeriesGroup<Names>;
  /** Requests being served now. */
  inFlight(): number;
}

/**
 * Node's own `on`, `getHeader` and the `headers` and `writableFinished` getters, taken
 * once: looking them up on each request and response walks up to five prototypes
 * through V8's slow path (see the middleware), which cost more than everything else
 * the middleware does. Neither Node nor express overrides them per object.
 */
const addListener = EventEmitter.prototype.on;
const getHeader = OutgoingMessage.prototype.getHeader;
const headersOf = getter<IncomingMessage['headers']>(IncomingMessage.prototype, 'headers');
const finishedOf = getter<boolean>(OutgoingMessage.prototype, 'writableFinished');

/** Calls `proto`'s getter `name` on an object; reads the property if there is no such getter. */
function getter<T>(proto: object, name: string): (self: object) => T {
  const get = Object.getOwnPropertyDescriptor(proto, name)?.get;
  return get ? (self) => get.call(self) as T : (self) => (self as Record<string, T>)[name]!;
}

/** The status recorded for an aborted request. */
const ABORTED = Number(ABORTED_STATUS);

/**
 * Body bytes sent: Content-Length when the response has one (express's send and json
 * set it); for streamed responses, the socket's bytes written during this request
 * minus the header (so chunked framing, a few bytes per chunk, is included).
 */
function responseBytes(res: Response & { _header?: unknown }, method: string, socket: Socket | undefined, written: number): number {
  if (method === 'HEAD') return 0;
  const cl = getHeader.call(res, 'content-length');
  if (cl !== undefined) {
    const n = Number(cl);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  if (!socket) return 0;
  const header = typeof res._header === 'string' ? Buffer.byteLength(res._header, 'latin1') : 0;
  return Math.max(0, socket.bytesWritten - written - header);
}

/** Registers the HTTP metrics on the guard's registry and returns them with the middleware. */
export function createHttpMetrics(opts: HttpMetricsOptions): HttpMetrics {
  const { guard } = opts;
  const durationBuckets = opts.durationBuckets ?? DEFAULT_DURATION_BUCKETS;
  const sizeBuckets = opts.sizeBuckets ?? DEFAULT_SIZE_BUCKETS;
  assertBuckets('http_request_duration_seconds', durationBuckets);
  assertBuckets('http_request_size_bytes', sizeBuckets);
  const series = guard.group('http_requests_total', ['method', 'route', 'status_code'] as const);
  const store = new RequestSeries(guard.registry, series, durationBuckets, sizeBuckets);
  const ignore = opts.ignore;
  // one resolver per app the middleware is mounted in
  const resolvers = new WeakMap<object, RoutePatterns>();

  let lastApp: Request['app'] | undefined;
  let lastResolver: RoutePatterns | undefined;
  const resolverFor = (app: Request['app']): RoutePatterns => {
    if (app === lastApp) return lastResolver!; // almost always one app
    let r = resolvers.get(app);
    if (!r) {
      r = new RoutePatterns(() => (app as unknown as { router?: { stack?: [] } }).router?.stack);
      resolvers.set(app, r);
    }
    lastApp = app;
    lastResolver = r;
    return r;
  };

  /** Records one request once its response closed (finished, or abandoned by the client). */
  function done(req: Request, res: Response, socket: Socket | undefined, written: number, started: [number, number]): void {
    const d = process.hrtime(started);
    store.inFlight--;
    const method = req.method;
    const route = req.route as RouteLike | undefined;
    const reqLength = Number(headersOf(req)['content-length']);
    store.record(
      METHODS.has(method) ? method : 'OTHER',
      route ? resolverFor(req.app).resolve(route, req) : UNMATCHED_ROUTE,
      finishedOf(res) ? res.statusCode : ABORTED,
      d[0] + d[1] / 1e9,
      reqLength > 0 ? reqLength : 0,
      responseBytes(res, method, socket, written),
    );
  }

  // Nothing is stored on req or res, and little is read from them: express gives every
  // request and response a hidden class of its own (it re-prototypes them), so each
  // property read there misses V8's inline caches, and a property added there (the
  // former per-request state symbol) builds yet another hidden class per request.
  // A closure per request costs less than either.
  const middleware: RequestHandler = (req: Request, res: Response, next: NextFunction): void => {
    if (ignore !== undefined && ignore(req)) return next();
    const started = process.hrtime();
    const socket: Socket | undefined = req.socket ?? undefined;
    // keep-alive sockets carry earlier responses: streamed body sizes count from here
    const written = socket ? socket.bytesWritten : 0;
    store.inFlight++;
    addListener.call(res, 'close', () => done(req, res, socket, written, started));
    next();
  };

  return { middleware, series, inFlight: () => store.inFlight };
}
