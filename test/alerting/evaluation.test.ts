/**
 * Rules on data with known answers, over a real SQLite store: pending, firing after
 * `for`, keep_firing_for, resolved, flapping, one alert per label set, recording rules
 * readable by the engine, alert_history rows per transition, the sink's batches, and a
 * restart in the middle of `for` restoring the state from ALERTS_FOR_STATE.
 */
import t from 'tap';
import { createQueryEngine } from '../../query/engine.js';
import type { Store } from '../../storage/store.js';
import { MIN, T0, manager, ruleFile, sqliteFixture, writeSeries } from './helpers.js';

const RULES = `
groups:
  - name: temps
    interval: 1m
    rules:
      - record: room:temp:max
        expr: max by (site) (temp)
      - alert: HighTemp
        expr: temp > 30
        for: 2m
        labels:
          severity: critical
          room_copy: "{{ $labels.room }}"
        annotations:
          summary: "{{ $labels.room }} is at {{ $value }} degrees"
      - alert: SiteHot
        expr: room:temp:max > 30
        keep_firing_for: 2m
`;

async function states(store: Store, ts: number): Promise<string[]> {
  // only what the evaluation at `ts` wrote (a 1 ms lookback)
  const r = await createQueryEngine(store).instant('ALERTS', ts, { lookbackMs: 1 });
  if (r.value.type !== 'vector') return [];
  return r.value.samples.map((s) => `${s.metric['alertname']}/${s.metric['room'] ?? s.metric['site'] ?? ''}/${s.metric['alertstate']}`).sort();
}

