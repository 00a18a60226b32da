/**
 * Grouping, group_wait, group_interval, repeat_interval, routing by matchers and quiet
 * hours, observed on a real webhook receiver on loopback with short durations (and an
 * injected clock for the time zone of the quiet hours).
 */
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { Logger } from '../../../../src/log.js';
import { parseNotifications } from '../../../../src/alerting/notify/config.js';
import { NotifierSink } from '../../../../src/alerting/notify/notifier-sink.js';
import type { PostableAlert } from '../../../../src/alerting/types.js';
import { startHttpReceiver, type Received } from '../../../helpers/http-receiver.js';

interface Payload { receiver: string; status: string; groupLabels: Record<string, string>; alerts: { status: string; labels: Record<string, string> }[] }
const payload = (r: Received): Payload => JSON.parse(r.body) as Payload;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alert(labels: Record<string, string>, now = Date.now(), resolved = false): PostableAlert {
  return { labels, annotations: { summary: `${labels['alertname']} fires` }, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(resolved ? now - 1000 : now + 600_000).toISOString() };
}

function sinkFor(t: Test, section: Record<string, unknown>, now?: () => number): NotifierSink {
  const sink = new NotifierSink({ config: parseNotifications(section)!, registry: new Registry(), log: new Logger('error', () => {}), now });
  t.teardown(() => sink.stop(100));
  return sink;
}

t.test('group_by and group_wait: alerts arriving within group_wait go out together', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const sink = sinkFor(t, {
    receivers: [{ name: 'hook', webhook_configs: [{ url: `${r.url}/hook` }] }],
    route: { receiver: 'hook', group_by: ['alertname'], group_wait: '600ms', group_interval: '5s' },
  });
  const t0 = Date.now();
  sink.send([alert({ alertname: 'A', instance: '1' })]);
  await sleep(150);
  sink.send([alert({ alertname: 'A', instance: '2' }), alert({ alertname: 'B', instance: '1' })]);
  const reqs = await r.waitFor(2, 5000);
  await sleep(300);
  t.equal(reqs.length, 2, 'one notification per group');
  const a = reqs.map(payload).find((p) => p.groupLabels['alertname'] === 'A')!;
  const b = reqs.map(payload).find((p) => p.groupLabels['alertname'] === 'B')!;
  t.same(a.alerts.map((x) => x.labels['instance']).sort(), ['1', '2'], 'group A holds both instances');
  t.equal(a.alerts.length, 2);
  t.equal(b.alerts.length, 1);
  const aAt = reqs.find((q) => payload(q).groupLabels['alertname'] === 'A')!.at - t0;
  const bAt = reqs.find((q) => payload(q).groupLabels['alertname'] === 'B')!.at - t0;
  t.ok(aAt >= 590, `group A waited group_wait (${aAt} ms)`);
  t.ok(bAt >= 150 + 590, `group B waited its own group_wait (${bAt} ms)`);
});

t.test('group_by ["..."] makes one group per label set', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const sink = sinkFor(t, {
    receivers: [{ name: 'hook', webhook_configs: [{ url: `${r.url}/hook` }] }],
    route: { receiver: 'hook', group_by: ['...'], group_wait: '50ms', group_interval: '5s' },
  });
  sink.send([alert({ alertname: 'A', instance: '1' }), alert({ alertname: 'A', instance: '2' })]);
  const reqs = await r.waitFor(2, 5000);
  t.same(reqs.map((q) => payload(q).groupLabels).sort((x, y) => (x['instance']! < y['instance']! ? -1 : 1)), [{ alertname: 'A', instance: '1' }, { alertname: 'A', instance: '2' }]);
});

