/**
 * The Prometheus query API on a real server over a real SQLite store, evaluated by
 * the real engine. The requests are the ones Grafana's Prometheus data source sends
 * (Grafana 11/12, default POST method): "Save & test" (`query=1+1`, buildinfo), the
 * metric browser and `label_values(up, job)` variables, `$__rate_interval` range
 * queries and exemplars; then bad input, limits, auth and a store that is not open.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Registry } from 'prom-client';
import { CollectorSet } from '../../../exporters/collector-set.js';
import { Logger, silentLogger } from '../../../src/log.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { Authenticator } from '../../../src/web-auth.js';
import { createPromApi, PROMETHEUS_API_VERSION } from '../../../src/api/prom-api.js';
import { createQueryEngine } from '../../../query/engine.js';
import { openSqliteStore } from '../../../storage/sqlite-store.js';
import type { Store } from '../../../storage/store.js';
import { tempDir } from '../../storage/fixtures/stores.js';

const T0 = Date.UTC(2026, 11, 3, 12);
const STEP = 15_000;
const POINTS = 240; // one hour at 15 s
const END = T0 + (POINTS - 1) * STEP;

/** One hour of `up`, `down` (same labels as up) and a counter growing 2 per second on two routes. */
async function fill(store: Store): Promise<void> {
  const ids = await store.resolveSeries([
    { name: 'up', labels: { job: 'larder', instance: 'host-a' }, type: 'gauge', help: 'Whether the target is up.' },
    { name: 'down', labels: { job: 'larder', instance: 'host-a' }, type: 'gauge', help: 'Test gauge.' },
    { name: 'http_requests_total', labels: { job: 'larder', route: '/a' }, type: 'counter', help: 'Requests.' },
    { name: 'http_requests_total', labels: { job: 'larder', route: '/b' }, type: 'counter', help: 'Requests.' },
  ]);
  const samples = [];
  for (let i = 0; i < POINTS; i++) {
    const ts = T0 + i * STEP;
    samples.push({ seriesId: ids[0]!, timeMs: ts, value: 1 }, { seriesId: ids[1]!, timeMs: ts, value: 0 });
    samples.push({ seriesId: ids[2]!, timeMs: ts, value: i * 30 }, { seriesId: ids[3]!, timeMs: ts, value: i * 15 });
  }
  await store.writeSamples(samples);
}

async function serve(t: Test, opts: { store?: Store | undefined; auth?: Authenticator } = {}): Promise<RunningServer> {
  const registry = new Registry();
  const collectors = new CollectorSet({ registry, options: { procfs: '/proc', sysfs: '/sys', textfileDirectory: '' }, log: silentLogger, now: Date.now }, [], { interval: 60_000, slowInterval: 60_000, timeout: 1000 });
  // a Logger at 'error': a failure of ours shows in the test output
  const api = createPromApi({ store: () => opts.store, createEngine: (s) => createQueryEngine(s, { timeoutMs: 10_000 }), log: new Logger('error'), timeoutMs: 10_000, now: () => END });
  const server = await startServer(
    { registry, collectors, auth: opts.auth ?? new Authenticator({ basicAuthUsers: {} }, undefined), log: silentLogger, maxRequests: 40, api },
    { host: '127.0.0.1', port: 0 },
  );
  t.teardown(() => server.close());
  return server;
}

interface Envelope {
  status: string;
  data?: unknown;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

async function get(server: RunningServer, path: string, init?: RequestInit): Promise<{ status: number; body: Envelope; type: string }> {
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Envelope };
}

