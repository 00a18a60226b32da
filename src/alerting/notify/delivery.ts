/**
 * Runs notifier calls off the evaluation path: a bounded queue (the oldest job dropped
 * and counted when full), a few at a time, each retried with backoff until its deadline.
 * Every outcome is counted per receiver and integration; a notification that failed for
 * good is logged at error level (without secrets) and handed to `onFailure`.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import { retry } from './retry.js';

/** One delivery to make. */
export interface DeliveryJob {
  readonly receiver: string;
  readonly integration: string;
  readonly groupKey: string;
  readonly alerts: number;
  /** Give up retrying after this many ms. */
  readonly deadlineMs: number;
  readonly run: () => Promise<void>;
  /** Called once with the final outcome. */
  readonly done: (ok: boolean) => void;
}

/** A delivery that failed for good, for the notification log. */
export interface FailedNotification {
  readonly at: number;
  readonly receiver: string;
  readonly integration: string;
  readonly groupKey: string;
  readonly alerts: number;
  readonly attempts: number;
  readonly error: string;
  readonly outcome: 'failed' | 'dropped';
}

export interface DeliveryOptions {
  readonly registry: Registry;
  readonly log: Logger;
  /** Jobs waiting at most. */
  readonly capacity: number;
  /** Jobs running at once. @default 8 */
  readonly concurrency?: number;
  /** First backoff bound in ms. @default 500 */
  readonly initialBackoffMs?: number;
  /** Largest backoff in ms. @default 30000 */
  readonly maxBackoffMs?: number;
  readonly onFailure?: (f: FailedNotification) => void;
}

/** Deliveries of one receiver's integration running at once. */
const PER_INTEGRATION = 2;

/** The background delivery queue (see the file comment). */
export class DeliveryQueue {
  private readonly waiting: DeliveryJob[] = [];
  private active = 0;
  /** Running jobs per receiver and integration. */
  private readonly busy = new Map<string, number>();
  private readonly idle = new Set<() => void>();
  private readonly abort = new AbortController();
  private readonly outcomes: Counter<'receiver' | 'integration' | 'outcome'>;
  private readonly attempts: Counter<'receiver' | 'integration'>;

  constructor(private readonly opts: DeliveryOptions) {
    const registers = [opts.registry];
    this.outcomes = new Counter({ name: 'larder_notifier_notifications_total', help: 'Notifications by receiver, integration and outcome (success, failed after retries, dropped from a full queue).', labelNames: ['receiver', 'integration', 'outcome'], registers });
    this.attempts = new Counter({ name: 'larder_notifier_attempts_total', help: 'Delivery attempts (retries included) by receiver and integration.', labelNames: ['receiver', 'integration'], registers });
    const length = (): number => this.waiting.length + this.active;
    new Gauge({ name: 'larder_notifier_queue_length', help: 'Notifications waiting or being delivered.', registers, collect() { this.set(length()); } });
  }

  /** Zeroes the counters of one integration, so they show before the first notification. */
  declare(receiver: string, integration: string): void {
    for (const outcome of ['success', 'failed', 'dropped']) this.outcomes.inc({ receiver, integration, outcome }, 0);
    this.attempts.inc({ receiver, integration }, 0);
  }

  /** Queues a job; returns at once. */
  push(job: DeliveryJob): void {
    if (this.abort.signal.aborted) return this.drop(job, 'stopped');
    if (this.waiting.length >= this.opts.capacity) this.drop(this.waiting.shift()!, 'queue full');
    this.waiting.push(job);
    this.pump();
  }

  private drop(job: DeliveryJob, why: string): void {
    this.outcomes.inc({ receiver: job.receiver, integration: job.integration, outcome: 'dropped' });
    this.opts.log.error('Notification dropped', { receiver: job.receiver, integration: job.integration, alerts: job.alerts, reason: why });
    this.opts.onFailure?.({ at: Date.now(), receiver: job.receiver, integration: job.integration, groupKey: job.groupKey, alerts: job.alerts, attempts: 0, error: why, outcome: 'dropped' });
    job.done(false);
  }

  private pump(): void {
    while (this.active < (this.opts.concurrency ?? 8)) {
      // a receiver that keeps failing holds at most PER_INTEGRATION slots, so the others are not delayed
      const i = this.waiting.findIndex((j) => (this.busy.get(`${j.receiver}\u0000${j.integration}`) ?? 0) < PER_INTEGRATION);
      if (i < 0) return;
      const job = this.waiting.splice(i, 1)[0]!;
      const key = `${job.receiver}\u0000${job.integration}`;
      this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
      this.active++;
      void this.runJob(job).finally(() => {
        this.active--;
        const left = (this.busy.get(key) ?? 1) - 1;
        if (left === 0) this.busy.delete(key);
        else this.busy.set(key, left);
        this.pump();
        if (this.active === 0 && this.waiting.length === 0) for (const f of this.idle) f();
      });
    }
  }

  private async runJob(job: DeliveryJob): Promise<void> {
    const labels = { receiver: job.receiver, integration: job.integration };
    const result = await retry(async () => {
      this.attempts.inc(labels);
      await job.run();
    }, { initialMs: this.opts.initialBackoffMs ?? 500, maxMs: this.opts.maxBackoffMs ?? 30_000, deadlineMs: job.deadlineMs }, this.abort.signal);
    if (result.ok) {
      this.outcomes.inc({ ...labels, outcome: 'success' });
      this.opts.log.debug('Notification sent', { ...labels, alerts: job.alerts, attempts: result.attempts });
    } else {
      this.outcomes.inc({ ...labels, outcome: 'failed' });
      this.opts.log.error('Notification failed', { ...labels, alerts: job.alerts, attempts: result.attempts, err: result.error.message });
      this.opts.onFailure?.({ at: Date.now(), ...labels, groupKey: job.groupKey, alerts: job.alerts, attempts: result.attempts, error: result.error.message, outcome: 'failed' });
    }
    try {
      job.done(result.ok);
    } catch (err) {
      this.opts.log.error('Notification bookkeeping failed', { err: err as Error });
    }
  }

  /** Waits up to `timeoutMs` for running jobs, then aborts their retries and drops what waits. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.active > 0 || this.waiting.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idle.add(resolve)),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); timer.unref(); }),
      ]);
      if (timer) clearTimeout(timer);
    }
    this.abort.abort();
    for (const job of this.waiting.splice(0)) this.drop(job, 'stopped');
  }
}