t.test('repeat_interval: an unchanged group is not re-sent every group_interval; a new alert is sent at the next one', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const sink = sinkFor(t, {
    receivers: [{ name: 'hook', webhook_configs: [{ url: `${r.url}/hook` }] }],
    route: { receiver: 'hook', group_by: ['alertname'], group_wait: '50ms', group_interval: '250ms', repeat_interval: '2500ms' },
  });
  // the evaluator re-sends firing alerts every interval
  const resend = setInterval(() => sink.send([alert({ alertname: 'R', instance: '1' })]), 100);
  t.teardown(() => clearInterval(resend));
  sink.send([alert({ alertname: 'R', instance: '1' })]);
  await r.waitFor(1, 5000);
  await sleep(1000);
  t.equal(r.requests.length, 1, 'nothing new before repeat_interval although group_interval passed 4 times');
  await r.waitFor(2, 5000);
  const gap = r.requests[1]!.at - r.requests[0]!.at;
  t.ok(gap >= 2400, `re-sent after repeat_interval (${gap} ms)`);
  t.equal(payload(r.requests[1]!).alerts.length, 1);
  // a new alert in the group: sent at the next group_interval, not after repeat_interval
  const before = Date.now();
  sink.send([alert({ alertname: 'R', instance: '2' })]);
  await r.waitFor(3, 5000);
  const third = r.requests[2]!;
  // sound bound: well before the next repeat (2.5 s after the last notification) could have carried it
  t.ok(third.at - before < 2000, `the changed group went out at the next group_interval (${third.at - before} ms)`);
  t.same(payload(third).alerts.map((a) => a.labels['instance']).sort(), ['1', '2']);
  clearInterval(resend);
});

t.test('resolved: sent where send_resolved is on; an alert no longer re-sent resolves at its endsAt', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const sink = sinkFor(t, {
    receivers: [{ name: 'both', webhook_configs: [{ url: `${r.url}/resolved`, send_resolved: true }, { url: `${r.url}/firing-only`, send_resolved: false }] }],
    route: { receiver: 'both', group_by: ['alertname'], group_wait: '50ms', group_interval: '300ms' },
  });
  const now = Date.now();
  sink.send([{ ...alert({ alertname: 'E' }, now), endsAt: new Date(now + 700).toISOString() }]);
  await r.waitFor(2, 5000);
  // no re-send: endsAt passes and the next flush after it reports the alert resolved
  await r.waitFor(3, 5000);
  await sleep(700);
  const resolved = r.requests.filter((q) => q.path === '/resolved');
  t.equal(resolved.length, 2);
  t.equal(payload(resolved[1]!).status, 'resolved');
  t.equal(payload(resolved[1]!).alerts[0]!.status, 'resolved');
  t.equal(r.requests.filter((q) => q.path === '/firing-only').length, 1, 'no resolved message where send_resolved is off');
});

t.test('routing by matchers: =, !=, =~, !~, continue and the root as fallback', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const hook = (name: string) => ({ name, webhook_configs: [{ url: `${r.url}/${name}` }] });
  const sink = sinkFor(t, {
    receivers: [hook('default'), hook('pager'), hook('db'), hook('audit'), hook('nonprod')],
    route: {
      receiver: 'default', group_by: ['...'], group_wait: '50ms', group_interval: '5s',
      routes: [
        { matchers: ['severity="critical"', 'env!="staging"'], receiver: 'pager', continue: true },
        { matchers: ['team=~"db|cache"'], receiver: 'db' },
        { matchers: ['env!~"prod|production"'], receiver: 'nonprod' },
        { matchers: ['severity="critical"'], receiver: 'audit' },
      ],
    },
  });
  sink.send([
    alert({ alertname: 'Crit', severity: 'critical', env: 'prod', team: 'db' }), // pager (continue) → db
    alert({ alertname: 'CritStaging', severity: 'critical', env: 'staging', team: 'web' }), // nonprod
    alert({ alertname: 'Warn', severity: 'warning', env: 'prod', team: 'web' }), // default
    alert({ alertname: 'CritWeb', severity: 'critical', env: 'prod', team: 'web' }), // pager → audit
  ]);
  await r.waitFor(6, 5000);
  await sleep(300);
  const got: Record<string, string[]> = {};
  for (const q of r.requests) {
    const p = payload(q);
    (got[p.receiver] ??= []).push(...p.alerts.map((a) => a.labels['alertname']!));
  }
  for (const k of Object.keys(got)) got[k]!.sort();
  t.same(got, { pager: ['Crit', 'CritWeb'], db: ['Crit'], nonprod: ['CritStaging'], default: ['Warn'], audit: ['CritWeb'] });
  for (const q of r.requests) t.equal(q.path, `/${payload(q).receiver}`, 'each receiver its own URL');
});

