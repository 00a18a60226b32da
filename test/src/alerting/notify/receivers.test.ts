/**
 * Larder's own receivers against a real HTTP server on loopback: the exact webhook
 * (Alertmanager v4), Slack, Discord, Telegram and ntfy requests for a firing alert, then
 * for its resolution.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { Logger } from '../../../../src/log.js';
import { parseNotifications } from '../../../../src/alerting/notify/config.js';
import { NotifierSink } from '../../../../src/alerting/notify/notifier-sink.js';
import { fingerprint } from '../../../../src/alerting/notify/message.js';
import { startHttpReceiver, type Received } from '../../../helpers/http-receiver.js';

const LABELS = { alertname: 'DiskFull', instance: 'host-1', severity: 'critical' };
const ANNOTATIONS = { summary: 'Disk almost full on host-1', description: '/var is 97% full.' };
const STARTS = '2026-12-03T10:00:00.000Z';
const GENERATOR = 'http://larder.example:9464/graph?g0.expr=x';
const TOKEN = '123456:AAE-secret-bot-token';

function byPath(reqs: Received[], prefix: string): Received[] {
  return reqs.filter((r) => r.path.startsWith(prefix));
}

t.test('webhook, slack, discord, telegram and ntfy receive their shapes', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const lines: string[] = [];
  const config = parseNotifications({
    external_url: 'http://larder.example:9464/',
    receivers: [{
      name: 'ops',
      webhook_configs: [{ url: `${r.url}/hook` }],
      slack_configs: [{ api_url: `${r.url}/slack/T00/B00/XXXX`, channel: '#ops', username: 'larder' }],
      discord_configs: [{ webhook_url: `${r.url}/discord/123/tok` }],
      telegram_configs: [{ api_url: r.url, bot_token: TOKEN, chat_id: -100123, message_thread_id: 7 }],
      ntfy_configs: [{ url: `${r.url}/ntfy/alerts`, priority: 'high', tags: ['larder'] }],
    }],
    route: { receiver: 'ops', group_by: ['alertname'], group_wait: '50ms', group_interval: '500ms', repeat_interval: '1h' },
  })!;
  const sink = new NotifierSink({ config, registry: new Registry(), log: new Logger('debug', (l) => lines.push(l)) });
  t.teardown(() => sink.stop(100));

  sink.send([{ labels: LABELS, annotations: ANNOTATIONS, startsAt: STARTS, endsAt: new Date(Date.now() + 3_600_000).toISOString(), generatorURL: GENERATOR }]);
  const reqs = await r.waitFor(5);
  t.equal(reqs.length, 5, 'one request per integration');
  for (const q of reqs) t.equal(q.method, 'POST');

  const title = '[FIRING:1] DiskFull (host-1 critical)';
  const hook = JSON.parse(byPath(reqs, '/hook')[0]!.body) as Record<string, unknown>;
  t.same(hook, {
    version: '4',
    groupKey: '{}/0:{"alertname":"DiskFull"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'ops',
    groupLabels: { alertname: 'DiskFull' },
    commonLabels: LABELS,
    commonAnnotations: ANNOTATIONS,
    externalURL: 'http://larder.example:9464',
    alerts: [{ status: 'firing', labels: LABELS, annotations: ANNOTATIONS, startsAt: STARTS, endsAt: '0001-01-01T00:00:00Z', generatorURL: GENERATOR, fingerprint: fingerprint(LABELS) }],
  }, 'webhook: Alertmanager v4 payload');
  t.equal(byPath(reqs, '/hook')[0]!.headers['content-type'], 'application/json');

  const slack = JSON.parse(byPath(reqs, '/slack/T00/B00/XXXX')[0]!.body) as { channel: string; username: string; text: string; attachments: Record<string, unknown>[] };
  t.equal(slack.channel, '#ops');
  t.equal(slack.username, 'larder');
  t.equal(slack.text, title);
  t.equal(slack.attachments.length, 1);
  const att = slack.attachments[0]!;
  t.equal(att['color'], 'danger');
  t.equal(att['title'], title);
  t.equal(att['title_link'], 'http://larder.example:9464');
  t.same(att['mrkdwn_in'], ['text']);
  t.match(att['text'], /^FIRING: Disk almost full on host-1\n\/var is 97% full\.\nLabels: alertname=DiskFull, instance=host-1, severity=critical\nSince: 2026-12-03T10:00:00.000Z\nSource: http:\/\/larder\.example/);

  const discord = JSON.parse(byPath(reqs, '/discord/123/tok')[0]!.body) as { embeds: Record<string, unknown>[] };
  t.equal(discord.embeds.length, 1);
  t.equal(discord.embeds[0]!['title'], title);
  t.equal(discord.embeds[0]!['color'], 0x992d22);
  t.match(discord.embeds[0]!['description'], /FIRING: Disk almost full on host-1\n\/var is 97% full\./);

  const tg = byPath(reqs, `/bot${TOKEN}/sendMessage`);
  t.equal(tg.length, 1, 'telegram: POST {api_url}/bot<token>/sendMessage');
  const tgBody = JSON.parse(tg[0]!.body) as Record<string, unknown>;
  t.equal(tgBody['chat_id'], -100123);
  t.equal(tgBody['message_thread_id'], 7);
  t.equal(tgBody['disable_notification'], false);
  t.match(tgBody['text'], new RegExp(`^\\[FIRING:1\\] DiskFull \\(host-1 critical\\)\\n\\nFIRING: Disk almost full on host-1`));
  t.ok((tgBody['text'] as string).length <= 4096);

  const ntfy = byPath(reqs, '/ntfy/alerts')[0]!;
  t.equal(ntfy.headers['title'], title);
  t.equal(ntfy.headers['priority'], 'high');
  t.equal(ntfy.headers['tags'], 'larder,rotating_light');
  t.equal(ntfy.headers['click'], 'http://larder.example:9464');
  t.match(ntfy.headers['content-type'], /^text\/plain/);
  t.match(ntfy.body, /^FIRING: Disk almost full on host-1\n/);

  // resolution: endsAt in the past; Slack's send_resolved is off by default (as Alertmanager's)
  const ended = new Date(Date.now() - 1000).toISOString();
  sink.send([{ labels: LABELS, annotations: ANNOTATIONS, startsAt: STARTS, endsAt: ended, generatorURL: GENERATOR }]);
  const all = await r.waitFor(9);
  await new Promise((res) => setTimeout(res, 700));
  t.equal(all.length, 9, 'four resolved messages, none to Slack');
  t.equal(byPath(all, '/slack').length, 1);
  const resolvedHook = JSON.parse(byPath(all, '/hook')[1]!.body) as { status: string; alerts: { status: string; endsAt: string }[] };
  t.equal(resolvedHook.status, 'resolved');
  t.same(resolvedHook.alerts.map((a) => [a.status, a.endsAt]), [['resolved', ended]]);
  t.equal(JSON.parse(byPath(all, '/discord')[1]!.body).embeds[0].color, 0x2ecc71);
  t.match(JSON.parse(byPath(all, `/bot${TOKEN}`)[1]!.body).text, /^\[RESOLVED\] DiskFull/);
  t.equal(byPath(all, '/ntfy')[1]!.headers['tags'], 'larder,white_check_mark');
  t.equal(byPath(all, '/ntfy')[1]!.headers['priority'], 'default');
  t.notOk(lines.some((l) => l.includes(TOKEN) || l.includes('XXXX')), 'no secret in the log');
});

t.test('webhook truncates alerts per message and counts the rest', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const config = parseNotifications({
    receivers: [{ name: 'hook', webhook_configs: [{ url: `${r.url}/hook`, max_alerts: 3 }] }],
    route: { receiver: 'hook', group_by: ['alertname'], group_wait: '50ms', group_interval: '1s' },
  })!;
  const sink = new NotifierSink({ config, registry: new Registry(), log: new Logger('error', () => {}) });
  t.teardown(() => sink.stop(100));
  const ends = new Date(Date.now() + 3_600_000).toISOString();
  sink.send(Array.from({ length: 10 }, (_, i) => ({ labels: { alertname: 'Many', i: String(i) }, annotations: {}, startsAt: STARTS, endsAt: ends })));
  const [req] = await r.waitFor(1);
  const body = JSON.parse(req!.body) as { alerts: unknown[]; truncatedAlerts: number; groupLabels: Record<string, string> };
  t.equal(body.alerts.length, 3);
  t.equal(body.truncatedAlerts, 7);
  t.same(body.groupLabels, { alertname: 'Many' });
});

t.test('ntfy encodes a non-ASCII title as an RFC 2047 word', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const config = parseNotifications({
    receivers: [{ name: 'n', ntfy_configs: [{ url: `${r.url}/topic` }] }],
    route: { receiver: 'n', group_by: ['alertname'], group_wait: '10ms' },
  })!;
  const sink = new NotifierSink({ config, registry: new Registry(), log: new Logger('error', () => {}) });
  t.teardown(() => sink.stop(100));
  sink.send([{ labels: { alertname: 'Plattenplatz_knapp', où: 'été' }, annotations: {}, startsAt: STARTS, endsAt: new Date(Date.now() + 60_000).toISOString() }]);
  const [req] = await r.waitFor(1);
  const header = req!.headers['title'] as string;
  t.match(header, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
  t.equal(Buffer.from(header.slice(10, -2), 'base64').toString('utf8'), '[FIRING:1] Plattenplatz_knapp (été)');
});
