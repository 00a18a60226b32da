/**
 * Express middleware measuring every request: count, duration, request and response
 * size by method, route pattern and final status code, and the number in flight.
 * Mount it first (`app.use(metrics.middleware)`), so it sees every request,
 * including those that end in a 404 or in an error thrown by a handler (counted with
 * the status the error handler finally sent).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Gauge } from 'prom-client';
import type { GuardedCounter, GuardedHistogram, SeriesGuard } from '../guard/series-guard.js';
import { assertBuckets } from '../guard/series-guard.js';
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

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** Options of the HTTP metrics. */
export interface HttpMetricsOptions {
  /** Creates the bounded metrics (and holds the registry). */
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
  readonly requests: GuardedCounter<Names>;
  readonly duration: GuardedHistogram<Names>;
  readonly requestSize: GuardedHistogram<Names>;
  readonly responseSize: GuardedHistogram<Names>;
  readonly inFlight: Gauge;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/** Registers the HTTP metrics on the guard's registry and returns them with the middleware. */
export function createHttpMetrics(opts: HttpMetricsOptions): HttpMetrics {
  const { guard } = opts;
  const durationBuckets = opts.durationBuckets ?? DEFAULT_DURATION_BUCKETS;
  const sizeBuckets = opts.sizeBuckets ?? DEFAULT_SIZE_BUCKETS;
  assertBuckets('http_request_duration_seconds', durationBuckets);
  assertBuckets('http_request_size_bytes', sizeBuckets);
  const labelNames: readonly Names[] = ['method', 'route', 'status_code'];
  const requests = guard.counter({ name: 'http_requests_total', help: 'HTTP requests served, by method, route pattern and status code.', labelNames });
  const duration = guard.histogram({ name: 'http_request_duration_seconds', help: 'Time from receiving an HTTP request to finishing its response.', labelNames, buckets: durationBuckets });
  const requestSize = guard.histogram({ name: 'http_request_size_bytes', help: 'Size of HTTP request bodies (from Content-Length; 0 when absent).', labelNames, buckets: sizeBuckets });
  const responseSize = guard.histogram({ name: 'http_response_size_bytes', help: 'Size of HTTP response bodies as sent.', labelNames, buckets: sizeBuckets });
  const inFlight = new Gauge({ name: 'http_requests_in_flight', help: 'HTTP requests being served now.', registers: [guard.registry] });
  const ignore = opts.ignore;
  // one resolver per app the middleware is mounted in
  const resolvers = new WeakMap<object, RoutePatterns>();

  const resolverFor = (app: Request['app']): RoutePatterns => {
    let r = resolvers.get(app);
    if (!r) {
      r = new RoutePatterns(() => (app as unknown as { router?: { stack?: [] } }).router?.stack);
      resolvers.set(app, r);
    }
    return r;
  };

  const middleware: RequestHandler = (req: Request, res: Response, next: NextFunction): void => {
    if (ignore?.(req)) return next();
    const started = performance.now();
    const app = req.app;
    const url = req.originalUrl || req.url;
    inFlight.inc();

    // count body bytes as written: streamed responses carry no Content-Length
    let sent = 0;
    const write = res.write;
    const end = res.end;
    res.write = function (this: Response, chunk: unknown, ...rest: unknown[]) {
      sent += byteLength(chunk, rest[0]);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Response['write'];
    res.end = function (this: Response, chunk?: unknown, ...rest: unknown[]) {
      if (chunk !== undefined && typeof chunk !== 'function') sent += byteLength(chunk, rest[0]);
      return (end as (...a: unknown[]) => Response).call(this, chunk, ...rest);
    } as Response['end'];

    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      inFlight.dec();
      const route = req.route as RouteLike | undefined;
      const labels = {
        method: METHODS.has(req.method) ? req.method : 'OTHER',
        route: route ? resolverFor(app).resolve(route, pathOf(url)) : UNMATCHED_ROUTE,
        status_code: res.writableFinished ? String(res.statusCode) : ABORTED_STATUS,
      };
      requests.inc(labels);
      duration.observe(labels, seconds);
      const reqLength = Number(req.headers['content-length']);
      requestSize.observe(labels, Number.isFinite(reqLength) && reqLength > 0 ? reqLength : 0);
      responseSize.observe(labels, req.method === 'HEAD' ? 0 : sent);
    });
    next();
  };

  return { middleware, requests, duration, requestSize, responseSize, inFlight };
}