t.test('quiet hours: a mute interval holds notifications until it ends (injected clock, time zone)', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  // Saturday 2026-12-05 23:30 in Berlin (22:30 UTC): inside "weekends"
  let clock = Date.parse('2026-12-05T22:30:00Z');
  const sink = sinkFor(t, {
    time_intervals: [{ name: 'weekends', time_intervals: [{ weekdays: ['saturday', 'sunday'], location: 'Europe/Berlin' }] }, { name: 'office', time_intervals: [{ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '17:00' }], location: 'Europe/Berlin' }] }],
    receivers: [{ name: 'quiet', webhook_configs: [{ url: `${r.url}/quiet` }] }, { name: 'office', webhook_configs: [{ url: `${r.url}/office` }] }],
    route: {
      receiver: 'quiet', group_by: ['alertname'], group_wait: '50ms', group_interval: '200ms', mute_time_intervals: ['weekends'],
      routes: [{ matchers: ['team="office"'], receiver: 'office', active_time_intervals: ['office'] }],
    },
  }, () => clock);
  const later = clock + 3 * 86_400_000; // still firing when the clock moves on
  sink.send([{ ...alert({ alertname: 'Night' }, clock), endsAt: new Date(later).toISOString() }, { ...alert({ alertname: 'Day', team: 'office' }, clock), endsAt: new Date(later).toISOString() }]);
  await sleep(800);
  t.equal(r.requests.length, 0, 'nothing while muted (weekend) or outside the active interval (office hours)');
  // Monday 2026-12-07 00:30 in Berlin (Sunday 23:30 UTC): the weekend is over in Berlin, the office still closed
  clock = Date.parse('2026-12-06T23:30:00Z');
  const [first] = await r.waitFor(1, 3000);
  t.equal(first!.path, '/quiet', 'the muted notification goes out once the mute ends, in the zone of the interval');
  await sleep(500);
  t.equal(r.requests.length, 1, 'the office route still waits for office hours');
  clock = Date.parse('2026-12-07T08:30:00Z'); // 09:30 in Berlin
  await r.waitFor(2, 3000);
  await sleep(300);
  // (the quiet route may repeat too: the clock jumped past its 4h repeat_interval)
  const office = r.requests.filter((q) => q.path === '/office');
  t.equal(office.length, 1, 'the office route sends once office hours begin');
  t.equal(payload(office[0]!).alerts[0]!.labels['alertname'], 'Day');
});

t.test('bounded: the notifier holds at most max_alerts; a resolved alert nobody heard of makes no group', async (t) => {
  const r = await startHttpReceiver();
  t.teardown(() => r.close());
  const registry = new Registry();
  const sink = new NotifierSink({
    config: parseNotifications({ max_alerts: 5, receivers: [{ name: 'hook', webhook_configs: [{ url: `${r.url}/hook` }] }], route: { receiver: 'hook', group_by: ['alertname'], group_wait: '200ms', group_interval: '5s' } })!,
    registry, log: new Logger('error', () => {}),
  });
  t.teardown(() => sink.stop(100));
  sink.send([alert({ alertname: 'Old' }, Date.now(), true)]);
  await sleep(50);
  t.match(await registry.metrics(), /larder_notifier_groups 0/, 'no group for an unknown resolved alert');
  sink.send(Array.from({ length: 8 }, (_, i) => alert({ alertname: 'Flood', i: String(i) })));
  const [req] = await r.waitFor(1, 5000);
  t.equal(payload(req!).alerts.length, 5);
  t.match(await registry.metrics(), /larder_notifier_alerts_dropped_total 3/);
});
