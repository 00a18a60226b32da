/**
 * ioredis instrumentation: every command, pipelined or not, passes through the
 * client's `sendCommand(command)`, which is wrapped on the instance. A command re-sent
 * after a reconnect passes through again and is counted once.
 *
 * The client's own connection handshake (AUTH, SELECT, CLIENT SETNAME, CLIENT SETINFO,
 * the INFO ready check) is not the application's traffic and is not counted: ioredis
 * writes it while its status is "connect", the one state in which only those commands
 * reach the socket. An application command issued in that state is queued and passes
 * through `sendCommand` again once the client is ready, and is counted then. (Redis
 * before 7.2 answers CLIENT SETINFO with an error, which showed up as
 * `redis_commands_total{command="CLIENT",status="error"}` on every connect.)
 */
import { timeCommand, type RedisMetrics } from './redis-metrics.js';

/** The part of an ioredis client (Redis or Cluster) used here. */
export interface IoRedisLike {
  sendCommand(...args: never[]): unknown;
}

interface CommandLike {
  readonly name?: unknown;
  readonly promise?: unknown;
}

const WRAPPED = Symbol('larder.ioredis.instrumented');

/** ioredis' status while it runs its connection handshake. */
const HANDSHAKE_STATUS = 'connect';

/** Instruments an ioredis client in place and returns it. */
export function instrumentIoRedis<T extends IoRedisLike>(metrics: RedisMetrics, client: T): T {
  const c = client as unknown as { sendCommand: (...args: unknown[]) => unknown; status?: unknown; [WRAPPED]?: true };
  if (c[WRAPPED]) return client;
  c[WRAPPED] = true;
  const seen = new WeakSet<object>();
  const original = c.sendCommand;
  c.sendCommand = function instrumentedSendCommand(this: unknown, ...args: unknown[]): unknown {
    const command = args[0] as CommandLike | undefined;
    if (command && typeof command === 'object' && !seen.has(command) && c.status !== HANDSHAKE_STATUS) {
      seen.add(command);
      timeCommand(metrics, String(command.name ?? 'unknown').toUpperCase(), performance.now(), command.promise);
    }
    return original.apply(this, args);
  };
  return client;
}
