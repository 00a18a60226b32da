/**
 * `/api/v1/format_query` and `/api/v1/parse_query` as Prometheus 3 answers them: the
 * canonical text of its printer (split over lines by its prettier past 100 characters)
 * and the JSON tree of its `translateAST`; over a real server, by GET and form POST,
 * with no store open (they only parse), and a parse error as Prometheus words it.
 */
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { CollectorSet } from '../../../exporters/collector-set.js';
import { Logger, silentLogger } from '../../../src/log.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { Authenticator } from '../../../src/web-auth.js';
import { createPromApi } from '../../../src/api/prom-api.js';
import { createQueryEngine } from '../../../query/engine.js';
import { exprString, formatFloat, formatPromDuration, prettyExpr } from '../../../query/format.js';
import { parseQuery } from '../../../query/parse.js';

t.test('the printer: Prometheus String() forms', async (t) => {
  const cases: [string, string][] = [
    ['sum(rate(foo{job="a",instance=~"b.*"}[5m])) by (job)', 'sum by (job) (rate(foo{instance=~"b.*",job="a"}[5m]))'],
    ['a + on(x) group_left(y) b', 'a + on (x) group_left (y) b'],
    ['a * ignoring(x) b', 'a * ignoring (x) b'],
    ['a and b', 'a and b'],
    ['foo offset 1h30m @ 100', 'foo @ 100.000 offset 1h30m'],
    ['foo[5m] @ end() offset -1d', 'foo[5m] @ end() offset -1d'],
    ['rate(x[5m:30s] offset 90m)', 'rate(x[5m:30s] offset 1h30m)'],
    ['x[5m:]', 'x[5m:]'],
    ['-foo', '-foo'],
    ['1e30 + 0.000001 - 1e-7', '1000000000000000000000000000000 + 0.000001 - 0.0000001'],
    ['topk(5, x) > bool 1', 'topk(5, x) > bool 1'],
    ['{__name__="foo", a="b"}', '{__name__="foo",a="b"}'],
    ['label_join(up, "new", ",", "a", "b")', 'label_join(up, "new", ",", "a", "b")'],
    ['count_values without() ("v", x)', 'count_values without () ("v", x)'],
    ['sum by () (x)', 'sum(x)'],
    ['"a\\tb"', '"a\\tb"'],
  ];
  for (const [q, want] of cases) t.equal(exprString(parseQuery(q)), want, q);
  t.equal(formatPromDuration(90 * 86_400_000), '90d', 'weeks only when exact');
  t.equal(formatPromDuration(14 * 86_400_000), '2w');
  t.equal(formatPromDuration(1500), '1s500ms');
  t.equal(formatFloat(Infinity), '+Inf');
  t.equal(formatFloat(-2.5e22), '-25000000000000000000000');
});

t.test('the prettier: split past 100 characters, children indented by two spaces', async (t) => {
  t.equal(prettyExpr(parseQuery('rate(foo[5m])')), 'rate(foo[5m])', 'short: one line');
  t.equal(
    prettyExpr(parseQuery('histogram_quantile(0.9, sum by (le, job, instance, handler) (rate(prometheus_http_request_duration_seconds_bucket{job="prometheus"}[5m])))')),
    [
      'histogram_quantile(',
      '  0.9,',
      '  sum by (le, job, instance, handler) (',
      '    rate(prometheus_http_request_duration_seconds_bucket{job="prometheus"}[5m])',
      '  )',
      ')',
    ].join('\n'),
  );
  t.equal(
    prettyExpr(parseQuery('sum by (job) (rate(http_requests_total{job="api-server",handler="/api/comments",method="GET",code="200"}[5m])) / on (job) group_left () sum by (job) (rate(http_requests_total{job="api-server"}[5m]))')),
    [
      '  sum by (job) (',
      '    rate(http_requests_total{code="200",handler="/api/comments",job="api-server",method="GET"}[5m])',
      '  )',
      '/ on (job) group_left ()',
      '  sum by (job) (rate(http_requests_total{job="api-server"}[5m]))',
    ].join('\n'),
    'a binary expression: operands indented, the operator and its matching on their own line',
  );
});

