/**
 * Larder's own Alertmanager-in-small: alerts are routed by the route tree, grouped per
 * route by `group_by`, and each group is flushed after `group_wait`, then every
 * `group_interval`; a receiver hears again only when the group changed or
 * `repeat_interval` passed (Alertmanager's dedup rule), resolved alerts only where
 * `send_resolved` is on, nothing while a mute interval holds. Flushes never overlap for
 * one group; deliveries run on the DeliveryQueue, so none of this blocks `send()`.
 */
import type { Logger } from '../../log.js';
import type { PostableAlert } from '../types.js';
import type { NotificationsConfig } from './config.js';
import type { DeliveryQueue } from './delivery.js';
import { common, fingerprint, type AlertData, type NotificationData } from './message.js';
import { compileRoutes, groupLabels, matchRoutes, type CompiledRoute } from './routes.js';
import type { Notifier } from './receivers/notifier.js';
import { inAny } from './time-intervals.js';

/** Alertmanager's resolve_timeout: an alert sent without endsAt resolves this long after its last update. */
const RESOLVE_TIMEOUT_MS = 5 * 60_000;
/** Firing alerts in Alertmanager's template data carry the zero time as endsAt. */
const ZERO_TIME = '0001-01-01T00:00:00Z';
/** Bounds on one incoming alert. */
const MAX_LABELS = 64;
const MAX_TEXT = 16 * 1024;

interface StoredAlert {
  readonly fp: string;
  readonly labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAtMs: number;
  generatorURL: string;
  /** Bumped on every update, so a flush deletes only the resolved alerts it saw. */
  version: number;
}

/** What a receiver last heard from a group (Alertmanager's notification log entry). */
interface LogEntry {
  firing: Set<string>;
  resolved: Set<string>;
  at: number;
}

interface Group {
  readonly key: string;
  readonly route: CompiledRoute;
  readonly labels: Record<string, string>;
  readonly alerts: Map<string, StoredAlert>;
  readonly sent: Map<number, LogEntry>;
  timer?: NodeJS.Timeout;
  flushing: boolean;
}

/** A receiver's notifiers. */
export type ReceiverNotifiers = ReadonlyMap<string, readonly Notifier[]>;

export interface DispatcherOptions {
  readonly config: NotificationsConfig;
  readonly receivers: ReceiverNotifiers;
  readonly delivery: DeliveryQueue;
  readonly log: Logger;
  /** The clock for alert states and quiet hours. @default Date.now */
  readonly now?: () => number;
  /** Called with the number of alerts refused because the dispatcher holds its maximum. */
  readonly onDropped?: (n: number) => void;
}

function clip(s: unknown): string {
  const v = typeof s === 'string' ? s : String(s ?? '');
  return v.length > MAX_TEXT ? v.slice(0, MAX_TEXT) : v;
}

/** Copies at most MAX_LABELS string entries, each value bounded. */
function boundedMap(m: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (m === null || typeof m !== 'object') return out;
  let n = 0;
  for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
    if (n++ >= MAX_LABELS) break;
    if (typeof v === 'string') out[k.slice(0, 256)] = clip(v);
  }
  return out;
}

