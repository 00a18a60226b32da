/**
 * The AlertSink in front of Larder's own receivers: `send` appends to a bounded inbox
 * and returns; the dispatcher takes the inbox on the next tick.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { AlertSink, PostableAlert } from '../types.js';
import type { NotificationsConfig } from './config.js';
import { DeliveryQueue, type FailedNotification } from './delivery.js';
import { Dispatcher } from './dispatcher.js';
import { createNotifier } from './receivers/index.js';
import type { Notifier } from './receivers/notifier.js';

/** Alerts routed and grouped per event-loop turn (about a millisecond's work on an idle core). */
const INGEST_SLICE = 100;

export interface NotifierSinkOptions {
  readonly config: NotificationsConfig;
  readonly registry: Registry;
  readonly log: Logger;
  /** The clock for alert states and quiet hours. @default Date.now */
  readonly now?: () => number;
  /** First backoff bound in ms. @default 500 */
  readonly initialBackoffMs?: number;
  readonly onFailure?: (f: FailedNotification) => void;
}

export class NotifierSink implements AlertSink {
  private inbox: PostableAlert[] = [];
  private scheduled = false;
  private readonly dispatcher: Dispatcher;
  private readonly delivery: DeliveryQueue;
  private readonly dropped: Counter;

  constructor(private readonly opts: NotifierSinkOptions) {
    const registers = [opts.registry];
    this.dropped = new Counter({ name: 'larder_notifier_alerts_dropped_total', help: 'Alerts not notified because the notifier held its maximum of alerts.', registers });
    this.dropped.inc(0);
    this.delivery = new DeliveryQueue({ registry: opts.registry, log: opts.log, capacity: opts.config.queueCapacity, initialBackoffMs: opts.initialBackoffMs, onFailure: opts.onFailure });
    const receivers = new Map<string, Notifier[]>();
    for (const r of opts.config.receivers) {
      const list = r.integrations.map(createNotifier);
      for (const n of list) this.delivery.declare(r.name, n.integration);
      receivers.set(r.name, list);
    }
    this.dispatcher = new Dispatcher({ config: opts.config, receivers, delivery: this.delivery, log: opts.log, now: opts.now, onDropped: (n) => this.dropped.inc(n) });
    const held = (): number => this.dispatcher.groupCount;
    new Gauge({ name: 'larder_notifier_groups', help: 'Alert groups the notifier holds.', registers, collect() { this.set(held()); } });
  }

  /** Queues the alerts and returns at once. */
  send(alerts: PostableAlert[]): void {
    const cap = this.opts.config.maxAlerts;
    for (const a of alerts) this.inbox.push(a);
    if (this.inbox.length > cap) {
      this.dropped.inc(this.inbox.length - cap);
      this.inbox.splice(0, this.inbox.length - cap);
    }
    this.schedule();
  }

  /** Ingests the inbox a slice per tick, so a flood of alerts never stalls the event loop. */
  private schedule(): void {
    if (this.scheduled || this.inbox.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.inbox.splice(0, INGEST_SLICE);
      try {
        this.dispatcher.ingest(batch);
      } catch (err) {
        this.opts.log.error('Notification dispatch failed', { err: err as Error });
      }
      this.schedule();
    });
  }

  /** Stops grouping and gives deliveries in flight up to `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.dispatcher.stop();
    await this.delivery.stop(timeoutMs);
  }
}
