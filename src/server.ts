/**
 * The HTTP server: GET /metrics (text or OpenMetrics, gzip when asked), /healthz,
 * the built-in page (src/ui-files.ts), optional basic/bearer auth and TLS, and a cap on concurrent
 * scrapes. A scrape only serializes the registry; collectors refresh elsewhere.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import express, { type Request, type Response, type NextFunction, type Router } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CollectorSet } from '../exporters/collector-set.js';
import { collectSnapshot, type Snapshot } from './exposition/snapshot.js';
import { acceptsGzip } from './exposition/negotiate.js';
import { negotiate, OPENMETRICS_TEXT, PROMETHEUS_TEXT, toOpenMetrics, toPrometheusText } from './exposition/format.js';
import { UiFiles } from './ui-files.js';
import type { Authenticator } from './web-auth.js';
import type { Logger } from './log.js';

const gzipAsync = promisify(gzip);

/** What the server needs. */
export interface ServerOptions {
  readonly registry: Registry;
  /** The collectors, for the `collect[]` / `exclude[]` filter. */
  readonly collectors: CollectorSet;
  readonly auth: Authenticator;
  readonly log: Logger;
  /** Most concurrent /metrics requests; 0 = no limit. @default 40 */
  readonly maxRequests: number;
  /** PEM certificate and key; both set → HTTPS. */
  readonly tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Collects what /metrics serves (the cluster view merges instances here). @default collectSnapshot(registry, include) */
  readonly snapshot?: ((include?: (name: string) => boolean) => Promise<Snapshot>) | undefined;
  /** The Prometheus query API, mounted at /api/v1 behind the same auth (src/api/prom-api.ts). */
  readonly api?: Router | undefined;
  /** More routes at the root behind the same auth (e.g. `POST /-/reload`). @default none */
  readonly routes?: Router | undefined;
  /** The built-in page at `/` and `/ui/*`. @default new UiFiles() (the package's dist/ui) */
  readonly ui?: UiFiles | undefined;
  /** Problems that make /healthz answer 503 (e.g. a damaged store); none → 200 OK. @default none */
  readonly health?: (() => readonly string[]) | undefined;
}

/** A started server. */
export interface RunningServer {
  readonly server: Server;
  /** The bound address, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stops accepting and closes open connections. */
  close(): Promise<void>;
}

/** Thrown for a bad query parameter; becomes a 400 with its message. */
class BadRequest extends Error {}

function queryList(req: Request, name: string): string[] {
  const raw = req.query[name] ?? req.query[name.replace('[]', '')];
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => {
    if (typeof v !== 'string') throw new BadRequest(`query parameter ${name} must be a collector name`);
    return v;
  });
}

