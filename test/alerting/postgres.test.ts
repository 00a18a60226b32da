/**
 * The evaluator over the PostgreSQL store (its own schema, dropped at the end): alert
 * states, alert_history rows per transition, active_alerts, recording results readable by
 * the engine, and the `for` state restored by a second manager from ALERTS_FOR_STATE.
 */
import t from 'tap';
import { createQueryEngine } from '../../query/engine.js';
import { clock, openTestStore } from '../storage/fixtures/stores.js';
import { MIN, T0, manager, ruleFile, writeSeries } from './helpers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

t.test('alerting on PostgreSQL', async (t) => {
  const c = clock(T0);
  const store = await openTestStore(t, 'postgresql', { now: c.now });
  if (!store) return;
  const dir = mkdtempSync(join(tmpdir(), 'larder-rules-pg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await writeSeries(store, 'errors', { route: '/a' }, T0, MIN, [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0]);
  const file = ruleFile(dir, 'pg.yml', [
    'groups:',
    '- name: g',
    '  rules:',
    '  - record: route:errors:max',
    '    expr: max by (route) (errors)',
    '  - alert: Errors',
    '    expr: route:errors:max > 1',
    '    for: 12m',
    '    labels: { severity: critical }',
    '    annotations: { summary: "{{ $labels.route }}: {{ $value }} errors" }',
    '',
  ].join('\n'));
  const clk = { get now() { return c.ms; }, set now(v: number) { c.ms = v; } };
  const first = manager(() => store, [file], clk, { manual: true });
  await first.mgr.start();
  for (let i = 0; i <= 4; i++) {
    c.ms = T0 + i * MIN;
    await first.mgr.evaluateAll(c.ms);
  }
  const rec = await createQueryEngine(store).instant('route:errors:max', T0 + 4 * MIN);
  t.same(rec.value.type === 'vector' ? rec.value.samples.map((s) => [s.metric, s.value]) : [], [[{ __name__: 'route:errors:max', route: '/a' }, 5]], 'recording rule result read back');
  await first.mgr.stop();
  // restarted at minute 6; the last ALERTS_FOR_STATE sample is from minute 4 (active since 0): 4m of 12m
  // spent, 8m left (>= the 5m grace period), so the restore at the second evaluation (minute 7) moves
  // activeAt by the 3 minutes Larder was down: 3m, and the alert fires at 3m + 12m = 15m
  const second = manager(() => store, [file], clk, { manual: true, gracePeriodMs: 5 * MIN });
  await second.mgr.start();
  const states: string[] = [];
  for (let i = 6; i <= 16; i++) {
    c.ms = T0 + i * MIN;
    await second.mgr.evaluateAll(c.ms);
    states.push(`${i}:${second.mgr.groups()[0]!.rules[1]!.alerts!.state()}`);
    if (i === 15) t.same((await store.getActiveAlerts()).map((a) => [a.name, a.severity, a.message, a.status]), [['Errors', 'critical', '/a: 5 errors', 'firing']], 'active_alerts: what fires now');
  }
  t.same(states, ['6:pending', '7:pending', '8:pending', '9:pending', '10:pending', '11:pending', '12:pending', '13:pending', '14:pending', '15:firing', '16:inactive']);
  t.equal(second.mgr.groups()[0]!.rules[1]!.alerts!.active.size, 1, 'the resolved alert is kept (15 min) to be re-sent as resolved');
  const rows = await store.query<{ name: string; status: string }>('SELECT name, status FROM alert_history ORDER BY id');
  t.same(rows.map((r) => `${r.name}:${r.status}`), ['Errors:resolved'], 'one alert_history row: fired at 15m, resolved at 16m');
  t.same(await store.getActiveAlerts(), [], 'active_alerts empty again');
  await second.mgr.stop();
});
