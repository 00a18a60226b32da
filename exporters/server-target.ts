/**
 * What the server collectors (postgres, redis) share: the connection settings they are
 * given, and logging a target's failure once until it changes or clears, with no secret
 * in the line.
 */
import type { CollectorLog } from './collector.js';

/** A PostgreSQL server to watch: a `postgres://` URL, or the DB_* settings as an object. */
export type PostgresTarget =
  | string
  | {
      readonly host: string;
      readonly port: number;
      readonly database: string;
      readonly user: string;
      readonly password?: string | undefined;
    };

/** The Redis server to watch (REDIS_HOST, REDIS_PORT, and optional ACL user and password). */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/** Replaces every occurrence of each non-empty secret in `text` by `***`. */
export function maskSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/**
 * Logs a target's failure once: again only when its message changes, and `recovered`
 * once when it answers again. A server down for a day is one line, not one a minute.
 */
export class FailureLog {
  private readonly failing = new Map<string, string>();

  constructor(
    private readonly log: CollectorLog,
    private readonly collector: string,
  ) {}

  /** Records a failed update of `target`. */
  failed(target: string, message: string, hint?: string): void {
    if (this.failing.get(target) === message) return;
    this.failing.set(target, message);
    this.log.warn(`${this.collector} server unreachable or refused; ${this.collector === 'postgres' ? 'pg' : this.collector}_up is 0 until it answers`, {
      collector: this.collector,
      target,
      err: message,
      ...(hint ? { hint } : {}),
    });
  }

  /** Records a successful update of `target`. */
  succeeded(target: string): void {
    if (!this.failing.delete(target)) return;
    this.log.info(`${this.collector} server answers again`, { collector: this.collector, target });
  }
}
