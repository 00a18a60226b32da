/**
 * The config file's `notifications:` section, read and validated at start-up in the
 * shape of Alertmanager's configuration (receivers, a route tree, time intervals).
 * Every problem is an Error whose message starts with the key path
 * (`notifications.receivers[0].slack_configs[0].api_url: …`) and never holds a secret's
 * value. `*_file` variants are read here, so a missing file also stops start-up.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDuration } from '../../duration.js';
import { isLabelName, makeMatcher, parseMatcher, type Matcher } from './matchers.js';
import { checkZone, parseClock, parseWeekdays, type TimeInterval } from './time-intervals.js';
import type { HttpAuth } from './http.js';

/** Credentials and other small files are at most this long. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** Settings every integration has. */
interface IntegrationBase {
  /** Send a message when the group's alerts resolve. */
  readonly sendResolved: boolean;
  /** Per-request timeout in ms. @default 10s */
  readonly timeoutMs: number;
}

export interface WebhookConfig extends IntegrationBase {
  readonly kind: 'webhook';
  readonly url: string;
  readonly auth?: HttpAuth;
  /** At most this many alerts per message; the rest are counted in truncatedAlerts. @default 100 */
  readonly maxAlerts: number;
}
export interface SlackConfig extends IntegrationBase {
  readonly kind: 'slack';
  readonly url: string;
  readonly channel?: string;
  readonly username?: string;
  readonly iconEmoji?: string;
}
export interface DiscordConfig extends IntegrationBase {
  readonly kind: 'discord';
  readonly url: string;
  readonly username?: string;
}
export interface TelegramConfig extends IntegrationBase {
  readonly kind: 'telegram';
  readonly apiUrl: string;
  readonly botToken: string;
  readonly chatId: number | string;
  readonly messageThreadId?: number;
  readonly disableNotifications: boolean;
}
export interface NtfyConfig extends IntegrationBase {
  readonly kind: 'ntfy';
  /** Server and topic, e.g. `https://ntfy.sh/my-alerts` (the topic is a secret on a public server). */
  readonly url: string;
  readonly auth?: HttpAuth;
  readonly priority: string;
  readonly tags: readonly string[];
}
export interface EmailConfig extends IntegrationBase {
  readonly kind: 'email';
  readonly to: readonly string[];
  readonly from: string;
  readonly host: string;
  readonly port: number;
  readonly hello?: string;
  readonly username?: string;
  readonly password?: string;
  /** `tls` = TLS from the first byte (port 465), `starttls` = STARTTLS required, `none` = plain (STARTTLS still used if offered). */
  readonly tls: 'tls' | 'starttls' | 'none';
  readonly insecureSkipVerify: boolean;
  readonly ca?: string;
}

export type IntegrationConfig = WebhookConfig | SlackConfig | DiscordConfig | TelegramConfig | NtfyConfig | EmailConfig;

export interface ReceiverConfig {
  readonly name: string;
  readonly integrations: readonly IntegrationConfig[];
}

export interface RouteConfig {
  readonly receiver: string;
  readonly matchers: readonly Matcher[];
  /** Label names; `['...']` groups by every label. */
  readonly groupBy: readonly string[];
  readonly groupWait: number;
  readonly groupInterval: number;
  readonly repeatInterval: number;
  readonly continue: boolean;
  readonly muteTimeIntervals: readonly string[];
  readonly activeTimeIntervals: readonly string[];
  readonly routes: readonly RouteConfig[];
}

/** The whole section, validated. */
export interface NotificationsConfig {
  readonly receivers: readonly ReceiverConfig[];
  readonly route: RouteConfig;
  readonly timeIntervals: ReadonlyMap<string, readonly TimeInterval[]>;
  /** Linked from messages; Alertmanager's externalURL. */
  readonly externalUrl: string;
  /** Alerts the dispatcher holds at once. @default 10000 */
  readonly maxAlerts: number;
  /** Notifications waiting per receiver. @default 1000 */
  readonly queueCapacity: number;
}

type Obj = Record<string, unknown>;

