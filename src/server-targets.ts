/**
 * The servers `larder serve`'s `postgres` and `redis` collectors watch, from the config:
 * `postgres.targets`, else the DATABASE_URL / DB_* database (the seed's variables, which
 * name the service's database); `redis.host`, `redis.port`, `redis.username` and the
 * password read from `redis.password-file`.
 */
import type { PostgresTarget, RedisTarget } from '../exporters/server-target.js';
import type { Config } from './config.js';
import { ConfigError } from './config.js';
import { readOptionFile } from './tls-files.js';

/** The PostgreSQL servers to watch. */
export function postgresTargets(config: Pick<Config, 'services' | 'storage'>): PostgresTarget[] {
  if (config.services.postgresTargets.length) return [...config.services.postgresTargets];
  const s = config.storage;
  if (s.databaseUrl !== '') return [s.databaseUrl];
  return [{ host: s.dbHost, port: s.dbPort, database: s.dbName, user: s.dbUser, password: s.dbPassword }];
}

/** Largest password file read. */
const MAX_PASSWORD_BYTES = 4096;

/** The Redis server to watch; reads the password file (a ConfigError names the option and file, never the content). */
export function redisTarget(config: Pick<Config, 'services'>): RedisTarget {
  const s = config.services;
  let password: string | undefined;
  if (s.redisPasswordFile !== '') {
    const data = readOptionFile(s.redisPasswordFile, '--redis.password-file');
    if (data.length > MAX_PASSWORD_BYTES) throw new ConfigError(`--redis.password-file ${JSON.stringify(s.redisPasswordFile)}: over ${MAX_PASSWORD_BYTES} bytes, not a password`);
    password = data.toString('utf8').replace(/\r?\n$/, '');
    if (password === '') throw new ConfigError(`--redis.password-file ${JSON.stringify(s.redisPasswordFile)} is empty`);
  }
  return { host: s.redisHost, port: s.redisPort, username: s.redisUsername || undefined, password };
}
