/**
 * The store and the recording side as one start/stop step: open the store the settings
 * name, start the recorder, scrape targets and rollup schedules on the registry /metrics
 * serves; on stop, record once more, flush what is pending and close the store. `createLarder({ store })`
 * builds it, for `larder serve` and for a service embedding Larder alike.
 */
import { Gauge, type Registry } from 'prom-client';
import type { TierSource } from '../query/tiers.js';
import type { Store } from '../storage/store.js';
import { ConfigError, type Config } from './config.js';
import { formatDuration } from './duration.js';
import type { Snapshot } from './exposition/snapshot.js';
import type { LifecycleStep } from './larder.js';
import type { Logger } from './log.js';
import type { Recording } from './recorder/index.js';
import { assertDatabaseUrl, explainPgOpenError } from './store-errors.js';

/**
 * A gauge whose value comes from the store: each scrape serves the last value read and
 * starts the next read in the background, so a scrape never waits on the database.
 */
function backgroundGauge(registry: Registry, name: string, help: string, read: () => Promise<number> | undefined, log: Logger): void {
  let reading = false;
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      if (reading) return;
      const pending = read();
      if (!pending) return;
      reading = true;
      pending.then(
        (n) => this.set(n),
        (err: unknown) => log.once(name, 'warn', `cannot read ${name}`, { err: err as Error }),
      ).finally(() => (reading = false));
    },
  });
}

/** Store health figures. */
function registerStoreMetrics(registry: Registry, store: () => Store | undefined, maxBytes: number, log: Logger): void {
  // The cap beside the size, so a rule can warn before the cap starts dropping chunks (rules/packs/larder.ts).
  new Gauge({ name: 'larder_store_max_bytes', help: 'Size cap of the whole store (--storage.max-bytes); 0 when there is none.', registers: [registry] }).set(maxBytes);
  backgroundGauge(registry, 'larder_store_spool_depth', 'Samples kept in the local spool while PostgreSQL is unreachable (0 when not spooling).', () => store()?.spoolDepth(), log);
  backgroundGauge(registry, 'larder_store_size_bytes', 'Size of the whole store on disk (the figure --storage.max-bytes caps).', () => store()?.sizeBytes(), log);
}

