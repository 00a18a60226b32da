/**
 * The library API: `createLarder()` builds one registry with its series guard,
 * collectors, business metrics, (lazily) HTTP, database and Redis metrics, and with
 * `store` the recording of that registry into SQLite or PostgreSQL; `start()` /
 * `stop()` run what needs running. The standalone `larder serve` is built from the
 * same function (src/main.ts), so a service and the exporter behave alike.
 */
import type { RequestHandler, Request, Response, Router } from 'express';
import { Registry } from 'prom-client';
import { COLLECTORS } from '../exporters/index.js';
import { CollectorSet } from '../exporters/collector-set.js';
import type { HostCollectorOptions } from '../exporters/collector.js';
import { BusinessMetrics, SEED_BUSINESS_METRICS } from '../exporters/business/business-metrics.js';
import { createDbMetrics, type DbMetrics } from '../exporters/db/db-metrics.js';
import { instrumentPg, type PgClientLike, type PgPoolLike } from '../exporters/db/pg.js';
import { instrumentPgPromise } from '../exporters/db/pg-promise.js';
import { SeriesGuard } from '../exporters/guard/series-guard.js';
import { createHttpMetrics, type HttpMetrics } from '../exporters/http/middleware.js';
import { instrumentIoRedis, type IoRedisLike } from '../exporters/redis/ioredis.js';
import { instrumentNodeRedis, type NodeRedisLike } from '../exporters/redis/node-redis.js';
import { createRedisMetrics, type RedisMetrics } from '../exporters/redis/redis-metrics.js';
import { ClusterView, type ClusterSnapshot } from './cluster/cluster-view.js';
import { collectSnapshot } from './exposition/snapshot.js';
import { negotiate, OPENMETRICS_TEXT, PROMETHEUS_TEXT, toOpenMetrics, toPrometheusText } from './exposition/format.js';
import { Logger } from './log.js';
import type { OptionValues } from './options/option.js';
import { appOptions } from './options/app.js';
import { collectorOptions } from './options/collectors.js';
import { defaultsOf, valuesInCode } from './options/in-code.js';
import { recorderOptions } from './options/recorder.js';
import { storageOptions } from './options/storage.js';
import { identityOptions } from './options/identity.js';
import { recordingStep, type RecordingStep } from './recording-step.js';
import type { Store } from '../storage/store.js';
import { startServer, type RunningServer } from './server.js';
import { Authenticator } from './web-auth.js';
import { clusterApiHandler, forwardApi } from './cluster/api-forward.js';

/** Application metric settings (the `app` option group: `larder serve --help` lists them). */
export type AppSettings = OptionValues<typeof appOptions>;
/**
 * Collector settings and intervals (the `collectors` option group), and the servers the
 * `postgres` and `redis` collectors watch (`larder serve` takes them from DATABASE_URL /
 * DB_* or `postgres.targets`, and `redis.*`).
 */
export type CollectorSettings = OptionValues<typeof collectorOptions> & Pick<HostCollectorOptions, 'postgresTargets' | 'redisTarget'>;
/** The `storage` option group (`larder serve --help`: engine, SQLite path, PostgreSQL, spool, retention, size cap, record interval). */
export type StorageSettings = OptionValues<typeof storageOptions>;
/** The `recorder` option group (rollup tiers, grace, schedules, scrape targets, business counters). */
export type RecorderSettings = OptionValues<typeof recorderOptions>;

/**
 * Where a Larder records: the store `larder serve` opens from the same settings. Unset
 * fields take `larder serve`'s defaults: SQLite at `data/monitoring.db` (relative to the
 * working directory). `engine: 'postgresql'` uses `databaseUrl` or the `db*` fields, with
 * the local spool at `spoolPath` while PostgreSQL is unreachable.
 */
export type StoreSettings = Partial<Omit<StorageSettings, 'recordInterval'>>;

/** How a Larder records: the `recorder` option group, and the record interval. */
export type RecordSettings = Partial<RecorderSettings> & {
  /**
   * How often the registry is recorded, ms (`--record-interval`); not shorter than
   * `collectorOptions.collectInterval` (refused otherwise). @default 60000
   */
  readonly interval?: number;
};

