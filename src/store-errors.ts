/**
 * Turns PostgreSQL's refusals at start-up into configuration errors that say which
 * setting to change: `database "x" does not exist` alone does not tell a user that it
 * came from DB_NAME, nor that Larder creates its tables but never the database.
 * Messages never carry the password.
 */
import { ConfigError, type Config } from './config.js';

type Storage = Config['storage'];

/** Host, port and database PostgreSQL is asked for, and the settings that named them. */
interface PgTarget {
  readonly host: string;
  readonly port: string;
  readonly database: string;
  readonly user: string;
  /** Where the database name came from. */
  readonly databaseFrom: string;
  /** Where the user and password came from. */
  readonly credentialsFrom: string;
}

function targetOf(storage: Storage): PgTarget {
  if (storage.databaseUrl !== '') {
    let url: URL | undefined;
    try {
      url = new URL(storage.databaseUrl);
    } catch {
      url = undefined; // socket paths and the like: describe without them
    }
    return {
      host: url?.hostname || 'localhost',
      port: url?.port || '5432',
      database: decodeURIComponent(url?.pathname.replace(/^\//, '') ?? '') || decodeURIComponent(url?.username ?? '') || '?',
      user: decodeURIComponent(url?.username ?? '') || '?',
      databaseFrom: 'the path of DATABASE_URL or --storage.database-url',
      credentialsFrom: 'the user and password in DATABASE_URL (--storage.database-url)',
    };
  }
  return {
    host: storage.dbHost,
    port: String(storage.dbPort),
    database: storage.dbName,
    user: storage.dbUser,
    databaseFrom: 'DB_NAME or --storage.db-name',
    credentialsFrom: 'DB_USER and DB_PASSWORD (--storage.db-user, --storage.db-password)',
  };
}

const URL_EXPECTED = 'expected a URL such as postgres://user:password@host:5432/database, with characters such as @ : / # % in the user or password percent-encoded';

/**
 * Checks DATABASE_URL before PostgreSQL is asked (pg's own answer is a bare "Invalid URL"),
 * as pg reads it: `postgres://`, `postgresql://` or `socket:` URLs. Checked only when the
 * store is PostgreSQL, since other programs' DATABASE_URL may share the environment.
 * The message never repeats the value, which may carry a password.
 */
export function assertDatabaseUrl(databaseUrl: string): void {
  if (databaseUrl === '') return;
  const at = 'DATABASE_URL (--storage.database-url)';
  let url: URL;
  try {
    url = new URL(databaseUrl.trim());
  } catch {
    throw new ConfigError(`${at} is not a valid URL (value not shown: it may hold a password); ${URL_EXPECTED}`);
  }
  if (!['postgres:', 'postgresql:', 'socket:'].includes(url.protocol)) {
    throw new ConfigError(`${at}: scheme ${JSON.stringify(url.protocol.slice(0, 20))} is not postgres:, postgresql: or socket:; ${URL_EXPECTED}`);
  }
  if (url.protocol !== 'socket:' && url.hostname === '') throw new ConfigError(`${at} names no host; ${URL_EXPECTED}`);
}

/** Quotes a name for a shell command line. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The error to report for `err`, thrown while opening the PostgreSQL store: a
 * ConfigError naming the setting for a missing database or refused credentials,
 * `err` itself otherwise.
 */
export function explainPgOpenError(err: unknown, storage: Storage): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const t = targetOf(storage);
  if (code === '3D000') {
    return new ConfigError(
      `PostgreSQL database "${t.database}" does not exist on ${t.host}:${t.port} (named by ${t.databaseFrom}). ` +
        `Larder creates its own tables, but not the database: create it with ` +
        `"createdb -h ${shellWord(t.host)} -p ${t.port} -U ${shellWord(t.user)} ${shellWord(t.database)}" ` +
        `(or CREATE DATABASE in psql), or name an existing database.`,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new ConfigError(`PostgreSQL on ${t.host}:${t.port} refused user "${t.user}" for database "${t.database}": check ${t.credentialsFrom} (${(err as Error).message})`);
  }
  return err;
}