/** Where PostgreSQL is, for the log: host, port and database, never the password a URL may carry. */
function pgTarget(storage: Config['storage']): string {
  if (storage.databaseUrl === '') return `${storage.dbHost}:${storage.dbPort}/${storage.dbName}`;
  try {
    const url = new URL(storage.databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '(DATABASE_URL)';
  }
}

/**
 * Refuses a record interval shorter than the collect interval: the collectors' values
 * change only once per collect interval, so each would be stored several times (and
 * the rollups' counts multiplied) with nothing to show for it.
 */
export function checkRecordInterval(config: Pick<RecordingSettings, 'storage' | 'collectors'>): void {
  const record = config.storage.recordInterval;
  const collect = config.collectors.collectInterval;
  if (config.storage.engine === 'none' || record >= collect) return;
  const times = Math.ceil(collect / record);
  throw new ConfigError(
    `--record-interval ${formatDuration(record)} is shorter than --collect-interval ${formatDuration(collect)}: collectors refresh their values every ${formatDuration(collect)}, ` +
      `so each value would be recorded up to ${times} times. Record every ${formatDuration(collect)} or more, or collect as often (--collect-interval=${formatDuration(record)}).`,
  );
}

/**
 * Schema version 4's data step: series recorded before host labels get this Larder's
 * (`job="larder"`, its instance, its external labels, each where missing), said in the
 * log. While PostgreSQL is out of reach it is left for the next start (logged).
 */
async function labelOlderSeries(store: Store, config: RecordingSettings, log: Logger): Promise<void> {
  const [{ ownLabels }, { applyHostLabels }] = await Promise.all([import('./recorder/index.js'), import('../storage/host-labels.js')]);
  const labels = { ...ownLabels(config.identity), ...config.identity.externalLabels };
  try {
    const r = await applyHostLabels(store, labels, config.identity.instance);
    if (r.labelled + r.kept > 0) {
      log.info('schema v4: series recorded before host labels were given this host\'s labels', { labels, labelled: r.labelled, keptAsTheyWere: r.kept });
    }
  } catch (err) {
    log.warn('schema v4: the series recorded before host labels keep their labels until the next start (the store did not answer)', { err: err as Error });
  }
}

/** The settings recording reads: the option groups of `larder serve` it uses. */
export type RecordingSettings = Pick<Config, 'storage' | 'recorder' | 'app' | 'collectors' | 'identity'>;

/** How the step records, beyond the settings. */
export interface RecordingStepOptions {
  /**
   * What each record takes: under a cluster, the cluster view's merged snapshot (see
   * RecorderOptions.collect). @default a snapshot of the registry
   */
  readonly collect?: () => Promise<Snapshot>;
}

/** The recording step; `store` is the open store while it runs (the query API reads it). */
export interface RecordingStep extends LifecycleStep {
  readonly store: Store | undefined;
  /** The recorder, rollup engine, schedules and jobs while recording runs. */
  readonly recording: Recording | undefined;
  /** The rollup tiers and their watermarks while recording runs, for queries that a tier can answer. */
  readonly tierSource: TierSource | undefined;
}

/**
 * The step that records `registry` into the configured store; none when storage is off.
 * Throws ConfigError when the record interval is shorter than the collect interval.
 * The store and recorder modules are loaded by `start()`, so a service that never
 * records does not load them.
 */
export function recordingStep(registry: Registry, config: RecordingSettings, log: Logger, opts: RecordingStepOptions = {}): RecordingStep | undefined {
  const storage = config.storage;
  if (storage.engine === 'none') return undefined;
  checkRecordInterval(config);
  let store: Store | undefined;
  let recording: Recording | undefined;
  registerStoreMetrics(registry, () => store, config.storage.maxBytes, log.child('store'));
  return {
    name: 'recording',
    get store() {
      return store;
    },
    get recording() {
      return recording;
    },
    get tierSource(): TierSource | undefined {
      const r = recording;
      return r ? { tiers: r.tiers, watermark: (tier) => r.engine.watermark(tier) } : undefined;
    },
    async start() {
      if (storage.engine === 'postgresql') assertDatabaseUrl(storage.databaseUrl);
      const [{ openStore }, { startRecording }] = await Promise.all([import('../storage/open-store.js'), import('./recorder/index.js')]);
      store = await openStore({
        engine: storage.engine === 'postgresql' ? 'postgresql' : 'sqlite',
        sqlitePath: storage.sqlitePath,
        sqliteCommitIntervalMs: storage.sqliteCommitInterval,
        databaseUrl: storage.databaseUrl,
        dbHost: storage.dbHost,
        dbPort: storage.dbPort,
        dbName: storage.dbName,
        dbUser: storage.dbUser,
        dbPassword: storage.dbPassword,
        pgSchema: storage.pgSchema,
        spoolPath: storage.spoolPath,
        pgWriteTimeoutMs: storage.pgWriteTimeout,
        instance: config.identity.instance,
        onSpoolChange: (spooling, change) => {
          // An outage is logged when it starts (and why) and when the spool has drained.
          if (spooling) log.warn('PostgreSQL unreachable: spooling samples locally', { spool: storage.spoolPath, reason: change.cause?.message ?? 'unknown' });
          else log.info('PostgreSQL back: spool drained', { forwarded: change.forwarded, spooledFor: `${(change.durationMs / 1000).toFixed(1)}s` });
        },
      }).catch((err: unknown) => {
        throw storage.engine === 'postgresql' ? explainPgOpenError(err, storage) : err;
      });
      await labelOlderSeries(store, config, log);
      recording = startRecording({ registry, store, config, log, ...(opts.collect ? { collect: opts.collect } : {}) });
      log.info('recording', { engine: storage.engine, where: storage.engine === 'sqlite' ? storage.sqlitePath : pgTarget(storage), every: `${storage.recordInterval / 1000}s` });
    },
    health() {
      return store?.problem?.();
    },
    async stop() {
      try {
        // One last record, so what changed since the last tick is kept too, then the flush.
        await recording?.recorder.tick();
        await recording?.stop();
      } finally {
        const closing = store;
        store = undefined;
        await closing?.close();
      }
    },
  };
}
