/**
 * One alerting rule's state machine, pure: when alerts are handed to the notifiers
 * (firing every resend delay, resolved ones re-sent for 15 minutes, endsAt), the group
 * limit, and duplicate label sets.
 */
import t from 'tap';
import { AlertingRuleState, RESOLVED_RETENTION_MS } from '../../src/alerting/alert-state.js';
import { checkRuleFile, type AlertRuleDef } from '../../src/alerting/load.js';

const MIN = 60_000;
const def = (extra: Record<string, unknown> = {}): AlertRuleDef =>
  checkRuleFile({ groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'x > 0', ...extra }] }] }, 'f.yml')[0]!.rules[0] as AlertRuleDef;
const ctx = { externalLabels: {}, externalURL: '' };
const sample = (labels: Record<string, string>, value = 1) => ({ metric: labels, timeMs: 0, value });

t.test('sends: firing every resend delay; resolved re-sent for 15 minutes, then forgotten', async (t) => {
  const st = new AlertingRuleState(def(), ctx);
  st.apply([sample({ i: 'a' })], 0, 0);
  const first = st.alertsToSend(0, MIN, 15_000);
  t.equal(first.length, 1);
  t.equal(first[0]!.validUntilMs, 4 * MIN, 'valid until now + 4 × max(resend delay, interval)');
  st.apply([sample({ i: 'a' })], 30_000, 0);
  t.equal(st.alertsToSend(30_000, MIN, 15_000).length, 0, 'not again within the resend delay');
  st.apply([sample({ i: 'a' })], 75_000, 0);
  t.equal(st.alertsToSend(75_000, MIN, 15_000).length, 1, 'again once the resend delay passed');
  st.apply([], 90_000, 0);
  const resolved = st.alertsToSend(90_000, MIN, 15_000);
  t.equal(resolved.length, 1, 'the resolution is sent at once');
  t.equal(resolved[0]!.resolvedAtMs, 90_000);
  let sends = 0;
  for (let ts = 90_000 + 15_000; ts <= 90_000 + RESOLVED_RETENTION_MS; ts += 15_000) {
    st.apply([], ts, 0);
    sends += st.alertsToSend(ts, MIN, 15_000).length;
  }
  // due once the resend delay has strictly passed (Prometheus: LastSentAt + delay before now), so
  // at 15 s evaluations every 75 s: 12 re-sends in the 15 minutes
  t.equal(sends, 12, 'resolved alert re-sent every resend delay (plus one interval) for 15 minutes');
  st.apply([], 90_000 + RESOLVED_RETENTION_MS + 15_000, 0);
  t.equal(st.active.size, 0, 'forgotten after 15 minutes');
});

t.test('pending alerts are not sent; limit; duplicate label sets', async (t) => {
  const st = new AlertingRuleState(def({ for: '5m' }), ctx);
  st.apply([sample({ i: 'a' })], 0, 0);
  t.equal(st.alertsToSend(0, MIN, MIN).length, 0);
  t.throws(() => st.apply([sample({ i: 'a' }), sample({ i: 'b' })], MIN, 1), /exceeded limit of 1 with 2 alerts/);
  t.equal(st.active.size, 0, 'over the limit: every alert forgotten, as Prometheus');
  const dup = new AlertingRuleState(def({ labels: { i: 'same' } }), ctx);
  t.throws(() => dup.apply([sample({ i: 'a' }), sample({ i: 'b' })], 0, 0), /vector contains metrics with the same labelset after applying alert labels/);
});
