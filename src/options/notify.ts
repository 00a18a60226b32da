/**
 * Options of alert notifications: the Alertmanagers alerts are posted to (Prometheus'
 * `alertmanager_config` basics) and the config file's `notifications:` section for
 * Larder's own receivers (docs/notifications.md).
 */
import { readFileSync } from 'node:fs';
import { defineOptions, duration, int, showDuration, str } from './option.js';
import { parseNotifications, type NotificationsConfig } from '../alerting/notify/config.js';

/** One or more http(s) base URLs: a list in the config file, commas in the environment, the flag repeated. */
function urlList(raw: unknown): readonly string[] {
  const items = Array.isArray(raw) ? raw : String(raw).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length > 16) throw new Error('expected at most 16 Alertmanager URLs');
  return Object.freeze(items.map((v, i) => {
    let u: URL;
    try {
      if (typeof v !== 'string') throw new Error('not a string');
      u = new URL(v);
    } catch {
      throw new Error(`entry ${i + 1}: expected an http(s) URL such as http://127.0.0.1:9093`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`entry ${i + 1}: only http and https are supported`);
    return u.toString();
  }));
}

/** A path to a file holding a secret; read (and checked) at start-up. '' means none. */
function secretFile(): (raw: unknown) => string {
  return (raw) => {
    const path = str()(raw);
    if (path === '') return '';
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (text.length > 64 * 1024) throw new Error(`${JSON.stringify(path)} is over 64 KiB`);
    const secret = text.replace(/\r?\n$/, '');
    if (secret === '') throw new Error(`${JSON.stringify(path)} is empty`);
    return secret;
  };
}

export const notifyOptions = defineOptions({
  alertmanagerUrls: {
    flag: 'alertmanager.url',
    env: ['LARDER_ALERTMANAGER_URL'],
    default: [] as readonly string[],
    help: 'Alertmanager to send alerts to (POST /api/v2/alerts), e.g. http://127.0.0.1:9093; repeat the flag (or separate with commas) for several, each gets every alert',
    parse: urlList,
    show: (v: readonly string[]) => (v.length ? v.join(',') : 'none'),
    repeatable: true,
  },
  queueCapacity: {
    flag: 'alertmanager.queue-capacity',
    env: ['LARDER_ALERTMANAGER_QUEUE_CAPACITY'],
    default: 10_000,
    help: 'alerts held for the Alertmanagers while they are slow; when full the oldest are dropped (larder_notifications_dropped_total)',
    parse: int({ min: 1, max: 1_000_000 }),
  },
  timeout: {
    flag: 'alertmanager.timeout',
    env: ['LARDER_ALERTMANAGER_TIMEOUT'],
    default: 10_000,
    help: 'timeout of one request to an Alertmanager',
    parse: duration({ min: 100, max: 120_000 }),
    show: showDuration,
  },
  basicAuthUsername: {
    flag: 'alertmanager.basic-auth-username',
    env: ['LARDER_ALERTMANAGER_BASIC_AUTH_USERNAME'],
    default: '',
    help: 'basic auth user name for the Alertmanagers (with --alertmanager.basic-auth-password-file)',
    parse: str(),
  },
  basicAuthPassword: {
    flag: 'alertmanager.basic-auth-password-file',
    env: ['LARDER_ALERTMANAGER_BASIC_AUTH_PASSWORD_FILE'],
    default: '',
    help: 'file holding the basic auth password for the Alertmanagers',
    parse: secretFile(),
    show: () => 'none',
    secret: true,
  },
  bearerToken: {
    flag: 'alertmanager.bearer-token-file',
    env: ['LARDER_ALERTMANAGER_BEARER_TOKEN_FILE'],
    default: '',
    help: 'file holding a bearer token sent to the Alertmanagers',
    parse: secretFile(),
    show: () => 'none',
    secret: true,
  },
  notifications: {
    flag: 'notifications',
    default: undefined as NotificationsConfig | undefined,
    help: 'Larder\'s own notifications without an Alertmanager: receivers (webhook, slack, email, telegram, discord, ntfy), a route tree and time_intervals, as Alertmanager\'s config (docs/notifications.md)',
    parse: parseNotifications,
    show: (v: NotificationsConfig | undefined) => (v ? v.receivers.map((r) => r.name).join(',') : 'none'),
    fileOnly: true,
  },
});
