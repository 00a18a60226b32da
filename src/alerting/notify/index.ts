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

/** The part of Larder's Config this needs. */
export interface NotifyConfig {
  readonly notify: OptionValues<typeof notifyOptions>;
}

/** What the sinks are given. */
export interface AlertSinkDeps {
  readonly log: Logger;
  readonly registry: Registry;
  /** Where notifications that failed for good are recorded, beside the log line. */
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
    sinks.push(new NotifierSink({ config: c.notifications, registry: deps.registry, log: deps.log.child('notify'), now: deps.now, onFailure: deps.recordFailure }));
  }
  return sinks;
}

export { AlertmanagerSink, NotifierSink };
export type { FailedNotification };
