/**
 * The bundled rules' scope (src/alerting/scope.ts): the instances this Larder writes
 * (its own and its scrape targets') as one `instance` matcher, escaped so that an
 * instance's dots and other regex characters match only themselves, through the
 * PromQL text the API shows and back through the parser.
 */
import t from 'tap';
import { bundledScope, inScope, regexQuote, scopeExpr } from '../../src/alerting/scope.js';
import { parseQuery } from '../../query/parse.js';
import type { Expr } from '../../query/ast.js';

t.test('one instance is an equality, several a regex of exactly them', async (t) => {
  t.same(bundledScope(['web1'], { dc: 'eu' }), [
    { label: 'dc', op: '=', value: 'eu' },
    { label: 'instance', op: '=', value: 'web1' },
  ]);
  t.same(bundledScope(['web1', 'web1'], {}), [{ label: 'instance', op: '=', value: 'web1' }], 'duplicates counted once');
  t.same(bundledScope(['web1', 'db.1:9100'], {}), [{ label: 'instance', op: '=~', value: 'db\\.1:9100|web1' }]);
});

t.test("an instance's regex characters match only themselves", async (t) => {
  const odd = ['db.1:9100', 'a+b', '[x](y)', 'c|d', 'e\\f', 'g^h$', 'i*?{2}'];
  const [m] = bundledScope(odd, {});
  const re = new RegExp(`^(?:${m!.value})$`, 'u');
  for (const i of odd) t.ok(re.test(i), `${i} is in scope`);
  for (const i of ['dbx1:9100', 'aab', 'x', 'c', 'd', 'e\\\\f', 'gh', 'i']) t.notOk(re.test(i), `${i} is not`);
  t.equal(regexQuote('a.b'), 'a\\.b');
  t.ok(inScope({ instance: 'db.1:9100', job: 'node' }, bundledScope(odd, {})), 'inScope reads the regex');
  t.notOk(inScope({ instance: 'dbx1:9100' }, bundledScope(odd, {})));
  t.notOk(inScope({ instance: 'db.1:9100' }, bundledScope(odd, { dc: 'eu' })), 'and the external labels');
});

t.test('the scoped text parses back to the same matchers on every selector', async (t) => {
  const scope = bundledScope(['web1', 'db.1:9100', 'e\\f'], { dc: 'eu' });
  const text = scopeExpr('node_load1 / count without (cpu, mode) (node_cpu_seconds_total{mode="idle", instance="other"}) > 2', scope);
  t.equal(text, 'node_load1{dc="eu",instance=~"db\\\\.1:9100|e\\\\\\\\f|web1"} / count without (cpu, mode) (node_cpu_seconds_total{dc="eu",instance=~"db\\\\.1:9100|e\\\\\\\\f|web1",mode="idle"}) > 2');
  const selectors: { matchers: readonly { label: string; op: string; value: string }[] }[] = [];
  const walk = (e: Expr): void => {
    if (e.kind === 'vector') selectors.push(e);
    else if (e.kind === 'binary') (walk(e.lhs), walk(e.rhs));
    else if (e.kind === 'aggregate' || e.kind === 'paren') walk(e.expr);
  };
  walk(parseQuery(text));
  t.equal(selectors.length, 2);
  for (const s of selectors) for (const m of scope) t.ok(s.matchers.some((x) => x.label === m.label && x.op === m.op && x.value === m.value), `${m.label}${m.op}${m.value} on the selector`);
  t.notOk(selectors[1]!.matchers.some((x) => x.value === 'other'), "a selector's own instance matcher is replaced");
});
