/**
 * Wiring of the standalone process: registry → collectors → HTTP server (and, as
 * later parts arrive, recorder → store). Everything is built from the config here,
 * so the pieces themselves take what they need as arguments.
 */
import { Registry } from 'prom-client';
import { COLLECTORS } from '../exporters/index.js';
import type { CollectorSet } from '../exporters/collector-set.js';
import { ConfigError, type Config } from './config.js';
import { Logger } from './log.js';
import { createLarder, type Larder as AppLarder, type LifecycleStep } from './larder.js';
import type { RunningServer } from './server.js';
import { Authenticator } from './web-auth.js';
import { loadTlsFiles, readOptionFile } from './tls-files.js';
import { createPromApi } from './api/prom-api.js';
import { createAlertHistoryApi } from './api/alert-history-api.js';
import { createRulesApi } from './api/rules-api.js';
import { lazyEngine } from './api/lazy-engine.js';
import { postgresTargets, redisTarget } from './server-targets.js';
import { rulesStep, type RulesStepOptions } from './alerting/step.js';
import { createAlertSinks } from './alerting/notify/index.js';
import type { AlertSink } from './alerting/types.js';
import { bundledScope } from './alerting/scope.js';
import { bundledRuleFiles } from '../rules/bundled.js';
import express from 'express';

/** A running Larder. */
export interface Larder {
  readonly registry: Registry;
  readonly server: RunningServer;
  readonly collectors: CollectorSet;
  /** The library handle underneath (business metrics, guard, cluster view). */
  readonly app: AppLarder;
  /** Reloads what can be reloaded (the rule files); resolves with the problem, or undefined. */
  reload(): Promise<string | undefined>;
  /** Stops collecting, closes the server; resolves when everything is flushed. */
  stop(): Promise<void>;
}

/**
 * What the rule evaluator plugs into beyond the config. Unset: the notifiers of
 * `--alertmanager.url` and `notifications:`, and the bundled rules of `--rules.bundled*`.
 */
export type AlertingWiring = Pick<RulesStepOptions, 'sinks' | 'extra' | 'externalLabels' | 'externalURL'>;

/**
 * Starts collectors and the HTTP server as the config says: the library's
 * `createLarder()` with the config's settings, so `larder serve` runs the same code
 * as a service using Larder in-process.
 *
 * Recording (store, recorder, rollups) is createLarder's `store` option, the step a
 * service embedding Larder runs too. More start/stop steps go in `steps`, or by
 * `larder.use({ name, start, stop })` below before `larder.start()`: they start in
 * order after the collectors and before the server listens, and stop in reverse
 * after the server has closed.
 */
export async function startLarder(config: Config, log: Logger = new Logger(config.general.logLevel), steps: readonly LifecycleStep[] = [], alerting: AlertingWiring = {}): Promise<Larder> {
  const web = config.web;
  if ((web.tlsCertFile === '') !== (web.tlsKeyFile === '')) {
    throw new ConfigError('--web.tls-cert-file and --web.tls-key-file must be given together');
  }
  const tls = web.tlsCertFile ? loadTlsFiles(web.tlsCertFile, web.tlsKeyFile) : undefined;
  const token = web.bearerTokenFile ? readOptionFile(web.bearerTokenFile, '--web.bearer-token-file').toString('utf8').trim() : undefined;
  if (token !== undefined && token.length < 8) throw new ConfigError(`--web.bearer-token-file ${JSON.stringify(web.bearerTokenFile)}: the token must have at least 8 characters`);
  const auth = new Authenticator(web.auth, token);

  const enabled = COLLECTORS.filter((c) => config.collectorsEnabled[c.name]).map((c) => c.name);
  const records = config.storage.engine !== 'none';
  // Assigned below; the API reads the store and tiers only when a query arrives, once started.
  let app: AppLarder | undefined;
  // without a store there is nothing to query: no API (its paths answer 404 like any other)
  const api = config.query.api && records
    ? createPromApi({
        store: () => app?.store,
        // the tier source is read when the first query arrives, once recording runs
        createEngine: (store) =>
          lazyEngine(async () =>
            (await import('../query/engine.js')).createQueryEngine(store, { timeoutMs: config.query.timeout, tiers: config.query.maxResolution === 'raw' ? undefined : app?.recording?.tierSource }),
          ),
        log: log.child('query'),
        timeoutMs: config.query.timeout,
        concurrency: config.query.maxConcurrency,
      })
    : undefined;
  if (!records && config.rules.files.length > 0) throw new ConfigError('--rules.file needs a store to evaluate rules over (--storage.engine=none has none)');
  const registry = new Registry();
  // the bundled rules watch the series this Larder writes only (its own and its scrape
  // targets'): on a PostgreSQL shared by several Larders each alert fires once, from the
  // Larder that records the host (docs/alerting.md)
  const own = bundledScope([config.identity.instance, ...config.recorder.targets.map((x) => x.instance)], config.identity.externalLabels);
  const bundled = records && config.bundledRules.enabled ? bundledRuleFiles(config.bundledRules).map((b) => ({ file: b.source, rules: b.file, scope: own })) : [];
  // the notifiers write failures through the store, which opens at start: reached lazily
  const sinks: readonly AlertSink[] = alerting.sinks ?? (records
    ? createAlertSinks(config, { log, registry, store: { transaction: (fn) => (app?.store ?? noStore()).transaction(fn) } })
    : []);
  // rules read and write the store the recorder writes; their API goes before the query API's catch-all
  const rules = records ? rulesStep(config, { registry, log, store: () => app?.store, extra: () => bundled, ...alerting, sinks }) : undefined;
  // Without rules, /rules and /alerts answer empty lists as Prometheus does (not 404), and
  // alert_history is read whether rules run now or not (it keeps what earlier runs recorded).
  let mounted = api;
  if (rules || api) {
    mounted = express.Router();
    mounted.use(rules ? rules.api : createRulesApi({ groups: () => [] }));
    mounted.use(createAlertHistoryApi({ store: () => app?.store }));
    if (api) mounted.use(api);
  }
  try {
    // Recording goes through createLarder's `store` option: the same step a service embedding Larder runs.
    app = createLarder({
      registry,
      log,
      app: config.app,
      collectors: enabled,
      collectorOptions: {
        ...config.collectors,
        postgresTargets: config.collectorsEnabled['postgres'] ? postgresTargets(config) : [],
        redisTarget: config.collectorsEnabled['redis'] ? redisTarget(config) : undefined,
      },
      serve: { listen: web.listen, auth, tls, maxRequests: web.maxRequests, api: mounted, routes: rules?.routes },
      ...(records ? { store: config.storage, record: { ...config.recorder, interval: config.storage.recordInterval }, identity: config.identity } : {}),
    });
  } catch (err) {
    // settings the option parsers cannot check alone (e.g. cluster.instance-id >= cluster.instances)
    throw err instanceof ConfigError ? err : new ConfigError((err as Error).message);
  }
  // stopped in reverse: the rules first, then the notifiers flush, then the store closes
  if (sinks.length > 0) app.use({ name: 'notifications', stop: async () => void (await Promise.all(sinks.map((s) => s.stop(5000)))) });
  if (rules) app.use(rules);
  for (const step of steps) app.use(step);
  await app.start();
  const server = app.server!;
  log.info('larder listening', { url: server.url, collectors: enabled.join(',') });

  return {
    registry: app.registry,
    server,
    collectors: app.collectors,
    app,
    reload: async () => rules?.reload(),
    stop: () => app.stop(),
  };
}

function noStore(): never {
  throw new Error('the store is not open');
}
