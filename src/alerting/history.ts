/**
 * Alert transitions → the seed's `alert_history` through `Store.saveAlert`, in order,
 * off the evaluation path: a failing store keeps the rows queued (bounded) and retries,
 * so a database hiccup loses no history and never delays evaluation.
 */
import type { AlertInput, Store } from '../../storage/store.js';
import type { Logger } from '../log.js';

/** Most rows kept while the store fails; past it the oldest go (and are counted in the log). */
const MAX_QUEUED = 10_000;
/** Wait before retrying after a failed write, ms. */
const RETRY_MS = 5_000;

/** Writes alert_history rows one after another. */
export class HistoryWriter {
  private readonly queue: AlertInput[] = [];
  private draining: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private dropped = 0;

  constructor(private readonly store: () => Pick<Store, 'saveAlert'> | undefined, private readonly log: Logger) {}

  /** Queues a row and starts writing. */
  push(row: AlertInput): void {
    this.queue.push(row);
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.dropped++;
      this.log.once('history-dropped', 'error', 'alert history queue full: oldest rows dropped', { dropped: this.dropped });
    }
    void this.drain();
  }

  /** Rows not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once the queue is written (or the store failed once more). */
  async flush(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.drain();
  }

  private drain(): Promise<void> {
    if (this.draining) return this.draining;
    if (this.queue.length === 0) return Promise.resolve();
    const run = (async () => {
      // yield first, so `draining` is set before the body can finish
      await Promise.resolve();
      try {
        while (this.queue.length > 0) {
          const store = this.store();
          if (!store) throw new Error('no store is open');
          await store.saveAlert(this.queue[0]!);
          this.queue.shift();
        }
        this.log.clearOnce('history-write');
      } catch (e) {
        this.log.once('history-write', 'warn', 'cannot write alert history; retrying', { queued: this.queue.length, err: (e as Error).message });
        this.retry ??= setTimeout(() => {
          this.retry = undefined;
          void this.drain();
        }, RETRY_MS);
        this.retry.unref();
      } finally {
        this.draining = undefined;
      }
    })();
    this.draining = run;
    return run;
  }
}
