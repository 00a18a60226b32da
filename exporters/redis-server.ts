/**
 * The `redis` collector: the Redis server the service uses (REDIS_HOST, REDIS_PORT),
 * seen from outside through `INFO` and `DBSIZE`, named as the community redis_exporter
 * names them (`redis_up`, `redis_connected_clients`, `redis_memory_used_bytes`,
 * `redis_commands_processed_total`, `redis_db_keys{db}`, …).
 *
 * One short connection per update on the slow interval (AUTH when a password is set,
 * CLIENT SETNAME larder, INFO, DBSIZE, pipelined). A server that does not answer or
 * refuses the credentials shows `redis_up 0` and no other series; the cause is logged once.
 */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { INFO_METRICS, INSTANCE_INFO_FIELDS, keyspace, parseInfo } from './redis-server/info.js';
import { exchange, RespError, type RespValue } from './redis-server/resp.js';
import { FailureLog, maskSecrets } from './server-target.js';

/** The whole exchange (connect, AUTH, INFO, DBSIZE) may take this long, ms. */
export const REDIS_TIMEOUT_MS = 3000;
/** Longest label value taken from INFO (a server's strings are bounded like any outside input). */
const MAX_LABEL = 128;

function hintOf(err: RespError): string | undefined {
  if (err.kind === 'WRONGPASS' || /AUTH/.test(err.message)) return 'the Redis user or password is wrong (--redis.username, --redis.password-file)';
  if (err.kind === 'NOAUTH') return 'Redis requires a password: set --redis.password-file (REDIS_PASSWORD_FILE)';
  return undefined;
}

/** The `redis` collector (off by default, slow interval). */
export const redisCollector: CollectorDefinition = {
  name: 'redis',
  defaultEnabled: false,
  slow: true,
  create(ctx) {
    const target = ctx.options.redisTarget;
    const r = ctx.registry;
    const up = new ConstMetric(r, { name: 'redis_up', help: 'Whether the last INFO from the Redis server succeeded (1) or not (0).' });
    const info = new ConstMetric(r, { name: 'redis_instance_info', help: 'Information about the Redis instance (value 1).' });
    const fields = INFO_METRICS.map((m) => ({ ...m, metric: new ConstMetric(r, { name: m.name, help: m.help, type: m.type }) }));
    const dbKeys = new ConstMetric(r, { name: 'redis_db_keys', help: 'Total number of keys by DB.' });
    const dbExpiring = new ConstMetric(r, { name: 'redis_db_keys_expiring', help: 'Total number of expiring keys by DB.' });
    const dbTtl = new ConstMetric(r, { name: 'redis_db_avg_ttl_seconds', help: 'Average TTL of the expiring keys by DB, seconds.' });
    const failures = new FailureLog(ctx.log, 'redis');
    const clearAll = (): void => {
      for (const m of [info, dbKeys, dbExpiring, dbTtl, ...fields.map((f) => f.metric)]) m.set([]);
    };

    return {
      async update(signal) {
        if (!target) {
          up.setValue(0);
          throw new Error('no Redis target: set --redis.host and --redis.port (REDIS_HOST, REDIS_PORT)');
        }
        const where = `${target.host}:${target.port}`;
        const auth = target.password ? [target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]] : [];
        const commands = [...auth, ['CLIENT', 'SETNAME', 'larder'], ['INFO'], ['DBSIZE']];
        let replies: RespValue[];
        try {
          replies = await exchange({ host: target.host, port: target.port, timeoutMs: REDIS_TIMEOUT_MS, signal }, commands);
          const refused = replies.slice(0, auth.length).find((v): v is RespError => v instanceof RespError);
          const infoReply = replies[auth.length + 1];
          if (refused) throw refused;
          if (infoReply instanceof RespError) throw infoReply;
          if (typeof infoReply !== 'string') throw new Error('INFO did not answer with text');
        } catch (err) {
          const e = err as Error;
          failures.failed(where, maskSecrets(e instanceof RespError ? `Redis refused: ${e.message}` : e.message, [target.password]), e instanceof RespError ? hintOf(e) : undefined);
          up.setValue(0);
          clearAll();
          return;
        }
        failures.succeeded(where);
        const parsed = parseInfo(replies[auth.length + 1] as string);
        const dbsize = replies[auth.length + 2];
        up.setValue(1);
        info.set([{ labels: Object.fromEntries(INSTANCE_INFO_FIELDS.map((f) => [f, (parsed.get(f) ?? '').slice(0, MAX_LABEL)])), value: 1 }]);
        for (const f of fields) {
          const v = Number(parsed.get(f.field));
          f.metric.set(parsed.has(f.field) && Number.isFinite(v) ? [{ labels: {}, value: v }] : []);
        }
        const dbs = keyspace(parsed);
        // DBSIZE counts db0 (the connection's database) even when it is empty and INFO leaves it out
        const db0 = typeof dbsize === 'number' ? dbsize : undefined;
        const keys = dbs.filter((d) => d.db !== 'db0' || db0 === undefined).map((d) => ({ labels: { db: d.db }, value: d.keys }));
        if (db0 !== undefined) keys.unshift({ labels: { db: 'db0' }, value: db0 });
        dbKeys.set(keys);
        const expiring = dbs.map((d) => ({ labels: { db: d.db }, value: d.expires }));
        if (db0 !== undefined && !dbs.some((d) => d.db === 'db0')) expiring.unshift({ labels: { db: 'db0' }, value: 0 });
        dbExpiring.set(expiring);
        dbTtl.set(dbs.map((d) => ({ labels: { db: d.db }, value: d.avgTtlMs / 1000 })));
      },
    };
  },
};