function parseTime(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

export class Dispatcher {
  private readonly root: CompiledRoute;
  private readonly groups = new Map<string, Group>();
  private readonly now: () => number;
  private alertCount = 0;
  private stopped = false;

  constructor(private readonly opts: DispatcherOptions) {
    this.root = compileRoutes(opts.config.route);
    this.now = opts.now ?? Date.now;
  }

  /** Routes and groups the alerts; schedules flushes. Cheap: no I/O. */
  ingest(alerts: readonly PostableAlert[]): void {
    if (this.stopped) return;
    let dropped = 0;
    const now = this.now();
    for (const a of alerts) {
      const labels = boundedMap(a.labels);
      if (Object.keys(labels).length === 0) continue;
      const fp = fingerprint(labels);
      const endsAt = parseTime(a.endsAt) ?? now + RESOLVE_TIMEOUT_MS;
      for (const route of matchRoutes(this.root, labels)) {
        const gl = groupLabels(route, labels);
        const key = `${route.id}:${JSON.stringify(Object.keys(gl).sort().map((k) => [k, gl[k]]))}`;
        let g = this.groups.get(key);
        const existing = g?.alerts.get(fp);
        // a resolved alert nobody was told about (or re-sent after its resolved notification) needs no group
        if (!existing && endsAt <= now) continue;
        if (!existing && this.alertCount >= this.opts.config.maxAlerts) {
          dropped++;
          continue;
        }
        if (!g) {
          g = { key, route, labels: gl, alerts: new Map(), sent: new Map(), flushing: false };
          this.groups.set(key, g);
          this.schedule(g, route.groupWait);
        }
        if (existing) {
          existing.annotations = boundedMap(a.annotations);
          existing.startsAt = clip(a.startsAt);
          existing.endsAtMs = endsAt;
          existing.generatorURL = clip(a.generatorURL ?? '');
          existing.version++;
        } else {
          g.alerts.set(fp, { fp, labels, annotations: boundedMap(a.annotations), startsAt: clip(a.startsAt), endsAtMs: endsAt, generatorURL: clip(a.generatorURL ?? ''), version: 0 });
          this.alertCount++;
        }
      }
    }
    if (dropped > 0) {
      this.opts.onDropped?.(dropped);
      this.opts.log.once('notify-alerts-full', 'warn', 'Notification dispatcher holds its maximum of alerts; new alerts are not notified', { max: this.opts.config.maxAlerts });
    }
  }

  private schedule(g: Group, ms: number): void {
    if (g.timer) clearTimeout(g.timer);
    g.timer = setTimeout(() => this.flush(g), ms);
    g.timer.unref();
  }

  private muted(route: CompiledRoute, now: number): boolean {
    const ivs = this.opts.config.timeIntervals;
    const mute = route.muteTimeIntervals.flatMap((n) => ivs.get(n) ?? []);
    if (mute.length > 0 && inAny(mute, now)) return true;
    const active = route.activeTimeIntervals.flatMap((n) => ivs.get(n) ?? []);
    return active.length > 0 && !inAny(active, now);
  }

  /** Alertmanager's DedupStage.needsUpdate. */
  private static needsUpdate(entry: LogEntry | undefined, firing: Set<string>, resolved: Set<string>, sendResolved: boolean, repeatMs: number, now: number): boolean {
    if (!entry) return firing.size > 0;
    for (const f of firing) if (!entry.firing.has(f)) return true;
    if (firing.size === 0) return entry.firing.size > 0;
    if (sendResolved) for (const r of resolved) if (!entry.resolved.has(r)) return true;
    return entry.at <= now - repeatMs;
  }

  private flush(g: Group): void {
    g.timer = undefined;
    if (this.stopped) return;
    const route = g.route;
    if (g.flushing) return this.schedule(g, route.groupInterval);
    const now = this.now();
    if (this.muted(route, now)) {
      this.opts.log.debug('Notifications held by a time interval', { receiver: route.receiver, group: g.key });
      return this.schedule(g, route.groupInterval);
    }
    const snapshot = [...g.alerts.values()].map((a) => ({ a, version: a.version, resolved: a.endsAtMs <= now }));
    snapshot.sort((x, y) => (x.a.fp < y.a.fp ? -1 : 1));
    const firing = new Set(snapshot.filter((s) => !s.resolved).map((s) => s.a.fp));
    const resolved = new Set(snapshot.filter((s) => s.resolved).map((s) => s.a.fp));
    const data: AlertData[] = snapshot.map(({ a, resolved: r }) => ({
      status: r ? 'resolved' : 'firing', labels: a.labels, annotations: a.annotations, startsAt: a.startsAt,
      endsAt: r ? new Date(a.endsAtMs).toISOString() : ZERO_TIME, generatorURL: a.generatorURL, fingerprint: a.fp,
    }));
    const notifiers = this.opts.receivers.get(route.receiver) ?? [];
    const pending: Promise<void>[] = [];
    notifiers.forEach((notifier, i) => {
      const entry = g.sent.get(i);
      if (!Dispatcher.needsUpdate(entry, firing, resolved, notifier.sendResolved, route.repeatInterval, now)) return;
      const alerts = notifier.sendResolved ? data : data.filter((d) => d.status === 'firing');
      const record = (): void => { g.sent.set(i, { firing, resolved, at: now }); };
      if (alerts.length === 0) return record();
      const n = this.notification(g, alerts);
      pending.push(new Promise<void>((resolve) => {
        this.opts.delivery.push({
          receiver: route.receiver, integration: notifier.integration, groupKey: n.groupKey, alerts: alerts.length,
          deadlineMs: route.groupInterval,
          run: () => notifier.notify(n),
          done: (ok) => { if (ok) record(); resolve(); },
        });
      }));
    });
    g.flushing = true;
    void Promise.all(pending).then(() => {
      g.flushing = false;
      // Alertmanager's DeleteIfNotModified: resolved alerts leave once notified about.
      for (const s of snapshot) if (s.resolved && g.alerts.get(s.a.fp) === s.a && s.a.version === s.version) {
        g.alerts.delete(s.a.fp);
        this.alertCount--;
      }
      if (g.alerts.size === 0) {
        if (g.timer) clearTimeout(g.timer);
        this.groups.delete(g.key);
      }
    });
    this.schedule(g, route.groupInterval);
  }

  private notification(g: Group, alerts: AlertData[]): NotificationData {
    return {
      version: '4',
      groupKey: `{}/${g.route.id}:${JSON.stringify(g.labels)}`,
      truncatedAlerts: 0,
      status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      receiver: g.route.receiver,
      groupLabels: g.labels,
      commonLabels: common(alerts.map((a) => a.labels)),
      commonAnnotations: common(alerts.map((a) => a.annotations)),
      externalURL: this.opts.config.externalUrl,
      alerts,
    };
  }

  /** Groups currently held (for tests and debugging). */
  get groupCount(): number {
    return this.groups.size;
  }

  /** Stops flushing; pending deliveries are the DeliveryQueue's to finish. */
  stop(): void {
    this.stopped = true;
    for (const g of this.groups.values()) if (g.timer) clearTimeout(g.timer);
  }
}