/** A form-encoded POST, as Grafana sends with its default `httpMethod: POST`. */
function post(server: RunningServer, path: string, form: [string, string][]): Promise<{ status: number; body: Envelope; type: string }> {
  return get(server, path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
}

const sec = (ms: number): string => String(ms / 1000);

t.test('Grafana against the API', async (t) => {
  const store = await openSqliteStore({ path: join(tempDir(t), 'api.db'), now: () => END });
  t.teardown(() => store.close());
  await fill(store);
  const server = await serve(t, { store });

  await t.test('Save & test: query=1+1 and buildinfo', async (t) => {
    const r = await post(server, '/api/v1/query', [['query', '1+1'], ['time', sec(END)]]);
    t.equal(r.status, 200);
    t.match(r.type, /application\/json/);
    t.same(r.body, { status: 'success', data: { resultType: 'scalar', result: [END / 1000, '2'] } });
    const b = await get(server, '/api/v1/status/buildinfo');
    t.equal(b.status, 200);
    t.match(b.body.data, { version: PROMETHEUS_API_VERSION, larderVersion: /^\d+\.\d+\.\d+/ });
    t.notOk((b.body.data as Record<string, unknown>).application, 'no application member: Grafana would take it for Mimir');
  });

  await t.test('metric browser and label_values(up, job)', async (t) => {
    const range: [string, string][] = [['start', sec(T0)], ['end', sec(END)]];
    const names = await get(server, `/api/v1/label/__name__/values?start=${sec(T0)}&end=${sec(END)}`);
    t.same(names.body, { status: 'success', data: ['down', 'http_requests_total', 'up'] });
    const labels = await post(server, '/api/v1/labels', [...range, ['match[]', 'up']]);
    t.same(labels.body.data, ['__name__', 'instance', 'job']);
    const jobs = await get(server, `/api/v1/label/job/values?match[]=up&start=${sec(T0)}&end=${sec(END)}`);
    t.same(jobs.body.data, ['larder']);
    const routes = await get(server, `/api/v1/label/route/values?match[]=${encodeURIComponent('http_requests_total{job="larder"}')}`);
    t.same(routes.body.data, ['/a', '/b']);
    const series = await post(server, '/api/v1/series', [...range, ['match[]', 'http_requests_total'], ['match[]', 'up']]);
    t.equal(series.status, 200);
    t.same(
      (series.body.data as Record<string, string>[]).map((s) => JSON.stringify(s)).sort(),
      // JSON.stringify keeps key order: this also checks that labels come sorted
      [
        { __name__: 'http_requests_total', job: 'larder', route: '/a' },
        { __name__: 'http_requests_total', job: 'larder', route: '/b' },
        { __name__: 'up', instance: 'host-a', job: 'larder' },
      ].map((s) => JSON.stringify(s)).sort(),
    );
    const meta = await get(server, '/api/v1/metadata');
    t.match(meta.body.data, { up: [{ type: 'gauge', help: 'Whether the target is up.', unit: '' }], http_requests_total: [{ type: 'counter' }] });
    const one = await get(server, '/api/v1/metadata?metric=up');
    t.same(Object.keys(one.body.data as object), ['up']);
  });

  await t.test('a $__rate_interval range query, and an instant sum by', async (t) => {
    // Grafana expands $__rate_interval to max(4 × scrape interval, interval + scrape interval) = 1m here
    const r = await post(server, '/api/v1/query_range', [['query', 'sum by (route) (rate(http_requests_total[1m]))'], ['start', sec(T0 + 600_000)], ['end', sec(END)], ['step', '60']]);
    t.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    const data = r.body.data as { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
    t.equal(data.resultType, 'matrix');
    const byRoute = new Map(data.result.map((s) => [s.metric.route, s.values]));
    t.same([...byRoute.keys()].sort(), ['/a', '/b']);
    t.equal(byRoute.get('/a')!.length, 50, 'one point per step from start to end inclusive');
    const off = (route: string, want: number): string[] =>
      byRoute.get(route)!.filter(([ts, v]) => typeof ts !== 'number' || Math.abs(Number(v) - want) > 1e-9).map(([ts, v]) => `${ts}: ${v}`);
    t.same(off('/a', 2), [], 'rate of /a is 2/s at every step');
    t.same(off('/b', 1), [], 'rate of /b is 1/s at every step');

    const inst = await get(server, `/api/v1/query?query=${encodeURIComponent('sum(up)')}&time=${sec(END)}`);
    t.same(inst.body, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [END / 1000, '1'] }] } });
    const rfc = await get(server, `/api/v1/query?query=up&time=${new Date(END).toISOString()}`);
    t.equal((rfc.body.data as { result: unknown[] }).result.length, 1, 'RFC 3339 time accepted');
    const ex = await get(server, `/api/v1/query_exemplars?query=up&start=${sec(T0)}&end=${sec(END)}`);
    t.same(ex.body, { status: 'success', data: [] });
  });

  await t.test('bad input: Prometheus error types, status codes and positions', async (t) => {
    const cases: [string, number, string, RegExp][] = [
      ['/api/v1/query?query=rate(', 400, 'bad_data', /^invalid parameter "query": 1:6: parse error: unclosed left parenthesis$/],
      ['/api/v1/query?query=no_such_function(up)', 400, 'bad_data', /^invalid parameter "query": 1:1: parse error: unknown function with name "no_such_function"$/],
      [`/api/v1/query_range?query=rate(&start=${sec(T0)}&end=${sec(END)}&step=15`, 400, 'bad_data', /^invalid parameter "query": 1:6: parse error/],
      [`/api/v1/query_range?query=up%5B5m%5D&start=${sec(T0)}&end=${sec(END)}&step=15`, 400, 'bad_data', /^invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector$/],
      ['/api/v1/query?query=up&time=yesterday', 400, 'bad_data', /^invalid parameter "time": invalid time value for 'time': cannot parse "yesterday" to a valid timestamp$/],
      [`/api/v1/query_range?query=up&start=soon&end=${sec(END)}&step=15`, 400, 'bad_data', /^invalid parameter "start": cannot parse "soon" to a valid timestamp$/],
      ['/api/v1/series?match[]=up&end=later', 400, 'bad_data', /^invalid parameter "end": invalid time value for 'end': cannot parse "later" to a valid timestamp$/],
      ['/api/v1/series?match[]=' + encodeURIComponent('up{'), 400, 'bad_data', /^invalid parameter "match\[\]": 1:4: parse error: unexpected end of input inside braces$/],
      [`/api/v1/query_range?query=up&start=${sec(END)}&end=${sec(T0)}&step=15`, 400, 'bad_data', /^invalid parameter "end": end timestamp must not be before start time$/],
      [`/api/v1/query_range?query=up&start=${sec(T0)}&end=${sec(END)}&step=0`, 400, 'bad_data', /^invalid parameter "step": zero or negative query resolution step/],
      [`/api/v1/query_range?query=up&start=0&end=${sec(END)}&step=1`, 400, 'bad_data', /exceeded maximum resolution of 11,000 points per timeseries/],
      [`/api/v1/query_range?query=up&start=${sec(T0)}&end=${sec(END)}`, 400, 'bad_data', /invalid parameter "step"/],
      ['/api/v1/series', 400, 'bad_data', /no match\[\] parameter provided/],
      ['/api/v1/series?match[]=up&limit=-1', 400, 'bad_data', /limit must be non-negative/],
      ['/api/v1/label/bad-name/values', 400, 'bad_data', /invalid label name: "bad-name"/],
      ['/api/v1/series?match[]=' + encodeURIComponent('{job=~"("}'), 400, 'bad_data', /./],
      ['/api/v1/query?query=' + encodeURIComponent('{__name__=~"up|down"} * 2') + `&time=${sec(END)}`, 422, 'execution', /vector cannot contain metrics with the same labelset/],
      ['/api/v1/no_such_endpoint', 404, 'not_found', /unknown API endpoint/],
    ];
    for (const [path, status, type, message] of cases) {
      const r = await get(server, path);
      t.equal(r.status, status, `${path} → ${status} (${r.body.error})`);
      t.equal(r.body.status, 'error', path);
      t.equal(r.body.errorType, type, path);
      t.match(r.body.error, message, path);
    }
    const long = await post(server, '/api/v1/query', [['query', `${'1+'.repeat(40_000)}1`]]);
    t.equal(long.status, 400, 'a query over 64 KiB is refused');
    t.match(long.body.error, /longer than 65536 characters/);
  });

  await t.test('an end before the start: nothing, as Prometheus answers, not an error', async (t) => {
    for (const path of [`/api/v1/series?match[]=up&start=${sec(END)}&end=${sec(T0)}`, `/api/v1/labels?start=${sec(END)}&end=${sec(T0)}`, `/api/v1/label/job/values?start=${sec(END)}&end=${sec(T0)}`]) {
      const r = await get(server, path);
      t.same([r.status, r.body], [200, { status: 'success', data: [] }], path);
    }
    const full = await get(server, `/api/v1/series?match[]=up&start=${sec(T0)}&end=${sec(END)}`);
    t.ok((full.body.data as unknown[]).length > 0, 'the same range the right way round finds up');
  });

  await t.test('limit truncates with Prometheus\' warning', async (t) => {
    const r = await get(server, '/api/v1/label/__name__/values?limit=2');
    t.same(r.body, { status: 'success', data: ['down', 'http_requests_total'], warnings: ['results truncated due to limit'] });
    const huge = await get(server, '/api/v1/label/__name__/values?limit=999999999999999999999');
    t.same(huge.body.data, ['down', 'http_requests_total', 'up']);
  });

  await t.test('the scrape still answers while a query runs', async (t) => {
    const [q, m] = await Promise.all([
      get(server, `/api/v1/query_range?query=${encodeURIComponent('rate(http_requests_total[5m])')}&start=${sec(T0)}&end=${sec(END)}&step=15`),
      fetch(`${server.url}/metrics`),
    ]);
    t.equal(q.status, 200);
    t.equal(m.status, 200);
  });
});

t.test('a store not open yet: 503 unavailable, saying why', async (t) => {
  const server = await serve(t, { store: undefined });
  const r = await get(server, '/api/v1/query?query=1');
  t.equal(r.status, 503);
  t.equal(r.body.errorType, 'unavailable');
  t.match(r.body.error, /the store is not open/);
});

t.test('the API sits behind the same auth as /metrics', async (t) => {
  const hash = bcrypt.hashSync('s3cret-pass', 4);
  const store = await openSqliteStore({ path: join(tempDir(t), 'auth.db'), now: () => END });
  t.teardown(() => store.close());
  const server = await serve(t, { store, auth: new Authenticator({ basicAuthUsers: { grafana: hash } }, undefined) });
  const denied = await fetch(`${server.url}/api/v1/query?query=1`);
  t.equal(denied.status, 401);
  const deniedPost = await fetch(`${server.url}/api/v1/labels`, { method: 'POST' });
  t.equal(deniedPost.status, 401);
  const ok = await get(server, '/api/v1/query?query=1', { headers: { authorization: `Basic ${Buffer.from('grafana:s3cret-pass').toString('base64')}` } });
  t.equal(ok.status, 200);
  t.equal(ok.body.status, 'success');
});
