/**
 * Example: a small express "recipes" API on PostgreSQL and Redis, measured by Larder
 * in-process. Run it with `make example` (ARGS='--traffic' adds synthetic users), then
 * look at http://127.0.0.1:3000/metrics.
 *
 * It shows the intended use: one `createLarder()` configured like `larder serve`
 * (flags, LARDER_* variables, config file), the middleware mounted first, the database
 * and cache clients instrumented, business metrics updated where the events happen,
 * /metrics mounted in the app itself (merged across instances under PM2 cluster
 * mode when LARDER_CLUSTER_INSTANCES is set), and its own metrics recorded in-process
 * into SQLite (data/recipes.db by default) or PostgreSQL (MONITORING_DB=postgresql).
 *
 * A service of your own imports from 'larder-metrics'; this example imports the sources.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import pgPromise from 'pg-promise';
import { Redis } from 'ioredis';
import { createLarder, loadConfig, Logger, type Larder } from '../../src/index.js';

/** Where the example finds its peers and listens. */
export interface RecipesOptions {
  /** @default 3000 (0 = any free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** PostgreSQL connection string. @default DATABASE_URL or postgres://postgres@127.0.0.1:5432/test */
  readonly databaseUrl?: string;
  /** @default REDIS_HOST/REDIS_PORT or 127.0.0.1:6379 */
  readonly redis?: { host: string; port: number };
  /** Larder's flags (`--app.cardinality-limit=500` …). @default [] */
  readonly larderArgs?: readonly string[];
}

/** A running example. */
export interface RecipesService {
  readonly url: string;
  readonly larder: Larder;
  stop(): Promise<void>;
}

const SCHEMA = 'larder_example';
const CATEGORIES = ['breakfast', 'soup', 'main', 'dessert'] as const;

/** Thrown by handlers for a bad request; the error handler turns it into a 400. */
class BadRequest extends Error {
  readonly status = 400;
}