/** Where and how `start()` serves /metrics on its own port. */
export interface ServeOptions {
  /** host:port; port 0 picks a free one. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Basic/bearer auth. @default open */
  readonly auth?: Authenticator;
  /** PEM certificate and key → HTTPS. @default plain HTTP */
  readonly tls?: { cert: Buffer; key: Buffer };
  /** Most concurrent scrapes; 0 = no limit. @default 40 */
  readonly maxRequests?: number;
  /**
   * The Prometheus query API router (src/api/prom-api.ts), mounted at /api/v1. Under a
   * cluster with a store, only instance 0 reads the store: it also serves this router
   * on its peer endpoint, and the other instances forward /api/v1 there
   * (src/cluster/api-forward.ts). @default none
   */
  readonly api?: Router;
  /** More routes at the root (e.g. `POST /-/reload` of the rule evaluator). @default none */
  readonly routes?: Router;
}

/** Options of `createLarder`. */
export interface LarderOptions {
  /** The registry everything registers on. @default a new Registry */
  readonly registry?: Registry;
  /** @default a Logger at level warn */
  readonly log?: Logger;
  /** Application metric settings; unset fields take their option defaults. @default {} */
  readonly app?: Partial<AppSettings>;
  /** Names of the collectors `start()` runs (see `larder serve --help`). @default ['process'] */
  readonly collectors?: readonly string[];
  /** Collector settings; unset fields take their option defaults. @default {} */
  readonly collectorOptions?: Partial<CollectorSettings>;
  /** Serve /metrics on its own port from `start()`. @default not served: mount `metricsHandler()` in your app */
  readonly serve?: ServeOptions;
  /**
   * Record the registry into a store: `{}` for SQLite at `data/monitoring.db`. `start()`
   * opens it and starts the recorder, rollups and retention; `stop()` writes the last
   * batch and closes it. Under a cluster (`app.clusterInstances` > 1) only instance 0
   * opens the store and records the cluster view (every instance's metrics, merged as
   * /metrics merges them): one writer per store. @default not recorded
   */
  readonly store?: StoreSettings;
  /** How the registry is recorded (interval, rollup tiers, schedules); read only with `store`. @default {} */
  readonly record?: RecordSettings;
  /**
   * The labels every recorded series carries: `instance` (@default the host name) and
   * `externalLabels` (as Prometheus' external_labels); read only with `store`. @default {}
   */
  readonly identity?: Partial<OptionValues<typeof identityOptions>>;
}

/** An extra step run by `start()` (in the order added, before the server starts) and `stop()` (in reverse, after the server stops). */
export interface LifecycleStep {
  readonly name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  /** A problem /healthz reports (it answers 503 while any step has one), or undefined. */
  health?(): string | undefined;
}

/** A Larder in a service (or in the standalone exporter). */
export interface Larder {
  readonly registry: Registry;
  /** Bounds application metrics (cardinality limit, expiry); declare your own metrics through it. */
  readonly guard: SeriesGuard;
  /** Declare and update business metrics. */
  readonly business: BusinessMetrics;
  /** HTTP metrics, registered on first use. */
  readonly http: HttpMetrics;
  /** The express middleware (`app.use(larder.middleware)`, first). */
  readonly middleware: RequestHandler;
  /** The collectors `start()` runs. */
  readonly collectors: CollectorSet;
  /** The cluster view, when `app.clusterInstances` > 1. */
  readonly cluster: ClusterView | undefined;
  /** The /metrics server, once `start()` served one. */
  readonly server: RunningServer | undefined;
  /**
   * The open store while recording runs (from `start()` to `stop()`), undefined otherwise
   * and on cluster instances other than 0. The seed's operations are on it:
   * `saveMetric`, `getLatestMetrics`, `getMetricStats`, `saveAlert`, `getActiveAlerts`,
   * `getDatabaseStats`, `backup`, `optimize`, … (see `Store`).
   */
  readonly store: Store | undefined;
  /** The recording step (its store, recorder, rollup jobs), when this instance records. */
  readonly recording: RecordingStep | undefined;
  /** A handler serving the exposition (merged across the cluster when there is one): `app.get('/metrics', larder.metricsHandler())`. */
  metricsHandler(): RequestHandler;
  /** The current snapshot (what /metrics serves). */
  snapshot(include?: (metricName: string) => boolean): Promise<ClusterSnapshot>;
  /** pg-promise init options with query/receive/error events that record db_* metrics: `pgp(larder.instrumentPgPromise({...}))`. */
  instrumentPgPromise<T extends object>(initOptions?: T): T;
  /** Instruments a pg Client or Pool in place. */
  instrumentPg<T extends PgClientLike | PgPoolLike>(clientOrPool: T): T;
  /** Instruments an ioredis client or a node-redis v4 client in place. */
  instrumentRedis<T extends IoRedisLike | NodeRedisLike>(client: T): T;
  /** Adds a start/stop step; call before `start()`. */
  use(step: LifecycleStep): void;
  /** Starts the expiry sweep, collectors, cluster endpoint, extra steps, then the server. */
  start(): Promise<void>;
  /** Stops all of it, in reverse. */
  stop(): Promise<void>;
}