/** Builds the express app (exported for tests that mount it themselves). */
export function createApp(opts: ServerOptions): express.Express {
  const { registry, collectors, auth, log } = opts;
  const requests = new Counter({
    name: 'larder_metric_handler_requests_total',
    help: 'Requests to the HTTP server, by path and status code.',
    labelNames: ['handler', 'code'],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'larder_metric_handler_requests_in_flight',
    help: '/metrics requests being served now.',
    registers: [registry],
  });
  let active = 0;
  const knownCollectors = new Set(collectors.names());
  const ui = opts.ui ?? new UiFiles();

  const app = express();
  // no ETag: a SHA-1 of every 50 KB exposition (~0.08 ms a scrape) for content that
  // changes between scrapes; node_exporter sends none either
  app.set('etag', false);
  app.disable('x-powered-by');
  app.set('query parser', 'extended');

  app.use((req: Request, res: Response, next: NextFunction) => {
    const handler = ['/metrics', '/healthz', '/'].includes(req.path) ? req.path : req.path.startsWith('/api/v1/') ? '/api/v1' : req.path.startsWith('/ui/') ? '/ui' : 'other';
    res.on('finish', () => requests.inc({ handler, code: String(res.statusCode) }));
    if (auth.open) return next();
    auth.verify(req.headers.authorization).then(
      (outcome) => {
        if (outcome === 'ok') return next();
        // too many password checks already running: refuse at once rather than queue
        if (outcome === 'busy') return void res.set('Retry-After', '1').status(429).type('text/plain').send('Too many authentication attempts in progress; try again\n');
        res.set('WWW-Authenticate', auth.challenge).status(401).type('text/plain').send('Unauthorized\n');
      },
      next,
    );
  });

  app.get('/metrics', async (req: Request, res: Response) => {
    if (opts.maxRequests > 0 && active >= opts.maxRequests) {
      res.status(503).type('text/plain').send(`Too many concurrent scrapes (limit ${opts.maxRequests}); try again\n`);
      return;
    }
    active++;
    inFlight.inc();
    try {
      const collect = queryList(req, 'collect[]');
      const exclude = queryList(req, 'exclude[]');
      if (collect.length && exclude.length) throw new BadRequest('collect[] and exclude[] cannot be used together');
      for (const name of [...collect, ...exclude]) {
        if (!knownCollectors.has(name)) throw new BadRequest(`unknown or disabled collector "${name}"; enabled collectors: ${[...knownCollectors].join(', ')}`);
      }
      let include: ((name: string) => boolean) | undefined;
      if (collect.length) {
        const keep = collectors.metricsOf(collect);
        include = (n) => keep.has(n) || n.startsWith('larder_collector_');
      } else if (exclude.length) {
        const drop = collectors.metricsOf(exclude);
        include = (n) => !drop.has(n);
      }
      const snapshot = await (opts.snapshot ? opts.snapshot(include) : collectSnapshot(registry, include));
      for (const { metric, error } of snapshot.errors) log.once(`collect:${metric}`, 'warn', 'metric collect failed; left out of the scrape', { metric, err: error });
      const format = negotiate(req.headers.accept);
      const body = format === 'openmetrics' ? toOpenMetrics(snapshot.families) : toPrometheusText(snapshot.families);
      res.set('Content-Type', format === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT);
      res.set('Vary', 'Accept, Accept-Encoding');
      if (acceptsGzip(req.headers['accept-encoding'])) {
        res.set('Content-Encoding', 'gzip');
        res.send(await gzipAsync(body));
      } else {
        res.send(body);
      }
    } catch (err) {
      if (err instanceof BadRequest) {
        res.status(400).type('text/plain').send(`${err.message}\n`);
      } else {
        log.error('scrape failed', { err: err as Error });
        res.status(500).type('text/plain').send('Internal error while collecting metrics\n');
      }
    } finally {
      active--;
      inFlight.dec();
    }
  });

  app.get('/healthz', (_req: Request, res: Response) => {
    const problems = opts.health?.() ?? [];
    if (problems.length > 0) res.status(503).type('text/plain').send(problems.map((p) => `${p}\n`).join(''));
    else res.type('text/plain').send('OK\n');
  });

  app.get('/', ui.page);
  app.get('/ui/:file', ui.asset);

  if (opts.api) app.use('/api/v1', opts.api);
  if (opts.routes) app.use(opts.routes);

  // Known paths with other methods get 405; everything else 404.
  app.all(['/metrics', '/healthz', '/'], (_req: Request, res: Response) => {
    res.set('Allow', 'GET, HEAD').status(405).type('text/plain').send('Method not allowed; use GET or HEAD\n');
  });
  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Not found; see /metrics\n');
  });
  app.use((err: Error & { status?: unknown; expose?: unknown }, req: Request, res: Response, _next: NextFunction) => {
    // The client's fault, as body-parser and express report it (a body over the size
    // limit is 413, a malformed one 400): its status, not a 500 and an error log line.
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error('request failed', { err });
    if (res.headersSent) return;
    const message = status === 500 ? 'Internal error' : err.expose === true ? err.message : 'Bad request';
    if (req.path.startsWith('/api/')) {
      res.status(status).type('application/json').send(JSON.stringify({ status: 'error', errorType: status === 500 ? 'internal' : 'bad_data', error: message }));
    } else {
      res.status(status).type('text/plain').send(`${message}\n`);
    }
  });
  return app;
}

/** Starts the server on host:port (port 0 = any free port). */
export async function startServer(opts: ServerOptions, listen: { host: string; port: number }): Promise<RunningServer> {
  const app = createApp(opts);
  const server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, app) : createHttpServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