function obj(raw: unknown, at: string): Obj {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${at}: expected a mapping`);
  return raw as Obj;
}
function keys(o: Obj, allowed: readonly string[], at: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new Error(`${at}: unknown key "${k}" (allowed: ${allowed.join(', ')})`);
}
function list(raw: unknown, at: string, max = 1000): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${at}: expected a list`);
  if (raw.length > max) throw new Error(`${at}: at most ${max} entries`);
  return raw;
}
function string(raw: unknown, at: string, opts: { optional?: boolean; max?: number } = {}): string | undefined {
  if (raw === undefined || raw === null) {
    if (opts.optional) return undefined;
    throw new Error(`${at}: required`);
  }
  if (typeof raw !== 'string' || raw === '') throw new Error(`${at}: expected a non-empty string`);
  if (raw.length > (opts.max ?? 4096)) throw new Error(`${at}: longer than ${opts.max ?? 4096} characters`);
  return raw;
}
function req(raw: unknown, at: string, max?: number): string {
  return string(raw, at, { max })!;
}
function bool(raw: unknown, at: string, dflt: boolean): boolean {
  if (raw === undefined || raw === null) return dflt;
  if (typeof raw !== 'boolean') throw new Error(`${at}: expected true or false`);
  return raw;
}
function int(raw: unknown, at: string, dflt: number, min: number, max: number): number {
  if (raw === undefined || raw === null) return dflt;
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < min || raw > max) throw new Error(`${at}: expected an integer from ${min} to ${max}`);
  return raw;
}
function dur(raw: unknown, at: string, dflt: number, min: number, max: number): number {
  if (raw === undefined || raw === null) return dflt;
  const ms = typeof raw === 'string' ? parseDuration(raw.trim()) : undefined;
  if (ms === undefined || ms < min || ms > max) throw new Error(`${at}: expected a duration such as 30s or 5m, from ${min}ms to ${max / 1000}s`);
  return ms;
}

/** Reads a secret or CA file: bounded, trailing newline dropped; the error names the key, not the content. */
function readSmallFile(path: string, at: string): string {
  try {
    const size = statSync(path).size;
    if (size > MAX_SECRET_FILE_BYTES) throw new Error(`${size} bytes, over ${MAX_SECRET_FILE_BYTES}`);
    const text = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    if (text === '') throw new Error('empty');
    return text;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`${at}: cannot read ${JSON.stringify(path)}: ${e.code ?? e.message}`);
  }
}

/** A secret given inline (`key`) or in a file (`key_file`), never both. */
function secret(o: Obj, key: string, at: string, required: boolean): string | undefined {
  const inline = o[key];
  const file = o[`${key}_file`];
  if (inline !== undefined && file !== undefined) throw new Error(`${at}: set ${key} or ${key}_file, not both`);
  if (file !== undefined) return readSmallFile(req(file, `${at}.${key}_file`), `${at}.${key}_file`);
  if (inline === undefined) {
    if (required) throw new Error(`${at}: ${key} or ${key}_file is required`);
    return undefined;
  }
  if (typeof inline !== 'string' || inline === '') throw new Error(`${at}.${key}: expected a non-empty string`);
  if (inline.length > 4096) throw new Error(`${at}.${key}: longer than 4096 characters`);
  return inline;
}

/** An http(s) URL; the message never echoes it (it may be a secret). */
function httpUrl(raw: string, at: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`${at}: expected an http(s) URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${at}: only http and https URLs are supported`);
  return u.toString();
}

/** Prometheus' http_config basics: basic_auth {username, password(_file)} or authorization {credentials(_file)}. */
function httpAuth(raw: unknown, at: string): HttpAuth | undefined {
  if (raw === undefined || raw === null) return undefined;
  const o = obj(raw, at);
  keys(o, ['basic_auth', 'authorization', 'bearer_token', 'bearer_token_file'], at);
  const methods = [o['basic_auth'], o['authorization'], o['bearer_token'] ?? o['bearer_token_file']].filter((v) => v !== undefined);
  if (methods.length > 1) throw new Error(`${at}: set only one of basic_auth, authorization, bearer_token(_file)`);
  if (o['basic_auth'] !== undefined) {
    const b = obj(o['basic_auth'], `${at}.basic_auth`);
    keys(b, ['username', 'password', 'password_file'], `${at}.basic_auth`);
    return { username: req(b['username'], `${at}.basic_auth.username`, 256), password: secret(b, 'password', `${at}.basic_auth`, false) ?? '' };
  }
  if (o['authorization'] !== undefined) {
    const a = obj(o['authorization'], `${at}.authorization`);
    keys(a, ['type', 'credentials', 'credentials_file'], `${at}.authorization`);
    if (a['type'] !== undefined && a['type'] !== 'Bearer') throw new Error(`${at}.authorization.type: only Bearer is supported`);
    return { bearerToken: secret(a, 'credentials', `${at}.authorization`, true) };
  }
  const token = secret(o, 'bearer_token', at, false);
  return token === undefined ? undefined : { bearerToken: token };
}

