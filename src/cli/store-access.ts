/**
 * How a CLI command reaches the store named by Larder's options. SQLite: read-only
 * through the dotfile lock beside a running `larder serve` (storage/sqlite-reader.ts),
 * or as the owner (openStore) for the commands that write, which a running Larder
 * refuses. PostgreSQL: the store itself, without the spool (the CLI must never spool).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Config } from '../config.js';
import { openStore, pgOptionsOf } from '../../storage/open-store.js';
import { openSqliteReader, type SqliteReader } from '../../storage/sqlite-reader.js';
import { tickLogPath } from '../../storage/sqlite-tick-log.js';
import { ownerAlive, type Owner } from '../../storage/sqlite-lock.js';
import type { Store, StoreOptions } from '../../storage/store.js';
import { FailedError, UsageError } from './command.js';

/** StoreOptions from the config (as src/recording-step.ts builds them), never spooling. */
export function storeOptionsOf(config: Config): StoreOptions {
  const s = config.storage;
  if (s.engine === 'none') throw new UsageError('--storage.engine (MONITORING_DB) is none: there is no store; set it to sqlite or postgresql');
  return {
    engine: s.engine,
    sqlitePath: s.sqlitePath,
    databaseUrl: s.databaseUrl,
    dbHost: s.dbHost,
    dbPort: s.dbPort,
    dbName: s.dbName,
    dbUser: s.dbUser,
    dbPassword: s.dbPassword,
    spoolPath: '',
    pgPoolSize: 2,
  };
}

/** Where the store is, for messages (never the password). */
export function describeStore(opts: StoreOptions): string {
  if (opts.engine === 'sqlite') return `SQLite store ${opts.sqlitePath}`;
  const p = pgOptionsOf(opts);
  if (p.databaseUrl) {
    try {
      const u = new URL(p.databaseUrl);
      return `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'PostgreSQL (DATABASE_URL)';
    }
  }
  return `PostgreSQL ${p.host}:${p.port}/${p.database}`;
}

/** The Larder process that owns a SQLite file, if one runs. */
export function liveOwner(dbPath: string): Owner | undefined {
  try {
    const [pid, start] = readFileSync(`${dbPath}.larder-pid`, 'utf8').split('\n');
    const owner = { pid: Number(pid), start: start ?? '' };
    return Number.isSafeInteger(owner.pid) && owner.pid > 0 && ownerAlive(owner) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Wraps a connection failure into a FailedError that says what to check. */
export function explainOpenError(opts: StoreOptions, e: unknown): Error {
  if (e instanceof UsageError || e instanceof FailedError) return e;
  const msg = (e as Error).message ?? String(e);
  if (opts.engine === 'postgresql' && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|timeout|ETIMEDOUT|EHOSTUNREACH|connect/i.test(msg)) {
    return new FailedError(`cannot reach ${describeStore(opts)} (${msg}): check that PostgreSQL runs and DATABASE_URL or DB_HOST/DB_PORT point at it`);
  }
  return new FailedError(`cannot open ${describeStore(opts)}: ${msg}`);
}

/**
 * Refuses to read a SQLite file whose Larder was killed mid-transaction: the dotfile
 * protocol cannot tell its journal from a live one, so a reader would see the
 * half-written transaction (docs/storage.md). Larder rolls it back when it starts. Also
 * refuses one whose stopped Larder left record ticks in its tick log, which the file lacks
 * until Larder starts on it again and commits them.
 */
export function assertNoDeadWriter(dbPath: string): void {
  if (liveOwner(dbPath) !== undefined) return;
  if (existsSync(`${dbPath}.larder-pid`) && existsSync(`${dbPath}-journal`)) {
    throw new FailedError(
      `${dbPath}: the Larder that wrote it was killed in the middle of a transaction (its ${dbPath}-journal is still there); start larder serve on it once (it rolls the transaction back), then run this again`,
    );
  }
  // Ticks a stopped Larder logged and did not commit (storage/sqlite-tick-log.ts): the file lacks them.
  const log = tickLogPath(dbPath);
  if (existsSync(log) && statSync(log).size > 0) {
    throw new FailedError(
      `${dbPath}: the Larder that wrote it stopped before committing its last record ticks (they are in ${log}); start larder serve on it once (it commits them), then run this again`,
    );
  }
}

/** A store opened for reading: the read-only SQLite view, or the PostgreSQL store. */
export interface ReadAccess {
  readonly store: Store;
  /** Set on SQLite. */
  readonly sqlite?: SqliteReader;
  readonly opts: StoreOptions;
}

/** Opens the configured store for reading (works beside a running Larder). */
export async function openForRead(config: Config): Promise<ReadAccess> {
  const opts = storeOptionsOf(config);
  try {
    if (opts.engine === 'sqlite') {
      assertNoDeadWriter(opts.sqlitePath!);
      const sqlite = openSqliteReader({ path: opts.sqlitePath! });
      return { store: sqlite, sqlite, opts };
    }
    return { store: await openStore(opts), opts };
  } catch (e) {
    throw explainOpenError(opts, e);
  }
}

/**
 * Opens the configured store for writing. On SQLite this takes ownership, so it is
 * refused (FailedError naming the pid and `whatToDo`) while a Larder runs on the file.
 */
export async function openForWrite(config: Config, what: string, whatToDo: (pid: number) => string): Promise<{ store: Store; opts: StoreOptions }> {
  const opts = storeOptionsOf(config);
  if (opts.engine === 'sqlite') {
    const owner = liveOwner(opts.sqlitePath!);
    if (owner !== undefined) {
      throw new FailedError(`${describeStore(opts)} is owned by a running Larder (pid ${owner.pid}); ${what} writes to it and two writers would corrupt it. ${whatToDo(owner.pid)}`);
    }
  }
  try {
    return { store: await openStore(opts), opts };
  } catch (e) {
    throw explainOpenError(opts, e);
  }
}

/** The advice of a refusal: stop the Larder, run the command, start it again. */
export function stopFirst(pid: number, command: string): string {
  return `Stop that Larder (kill -TERM ${pid}, or systemctl stop / pm2 stop, however it was started), run ${command}, then start it again`;
}
