/** Options of the store: the seed's variable names, kept so existing deployments keep working. */
import { defineOptions, duration, int, oneOf, showDuration, str, bytes } from './option.js';

export const storageOptions = defineOptions({
  engine: {
    flag: 'storage.engine',
    env: ['MONITORING_DB'],
    default: 'sqlite' as 'sqlite' | 'postgresql' | 'none',
    help: 'where samples are recorded: sqlite (embedded file), postgresql, or none (exporter only)',
    parse: oneOf(['sqlite', 'postgresql', 'none'] as const),
  },
  sqlitePath: {
    flag: 'storage.sqlite-path',
    env: ['SQLITE_DB_PATH'],
    default: 'data/monitoring.db',
    help: 'SQLite database file',
    parse: str(),
  },
  databaseUrl: {
    flag: 'storage.database-url',
    env: ['DATABASE_URL'],
    default: '',
    help: 'PostgreSQL connection URL; when empty the DB_* settings are used',
    parse: str(),
    secret: true,
  },
  dbHost: { flag: 'storage.db-host', env: ['DB_HOST'], default: 'localhost', help: 'PostgreSQL host', parse: str() },
  dbPort: { flag: 'storage.db-port', env: ['DB_PORT'], default: 5432, help: 'PostgreSQL port', parse: int({ min: 1, max: 65535 }) },
  dbName: { flag: 'storage.db-name', env: ['DB_NAME'], default: 'monitoring', help: 'PostgreSQL database', parse: str() },
  dbUser: { flag: 'storage.db-user', env: ['DB_USER'], default: 'postgres', help: 'PostgreSQL user', parse: str() },
  pgSchema: {
    flag: 'storage.pg-schema',
    env: ['LARDER_PG_SCHEMA'],
    default: 'public',
    help: "PostgreSQL schema holding Larder's tables (created if missing); Larders sharing a database share the schema",
    parse: str({ pattern: /^[a-z_][a-z0-9_]{0,62}$/, allowed: 'a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)' }),
  },
  dbPassword: { flag: 'storage.db-password', env: ['DB_PASSWORD'], default: '', help: 'PostgreSQL password', parse: str(), show: () => '(empty)', secret: true },
  spoolPath: {
    flag: 'storage.spool-path',
    env: ['LARDER_SPOOL_PATH'],
    default: 'data/spool.db',
    help: 'local SQLite spool that keeps samples while PostgreSQL is unreachable or stalls; empty = none',
    parse: str(),
    // LARDER_SPOOL_PATH= (empty) turns the spool off, as --storage.spool-path= does.
    emptyEnvIsValue: true,
  },
  pgWriteTimeout: {
    flag: 'storage.pg-write-timeout',
    env: ['LARDER_PG_WRITE_TIMEOUT'],
    default: 5000,
    help: 'how long a PostgreSQL write may go unanswered before samples go to the spool instead',
    parse: duration({ min: 100, max: 300_000 }),
    show: showDuration,
  },
  retentionDays: {
    flag: 'storage.retention-days',
    env: ['METRICS_RETENTION_DAYS'],
    default: 30,
    help: 'days of raw samples kept; older chunks are dropped whole',
    parse: int({ min: 1, max: 36500 }),
  },
  maxBytes: {
    flag: 'storage.max-bytes',
    env: ['LARDER_STORE_MAX_BYTES'],
    default: 0,
    help: 'size cap of the whole store; the oldest chunks are dropped first, raw before rollups (0 = none)',
    parse: bytes(),
  },
  recordInterval: {
    flag: 'record-interval',
    env: ['LARDER_RECORD_INTERVAL'],
    default: 60_000,
    help: 'how often the registry is recorded into the store (the first time about 1s after start); not shorter than --collect-interval, refused otherwise',
    parse: duration({ min: 1000, max: 3_600_000 }),
    show: showDuration,
  },
});