function isIoRedis(client: object): boolean {
  // ioredis commands are Command objects through sendCommand; node-redis has no `pipeline` and has `multiExecutor`
  return typeof (client as { pipeline?: unknown }).pipeline === 'function' && typeof (client as { multiExecutor?: unknown }).multiExecutor !== 'function';
}

/**
 * The recording step from `options.store` and `options.record` (checked like flags),
 * or undefined when the engine is 'none'. `collect` is the cluster view's snapshot.
 */
function buildRecording(
  options: LarderOptions,
  registry: Registry,
  app: AppSettings,
  collectors: CollectorSettings,
  log: Logger,
  collect: (() => Promise<ClusterSnapshot>) | undefined,
): RecordingStep | undefined {
  const store = options.store ?? {};
  const { interval, ...record } = options.record ?? {};
  const storage = valuesInCode(storageOptions, { ...store, ...(interval !== undefined ? { recordInterval: interval } : {}) }, 'store', { recordInterval: 'record.interval' });
  const identity = valuesInCode(identityOptions, options.identity ?? {}, 'identity');
  return recordingStep(registry, { storage, recorder: valuesInCode(recorderOptions, record, 'record'), app, collectors, identity }, log, collect ? { collect } : {});
}

/** Builds a Larder; nothing runs until `start()`. Throws on bad settings, naming them. */
export function createLarder(options: LarderOptions = {}): Larder {
  const registry = options.registry ?? new Registry();
  const log = options.log ?? new Logger('warn');
  const app: AppSettings = { ...defaultsOf(appOptions), ...options.app };
  const collectorSettings: CollectorSettings = { ...defaultsOf(collectorOptions), ...options.collectorOptions };

  const guard = new SeriesGuard({ registry, limit: app.cardinalityLimit, expireAfter: app.seriesExpiry, log: log.child('guard') });
  const business = new BusinessMetrics(guard);
  if (app.businessSeed) business.declareAll(SEED_BUSINESS_METRICS, "the seed set (--business-metrics.seed; LARDER_BUSINESS_METRICS_SEED=false or app.businessSeed: false turns it off)");
  business.declareAll(app.businessMetrics, "the config file's business-metrics");

  const wanted = options.collectors ?? ['process'];
  for (const name of wanted) {
    if (!COLLECTORS.some((c) => c.name === name)) throw new Error(`unknown collector "${name}"; known collectors: ${COLLECTORS.map((c) => c.name).join(', ')}`);
  }
  const collectors = new CollectorSet(
    { registry, options: collectorSettings, log: log.child('collector'), now: Date.now },
    COLLECTORS.filter((c) => wanted.includes(c.name)),
    { interval: collectorSettings.collectInterval, slowInterval: collectorSettings.slowCollectInterval, timeout: collectorSettings.collectTimeout },
  );

  const local = (include?: (name: string) => boolean) => collectSnapshot(registry, include);
  // Under a cluster with a store only instance 0 opens it: the query API is instance 0's,
  // served to the other instances on its peer endpoint, which they forward /api/v1 to.
  const clustered = app.clusterInstances > 1;
  const storeOpened = options.store !== undefined && options.store.engine !== 'none';
  const serveApi = options.serve?.api;
  const apiOfZero = clustered && storeOpened && serveApi && app.clusterInstanceId === 0
    ? clusterApiHandler(serveApi, options.serve?.auth ?? new Authenticator({ basicAuthUsers: {} }, undefined), log.child('http'))
    : undefined;
  const api = clustered && storeOpened && serveApi && app.clusterInstanceId !== 0
    ? forwardApi({ host: '127.0.0.1', port: app.clusterPortBase }, log.child('http'))
    : serveApi;
  const cluster =
    clustered
      ? new ClusterView(local, {
          api: apiOfZero,
          instances: app.clusterInstances,
          instanceId: app.clusterInstanceId,
          portBase: app.clusterPortBase,
          timeout: app.clusterTimeout,
          label: app.clusterLabel,
          aggregation: app.clusterAggregation,
        })
      : undefined;
  const snapshot = async (include?: (name: string) => boolean): Promise<ClusterSnapshot> => {
    if (cluster) {
      const snap = await cluster.collect(include);
      for (const m of snap.missing) log.once(`cluster-missing:${m.instance}`, 'warn', 'cluster instance left out of the scrape', { instance: m.instance, reason: m.reason });
      return snap;
    }
    return { ...(await local(include)), missing: [] };
  };

  // One writer per store: in a cluster, instance 0 records the merged view and the others none.
  const recordsHere = options.store !== undefined && (!cluster || cluster.options.instanceId === 0);
  const recording = recordsHere ? buildRecording(options, registry, app, collectorSettings, log, cluster ? () => snapshot() : undefined) : undefined;

  let http: HttpMetrics | undefined;
  let db: DbMetrics | undefined;
  let redis: RedisMetrics | undefined;
  const httpMetrics = (): HttpMetrics => (http ??= createHttpMetrics({ guard, durationBuckets: app.httpDurationBuckets, sizeBuckets: app.httpSizeBuckets }));
  const steps: LifecycleStep[] = recording ? [recording] : [];
  let server: RunningServer | undefined;
  let started = false;

  const larder: Larder = {
    registry,
    guard,
    business,
    collectors,
    cluster,
    get http() {
      return httpMetrics();
    },
    get middleware() {
      return httpMetrics().middleware;
    },
    get server() {
      return server;
    },
    get store() {
      return recording?.store;
    },
    recording,
    snapshot,
    metricsHandler() {
      return (req: Request, res: Response) => {
        snapshot().then(
          (snap) => {
            for (const { metric, error } of snap.errors) log.once(`collect:${metric}`, 'warn', 'metric collect failed; left out of the scrape', { metric, err: error });
            const om = negotiate(req.headers.accept) === 'openmetrics';
            if (snap.missing.length) res.set('X-Larder-Missing-Instances', snap.missing.map((m) => m.instance).join(','));
            res.set('Content-Type', om ? OPENMETRICS_TEXT : PROMETHEUS_TEXT).send(om ? toOpenMetrics(snap.families) : toPrometheusText(snap.families));
          },
          (err: unknown) => {
            log.error('scrape failed', { err: err as Error });
            res.status(500).type('text/plain').send('Internal error while collecting metrics\n');
          },
        );
      };
    },
    instrumentPgPromise(initOptions) {
      return instrumentPgPromise((db ??= createDbMetrics(guard)), initOptions);
    },
    instrumentPg(target) {
      return instrumentPg((db ??= createDbMetrics(guard)), target);
    },
    instrumentRedis(client) {
      redis ??= createRedisMetrics(guard);
      return isIoRedis(client) ? instrumentIoRedis(redis, client as IoRedisLike) as typeof client : instrumentNodeRedis(redis, client as NodeRedisLike) as typeof client;
    },
    use(step) {
      if (started) throw new Error(`larder: step "${step.name}" added after start()`);
      steps.push(step);
    },
    async start() {
      if (started) return;
      started = true;
      guard.start();
      await collectors.start();
      await cluster?.start();
      if (options.store && options.store.engine !== 'none' && !recordsHere) log.info('recording left to cluster instance 0, which records the merged view', { instance: cluster?.instance ?? '' });
      for (const step of steps) await step.start?.();
      if (options.serve) {
        const s = options.serve;
        // a server that cannot listen (port in use) must not leave the steps running:
        // their timers and the store's worker would keep the process alive after the error
        server = await startServer(
          { registry, collectors, auth: s.auth ?? new Authenticator({ basicAuthUsers: {} }, undefined), log: log.child('http'), maxRequests: s.maxRequests ?? 40, tls: s.tls, snapshot, api, routes: s.routes,
            health: () => steps.map((st) => st.health?.()).filter((p): p is string => p !== undefined) },
          s.listen,
        ).catch(async (err: unknown) => {
          await larder.stop();
          throw err;
        });
      }
    },
    async stop() {
      if (!started) return;
      started = false;
      await server?.close();
      server = undefined;
      for (const step of [...steps].reverse()) {
        try {
          await step.stop?.();
        } catch (err) {
          log.error('stop step failed', { step: step.name, err: err as Error });
        }
      }
      await cluster?.stop();
      collectors.stop();
      guard.stop();
    },
  };
  return larder;
}
