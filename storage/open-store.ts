/**
 * `openStore`: the one entry point src/main.ts calls. Picks the dialect from plain
 * options (the seed's MONITORING_DB, SQLITE_DB_PATH, DATABASE_URL, DB_* values).
 */
import type { PgStoreOptions } from './pg-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store, StoreOptions } from './store.js';

/** The PostgreSQL connection options of StoreOptions. */
export function pgOptionsOf(opts: StoreOptions): PgStoreOptions {
  return {
    databaseUrl: opts.databaseUrl ?? '',
    host: opts.dbHost ?? 'localhost',
    port: opts.dbPort ?? 5432,
    database: opts.dbName ?? 'monitoring',
    user: opts.dbUser ?? 'postgres',
    password: opts.dbPassword ?? '',
    schema: opts.pgSchema ?? 'public',
    poolSize: opts.pgPoolSize ?? 4,
    chunkMs: opts.chunkMs ?? 86_400_000,
    writeTimeoutMs: opts.pgWriteTimeoutMs ?? 5000,
    ...(opts.instance !== undefined ? { instance: opts.instance } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  };
}

/**
 * Opens the store named by `opts.engine`, migrated and ready. PostgreSQL with a
 * `spoolPath` is wrapped in the fallback store, which keeps writing into a local
 * SQLite spool while PostgreSQL is unreachable (at start too).
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  switch (opts.engine) {
    case 'sqlite':
      return openSqliteStore({
        path: opts.sqlitePath ?? 'data/monitoring.db',
        ...(opts.chunkMs !== undefined ? { chunkMs: opts.chunkMs } : {}),
        ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}),
        ...(opts.fileMode !== undefined ? { fileMode: opts.fileMode } : {}),
        ...(opts.sqliteCommitIntervalMs !== undefined ? { commitIntervalMs: opts.sqliteCommitIntervalMs } : {}),
        ...(opts.now !== undefined ? { now: opts.now } : {}),
      });
    case 'postgresql': {
      // Loaded only here: pg-promise costs ~18 MB of RSS that a SQLite-only Larder does not need.
      const spool = opts.spoolPath ?? 'data/spool.db';
      if (spool === '') return (await import('./pg-store.js')).openPgStore(pgOptionsOf(opts));
      const { openFallbackStore } = await import('./fallback-store.js');
      return openFallbackStore({
        pg: pgOptionsOf(opts),
        spoolPath: spool,
        ...(opts.now !== undefined ? { now: opts.now } : {}),
        ...(opts.onSpoolChange !== undefined ? { onStateChange: opts.onSpoolChange } : {}),
      });
    }
    default:
      throw new TypeError(`openStore: invalid engine ${JSON.stringify((opts as { engine: unknown }).engine)}: expected sqlite or postgresql`);
  }
}
