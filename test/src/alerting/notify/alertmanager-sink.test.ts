/**
 * The Alertmanager v2 client against Debian's real Alertmanager (behind basic auth), a
 * second Alertmanager that is down, and a loopback server for batch and queue bounds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../../src/config.js';
import { Logger } from '../../../../src/log.js';
import { createAlertSinks } from '../../../../src/alerting/notify/index.js';
import { AlertmanagerSink } from '../../../../src/alerting/notify/alertmanager-sink.js';
import type { PostableAlert } from '../../../../src/alerting/types.js';
import { need } from '../../../helpers/peers.js';
import { startAlertmanager, type GettableAlert } from '../../../helpers/alertmanager.js';
import { freePort } from '../../../helpers/prometheus.js';
import { startHttpReceiver } from '../../../helpers/http-receiver.js';

const PASSWORD = 'am-pass-Zq8xv3';

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function metricValue(text: string, name: string, label: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

t.test('alerts reach a real Alertmanager and resolve there', async (t) => {
  if (!(await need(t, 'alertmanager'))) return;
  const am = await startAlertmanager({ user: 'larder', password: PASSWORD });
  t.teardown(() => am.stop());
  const downPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'larder-am-client-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
  const { config } = loadConfig({
    argv: [`--alertmanager.url=${am.url}`, '--alertmanager.url', `http://127.0.0.1:${downPort}/`, '--alertmanager.basic-auth-username=larder', `--alertmanager.basic-auth-password-file=${join(dir, 'pw')}`, '--alertmanager.timeout=2s'],
    env: {},
  });
  t.same(config.notify.alertmanagerUrls, [`${am.url}/`, `http://127.0.0.1:${downPort}/`], 'the flag is repeatable');
  const lines: string[] = [];
  const registry = new Registry();
  const sinks = createAlertSinks(config, { log: new Logger('debug', (l) => lines.push(l)), registry });
  t.equal(sinks.length, 1);
  const sink = sinks[0]!;
  t.teardown(() => sink.stop(1000));

  const labels = { alertname: 'LarderTestAlert', instance: 'host-1', severity: 'warning' };
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  const firing: PostableAlert = { labels, annotations: { summary: 'test alert' }, startsAt, endsAt: new Date(Date.now() + 3_600_000).toISOString(), generatorURL: 'http://larder/graph' };
  const began = process.hrtime.bigint();
  sink.send([firing]);
  const sendMs = Number(process.hrtime.bigint() - began) / 1e6;
  t.ok(sendMs < 50, `send() returned at once (${sendMs.toFixed(2)} ms)`);

  const shown = await until<GettableAlert>('the alert in Alertmanager', async () => (await am.alerts()).find((a) => a.labels['alertname'] === 'LarderTestAlert'));
  t.same(shown.labels, labels);
  t.equal(shown.annotations['summary'], 'test alert');
  t.equal(shown.status.state, 'active');
  t.equal(Date.parse(shown.startsAt), Date.parse(startsAt));

  sink.send([{ ...firing, endsAt: new Date(Date.now() - 1000).toISOString() }]);
  await until('the alert to resolve', async () => ((await am.alerts()).some((a) => a.labels['alertname'] === 'LarderTestAlert') ? undefined : true));
  t.pass('resolved: Alertmanager no longer lists it as active');

  const good = `alertmanager="${am.url}/api/v2/alerts"`;
  const bad = `alertmanager="http://127.0.0.1:${downPort}/api/v2/alerts"`;
  // Each Alertmanager is sent to on its own: the down one's second failure may be counted
  // after the good one has shown the resolution (a loaded CI run read it at 1).
  const metrics = await until('both sends counted for each Alertmanager', async () => {
    const m = await registry.metrics();
    const counted = (name: string, am: string): boolean => (metricValue(m, name, am) ?? 0) >= 2;
    return counted('larder_notifications_sent_total', good) && counted('larder_notifications_sent_total', bad) && counted('larder_notifications_errors_total', bad) ? m : undefined;
  });
  t.equal(metricValue(metrics, 'larder_notifications_sent_total', good), 2);
  t.equal(metricValue(metrics, 'larder_notifications_errors_total', good), 0);
  t.equal(metricValue(metrics, 'larder_notifications_sent_total', bad), 2);
  t.equal(metricValue(metrics, 'larder_notifications_errors_total', bad), 2);
  t.match(metrics, /larder_notifications_dropped_total 0/, 'one Alertmanager took them: nothing dropped');
  t.match(metrics, /larder_notifications_queue_length 0/);
  t.match(metrics, /larder_notifications_latency_seconds_count\{alertmanager=/);
  t.ok(lines.some((l) => l.includes('level=error') && l.includes('Error sending alerts to Alertmanager') && l.includes(bad.split('=')[1]!.replace(/"/g, ''))), 'the down one is logged');
  const auth = Buffer.from(`larder:${PASSWORD}`).toString('base64');
  for (const [what, text] of [['metrics', metrics], ['log', lines.join('\n')]] as const) {
    t.notOk(text.includes(PASSWORD) || text.includes(auth), `no password in the ${what}`);
  }
});

t.test('credentials in the URL become basic auth and stay out of the label', async (t) => {
  if (!(await need(t, 'alertmanager'))) return;
  const am = await startAlertmanager({ user: 'u', password: PASSWORD });
  t.teardown(() => am.stop());
  const withCreds = am.url.replace('http://', `http://u:${PASSWORD}@`);
  const registry = new Registry();
  const lines: string[] = [];
  const { config } = loadConfig({ argv: [], env: { LARDER_ALERTMANAGER_URL: withCreds } });
  const [sink] = createAlertSinks(config, { log: new Logger('debug', (l) => lines.push(l)), registry });
  t.teardown(() => sink!.stop(500));
  sink!.send([{ labels: { alertname: 'UrlCreds' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 600_000).toISOString() }]);
  await until('the alert in Alertmanager', async () => (await am.alerts()).find((a) => a.labels['alertname'] === 'UrlCreds'));
  // counted once the sink has read Alertmanager's answer, which may be after the alert shows
  const sent = new RegExp(`larder_notifications_sent_total\\{alertmanager="${am.url}/api/v2/alerts"\\} 1`);
  const metrics = await until('the send counted', async () => {
    const m = await registry.metrics();
    return sent.test(m) ? m : undefined;
  });
  t.match(metrics, sent);
  t.notOk(metrics.includes(PASSWORD), 'no password in /metrics');
  t.notOk(lines.join('\n').includes(PASSWORD), 'no password in the log');
});

t.test('batches of at most 64; a full queue drops the oldest and counts them', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const registry = new Registry();
  const sink = new AlertmanagerSink({ targets: [{ url: `${r.url}/am`, auth: { bearerToken: 'tok-123456' } }], queueCapacity: 100, timeoutMs: 2000, registry, log: new Logger('error', () => {}) });
  t.teardown(() => sink.stop(500));
  const ends = new Date(Date.now() + 600_000).toISOString();
  const alerts = Array.from({ length: 250 }, (_, i) => ({ labels: { alertname: 'Q', i: String(i) }, annotations: {}, startsAt: ends, endsAt: ends }));
  sink.send(alerts.slice(0, 150));
  sink.send(alerts.slice(150));
  const reqs = await r.waitFor(2);
  await new Promise((res) => setTimeout(res, 200));
  t.equal(reqs.length, 2);
  t.equal(reqs[0]!.path, '/am/api/v2/alerts', 'the base path is kept');
  t.equal(reqs[0]!.headers['authorization'], 'Bearer tok-123456');
  const sent = reqs.map((q) => JSON.parse(q.body) as PostableAlert[]);
  t.same(sent.map((b) => b.length), [64, 36]);
  t.same(sent.flat().map((a) => a.labels['i']), alerts.slice(150).map((a) => a.labels['i']), 'the newest 100 were kept, in order');
  const metrics = await registry.metrics();
  t.match(metrics, /larder_notifications_dropped_total 150/);
  t.match(metrics, /larder_notifications_queue_capacity 100/);
  t.match(metrics, new RegExp(`larder_notifications_sent_total\\{alertmanager="${r.url}/am/api/v2/alerts"\\} 100`));
});
