/**
 * The store and the recording side as one start/stop step of the process: open the
 * store the config names, start the recorder, scrape targets and rollup schedules on
 * the registry /metrics serves; on stop, flush the batch in flight and close the store.
 */
import { Gauge, type Registry } from 'prom-client';
import { openStore } from '../storage/open-store.js';
import type { Store } from '../storage/store.js';
import type { Config } from './config.js';
import type { LifecycleStep } from './larder.js';
import type { Logger } from './log.js';
import { startRecording, type Recording } from './recorder/index.js';

/** Store health figures, refreshed in the background so a scrape never waits on the database. */
function registerStoreMetrics(registry: Registry, store: () => Store | undefined, log: Logger): void {
  const refreshing = { spool: false, size: false };
  new Gauge({
    name: 'larder_store_spool_depth',
    help: 'Samples kept in the local spool while PostgreSQL is unreachable (0 when not spooling).',
    registers: [registry],
    collect() {
      const s = store();
      if (!s || refreshing.spool) return;
      refreshing.spool = true;
      s.spoolDepth().then(
        (n) => this.set(n),
        (err: unknown) => log.once('spool-depth', 'warn', 'cannot read the spool depth', { err: err as Error }),
      ).finally(() => (refreshing.spool = false));
    },
  });
  new Gauge({
    name: 'larder_store_size_bytes',
    help: 'Size of the whole store on disk (the figure --storage.max-bytes caps).',
    registers: [registry],
    collect() {
      const s = store();
      if (!s || refreshing.size) return;
      refreshing.size = true;
      s.sizeBytes().then(
        (n) => this.set(n),
        (err: unknown) => log.once('store-size', 'warn', 'cannot read the store size', { err: err as Error }),
      ).finally(() => (refreshing.size = false));
    },
  });
}

/** The step that records `registry` into the configured store; none when storage is off. */
export function recordingStep(registry: Registry, config: Config, log: Logger): LifecycleStep | undefined {
  const storage = config.storage;
  if (storage.engine === 'none') return undefined;
  let store: Store | undefined;
  let recording: Recording | undefined;
  registerStoreMetrics(registry, () => store, log.child('store'));
  return {
    name: 'recording',
    async start() {
      store = await openStore({
        engine: storage.engine === 'postgresql' ? 'postgresql' : 'sqlite',
        sqlitePath: storage.sqlitePath,
        databaseUrl: storage.databaseUrl,
        dbHost: storage.dbHost,
        dbPort: storage.dbPort,
        dbName: storage.dbName,
        dbUser: storage.dbUser,
        dbPassword: storage.dbPassword,
        spoolPath: storage.spoolPath,
      });
      recording = startRecording({ registry, store, config, log });
      log.info('recording', { engine: storage.engine, where: storage.engine === 'sqlite' ? storage.sqlitePath : storage.databaseUrl || `${storage.dbHost}:${storage.dbPort}/${storage.dbName}`, every: `${storage.recordInterval / 1000}s` });
    },
    async stop() {
      try {
        await recording?.stop();
      } finally {
        await store?.close();
      }
    },
  };
}
