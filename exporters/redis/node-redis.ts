/**
 * node-redis (v4) instrumentation. Its typed commands (`client.get()`) call a private
 * send method, not the public `sendCommand`, so each command method of the client
 * (`GET` and its alias `get`, `hGetAll`/`HGETALL` …) is wrapped on the instance, as are
 * `sendCommand([...])` and `multi().exec()` (counted as `EXEC`). The label is the
 * upper-case method name (`CLIENT_ID` for `clientId`). Clients made later with
 * `duplicate()` need instrumenting themselves.
 */
import { timeCommand, type RedisMetrics } from './redis-metrics.js';

/** The part of a node-redis client used here. */
export interface NodeRedisLike {
  sendCommand(...args: never[]): unknown;
}

type AnyFn = (...args: unknown[]) => unknown;
const WRAPPED = Symbol('larder.node-redis.instrumented');
const UPPER = /^[A-Z][A-Z0-9_]*$/;
// Methods that match a command name but do not send one.
const SKIP = new Set(['sendCommand', 'multi', 'MULTI', 'executeIsolated', 'duplicate', 'connect', 'disconnect']);

function methodNames(obj: object): Map<string, AnyFn> {
  const out = new Map<string, AnyFn>();
  for (let p: object | null = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Object.getOwnPropertyNames(p)) {
      if (out.has(key) || key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, key);
      if (d && typeof d.value === 'function') out.set(key, d.value as AnyFn);
    }
  }
  return out;
}

/** Instruments a node-redis v4 client in place and returns it. */
export function instrumentNodeRedis<T extends NodeRedisLike>(metrics: RedisMetrics, client: T): T {
  const c = client as unknown as Record<string | symbol, unknown>;
  if (c[WRAPPED]) return client;
  c[WRAPPED] = true;
  const methods = methodNames(client);
  const commandOf = new Map<string, string>();
  for (const key of methods.keys()) if (UPPER.test(key)) commandOf.set(key.toLowerCase().replace(/_/g, ''), key);
  for (const [key, fn] of methods) {
    // classes (the client's Multi) are constructed, not called
    if (SKIP.has(key) || Function.prototype.toString.call(fn).startsWith('class')) continue;
    const command = commandOf.get(key.toLowerCase().replace(/_/g, ''));
    if (!command) continue;
    c[key] = function (this: unknown, ...args: unknown[]): unknown {
      return timeCommand(metrics, command, performance.now(), fn.apply(this, args));
    };
  }
  const send = methods.get('sendCommand');
  if (send) {
    c['sendCommand'] = function (this: unknown, ...args: unknown[]): unknown {
      const argv = args[0];
      const name = Array.isArray(argv) && argv.length ? String(argv[0]).toUpperCase() : 'UNKNOWN';
      return timeCommand(metrics, name, performance.now(), send.apply(this, args));
    };
  }
  const exec = methods.get('multiExecutor');
  if (exec) {
    // multi() binds this.multiExecutor when it builds the transaction, so the instance property is used
    c['multiExecutor'] = function (this: unknown, ...args: unknown[]): unknown {
      return timeCommand(metrics, 'EXEC', performance.now(), exec.apply(this, args));
    };
  }
  return client;
}
