/**
 * Retries with exponential backoff and full jitter until a deadline, as Alertmanager
 * retries a notification within its flush (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 */
import { DeliveryError } from './http.js';

/** Backoff settings. */
export interface RetryPolicy {
  /** First wait's upper bound in ms. @default 500 */
  readonly initialMs: number;
  /** Largest wait in ms. @default 30000 */
  readonly maxMs: number;
  /** Give up once this many ms have passed since the first attempt. */
  readonly deadlineMs: number;
}

/** The result of a retried call. */
export type RetryResult = { ok: true; attempts: number } | { ok: false; attempts: number; error: Error };

/** Waits `ms`, or less when `signal` aborts (stop()). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    t.unref();
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Calls `attempt` until it resolves, a DeliveryError says a retry cannot help, the
 * deadline passes or `signal` aborts. Never rejects.
 */
export async function retry(attempt: () => Promise<void>, policy: RetryPolicy, signal?: AbortSignal, random: () => number = Math.random): Promise<RetryResult> {
  const start = Date.now();
  let attempts = 0;
  let wait = policy.initialMs;
  for (;;) {
    attempts++;
    try {
      await attempt();
      return { ok: true, attempts };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (error instanceof DeliveryError && !error.retryable) return { ok: false, attempts, error };
      const pause = Math.max(10, Math.round(random() * wait));
      if (signal?.aborted || Date.now() - start + pause >= policy.deadlineMs) return { ok: false, attempts, error };
      await sleep(pause, signal);
      if (signal?.aborted) return { ok: false, attempts, error };
      wait = Math.min(policy.maxMs, wait * 2);
    }
  }
}