const COMMON = ['send_resolved', 'timeout'];

function base(o: Obj, at: string, sendResolved: boolean): IntegrationBase {
  return { sendResolved: bool(o['send_resolved'], `${at}.send_resolved`, sendResolved), timeoutMs: dur(o['timeout'], `${at}.timeout`, 10_000, 100, 120_000) };
}

type Parser = (o: Obj, at: string) => IntegrationConfig;

const NTFY_PRIORITIES = ['min', 'low', 'default', 'high', 'max', 'urgent', '1', '2', '3', '4', '5'];

const PARSERS: Record<string, Parser> = {
  webhook_configs: (o, at) => {
    keys(o, [...COMMON, 'url', 'url_file', 'http_config', 'max_alerts'], at);
    return { kind: 'webhook', ...base(o, at, true), url: httpUrl(secret(o, 'url', at, true)!, `${at}.url`), auth: httpAuth(o['http_config'], `${at}.http_config`), maxAlerts: int(o['max_alerts'], `${at}.max_alerts`, 100, 1, 1000) };
  },
  slack_configs: (o, at) => {
    keys(o, [...COMMON, 'api_url', 'api_url_file', 'channel', 'username', 'icon_emoji'], at);
    return { kind: 'slack', ...base(o, at, false), url: httpUrl(secret(o, 'api_url', at, true)!, `${at}.api_url`), channel: string(o['channel'], `${at}.channel`, { optional: true, max: 200 }), username: string(o['username'], `${at}.username`, { optional: true, max: 200 }), iconEmoji: string(o['icon_emoji'], `${at}.icon_emoji`, { optional: true, max: 100 }) };
  },
  discord_configs: (o, at) => {
    keys(o, [...COMMON, 'webhook_url', 'webhook_url_file', 'username'], at);
    return { kind: 'discord', ...base(o, at, true), url: httpUrl(secret(o, 'webhook_url', at, true)!, `${at}.webhook_url`), username: string(o['username'], `${at}.username`, { optional: true, max: 80 }) };
  },
  telegram_configs: (o, at) => {
    keys(o, [...COMMON, 'api_url', 'bot_token', 'bot_token_file', 'chat_id', 'message_thread_id', 'disable_notifications'], at);
    const chat = o['chat_id'];
    if (!(typeof chat === 'number' && Number.isSafeInteger(chat)) && !(typeof chat === 'string' && /^@?[A-Za-z0-9_-]{1,64}$/.test(chat))) throw new Error(`${at}.chat_id: expected a chat id (an integer) or @channelname`);
    const token = secret(o, 'bot_token', at, true)!;
    if (!/^[A-Za-z0-9:_-]+$/.test(token)) throw new Error(`${at}.bot_token: expected a bot token (digits, a colon, then letters, digits, _ and -)`);
    return {
      kind: 'telegram', ...base(o, at, true),
      apiUrl: httpUrl(string(o['api_url'], `${at}.api_url`, { optional: true }) ?? 'https://api.telegram.org', `${at}.api_url`).replace(/\/+$/, ''),
      botToken: token, chatId: chat,
      messageThreadId: o['message_thread_id'] === undefined ? undefined : int(o['message_thread_id'], `${at}.message_thread_id`, 0, 1, Number.MAX_SAFE_INTEGER),
      disableNotifications: bool(o['disable_notifications'], `${at}.disable_notifications`, false),
    };
  },
  ntfy_configs: (o, at) => {
    keys(o, [...COMMON, 'url', 'url_file', 'http_config', 'priority', 'tags'], at);
    const priority = String(o['priority'] ?? 'default');
    if (!NTFY_PRIORITIES.includes(priority)) throw new Error(`${at}.priority: expected one of ${NTFY_PRIORITIES.join(', ')}`);
    const tags = list(o['tags'], `${at}.tags`, 20).map((t, i) => {
      const s = req(t, `${at}.tags[${i}]`, 64);
      if (/[,\r\n]/.test(s)) throw new Error(`${at}.tags[${i}]: no commas or newlines`);
      return s;
    });
    const url = httpUrl(secret(o, 'url', at, true)!, `${at}.url`);
    if (new URL(url).pathname.replace(/\/+$/, '') === '') throw new Error(`${at}.url: expected the server and the topic, e.g. https://ntfy.sh/my-alerts`);
    return { kind: 'ntfy', ...base(o, at, true), url, auth: httpAuth(o['http_config'], `${at}.http_config`), priority, tags };
  },
  email_configs: (o, at) => {
    keys(o, [...COMMON, 'to', 'from', 'smarthost', 'hello', 'auth_username', 'auth_password', 'auth_password_file', 'require_tls', 'tls', 'tls_config'], at);
    const to = (typeof o['to'] === 'string' ? o['to'].split(',') : list(o['to'], `${at}.to`, 50)).map((t, i) => {
      const s = req(typeof t === 'string' ? t.trim() : t, `${at}.to[${i}]`, 320);
      if (!/^[^\s@<>]+@[^\s@<>]+$/.test(s)) throw new Error(`${at}.to[${i}]: expected an address such as ops@example.com`);
      return s;
    });
    if (to.length === 0) throw new Error(`${at}.to: at least one address is required`);
    const from = req(o['from'], `${at}.from`, 320);
    const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(req(o['smarthost'], `${at}.smarthost`, 300));
    if (!hp || Number(hp[3]) < 1 || Number(hp[3]) > 65535) throw new Error(`${at}.smarthost: expected host:port, e.g. smtp.example.com:587`);
    const port = Number(hp[3]);
    const tlsRaw = o['tls'] ?? (port === 465 ? 'tls' : bool(o['require_tls'], `${at}.require_tls`, true) ? 'starttls' : 'none');
    if (tlsRaw !== 'tls' && tlsRaw !== 'starttls' && tlsRaw !== 'none') throw new Error(`${at}.tls: expected tls, starttls or none`);
    let insecureSkipVerify = false;
    let ca: string | undefined;
    if (o['tls_config'] !== undefined) {
      const t = obj(o['tls_config'], `${at}.tls_config`);
      keys(t, ['insecure_skip_verify', 'ca_file'], `${at}.tls_config`);
      insecureSkipVerify = bool(t['insecure_skip_verify'], `${at}.tls_config.insecure_skip_verify`, false);
      if (t['ca_file'] !== undefined) ca = readSmallFile(req(t['ca_file'], `${at}.tls_config.ca_file`), `${at}.tls_config.ca_file`);
    }
    const username = string(o['auth_username'], `${at}.auth_username`, { optional: true, max: 320 });
    const password = secret(o, 'auth_password', at, false);
    if (password !== undefined && username === undefined) throw new Error(`${at}: auth_password needs auth_username`);
    return { kind: 'email', ...base(o, at, false), to, from, host: hp[1] ?? hp[2]!, port, hello: string(o['hello'], `${at}.hello`, { optional: true, max: 255 }), username, password, tls: tlsRaw, insecureSkipVerify, ca };
  },
};

