/**
 * A receiver that answers 500 or is down: retries with backoff until the deadline, the
 * failure is logged and counted (and handed to the notification log), send() returns at
 * once, another receiver is served on time, and no secret reaches the log or /metrics.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { Logger } from '../../../../src/log.js';
import { parseNotifications } from '../../../../src/alerting/notify/config.js';
import { NotifierSink } from '../../../../src/alerting/notify/notifier-sink.js';
import type { FailedNotification } from '../../../../src/alerting/notify/delivery.js';
import { freePort } from '../../../helpers/prometheus.js';
import { startHttpReceiver } from '../../../helpers/http-receiver.js';

const TOKEN = '987654:BOT-token-never-logged';
const SLACK_SECRET = 'T0SECRET/B0SECRET/slackWebhookSecretPart';

t.test('a failing receiver is retried with backoff, recorded, and delays nothing', async (t) => {
  const failing = await startHttpReceiver();
  failing.status = 500;
  const healthy = await startHttpReceiver();
  const downPort = await freePort();
  t.teardown(() => Promise.all([failing.close(), healthy.close()]));
  const lines: string[] = [];
  const failures: FailedNotification[] = [];
  const registry = new Registry();
  const config = parseNotifications({
    receivers: [
      { name: 'broken', slack_configs: [{ api_url: `${failing.url}/services/${SLACK_SECRET}`, send_resolved: true, timeout: '1s' }], telegram_configs: [{ api_url: `http://127.0.0.1:${downPort}`, bot_token: TOKEN, chat_id: 42, timeout: '1s' }] },
      { name: 'fine', webhook_configs: [{ url: `${healthy.url}/hook` }] },
    ],
    route: {
      receiver: 'fine', group_by: ['alertname'], group_wait: '100ms', group_interval: '3s',
      routes: [{ matchers: ['team="db"'], receiver: 'broken', continue: true }, { matchers: ['team=~".+"'], receiver: 'fine' }],
    },
  })!;
  const sink = new NotifierSink({ config, registry, log: new Logger('debug', (l) => lines.push(l)), initialBackoffMs: 100, onFailure: (f) => failures.push(f) });
  t.teardown(() => sink.stop(100));

  const ends = new Date(Date.now() + 600_000).toISOString();
  const sendTimes: number[] = [];
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) {
    const began = process.hrtime.bigint();
    sink.send([{ labels: { alertname: 'DbDown', team: 'db', n: String(i) }, annotations: { summary: 'db down' }, startsAt: ends, endsAt: ends }]);
    sendTimes.push(Number(process.hrtime.bigint() - began) / 1e6);
  }
  sendTimes.sort((a, b) => a - b);
  // the failing deliveries take seconds (retries until the deadline); send() must not see any of it
  t.ok(sendTimes[sendTimes.length - 1]! < 200, `send() returns at once (max ${sendTimes[sendTimes.length - 1]!.toFixed(3)} ms, median ${sendTimes[10]!.toFixed(3)} ms)`);

  // the healthy receiver (the next sibling route, through continue) is served after group_wait, while the others fail
  const [ok] = await healthy.waitFor(1, 5000);
  // sound bound: before the failing deliveries give up (their deadline is group_interval, 3 s)
  t.ok(ok!.at - t0 < 3000, `the healthy receiver got its notification on time (${ok!.at - t0} ms)`);
  t.equal((JSON.parse(ok!.body) as { alerts: unknown[] }).alerts.length, 20);

  // retries end at the route's group_interval (3 s)
  await new Promise((r) => setTimeout(r, 3600));
  const attempts = failing.requests.length;
  t.ok(attempts >= 3, `the 500 receiver was tried several times (${attempts}; the next group_interval starts a new round)`);
  const gaps = failing.requests.slice(1).map((q, i) => q.at - failing.requests[i]!.at);
  t.ok(gaps.every((g) => g >= 5), `attempts are spaced by a backoff (${gaps.join(', ')} ms)`);

  t.same(failures.map((f) => [f.receiver, f.integration, f.outcome]).sort(), [['broken', 'slack', 'failed'], ['broken', 'telegram', 'failed']]);
  const slackFailure = failures.find((f) => f.integration === 'slack')!;
  const span = slackFailure.at - failing.requests[0]!.at;
  // the deadline (group_interval, 3 s) plus at most one attempt's timeout (1 s) and a margin
  t.ok(span < 3000 + 1000 + 500, `given up by the deadline, the route's group_interval (${span} ms after the first attempt)`);
  t.ok(failing.requests.filter((q) => q.at <= slackFailure.at).length === slackFailure.attempts, 'every attempt reached the receiver');
  t.match(slackFailure.error, /^HTTP 500/);
  t.equal(slackFailure.alerts, 20);
  t.ok(slackFailure.attempts >= 3);
  t.match(failures.find((f) => f.integration === 'telegram')!.error, /connection failed \(ECONNREFUSED\)/);

  const errorLines = lines.filter((l) => l.includes('level=error') && l.includes('Notification failed'));
  t.equal(errorLines.length, 2, 'one error line per failed notification');
  t.match(errorLines.join('\n'), /receiver="broken" integration="slack"/);

  const metrics = await registry.metrics();
  t.match(metrics, /larder_notifier_notifications_total\{receiver="broken",integration="slack",outcome="failed"\} 1/);
  t.match(metrics, /larder_notifier_notifications_total\{receiver="broken",integration="telegram",outcome="failed"\} 1/);
  t.match(metrics, /larder_notifier_notifications_total\{receiver="fine",integration="webhook",outcome="success"\} 1/);
  t.match(metrics, /larder_notifier_attempts_total\{receiver="broken",integration="slack"\} \d+/);
  const everything = `${lines.join('\n')}\n${metrics}\n${failures.map((f) => f.error).join('\n')}`;
  for (const secret of [TOKEN, 'BOT-token', SLACK_SECRET, 'slackWebhookSecretPart', String(downPort)]) {
    t.notOk(everything.includes(secret), `"${secret.slice(0, 8)}…" appears in no log line, metric or recorded error`);
  }
});

t.test('a 4xx answer is not retried', async (t) => {
  const r = await startHttpReceiver();
  r.status = 404;
  t.teardown(() => r.close());
  const failures: FailedNotification[] = [];
  const config = parseNotifications({
    receivers: [{ name: 'gone', discord_configs: [{ webhook_url: `${r.url}/api/webhooks/1/deleted` }] }],
    route: { receiver: 'gone', group_wait: '10ms', group_interval: '2s' },
  })!;
  const sink = new NotifierSink({ config, registry: new Registry(), log: new Logger('error', () => {}), initialBackoffMs: 50, onFailure: (f) => failures.push(f) });
  t.teardown(() => sink.stop(100));
  sink.send([{ labels: { alertname: 'X' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString() }]);
  await r.waitFor(1);
  await new Promise((res) => setTimeout(res, 600));
  t.equal(r.requests.length, 1, 'one attempt');
  t.equal(failures.length, 1);
  t.match(failures[0]!.error, /^HTTP 404/);
  t.equal(failures[0]!.attempts, 1);
});

t.test('a receiver failing for many groups does not hold up the others', async (t) => {
  const failing = await startHttpReceiver();
  failing.status = 500;
  const healthy = await startHttpReceiver();
  t.teardown(() => Promise.all([failing.close(), healthy.close()]));
  const config = parseNotifications({
    receivers: [{ name: 'broken', webhook_configs: [{ url: `${failing.url}/hook` }] }, { name: 'fine', webhook_configs: [{ url: `${healthy.url}/hook` }] }],
    route: { receiver: 'fine', group_by: ['alertname'], group_wait: '100ms', group_interval: '6s', routes: [{ matchers: ['team="db"'], receiver: 'broken', group_by: ['...'] }] },
  })!;
  const sink = new NotifierSink({ config, registry: new Registry(), log: new Logger('error', () => {}), initialBackoffMs: 200 });
  t.teardown(() => sink.stop(100));
  const ends = new Date(Date.now() + 600_000).toISOString();
  // 12 groups for the failing receiver: more than the 8 deliveries that run at once
  sink.send(Array.from({ length: 12 }, (_, i) => ({ labels: { alertname: 'DbDown', team: 'db', n: String(i) }, annotations: {}, startsAt: ends, endsAt: ends })));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  sink.send([{ labels: { alertname: 'WebSlow', team: 'web' }, annotations: {}, startsAt: ends, endsAt: ends }]);
  const [ok] = await healthy.waitFor(1, 8000);
  // the failing deliveries retry for 6 s (group_interval); the healthy one must not wait for them
  t.ok(ok!.at - t0 < 5000, `the healthy receiver was served while the other retried (${ok!.at - t0} ms)`);
  t.ok(failing.requests.length >= 2, 'the failing receiver was being tried meanwhile');
});
