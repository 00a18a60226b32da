/**
 * Alert notifications: what stands behind `AlertSink`. `createAlertSinks` builds one sink
 * for the Alertmanagers (`--alertmanager.url`) and one for Larder's own receivers (the
 * config file's `notifications:`), each only when configured.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { OptionValues } from '../../options/option.js';
import type { notifyOptions } from '../../options/notify.js';
import type { AlertSink } from '../types.js';
import { AlertmanagerSink, alertmanagerLabel, type AlertmanagerTarget } from './alertmanager-sink.js';
import type { FailedNotification } from './delivery.js';
import type { HttpAuth } from './http.js';
import { NotifierSink } from './notifier-sink.js';
import { createNotificationLog, type NotificationLogStore } from './notification-log.js';

/** The part of Larder's Config this needs. */
export interface NotifyConfig {
  readonly notify: OptionValues<typeof notifyOptions>;
}

/** What the sinks are given. */
export interface AlertSinkDeps {
  readonly log: Logger;
  readonly registry: Registry;
  /** The store whose `notification_log` table records notifications that failed for good. */
  readonly store?: NotificationLogStore;
  /** Also called with every notification that failed for good (beside the log line and the table). */
  readonly recordFailure?: (f: FailedNotification) => void;
  /** The clock for alert states and quiet hours. @default Date.now */
  readonly now?: () => number;
}

/** The Alertmanagers of the config, credentials in the URL moved to basic auth. */
export function alertmanagerTargets(c: NotifyConfig['notify']): AlertmanagerTarget[] {
  return c.alertmanagerUrls.map((raw) => {
    const u = new URL(raw);
    let auth: HttpAuth | undefined;
    if (c.bearerToken !== '') auth = { bearerToken: c.bearerToken };
    else if (c.basicAuthUsername !== '') auth = { username: c.basicAuthUsername, password: c.basicAuthPassword };
    else if (u.username !== '') auth = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    u.username = '';
    u.password = '';
    return { url: u.toString(), auth };
  });
}

/**
 * The sinks the configuration asks for: an Alertmanager client when `--alertmanager.url`
 * is set, Larder's own notifiers when `notifications:` is. Empty when neither is.
 * With a `store`, notifications that failed for good also land in `notification_log`.
 */
export function createAlertSinks(config: NotifyConfig, deps: AlertSinkDeps): AlertSink[] {
  const c = config.notify;
  const sinks: AlertSink[] = [];
  if (c.alertmanagerUrls.length > 0) {
    const targets = alertmanagerTargets(c);
    sinks.push(new AlertmanagerSink({ targets, queueCapacity: c.queueCapacity, timeoutMs: c.timeout, registry: deps.registry, log: deps.log.child('alertmanager') }));
    deps.log.info('Sending alerts to Alertmanager', { alertmanagers: targets.map((t) => alertmanagerLabel(t.url)).join(',') });
  }
  if (c.notifications) {
    const log = deps.log.child('notify');
    const table = deps.store ? createNotificationLog(deps.store, log) : undefined;
    const onFailure = (f: FailedNotification): void => {
      table?.record(f);
      deps.recordFailure?.(f);
    };
    sinks.push(new NotifierSink({ config: c.notifications, registry: deps.registry, log, now: deps.now, onFailure }));
  }
  return sinks;
}

export { AlertmanagerSink, NotifierSink };
export { createNotificationLog };
export type { FailedNotification, NotificationLogStore };
