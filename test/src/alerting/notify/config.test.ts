/**
 * The `notifications:` section: every bad value is refused with its key path and reason
 * and without a secret's value; `*_file` secrets are read; the real binary exits 2.
 * Also the pure parts: matchers and time intervals.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../../../src/config.js';
import { parseNotifications } from '../../../../src/alerting/notify/config.js';
import { matches, parseMatcher } from '../../../../src/alerting/notify/matchers.js';
import { inInterval } from '../../../../src/alerting/notify/time-intervals.js';
import { CLI, runCli } from '../../../helpers/larder-process.js';

const SECRET = 'https://hooks.slack.com/services/T000/B000/SuperSecretXYZ';
const ok = { receivers: [{ name: 'r', webhook_configs: [{ url: 'http://127.0.0.1:1/h' }] }], route: { receiver: 'r' } };

t.test('a valid section gets Alertmanager defaults', async (t) => {
  const c = parseNotifications(ok)!;
  t.equal(c.route.groupWait, 30_000);
  t.equal(c.route.groupInterval, 300_000);
  t.equal(c.route.repeatInterval, 14_400_000);
  t.same(c.route.groupBy, []);
  t.equal(c.receivers[0]!.integrations[0]!.sendResolved, true);
  t.equal(parseNotifications(undefined), undefined);
  const child = parseNotifications({ ...ok, route: { receiver: 'r', group_by: ['alertname'], group_wait: '1s', routes: [{ matchers: ['a="b"'] }] } })!;
  t.same(child.route.routes[0]!.groupBy, ['alertname'], 'children inherit group_by');
  t.equal(child.route.routes[0]!.groupWait, 1000, 'and the timings');
  t.equal(child.route.routes[0]!.receiver, 'r', 'and the receiver');
});

const BAD: [string, unknown, RegExp][] = [
  ['not a mapping', [1], /^notifications: expected a mapping/],
  ['unknown key', { ...ok, recievers: [] }, /^notifications: unknown key "recievers"/],
  ['no receivers', { route: { receiver: 'r' } }, /^notifications\.receivers: at least one receiver is required/],
  ['no route', { receivers: ok.receivers }, /^notifications\.route: required/],
  ['unknown receiver', { ...ok, route: { receiver: 'nobody' } }, /^notifications\.route\.receiver: no receiver named "nobody"/],
  ['child to unknown receiver', { ...ok, route: { receiver: 'r', routes: [{ receiver: 'x' }] } }, /^notifications\.route\.routes\[0\]\.receiver: no receiver named "x"/],
  ['duplicate receiver', { ...ok, receivers: [...ok.receivers, ...ok.receivers] }, /^notifications\.receivers\[1\]\.name: "r" is defined twice/],
  ['bad matcher', { ...ok, route: { receiver: 'r', routes: [{ matchers: ['severity=="x"'] }] } }, /^notifications\.route\.routes\[0\]\.matchers\[0\]: /],
  ['bad regex', { ...ok, route: { receiver: 'r', routes: [{ matchers: ['a=~"("'] }] } }, /^notifications\.route\.routes\[0\]\.matchers\[0\]: bad regular expression/],
  ['bad duration', { ...ok, route: { receiver: 'r', group_wait: 'soon' } }, /^notifications\.route\.group_wait: expected a duration/],
  ['repeat below group_interval', { ...ok, route: { receiver: 'r', group_interval: '5m', repeat_interval: '1m' } }, /^notifications\.route\.repeat_interval: must not be shorter than group_interval/],
  ['group_by ... with others', { ...ok, route: { receiver: 'r', group_by: ['...', 'a'] } }, /^notifications\.route\.group_by: "\.\.\." groups by every label and stands alone/],
  ['bad group_by', { ...ok, route: { receiver: 'r', group_by: ['1x'] } }, /^notifications\.route\.group_by\[0\]: "1x" is not a label name/],
  ['unknown interval', { ...ok, route: { receiver: 'r', mute_time_intervals: ['nights'] } }, /^notifications\.route\.mute_time_intervals\[0\]: no time interval named "nights"/],
  ['bad zone', { ...ok, time_intervals: [{ name: 'n', time_intervals: [{ location: 'Mars/Olympus' }] }] }, /^notifications\.time_intervals\[0\]\.time_intervals\[0\]\.location: "Mars\/Olympus" is not a known time zone/],
  ['bad time', { ...ok, time_intervals: [{ name: 'n', time_intervals: [{ times: [{ start_time: '22:00', end_time: '07:00' }] }] }] }, /^notifications\.time_intervals\[0\]\.time_intervals\[0\]\.times\[0\]: end_time must be after start_time/],
  ['bad weekday', { ...ok, time_intervals: [{ name: 'n', time_intervals: [{ weekdays: ['funday'] }] }] }, /^notifications\.time_intervals\[0\]\.time_intervals\[0\]\.weekdays\[0\]: "funday" is not a weekday/],
  ['unknown integration key', { ...ok, receivers: [{ name: 'r', slack_configs: [{ api_url: SECRET, chanel: '#x' }] }] }, /^notifications\.receivers\[0\]\.slack_configs\[0\]: unknown key "chanel"/],
  ['missing url', { ...ok, receivers: [{ name: 'r', webhook_configs: [{}] }] }, /^notifications\.receivers\[0\]\.webhook_configs\[0\]: url or url_file is required/],
  ['both url and url_file', { ...ok, receivers: [{ name: 'r', webhook_configs: [{ url: SECRET, url_file: '/x' }] }] }, /webhook_configs\[0\]: set url or url_file, not both/],
  ['bad url', { ...ok, receivers: [{ name: 'r', discord_configs: [{ webhook_url: 'ftp://SuperSecretXYZ' }] }] }, /^notifications\.receivers\[0\]\.discord_configs\[0\]\.webhook_url: only http and https URLs are supported/],
  ['bad chat id', { ...ok, receivers: [{ name: 'r', telegram_configs: [{ bot_token: '1:SuperSecretXYZ', chat_id: 'a b' }] }] }, /telegram_configs\[0\]\.chat_id: expected a chat id/],
  ['missing secret file', { ...ok, receivers: [{ name: 'r', telegram_configs: [{ bot_token_file: '/nonexistent/token', chat_id: 1 }] }] }, /telegram_configs\[0\]\.bot_token_file: cannot read "\/nonexistent\/token": ENOENT/],
  ['bad ntfy priority', { ...ok, receivers: [{ name: 'r', ntfy_configs: [{ url: 'https://ntfy.sh/SuperSecretXYZ', priority: 'loud' }] }] }, /ntfy_configs\[0\]\.priority: expected one of min, low, default/],
  ['ntfy without topic', { ...ok, receivers: [{ name: 'r', ntfy_configs: [{ url: 'https://ntfy.sh/' }] }] }, /ntfy_configs\[0\]\.url: expected the server and the topic/],
  ['bad smarthost', { ...ok, receivers: [{ name: 'r', email_configs: [{ to: 'a@b.c', from: 'x@y.z', smarthost: 'mail.example.com' }] }] }, /email_configs\[0\]\.smarthost: expected host:port/],
  ['bad address', { ...ok, receivers: [{ name: 'r', email_configs: [{ to: ['nobody'], from: 'x@y.z', smarthost: 'm:25' }] }] }, /email_configs\[0\]\.to\[0\]: expected an address/],
  ['password without user', { ...ok, receivers: [{ name: 'r', email_configs: [{ to: 'a@b.c', from: 'x@y.z', smarthost: 'm:25', auth_password: 'SuperSecretXYZ' }] }] }, /email_configs\[0\]: auth_password needs auth_username/],
  ['two auth methods', { ...ok, receivers: [{ name: 'r', webhook_configs: [{ url: 'http://h/', http_config: { basic_auth: { username: 'u', password: 'SuperSecretXYZ' }, bearer_token: 'SuperSecretXYZ' } }] }] }, /http_config: set only one of basic_auth, authorization, bearer_token/],
  ['root matchers', { ...ok, route: { receiver: 'r', matchers: ['a="b"'] } }, /^notifications\.route\.matchers: the root route matches every alert/],
];

t.test('bad sections are refused with the key path and the reason, never a secret', async (t) => {
  for (const [name, section, message] of BAD) {
    let err: Error | undefined;
    try {
      parseNotifications(section);
    } catch (e) {
      err = e as Error;
    }
    t.ok(err, `${name}: refused`);
    t.match(err?.message, message, name);
    t.notOk(err?.message.includes('SuperSecretXYZ'), `${name}: no secret in the message`);
  }
});

t.test('*_file variants read the secret (trailing newline dropped)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-notify-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'url'), `${SECRET}\n`);
  writeFileSync(join(dir, 'token'), '123:abc_DEF-xyz\n');
  writeFileSync(join(dir, 'pw'), 'p4ss\n');
  writeFileSync(join(dir, 'bearer'), 'b34rer\n');
  const c = parseNotifications({
    receivers: [{
      name: 'r',
      slack_configs: [{ api_url_file: join(dir, 'url') }],
      telegram_configs: [{ bot_token_file: join(dir, 'token'), chat_id: '@ops' }],
      webhook_configs: [{ url_file: join(dir, 'url'), http_config: { authorization: { credentials_file: join(dir, 'bearer') } } }],
      ntfy_configs: [{ url: 'https://ntfy.sh/t', http_config: { basic_auth: { username: 'u', password_file: join(dir, 'pw') } } }],
      discord_configs: [{ webhook_url_file: join(dir, 'url') }],
      email_configs: [{ to: 'a@b.c', from: 'x@y.z', smarthost: 'm:465', auth_username: 'u', auth_password_file: join(dir, 'pw') }],
    }],
    route: { receiver: 'r' },
  })!;
  const byKind = Object.fromEntries(c.receivers[0]!.integrations.map((i) => [i.kind, i]));
  t.match(byKind['slack'], { url: SECRET });
  t.match(byKind['telegram'], { botToken: '123:abc_DEF-xyz', chatId: '@ops', apiUrl: 'https://api.telegram.org' });
  t.match(byKind['webhook'], { url: SECRET, auth: { bearerToken: 'b34rer' } });
  t.match(byKind['ntfy'], { auth: { username: 'u', password: 'p4ss' } });
  t.match(byKind['discord'], { url: SECRET });
  t.match(byKind['email'], { password: 'p4ss', tls: 'tls', port: 465 }, 'port 465 means TLS from the first byte');
});

t.test('through loadConfig: the error names the config key and the path', async (t) => {
  const file = `notifications:\n  receivers:\n    - name: r\n      slack_configs:\n        - api_url: ${SECRET}\n          send_resolved: maybe\n  route:\n    receiver: r\n`;
  t.throws(() => loadConfig({ argv: ['--config.file=x.yml'], env: {}, readFile: () => file }), { name: 'ConfigError', message: /config file key "notifications": notifications\.receivers\[0\]\.slack_configs\[0\]\.send_resolved: expected true or false/ });
  try {
    loadConfig({ argv: ['--config.file=x.yml'], env: {}, readFile: () => file });
  } catch (err) {
    t.notOk((err as Error).message.includes('SuperSecretXYZ'));
  }
  t.throws(() => loadConfig({ argv: ['--notifications=x'], env: {} }), /can only be set in the config file/);
  t.throws(() => loadConfig({ argv: ['--alertmanager.url=ftp://x'], env: {} }), /--alertmanager\.url: entry 1: only http and https/);
  t.throws(() => loadConfig({ argv: ['--alertmanager.bearer-token-file=/nonexistent/t'], env: {} }), /--alertmanager\.bearer-token-file: cannot read/);
  t.same(loadConfig({ argv: [], env: { LARDER_ALERTMANAGER_URL: 'http://a:9093,http://b:9093' } }).config.notify.alertmanagerUrls, ['http://a:9093/', 'http://b:9093/']);
  t.same(loadConfig({ argv: ['--config.file=x.yml'], env: {}, readFile: () => 'alertmanager.url: [http://a:9093, http://b:9093/am]\n' }).config.notify.alertmanagerUrls, ['http://a:9093/', 'http://b:9093/am'], 'a list in the config file');
});

t.test('the real binary refuses a bad notifications section with exit code 2', async (t) => {
  if (!existsSync(CLI)) {
    t.pass('needs npm run build', { skip: `${CLI} not built` });
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'larder-notify-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'larder.yml'), `notifications:\n  receivers:\n    - name: r\n      telegram_configs:\n        - bot_token: "1:SuperSecretXYZ"\n          chat_id: 1\n  route:\n    receiver: r\n    group_wait: soon\n`);
  const r = runCli(['serve', `--config.file=${join(dir, 'larder.yml')}`, '--listen=127.0.0.1:0'], { MONITORING_DB: 'none' });
  t.equal(r.status, 2);
  t.match(r.stderr, /config file key "notifications": notifications\.route\.group_wait: expected a duration/);
  t.notOk(r.stderr.includes('SuperSecretXYZ') || r.stdout.includes('SuperSecretXYZ'));
});

t.test('matchers', async (t) => {
  const L = { severity: 'critical', env: 'prod' };
  const cases: [string, boolean][] = [
    ['severity="critical"', true], ['severity=critical', true], ['severity!="critical"', false], ['severity=~"crit.*"', true],
    ['severity=~"crit"', false], ['severity!~"warn|info"', true], ['team=""', true], ['team!=""', false], ['env=~"prod|production"', true],
  ];
  for (const [m, want] of cases) t.equal(matches(parseMatcher(m), L), want, m);
  t.same(parseMatcher('a = "x\\"y"'), { name: 'a', op: '=', value: 'x"y' });
  t.throws(() => parseMatcher('1a="x"'));
  t.throws(() => parseMatcher('a=~"["'), /bad regular expression/);
});

t.test('time intervals in their zone', async (t) => {
  const office = { weekdays: [1, 2, 3, 4, 5], times: [{ start: 9 * 60, end: 17 * 60 }], location: 'America/New_York' };
  t.equal(inInterval(office, Date.parse('2026-12-07T14:00:00Z')), true, 'Monday 09:00 in New York');
  t.equal(inInterval(office, Date.parse('2026-12-07T13:59:00Z')), false, '08:59 there');
  t.equal(inInterval(office, Date.parse('2026-12-07T22:00:00Z')), false, '17:00 there: the end is exclusive');
  t.equal(inInterval(office, Date.parse('2026-12-12T15:00:00Z')), false, 'Saturday');
  t.equal(inInterval({ weekdays: [], times: [{ start: 0, end: 1440 }], location: 'UTC' }, Date.parse('2026-12-12T23:59:00Z')), true, 'until 24:00');
  t.equal(inInterval({ weekdays: [0], times: [], location: 'Asia/Tokyo' }, Date.parse('2026-12-05T16:00:00Z')), true, 'Saturday 16:00 UTC is Sunday 01:00 in Tokyo');
});
