/**
 * The servers the service depends on: the optional cache (the seed's REDIS_* variables)
 * and the PostgreSQL servers the `redis` and `postgres` collectors watch.
 */
import { defineOptions, int, str } from './option.js';

/** `postgres://` URLs: a comma-separated list from a flag or variable, a YAML list in the config file. */
function postgresUrls(raw: unknown): readonly string[] {
  const items = Array.isArray(raw) ? raw : String(raw).split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items.map((item, i) => {
    if (typeof item !== 'string') throw new Error(`item ${i + 1}: expected a postgres:// URL`);
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      // the value is never repeated: it may carry a password
      throw new Error(`item ${i + 1}: not a URL; expected postgres://user:password@host:5432/database, with @ : / # % in the user or password percent-encoded`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error(`item ${i + 1}: expected a postgres:// or postgresql:// URL, not ${url.protocol}`);
    return item;
  });
}

export const serviceOptions = defineOptions({
  redisHost: { flag: 'redis.host', env: ['REDIS_HOST'], default: '127.0.0.1', help: 'Redis host (watched by --collector.redis)', parse: str() },
  redisPort: { flag: 'redis.port', env: ['REDIS_PORT'], default: 6379, help: 'Redis port', parse: int({ min: 1, max: 65535 }) },
  redisUsername: {
    flag: 'redis.username',
    env: ['REDIS_USERNAME'],
    default: '',
    help: 'Redis ACL user of --collector.redis; empty = the default user',
    parse: str(),
  },
  redisPasswordFile: {
    flag: 'redis.password-file',
    env: ['REDIS_PASSWORD_FILE'],
    default: '',
    help: 'file holding the Redis password of --collector.redis (read at start, trailing newline dropped); empty = no AUTH',
    parse: str(),
  },
  postgresTargets: {
    flag: 'postgres.targets',
    env: ['LARDER_POSTGRES_TARGETS'],
    default: [] as readonly string[],
    help: 'postgres:// URLs of the servers --collector.postgres watches (a list in the config file); empty = the DATABASE_URL / DB_* database',
    parse: postgresUrls,
    show: (v: readonly string[]) => (v.length ? `${v.length} URL(s)` : 'none'),
    secret: true,
  },
});