function receiver(raw: unknown, at: string): ReceiverConfig {
  const o = obj(raw, at);
  keys(o, ['name', ...Object.keys(PARSERS)], at);
  const name = req(o['name'], `${at}.name`, 200);
  const integrations: IntegrationConfig[] = [];
  for (const [key, parse] of Object.entries(PARSERS)) {
    list(o[key], `${at}.${key}`, 20).forEach((item, i) => integrations.push(parse(obj(item, `${at}.${key}[${i}]`), `${at}.${key}[${i}]`)));
  }
  return { name, integrations };
}

const ROUTE_KEYS = ['receiver', 'matchers', 'match', 'match_re', 'group_by', 'group_wait', 'group_interval', 'repeat_interval', 'continue', 'mute_time_intervals', 'active_time_intervals', 'routes'];

/** Alertmanager's defaults: 30s, 5m, 4h. */
const ROOT_DEFAULTS = { receiver: '', groupBy: [] as readonly string[], groupWait: 30_000, groupInterval: 300_000, repeatInterval: 14_400_000 };

function route(raw: unknown, at: string, parent: typeof ROOT_DEFAULTS, depth: number): RouteConfig {
  if (depth > 10) throw new Error(`${at}: routes nested more than 10 deep`);
  const o = obj(raw, at);
  keys(o, ROUTE_KEYS, at);
  const receiverName = string(o['receiver'], `${at}.receiver`, { optional: depth > 0, max: 200 }) ?? parent.receiver;
  const matchers: Matcher[] = list(o['matchers'], `${at}.matchers`, 100).map((m, i) => {
    try {
      return parseMatcher(req(m, `${at}.matchers[${i}]`, 2000));
    } catch (err) {
      throw new Error(`${at}.matchers[${i}]: ${(err as Error).message.replace(/^.*?: required$/, 'required')}`);
    }
  });
  for (const [key, op] of [['match', '='], ['match_re', '=~']] as const) {
    if (o[key] === undefined) continue;
    for (const [name, v] of Object.entries(obj(o[key], `${at}.${key}`))) {
      try {
        matchers.push(makeMatcher(name, op, req(v, `${at}.${key}.${name}`)));
      } catch (err) {
        throw new Error(`${at}.${key}.${name}: ${(err as Error).message}`);
      }
    }
  }
  let groupBy = parent.groupBy;
  if (o['group_by'] !== undefined) {
    groupBy = list(o['group_by'], `${at}.group_by`, 100).map((g, i) => {
      const s = req(g, `${at}.group_by[${i}]`, 200);
      if (s !== '...' && !isLabelName(s)) throw new Error(`${at}.group_by[${i}]: "${s}" is not a label name`);
      return s;
    });
    if (new Set(groupBy).size !== groupBy.length) throw new Error(`${at}.group_by: a label is listed twice`);
    if (groupBy.includes('...') && groupBy.length > 1) throw new Error(`${at}.group_by: "..." groups by every label and stands alone`);
  }
  const groupWait = dur(o['group_wait'], `${at}.group_wait`, parent.groupWait, 0, 86_400_000);
  const groupInterval = dur(o['group_interval'], `${at}.group_interval`, parent.groupInterval, 100, 86_400_000);
  const repeatInterval = dur(o['repeat_interval'], `${at}.repeat_interval`, parent.repeatInterval, 100, 30 * 86_400_000);
  if (repeatInterval < groupInterval) throw new Error(`${at}.repeat_interval: must not be shorter than group_interval`);
  const names = (key: string): string[] => list(o[key], `${at}.${key}`, 50).map((n, i) => req(n, `${at}.${key}[${i}]`, 200));
  const inherited = { receiver: receiverName, groupBy, groupWait, groupInterval, repeatInterval };
  return {
    receiver: receiverName, matchers, groupBy, groupWait, groupInterval, repeatInterval,
    continue: bool(o['continue'], `${at}.continue`, false),
    muteTimeIntervals: names('mute_time_intervals'), activeTimeIntervals: names('active_time_intervals'),
    routes: list(o['routes'], `${at}.routes`, 100).map((r, i) => route(r, `${at}.routes[${i}]`, inherited, depth + 1)),
  };
}