t.test('pending, firing after for, resolved; one alert per label set; keep_firing_for', async (t) => {
  const fx = await sqliteFixture(t, 'eval');
  //                      0   1   2   3   4   5   6   7   8   9
  const a = [20, 31, 32, 33, 34, 20, 20, 20, 20, 20];
  const b = [20, 20, 31, 32, 33, 34, 35, 20, 20, 20];
  await writeSeries(fx.store, 'temp', { room: 'a', site: 's' }, T0, MIN, a);
  await writeSeries(fx.store, 'temp', { room: 'b', site: 's' }, T0, MIN, b);
  const file = ruleFile(fx.dir, 'rules.yml', RULES);
  const { mgr, sink, registry } = manager(() => fx.store, [file], fx.clock, { manual: true, resendDelayMs: 60_000 });
  await mgr.start();
  const seen: string[][] = [];
  for (let i = 0; i < 10; i++) {
    fx.clock.now = T0 + i * MIN;
    await mgr.evaluateAll(fx.clock.now);
    seen.push(await states(fx.store, fx.clock.now));
  }
  t.same(seen[0], []);
  t.same(seen[1], ['HighTemp/a/pending', 'SiteHot/s/firing'], 'minute 1: a pending; SiteHot has no for');
  t.same(seen[2], ['HighTemp/a/pending', 'HighTemp/b/pending', 'SiteHot/s/firing']);
  t.same(seen[3], ['HighTemp/a/firing', 'HighTemp/b/pending', 'SiteHot/s/firing'], 'a fires 2m after it became active');
  t.same(seen[5], ['HighTemp/b/firing', 'SiteHot/s/firing'], 'a resolved');
  t.same(seen[7], ['SiteHot/s/firing'], 'SiteHot keeps firing for 2m after its condition ended at minute 7');
  t.same(seen[8], ['SiteHot/s/firing']);
  t.same(seen[9], [], 'keep_firing_for over');
  // an ended alert's ALERTS series gets a stale marker: with the default 5 m lookback
  // nothing of minute 8's firing SiteHot nor of the alerts resolved before is seen at minute 9
  const after = await createQueryEngine(fx.store).instant('ALERTS', T0 + 9 * MIN);
  t.same(after.value.type === 'vector' ? after.value.samples.map((s) => s.metric['alertname']) : ['not a vector'], [], 'ended alerts are stale at once, not 5 minutes later');

  // recording rule results are in the store and readable
  const rec = await createQueryEngine(fx.store).instant('room:temp:max', T0 + 4 * MIN);
  t.same(rec.value.type === 'vector' ? rec.value.samples.map((s) => [s.metric, s.value]) : [], [[{ __name__: 'room:temp:max', site: 's' }, 34]]);

  // the annotation and templated label
  const firstA = sink.all.find((x) => x.labels['alertname'] === 'HighTemp' && x.labels['room'] === 'a')!;
  t.equal(firstA.annotations['summary'], 'a is at 33 degrees');
  t.equal(firstA.labels['room_copy'], 'a');
  t.equal(firstA.labels['severity'], 'critical');
  t.equal(firstA.startsAt, new Date(T0 + 3 * MIN).toISOString());
  t.equal(firstA.endsAt, new Date(T0 + 3 * MIN + 4 * MIN).toISOString(), 'endsAt = now + 4 × max(resend delay, interval)');
  const resolvedA = sink.all.filter((x) => x.labels['alertname'] === 'HighTemp' && x.labels['room'] === 'a' && x.endsAt === new Date(T0 + 5 * MIN).toISOString());
  t.ok(resolvedA.length >= 1, 'resolution sent with endsAt = resolve time');
  t.notOk(sink.all.some((x) => x.labels['alertname'] === 'HighTemp' && x.labels['room'] === 'b' && Date.parse(x.startsAt) < T0 + 4 * MIN), 'nothing sent for b while pending');

  // alert_history: one row per alert, firing then resolved
  const rows = await fx.store.query<{ name: string; status: string; labels: string; fired_at: unknown; resolved_at: unknown }>('SELECT * FROM alert_history ORDER BY id');
  t.same(rows.map((r) => `${r.name}:${r.status}`), ['SiteHot:resolved', 'HighTemp:resolved', 'HighTemp:resolved']);
  t.same((await fx.store.getActiveAlerts()).length, 0, 'active_alerts is empty once everything resolved');

  const metrics = await registry.metrics();
  t.match(metrics, /larder_rule_evaluations_total\{rule_group="[^"]*rules.yml;temps"\} 30/);
  t.match(metrics, /larder_rules_last_reload_successful 1/);
  await mgr.stop();
});

t.test('flapping around the threshold: each rise starts a new pending period; active_alerts shows what fires', async (t) => {
  const fx = await sqliteFixture(t, 'flap');
  const v = [31, 29, 31, 29, 31, 31, 31, 29];
  await writeSeries(fx.store, 'load', {}, T0, MIN, v);
  const file = ruleFile(fx.dir, 'flap.yml', 'groups:\n- name: g\n  rules:\n  - alert: Load\n    expr: load > 30\n    for: 1m\n');
  const { mgr, registry } = manager(() => fx.store, [file], fx.clock, { manual: true });
  await mgr.start();
  const out: string[] = [];
  for (let i = 0; i < v.length; i++) {
    fx.clock.now = T0 + i * MIN;
    await mgr.evaluateAll(fx.clock.now);
    const r = mgr.groups()[0]!.rules[0]!.alerts!;
    out.push(r.state());
    if (i === 5) {
      const active = await fx.store.getActiveAlerts();
      t.same(active.map((a) => a.name), ['Load'], 'active_alerts holds the firing alert');
      t.match(await registry.metrics(), /ALERTS\{alertname="Load",alertstate="firing"\} 1/);
    }
  }
  t.same(out, ['pending', 'inactive', 'pending', 'inactive', 'pending', 'firing', 'firing', 'inactive']);
  await mgr.stop();
});

t.test('a restart in the middle of for restores the state from ALERTS_FOR_STATE', async (t) => {
  const fx = await sqliteFixture(t, 'restore');
  // above threshold all along; for: 20m; grace period 10m
  await writeSeries(fx.store, 'queue', {}, T0, MIN, Array.from({ length: 40 }, () => 100));
  const file = ruleFile(fx.dir, 'r.yml', 'groups:\n- name: g\n  rules:\n  - alert: QueueLong\n    expr: queue > 50\n    for: 20m\n');
  const first = manager(() => fx.store, [file], fx.clock, { manual: true });
  await first.mgr.start();
  for (let i = 0; i <= 8; i++) {
    fx.clock.now = T0 + i * MIN;
    await first.mgr.evaluateAll(fx.clock.now);
  }
  const a1 = first.mgr.groups()[0]!.rules[0]!.alerts!.activeAlerts()[0]!;
  t.equal(a1.activeAtMs, T0, 'active since minute 0');
  await first.mgr.stop();
  // down for 2 minutes (minutes 9 and 10), back at 11
  const store = await fx.reopen();
  const second = manager(() => store, [file], fx.clock, { manual: true });
  await second.mgr.start();
  fx.clock.now = T0 + 11 * MIN;
  await second.mgr.evaluateAll(fx.clock.now);
  t.equal(second.mgr.groups()[0]!.rules[0]!.alerts!.activeAlerts()[0]!.activeAtMs, T0 + 11 * MIN, 'first evaluation after start: active now');
  fx.clock.now = T0 + 12 * MIN;
  await second.mgr.evaluateAll(fx.clock.now);
  const a2 = second.mgr.groups()[0]!.rules[0]!.alerts!.activeAlerts()[0]!;
  // last sample at minute 8 (down at 8), active since 0: 8m spent, 12m remaining (>= grace);
  // activeAt shifts by the downtime (12 - 8 = 4m)
  t.equal(a2.activeAtMs, T0 + 4 * MIN, 'restored: activeAt moved by the time Larder was down');
  fx.clock.now = T0 + 23 * MIN;
  await second.mgr.evaluateAll(fx.clock.now);
  t.equal(a2.state, 'pending', 'not firing before 20m of pending (counting from the restored activeAt)');
  fx.clock.now = T0 + 24 * MIN;
  await second.mgr.evaluateAll(fx.clock.now);
  t.equal(a2.state, 'firing', 'fires at restored activeAt + for');
  await second.mgr.stop();
});
