/**
 * The query API under a cluster: only instance 0 opens the store (one writer per
 * store), but PM2 hands a request for `/api/v1/*` to any instance. So instance 0 also
 * serves the API on its loopback peer endpoint (at `${API_PREFIX}/api/v1`, behind the same auth
 * as its own port), and every other instance forwards `/api/v1/*` there, streaming the
 * request and the answer as they are. Every instance then answers as instance 0 does:
 * the same store, the same rollup tiers, the same rule state and alert history, and no
 * second SQLite reader taking the file's lock from the recorder.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Authenticator } from '../web-auth.js';
import type { Logger } from '../log.js';
import { API_PREFIX } from './cluster-view.js';

/** Headers that belong to one connection, not to the request or answer (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** A Prometheus API error answer. */
function apiError(res: Response, status: number, errorType: string, error: string): void {
  res.status(status).json({ status: 'error', errorType, error });
}

/**
 * The handler instance 0's peer endpoint runs for URLs under `${API_PREFIX}/api/v1`: `auth` as on
 * the main port (the forwarding instance passes the caller's Authorization header on),
 * then `api` at `/api/v1`.
 */
export function clusterApiHandler(api: Router, auth: Authenticator, log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const app = express();
  app.set('etag', false);
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (auth.open) return next();
    auth.verify(req.headers.authorization).then((outcome) => {
      if (outcome === 'ok') return next();
      if (outcome === 'busy') return void res.set('Retry-After', '1').status(429).type('text/plain').send('Too many authentication attempts in progress; try again\n');
      res.set('WWW-Authenticate', auth.challenge).status(401).type('text/plain').send('Unauthorized\n');
    }, next);
  });
  app.use('/api/v1', api);
  app.use((_req: Request, res: Response) => void res.status(404).type('text/plain').send('Not found\n'));
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    log.error('forwarded API request failed', { err });
    if (!res.headersSent) res.status(500).type('text/plain').send('Internal error\n');
  });
  return (req, res) => {
    req.url = req.url!.slice(API_PREFIX.length) || '/';
    app(req, res);
  };
}

/** Where instance 0's peer endpoint listens. */
export interface ForwardTarget {
  readonly host: string;
  readonly port: number;
  /** Longest silence on the forwarded connection before it is given up, ms. @default 300_000 */
  readonly idleTimeoutMs?: number;
}

/**
 * The `/api/v1` router of an instance other than 0: forwards every request to
 * instance 0's peer endpoint; answers 503 (Prometheus' `unavailable`) when it cannot be reached.
 */
export function forwardApi(target: ForwardTarget, log: Logger): Router {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const router = express.Router();
  router.use((req: Request, res: Response) => {
    const upstream = httpRequest(
      { agent, host: target.host, port: target.port, method: req.method, path: `${API_PREFIX}/api/v1${req.url}`, headers: endToEnd(req.headers), timeout: target.idleTimeoutMs ?? 300_000 },
      (answer) => {
        res.status(answer.statusCode ?? 502);
        for (const [k, v] of Object.entries(endToEnd(answer.headers))) res.setHeader(k, v);
        answer.pipe(res);
        answer.once('error', () => res.destroy());
      },
    );
    upstream.once('timeout', () => upstream.destroy(new Error(`no answer for ${target.idleTimeoutMs ?? 300_000} ms`)));
    upstream.once('error', (err: Error) => {
      if (res.headersSent) return void res.destroy();
      log.once(`cluster-forward:${(err as NodeJS.ErrnoException).code ?? err.message}`, 'warn', 'cannot forward a query to cluster instance 0, which holds the store', { target: `${host}:${target.port}`, err });
      apiError(res, 503, 'unavailable', `the store is read through cluster instance 0 (${host}:${target.port}), which did not answer: ${err.message}`);
    });
    // the caller went away: stop the query on instance 0 too
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  return router;
}