function timeIntervals(raw: unknown, at: string): Map<string, readonly TimeInterval[]> {
  const out = new Map<string, readonly TimeInterval[]>();
  list(raw, at, 100).forEach((item, i) => {
    const here = `${at}[${i}]`;
    const o = obj(item, here);
    keys(o, ['name', 'time_intervals'], here);
    const name = req(o['name'], `${here}.name`, 200);
    if (out.has(name)) throw new Error(`${here}.name: "${name}" is defined twice`);
    out.set(name, list(o['time_intervals'], `${here}.time_intervals`, 50).map((ivRaw, j) => {
      const iat = `${here}.time_intervals[${j}]`;
      const iv = obj(ivRaw, iat);
      keys(iv, ['times', 'weekdays', 'location'], iat);
      const location = string(iv['location'], `${iat}.location`, { optional: true, max: 100 }) ?? 'UTC';
      try {
        checkZone(location);
      } catch (err) {
        throw new Error(`${iat}.location: ${(err as Error).message}`);
      }
      const times = list(iv['times'], `${iat}.times`, 50).map((tRaw, k) => {
        const tat = `${iat}.times[${k}]`;
        const t = obj(tRaw, tat);
        keys(t, ['start_time', 'end_time'], tat);
        try {
          const start = parseClock(req(t['start_time'], `${tat}.start_time`, 5));
          const end = parseClock(req(t['end_time'], `${tat}.end_time`, 5));
          if (end <= start) throw new Error('end_time must be after start_time (split a range that crosses midnight in two)');
          return { start, end };
        } catch (err) {
          const msg = (err as Error).message;
          throw new Error(msg.startsWith(tat) ? msg : `${tat}: ${msg}`);
        }
      });
      const weekdays = list(iv['weekdays'], `${iat}.weekdays`, 7).flatMap((d, k) => {
        try {
          return parseWeekdays(req(d, `${iat}.weekdays[${k}]`, 30));
        } catch (err) {
          const msg = (err as Error).message;
          throw new Error(msg.startsWith(iat) ? msg : `${iat}.weekdays[${k}]: ${msg}`);
        }
      });
      return { times, weekdays, location };
    }));
  });
  return out;
}