interface Envelope {
  status: string;
  data?: unknown;
  errorType?: string;
  error?: string;
}

async function serve(t: Test): Promise<RunningServer> {
  const registry = new Registry();
  const collectors = new CollectorSet({ registry, options: { procfs: '/proc', sysfs: '/sys', textfileDirectory: '' }, log: silentLogger, now: Date.now }, [], { interval: 60_000, slowInterval: 60_000, timeout: 1000 });
  const api = createPromApi({ store: () => undefined, createEngine: (s) => createQueryEngine(s, { timeoutMs: 10_000 }), log: new Logger('error'), timeoutMs: 10_000 });
  const server = await startServer({ registry, collectors, auth: new Authenticator({ basicAuthUsers: {} }, undefined), log: silentLogger, maxRequests: 40, api }, { host: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  return server;
}

async function call(server: RunningServer, path: string, init?: RequestInit): Promise<{ status: number; body: Envelope }> {
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as Envelope };
}

t.test('over HTTP, with no store open', async (t) => {
  const server = await serve(t);
  const q = 'sum(rate(foo{job="a"}[5m] @ start())) by (job) + on(x) bar offset 5m';
  const f = await call(server, `/api/v1/format_query?query=${encodeURIComponent(q)}`);
  t.same(f, { status: 200, body: { status: 'success', data: 'sum by (job) (rate(foo{job="a"}[5m] @ start())) + on (x) bar offset 5m' } });
  const p = await call(server, '/api/v1/parse_query', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams([['query', q]]).toString() });
  t.equal(p.status, 200);
  t.same(p.body, {
    status: 'success',
    data: {
      type: 'binaryExpr',
      op: '+',
      lhs: {
        type: 'aggregation',
        op: 'sum',
        expr: {
          type: 'call',
          func: { name: 'rate', argTypes: ['matrix'], variadic: 0, returnType: 'vector' },
          args: [
            {
              type: 'matrixSelector',
              name: 'foo',
              range: 300_000,
              offset: 0,
              matchers: [{ name: 'job', value: 'a', type: '=' }, { name: '__name__', value: 'foo', type: '=' }],
              timestamp: null,
              startOrEnd: 'start',
              anchored: false,
              smoothed: false,
            },
          ],
        },
        param: null,
        grouping: ['job'],
        without: false,
      },
      rhs: { type: 'vectorSelector', name: 'bar', offset: 300_000, matchers: [{ name: '__name__', value: 'bar', type: '=' }], timestamp: null, startOrEnd: null, anchored: false, smoothed: false },
      matching: { card: 'one-to-one', labels: ['x'], on: true, include: [], fillValues: { lhs: null, rhs: null } },
      bool: false,
    },
  });
  const lit = await call(server, `/api/v1/parse_query?query=${encodeURIComponent('round(-x, 0.5) > bool 1e21')}`);
  t.match(lit.body.data, {
    lhs: { type: 'call', func: { name: 'round', argTypes: ['vector', 'scalar'], variadic: 1, returnType: 'vector' }, args: [{ type: 'unaryExpr', op: '-' }, { type: 'numberLiteral', val: '0.5' }] },
    rhs: { type: 'numberLiteral', val: '1000000000000000000000' },
    matching: null,
    bool: true,
  }, 'a scalar operand: no vector matching, as Prometheus');

  for (const path of ['format_query', 'parse_query']) {
    const bad = await call(server, `/api/v1/${path}?query=${encodeURIComponent('sum(foo')}`);
    t.equal(bad.status, 400, `${path}: a parse error is a 400`);
    t.equal(bad.body.errorType, 'bad_data');
    t.match(bad.body.error, /^invalid parameter "query": 1:\d+: parse error: /, 'worded as Prometheus, with the position');
  }
});
