/** The Redis metrics every instrumented client (ioredis, node-redis) shares. */
import type { GuardedCounter, GuardedHistogram, SeriesGuard } from '../guard/series-guard.js';

/** Command duration buckets (seconds): Redis answers in well under a millisecond on loopback. */
export const DEFAULT_REDIS_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** `redis_commands_total{command,status}` and `redis_command_duration_seconds{command}`. */
export interface RedisMetrics {
  readonly commands: GuardedCounter<'command' | 'status'>;
  readonly duration: GuardedHistogram<'command'>;
  /** Records one finished command (its name upper-cased: `GET`, `HSET`). */
  record(command: string, ok: boolean, seconds: number): void;
}

/** Registers the Redis metrics on the guard's registry. */
export function createRedisMetrics(guard: SeriesGuard, buckets: readonly number[] = DEFAULT_REDIS_BUCKETS): RedisMetrics {
  const commands = guard.counter({ name: 'redis_commands_total', help: 'Redis commands sent, by command and outcome (ok or error).', labelNames: ['command', 'status'] });
  const duration = guard.histogram({ name: 'redis_command_duration_seconds', help: 'Time from sending a Redis command to its reply, by command.', labelNames: ['command'], buckets });
  return {
    commands,
    duration,
    record(command, ok, seconds) {
      commands.inc({ command, status: ok ? 'ok' : 'error' });
      duration.observe({ command }, seconds);
    },
  };
}

/** Times a command's promise into `metrics`; returns the promise untouched. */
export function timeCommand<P>(metrics: RedisMetrics, command: string, started: number, result: P): P {
  const r = result as unknown;
  if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
    (r as PromiseLike<unknown>).then(
      () => metrics.record(command, true, (performance.now() - started) / 1000),
      () => metrics.record(command, false, (performance.now() - started) / 1000),
    );
  }
  return result;
}