/** Starts the example API. */
export async function startRecipes(opts: RecipesOptions = {}): Promise<RecipesService> {
  const env = process.env;
  // The example records into its own SQLite file unless SQLITE_DB_PATH or the flag says
  // otherwise (data/monitoring.db is `make run`'s, and a store has one writer).
  const { config } = loadConfig({ argv: [...(opts.larderArgs ?? [])], env: { SQLITE_DB_PATH: 'data/recipes.db', ...env } });
  const log = new Logger(config.general.logLevel).child('recipes');
  const larder = createLarder({
    app: config.app,
    log,
    collectorOptions: config.collectors,
    // its own metrics into the store (--storage.engine=none: not recorded), as `larder serve` records
    ...(config.storage.engine !== 'none' ? { store: config.storage, record: { ...config.recorder, interval: config.storage.recordInterval } } : {}),
  });

  // business metrics: declared here, by the service that updates them (typed handles)
  const registrations = larder.business.counter('user_registrations_total', 'Users who registered.');
  const recipesCreated = larder.business.counter('recipes_created_total', 'Recipes created.', ['category']);
  const searches = larder.business.counter('searches_total', 'Searches run.', ['kind']);
  const engagement = larder.business.gauge('user_engagement_score', 'Engagement score of the user base.');
  const cacheResults = larder.business.counter('recipe_cache_lookups_total', 'Recipe cache lookups by result.', ['result']);

  const pgp = pgPromise(larder.instrumentPgPromise({ capSQL: true }));
  const db = pgp(opts.databaseUrl ?? env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test');
  const redis = larder.instrumentRedis(
    new Redis({ host: opts.redis?.host ?? env['REDIS_HOST'] ?? '127.0.0.1', port: opts.redis?.port ?? Number(env['REDIS_PORT'] ?? 6379), maxRetriesPerRequest: 1, lazyConnect: true }),
  );
  await redis.connect();

  await db.none(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  await db.none(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.users (id serial PRIMARY KEY, name text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())`);
  await db.none(
    `CREATE TABLE IF NOT EXISTS ${SCHEMA}.recipes (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES ${SCHEMA}.users(id), title text NOT NULL, category text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );

  const api = Router();
  api.use(express.json({ limit: '64kb' }));

  api.post('/users', async (req: Request, res: Response) => {
    const name = (req.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw new BadRequest('name: a string of 1 to 100 characters is required');
    const row = await db.oneOrNone<{ id: number }>(`INSERT INTO ${SCHEMA}.users (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id`, [name.trim()]);
    if (!row) {
      res.status(409).json({ error: `user ${JSON.stringify(name)} exists` });
      return;
    }
    registrations.inc();
    res.status(201).json({ id: row.id, name });
  });

  api.get('/users/:id/recipes', async (req: Request, res: Response) => {
    const id = Number(req.params['id']);
    if (!Number.isSafeInteger(id)) throw new BadRequest('id: an integer is required');
    res.json(await db.any(`SELECT id, title, category FROM ${SCHEMA}.recipes WHERE user_id = $1 ORDER BY id DESC LIMIT 50`, [id]));
  });

  api.post('/recipes', async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { userId?: unknown; title?: unknown; category?: unknown };
    if (typeof body.title !== 'string' || body.title.trim() === '') throw new BadRequest('title: a non-empty string is required');
    if (!CATEGORIES.includes(body.category as (typeof CATEGORIES)[number])) throw new BadRequest(`category: one of ${CATEGORIES.join(', ')}`);
    if (!Number.isSafeInteger(body.userId)) throw new BadRequest('userId: an integer is required');
    const row = await db.one<{ id: number }>(`INSERT INTO ${SCHEMA}.recipes (user_id, title, category) VALUES ($1, $2, $3) RETURNING id`, [body.userId, body.title, body.category]);
    recipesCreated.inc({ category: body.category as string });
    res.status(201).json({ id: row.id });
  });

  // declared before /recipes/:id so "search" is not taken for an id
  api.get('/recipes/search', async (req: Request, res: Response) => {
    const q = typeof req.query['q'] === 'string' ? req.query['q'] : '';
    if (q.length < 2) throw new BadRequest('q: at least 2 characters');
    searches.inc({ kind: 'text' });
    res.json(await db.any(`SELECT id, title, category FROM ${SCHEMA}.recipes WHERE title ILIKE $1 ORDER BY id DESC LIMIT 20`, [`%${q}%`]));
  });

  api.get('/recipes/:id', async (req: Request, res: Response) => {
    const id = Number(req.params['id']);
    if (!Number.isSafeInteger(id)) throw new BadRequest('id: an integer is required');
    const key = `larder-example:recipe:${id}`;
    const cached = await redis.get(key);
    if (cached !== null) {
      cacheResults.inc({ result: 'hit' });
      res.type('json').send(cached);
      return;
    }
    cacheResults.inc({ result: 'miss' });
    const recipe = await db.oneOrNone(`SELECT r.id, r.title, r.category, u.name AS author FROM ${SCHEMA}.recipes r JOIN ${SCHEMA}.users u ON u.id = r.user_id WHERE r.id = $1`, [id]);
    if (!recipe) {
      res.status(404).json({ error: `no recipe ${id}` });
      return;
    }
    const json = JSON.stringify(recipe);
    await redis.set(key, json, 'EX', 30);
    res.type('json').send(json);
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(larder.middleware); // first, so it sees every request
  app.get('/metrics', larder.metricsHandler());
  app.get('/healthz', (_req, res) => void res.send('OK\n'));
  app.use('/api', api);
  app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status ?? 500;
    if (status >= 500) log.error('request failed', { err });
    res.status(status).json({ error: status >= 500 ? 'internal error' : err.message });
  });

  // engagement: recipes per user over the last day, refreshed every 15 s
  const refresh = async (): Promise<void> => {
    const r = await db.one<{ score: string | null }>(
      `SELECT (SELECT count(*) FROM ${SCHEMA}.recipes WHERE created_at > now() - interval '1 day')::float / NULLIF((SELECT count(*) FROM ${SCHEMA}.users), 0) AS score`,
    );
    engagement.set(undefined, Number(r.score ?? 0));
  };
  larder.use({ name: 'engagement', start: () => refresh() });
  const timer = setInterval(() => void refresh().catch((err: Error) => log.once('engagement', 'warn', 'engagement refresh failed', { err })), 15_000);
  timer.unref();

  await larder.start();
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? Number(env['PORT'] ?? 3000), opts.host ?? '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address}:${addr.port}`;
  log.info('recipes example listening', { url, metrics: `${url}/metrics` });

  return {
    url,
    larder,
    async stop() {
      clearInterval(timer);
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await larder.stop();
      await redis.quit().catch(() => undefined);
      await pgp.end();
    },
  };
}

/** Synthetic users: register, create, read (cache hits and misses), search, sometimes 404. Returns a stop function. */
export function generateTraffic(url: string, requestsPerSecond = 20): () => Promise<void> {
  let running = true;
  const run = Math.random().toString(36).slice(2, 8);
  const loop = async (): Promise<void> => {
    let n = 0;
    const users: number[] = [];
    const recipes: number[] = [];
    while (running) {
      n++;
      try {
        if (users.length === 0 || n % 25 === 0) {
          const r = await fetch(`${url}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `cook-${run}-${n}` }) });
          if (r.ok) users.push(((await r.json()) as { id: number }).id);
        } else if (n % 7 === 0) {
          const userId = users[n % users.length];
          const r = await fetch(`${url}/api/recipes`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ userId, title: `dish ${n} of ${run}`, category: CATEGORIES[n % CATEGORIES.length] }),
          });
          if (r.ok) recipes.push(((await r.json()) as { id: number }).id);
        } else if (n % 5 === 0) {
          await (await fetch(`${url}/api/recipes/search?q=dish ${n % 10}`)).arrayBuffer();
        } else if (n % 11 === 0) {
          await (await fetch(`${url}/api/recipes/999999999`)).arrayBuffer();
        } else {
          const id = recipes.length ? recipes[n % recipes.length] : 1;
          await (await fetch(`${url}/api/recipes/${id}`)).arrayBuffer();
        }
      } catch {
        // the service is stopping
      }
      await new Promise((r) => setTimeout(r, 1000 / requestsPerSecond));
    }
  };
  const done = loop();
  return async () => {
    running = false;
    await done;
  };
}

// Run directly: `make example` (ARGS='--traffic' for synthetic load, other ARGS go to Larder's options)
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const traffic = args.includes('--traffic');
  const service = await startRecipes({ larderArgs: args.filter((a) => a !== '--traffic') });
  process.stdout.write(`recipes example on ${service.url} (metrics: ${service.url}/metrics)${traffic ? ', generating traffic' : ''}\n`);
  const stopTraffic = traffic ? generateTraffic(service.url) : async () => {};
  const shutdown = (): void => {
    void stopTraffic()
      .then(() => service.stop())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
