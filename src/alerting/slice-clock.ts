/**
 * How long rule evaluation holds the event loop at a stretch. A group's evaluation runs
 * as many synchronous slices (the prefetch's results sorted, each query parsed and
 * evaluated between its reads, results written, ALERTS updated, alerts handed to the
 * notifiers), separated by the points where it waits: a store call, or a yield. The
 * clock is opened when evaluation code starts running in a turn of the event loop and
 * closed where it hands control back, and keeps the longest slice.
 *
 * A slice's length is its time on a CPU: the wall time minus the time the main thread
 * waited for a CPU meanwhile (Linux' /proc/thread-self/schedstat, run_delay, which the
 * kernel updates at each switch, so it is exact when read by the thread itself). On a
 * shared machine a 2 ms slice preempted for 20 ms holds the loop 22 ms, but 20 of them
 * are other processes'. Where schedstat cannot be read, the wall time is used.
 *
 * Boundaries the clock does not see make a slice look longer, never shorter: code that
 * yields on its own without closing the clock keeps the slice open until the next
 * boundary it does see.
 */
import { openSync, readSync } from 'node:fs';

let schedFd: number | undefined | null;
const schedBuf = Buffer.alloc(128);

/** Nanoseconds the calling thread has waited for a CPU since it started (0 where unknown). */
function waitedNs(): number {
  if (schedFd === null) return 0;
  try {
    schedFd ??= openSync('/proc/thread-self/schedstat', 'r');
    const n = readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
    const text = schedBuf.toString('latin1', 0, n);
    const a = text.indexOf(' ');
    const v = Number(text.slice(a + 1, text.indexOf(' ', a + 1)));
    return Number.isFinite(v) ? v : 0;
  } catch {
    schedFd = null;
    return 0;
  }
}

/** The slices of one evaluation at a time: open, close, the longest. */
export class SliceClock {
  private startMs: number | undefined;
  private startWaitNs = 0;
  /** Longest slice since the last reset, ms on a CPU. */
  longestMs = 0;
  /** Slices closed since the last reset. */
  slices = 0;
  /** What the evaluation is doing now (set by its code, for the log): kept for the longest slice. */
  at = '';
  /** `at` when the longest slice closed. */
  longestAt = '';

  /** Opens a slice (no-op when one is open). */
  begin(): void {
    if (this.startMs !== undefined) return;
    this.startWaitNs = waitedNs();
    this.startMs = performance.now();
  }

  /** Closes the open slice (no-op when none is). */
  end(): void {
    if (this.startMs === undefined) return;
    const wallMs = performance.now() - this.startMs;
    const ranMs = Math.max(0, wallMs - (waitedNs() - this.startWaitNs) / 1e6);
    this.startMs = undefined;
    this.slices++;
    if (ranMs > this.longestMs) {
      this.longestMs = ranMs;
      this.longestAt = this.at;
    }
  }

  /** Starts a new evaluation's count. */
  reset(): void {
    this.longestMs = 0;
    this.slices = 0;
    this.longestAt = '';
  }

  /** Closes the slice while `p` is awaited and opens one when it settles. */
  wait<T>(p: Promise<T>): Promise<T> {
    this.end();
    return p.then(
      (v) => {
        this.begin();
        return v;
      },
      (e: unknown) => {
        this.begin();
        throw e;
      },
    );
  }

  /** Hands the event loop to whatever else waits, then opens a new slice. */
  yield(): Promise<void> {
    return this.wait(new Promise<void>((resolve) => setImmediate(resolve)));
  }

  /** Yields when the open slice has run `budgetMs` of wall time (cheap to call often). */
  async yieldAfter(budgetMs: number): Promise<void> {
    if (this.startMs !== undefined && performance.now() - this.startMs >= budgetMs) await this.yield();
  }
}

/**
 * `target` with every method that returns a promise timed by `clock`: the slice closes
 * when the call has returned its promise (the call's own synchronous work counted) and a
 * new one opens when it settles. Properties that are not functions pass through.
 */
export function timedStore<T extends object>(target: T, clock: SliceClock): T {
  return new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]): unknown => {
        const r: unknown = (v as (...a: unknown[]) => unknown).apply(t, args);
        return r instanceof Promise ? clock.wait(r) : r;
      };
    },
  });
}
