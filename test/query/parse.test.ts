/**
 * Where query/parse.ts and query/regex.ts differ from a plain reading of the lezer tree
 * or of JavaScript regexes, to follow Prometheus: modifier binding, trailing-dot
 * numbers, RE2-only regex syntax, error positions.
 */
import t from 'tap';
import { parseQuery } from '../../query/parse.js';
import { compileAnchored } from '../../query/regex.js';
import { QueryError } from '../../query/types.js';

t.test('offset and @ bind to the selector before them', async (t) => {
  const e = parseQuery('1 + x @ 5 offset 1m');
  t.equal(e.kind, 'binary');
  if (e.kind !== 'binary') return;
  t.match(e.lhs, { kind: 'number', value: 1 });
  t.match(e.rhs, { kind: 'vector', name: 'x', offsetMs: 60_000, at: { kind: 'time', ms: 5000 } });
  const u = parseQuery('-x offset 5m');
  t.match(u, { kind: 'unary', op: '-', expr: { kind: 'vector', offsetMs: 300_000 } });
  t.throws(() => parseQuery('sum(x) offset 5m'), /offset modifier must be preceded by an instant vector selector or range vector selector or a subquery/);
  t.throws(() => parseQuery('x offset 1m offset 2m'), /offset may not be set multiple times/);
  t.match(parseQuery('x[5m:1m] offset 1m @ start()'), { kind: 'subquery', offsetMs: 60_000, at: { kind: 'start' } });
});

t.test('numbers as Prometheus reads them', async (t) => {
  t.match(parseQuery('2.'), { kind: 'number', value: 2 });
  t.match(parseQuery('1./6.'), { kind: 'binary', lhs: { value: 1 }, rhs: { value: 6 } });
  t.match(parseQuery('0x1F'), { kind: 'number', value: 31 });
  t.match(parseQuery('-Inf'), { kind: 'number', value: -Infinity });
  t.match(parseQuery('1h30m'), { kind: 'number', value: 5400 });
  t.match(parseQuery('x{a="2."}'), { kind: 'vector', matchers: [{ label: '__name__' }, { label: 'a', value: '2.' }] }, 'strings untouched');
});

t.test('RE2 syntax JavaScript lacks', async (t) => {
  t.ok(compileAnchored('(?i:PRO).*').test('production'));
  t.ok(compileAnchored('.*((?i)DUC).*').test('production'));
  t.notOk(compileAnchored('(?i:PRO)d').test('proD'), 'the flag ends with its group');
  t.ok(compileAnchored('(?P<n>a+)b').test('aab'));
  t.ok(compileAnchored('[[:digit:]]+').test('123'));
  t.ok(compileAnchored('a.b').test('a\nb'), '. matches a newline');
  t.notOk(compileAnchored('foo').test('foobar'), 'anchored');
  t.ok(compileAnchored('foo|bar').test('bar'), 'alternation inside the anchors');
});

t.test('errors name the position', async (t) => {
  const cases: [string, string][] = [
    ['foo{', '1:5: parse error: unexpected end of input inside braces'],
    ['sum(foo) by', '1:12: parse error: unexpected end of input'],
    ['nope(foo)', '1:1: parse error: unknown function with name "nope"'],
    ['x + nope(1)', '1:5: parse error: unknown function with name "nope"'],
    ['foo{a=~"("}', '1:8: parse error: invalid regular expression "("'],
    ['abs(x[5m])', '1:1: parse error: expected type instant vector in call to function "abs", got range vector'],
  ];
  for (const [q, msg] of cases) {
    try {
      parseQuery(q);
      t.fail(`${q} parsed`);
    } catch (e) {
      t.ok(e instanceof QueryError && e.type === 'bad_data', `${q}: bad_data`);
      t.equal((e as Error).message, msg, q);
    }
  }
});
