/**
 * Sends alerts to Alertmanagers over their v2 API, as Prometheus' notifier does: a
 * bounded queue (the oldest alerts dropped and counted when full), batches of up to 64,
 * every batch to every Alertmanager at once, a timeout per request, no retry (the rule
 * evaluator re-sends firing alerts every interval, which is Prometheus' design too).
 * Metrics carry Prometheus' names under `larder_`, labelled by the Alertmanager's URL
 * without credentials.
 */
import { Counter, Gauge, Summary, type Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { AlertSink, PostableAlert } from '../types.js';
import { authHeader, authSecrets, httpPost, scrub, type HttpAuth } from './http.js';

/** Prometheus' maxBatchSize. */
export const MAX_BATCH = 64;

/** One Alertmanager. */
export interface AlertmanagerTarget {
  /** Base URL, e.g. `http://127.0.0.1:9093` (credentials already moved to `auth`). */
  readonly url: string;
  readonly auth?: HttpAuth;
}

/** Settings of the Alertmanager client. */
export interface AlertmanagerSinkOptions {
  readonly targets: readonly AlertmanagerTarget[];
  /** Alerts held while the Alertmanagers are slow. @default 10000 */
  readonly queueCapacity: number;
  /** Per-request timeout in ms. @default 10000 */
  readonly timeoutMs: number;
  readonly registry: Registry;
  readonly log: Logger;
}

/** The endpoint alerts are posted to: `<base>/api/v2/alerts`, base path kept. */
export function alertsEndpoint(base: string): string {
  const u = new URL(base);
  u.username = '';
  u.password = '';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** The label naming an Alertmanager in metrics and logs: its endpoint without user info or query. */
export function alertmanagerLabel(base: string): string {
  return alertsEndpoint(base);
}

/** The Alertmanager v2 client behind AlertSink. */
export class AlertmanagerSink implements AlertSink {
  private queue: PostableAlert[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly sent: Counter<'alertmanager'>;
  private readonly errors: Counter<'alertmanager'>;
  private readonly dropped: Counter;
  private readonly latency: Summary<'alertmanager'>;
  private readonly endpoints: { url: string; label: string; headers: Record<string, string>; secrets: string[] }[];

  constructor(private readonly opts: AlertmanagerSinkOptions) {
    const registers = [opts.registry];
    this.endpoints = opts.targets.map((t) => ({
      url: alertsEndpoint(t.url),
      label: alertmanagerLabel(t.url),
      headers: { 'content-type': 'application/json', 'user-agent': 'larder', ...authHeader(t.auth) },
      secrets: authSecrets(t.auth),
    }));
    this.sent = new Counter({ name: 'larder_notifications_sent_total', help: 'Total number of alerts sent to each Alertmanager (failed sends included, as in Prometheus).', labelNames: ['alertmanager'], registers });
    this.errors = new Counter({ name: 'larder_notifications_errors_total', help: 'Total number of alerts whose sending to an Alertmanager failed.', labelNames: ['alertmanager'], registers });
    this.dropped = new Counter({ name: 'larder_notifications_dropped_total', help: 'Total number of alerts dropped because the queue was full or no Alertmanager took them.', registers });
    this.latency = new Summary({ name: 'larder_notifications_latency_seconds', help: 'Latency of sending alerts to each Alertmanager, in seconds.', labelNames: ['alertmanager'], percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 600, ageBuckets: 5, registers });
    const queue = (): number => this.queue.length;
    new Gauge({ name: 'larder_notifications_queue_length', help: 'Number of alerts waiting to be sent to the Alertmanagers.', registers, collect() { this.set(queue()); } });
    new Gauge({ name: 'larder_notifications_queue_capacity', help: 'Capacity of the Alertmanager alert queue.', registers }).set(opts.queueCapacity);
    for (const e of this.endpoints) {
      this.sent.inc({ alertmanager: e.label }, 0);
      this.errors.inc({ alertmanager: e.label }, 0);
    }
    this.dropped.inc(0);
  }

  /** Queues the alerts and returns; sending happens on a later tick. */
  send(alerts: PostableAlert[]): void {
    if (this.stopped || alerts.length === 0 || this.endpoints.length === 0) return;
    const cap = this.opts.queueCapacity;
    // a batch larger than the queue keeps its newest alerts, as Prometheus does
    const incoming = alerts.length > cap ? alerts.slice(alerts.length - cap) : alerts;
    const overflow = this.queue.length + incoming.length - cap;
    if (alerts.length > incoming.length) this.dropped.inc(alerts.length - incoming.length);
    if (overflow > 0) {
      this.queue.splice(0, overflow);
      this.dropped.inc(overflow);
      this.opts.log.once('alertmanager-queue-full', 'warn', 'Alert notification queue full, dropping the oldest alerts', { capacity: cap });
    }
    for (const a of incoming) this.queue.push(a);
    if (!this.running) {
      this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain()).finally(() => {
        this.running = undefined;
      });
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      await this.sendAll(batch);
    }
    this.opts.log.clearOnce('alertmanager-queue-full');
  }

  /** One batch to every Alertmanager at once; counts the batch dropped when none took it. */
  private async sendAll(batch: PostableAlert[]): Promise<void> {
    const body = JSON.stringify(batch);
    const results = await Promise.all(this.endpoints.map(async (e) => {
      const begin = process.hrtime.bigint();
      let ok = true;
      try {
        await httpPost({ url: e.url, headers: e.headers, body, timeoutMs: this.opts.timeoutMs, secrets: e.secrets });
        this.opts.log.clearOnce(`alertmanager-error ${e.label}`);
      } catch (err) {
        ok = false;
        this.errors.inc({ alertmanager: e.label }, batch.length);
        this.opts.log.once(`alertmanager-error ${e.label}`, 'error', 'Error sending alerts to Alertmanager', { alertmanager: e.label, count: batch.length, err: scrub((err as Error).message, e.secrets) });
      }
      this.latency.observe({ alertmanager: e.label }, Number(process.hrtime.bigint() - begin) / 1e9);
      this.sent.inc({ alertmanager: e.label }, batch.length);
      return ok;
    }));
    if (!results.some((ok) => ok)) this.dropped.inc(batch.length);
  }

  /** Sends what is queued within `timeoutMs`, then stops taking alerts. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    const pending = this.running ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pending, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); timer.unref(); })]);
    if (timer) clearTimeout(timer);
    if (this.queue.length > 0) {
      this.dropped.inc(this.queue.length);
      this.queue = [];
    }
  }
}
