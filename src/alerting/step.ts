/**
 * The rule evaluator as one start/stop step of the process, with what the HTTP server
 * mounts for it: `/api/v1/rules`, `/api/v1/alerts` and `POST /-/reload`. A bad rule file
 * refuses the start (ConfigError: exit code 2, every problem as `file:line: reason`).
 */
import express, { type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Store } from '../../storage/store.js';
import type { QueryEngine } from '../../query/types.js';
import { ConfigError, type Config } from '../config.js';
import type { LifecycleStep } from '../larder.js';
import type { Logger } from '../log.js';
import { createRulesApi } from '../api/rules-api.js';
import type { AlertSink } from './types.js';
import type { RuleFileSource } from './load.js';
import { loadRules, RuleLoadError } from './load.js';
import { RuleManager } from './manager.js';

/** What the rules step plugs into besides the config. */
export interface RulesStepOptions {
  readonly registry: Registry;
  readonly log: Logger;
  readonly store: () => Store | undefined;
  /** Where alerts go (the notifiers). @default none */
  readonly sinks?: readonly AlertSink[];
  /** Rule files given as objects (the bundled rules), read at start and at each reload. @default none */
  readonly extra?: () => readonly RuleFileSource[];
  /** The engine over a store. @default raw-sample createQueryEngine */
  readonly createEngine?: (store: Store) => QueryEngine;
  /** As Prometheus' external_labels: added to alerts sent. @default {} */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /** Base of generatorURL and `$externalURL`. @default '' */
  readonly externalURL?: string;
}

/** The step, its manager, and the routes the server mounts. */
export interface RulesStep extends LifecycleStep {
  readonly manager: RuleManager;
  /** `/rules` and `/alerts`, for /api/v1 (before the query API's catch-all). */
  readonly api: Router;
  /** `POST /-/reload`, at the root. */
  readonly routes: Router;
  /** Reloads the rule files; resolves with the problem, or undefined when the new rules run. */
  reload(): Promise<string | undefined>;
}

/** The rules step, or undefined when no rule file nor bundled rule is configured. */
export function rulesStep(config: Config, opts: RulesStepOptions): RulesStep | undefined {
  const rules = config.rules;
  if (rules.files.length === 0 && (opts.extra?.() ?? []).length === 0) return undefined;
  // checked now, before anything starts, so a bad file stops the process at once (exit 2)
  try {
    loadRules(rules.files, opts.extra?.() ?? []);
  } catch (e) {
    if (e instanceof RuleLoadError) throw new ConfigError(`cannot load rule files:\n${e.message}`);
    throw e;
  }
  const log = opts.log.child('rules');
  const manager = new RuleManager({
    registry: opts.registry,
    log,
    store: opts.store,
    createEngine: opts.createEngine,
    files: rules.files,
    extra: opts.extra,
    evaluationIntervalMs: rules.evaluationInterval,
    resendDelayMs: rules.alertResendDelay,
    outageToleranceMs: rules.forOutageTolerance,
    gracePeriodMs: rules.forGracePeriod,
    sinks: opts.sinks ?? [],
    externalLabels: opts.externalLabels ?? {},
    externalURL: opts.externalURL ?? '',
    queryTimeoutMs: config.query.timeout,
  });
  const reload = async (): Promise<string | undefined> => (await manager.reload())?.message;
  const routes = express.Router();
  routes.post('/-/reload', (_req, res) => {
    reload().then(
      (problem) => (problem === undefined ? res.status(200).end() : res.status(500).type('text/plain').send(`failed to reload rules; the previous rules are kept:\n${problem}\n`)),
      (err: unknown) => {
        log.error('rule reload failed', { err: err as Error });
        res.status(500).type('text/plain').send('internal error while reloading rules\n');
      },
    );
  });
  routes.all('/-/reload', (_req, res) => void res.set('Allow', 'POST').status(405).type('text/plain').send('Method not allowed; use POST\n'));
  return {
    name: 'rules',
    manager,
    api: createRulesApi({ groups: () => manager.groups() }),
    routes,
    reload,
    async start() {
      try {
        await manager.start();
      } catch (e) {
        if (e instanceof RuleLoadError) throw new ConfigError(`cannot load rule files:\n${e.message}`);
        throw e;
      }
      const groups = manager.groups();
      log.info('rules loaded', { groups: groups.length, rules: groups.reduce((n, g) => n + g.rules.length, 0) });
    },
    async stop() {
      await manager.stop();
    },
  };
}