function checkRefs(r: RouteConfig, at: string, receivers: ReadonlySet<string>, intervals: ReadonlyMap<string, unknown>): void {
  if (!receivers.has(r.receiver)) throw new Error(`${at}.receiver: no receiver named "${r.receiver}"`);
  for (const key of ['muteTimeIntervals', 'activeTimeIntervals'] as const) {
    r[key].forEach((n, i) => {
      if (!intervals.has(n)) throw new Error(`${at}.${key === 'muteTimeIntervals' ? 'mute_time_intervals' : 'active_time_intervals'}[${i}]: no time interval named "${n}"`);
    });
  }
  r.routes.forEach((c, i) => checkRefs(c, `${at}.routes[${i}]`, receivers, intervals));
}

/** Validates the `notifications:` section; undefined when it is absent or empty. */
export function parseNotifications(raw: unknown): NotificationsConfig | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const at = 'notifications';
  const o = obj(raw, at);
  keys(o, ['receivers', 'route', 'time_intervals', 'external_url', 'max_alerts', 'queue_capacity'], at);
  const receivers = list(o['receivers'], `${at}.receivers`, 100).map((r, i) => receiver(r, `${at}.receivers[${i}]`));
  if (receivers.length === 0) throw new Error(`${at}.receivers: at least one receiver is required`);
  const names = new Set<string>();
  receivers.forEach((r, i) => {
    if (names.has(r.name)) throw new Error(`${at}.receivers[${i}].name: "${r.name}" is defined twice`);
    names.add(r.name);
  });
  if (o['route'] === undefined) throw new Error(`${at}.route: required (the root route names the default receiver)`);
  const intervals = timeIntervals(o['time_intervals'], `${at}.time_intervals`);
  const root = route(o['route'], `${at}.route`, ROOT_DEFAULTS, 0);
  if (root.matchers.length > 0) throw new Error(`${at}.route.matchers: the root route matches every alert and takes no matchers`);
  checkRefs(root, `${at}.route`, names, intervals);
  const externalUrl = o['external_url'] === undefined ? '' : httpUrl(req(o['external_url'], `${at}.external_url`, 1000), `${at}.external_url`).replace(/\/+$/, '');
  return {
    receivers, route: root, timeIntervals: intervals, externalUrl,
    maxAlerts: int(o['max_alerts'], `${at}.max_alerts`, 10_000, 1, 1_000_000),
    queueCapacity: int(o['queue_capacity'], `${at}.queue_capacity`, 1000, 1, 100_000),
  };
}
