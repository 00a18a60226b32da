import t from 'tap';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { createLarder } from '../../../src/larder.js';
import { promtoolCheckMetrics } from '../../helpers/peers.js';

type Labels = Record<string, string>;

/** The value of one sample from the registry (getMetricsAsJSON, not our own text). */
async function sample(registry: Registry, metric: string, labels: Labels, sampleName = metric): Promise<number | undefined> {
  const all = await registry.getMetricsAsJSON();
  const m = all.find((x) => x.name === metric);
  const v = (m?.values as { value: number; labels: Labels; metricName?: string }[] | undefined)?.find(
    (s) => (s.metricName ?? metric) === sampleName && Object.entries(labels).every(([k, val]) => String(s.labels[k]) === val) && Object.keys(s.labels).length === Object.keys(labels).length,
  );
  return v?.value;
}

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

t.test('counts, durations, sizes and in-flight by route pattern on a real express server', async (t) => {
  // no process collector: prom-client's nodejs_active_*_total gauges fail promtool's lint, and this test lints only ours
  const larder = createLarder({ collectors: [] });
  const { registry } = larder;
  const app = express();
  app.use(larder.middleware);

  const recipes = Router();
  recipes.get('/recipes/:id', (req, res) => {
    res.json({ id: req.params['id'] });
  });
  recipes.post('/recipes', express.json(), (req, res) => {
    res.status(201).json({ ok: true });
  });
  app.use('/api', recipes);

  const favorites = Router();
  favorites.get('/', (_req, res) => void res.send('fav'));
  app.use('/users/:uid/favorites', favorites);

  const shared = Router();
  shared.get('/items', (_req, res) => void res.send('items'));
  app.use('/v1', shared);
  app.use('/v2', shared);

  app.get('/boom', () => {
    throw new Error('sync failure');
  });
  app.get('/boom-async', async () => {
    await new Promise((r) => setTimeout(r, 5));
    throw new Error('async failure');
  });
  app.get('/teapot', (_req: Request, _res: Response, next: NextFunction) => {
    next(Object.assign(new Error('short and stout'), { status: 418 }));
  });
  let release: () => void = () => {};
  app.get('/slow', async (_req, res) => {
    await new Promise<void>((r) => (release = r));
    res.send('x'.repeat(5000));
  });
  app.get('/stream', (_req, res) => {
    res.type('text/plain');
    for (let i = 0; i < 3; i++) res.write('y'.repeat(1000));
    res.end();
  });
  app.get('/metrics', larder.metricsHandler());
  // express 5's own error handler would print every stack; answer quietly with the error's status
  app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).send('failed');
  });

  const { server, url } = await listen(app);
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));

  for (const id of ['1', '2', '3']) t.equal((await fetch(`${url}/api/recipes/${id}?q=${id}`)).status, 200);
  t.equal((await fetch(`${url}/api/recipes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'soup' }) })).status, 201);
  t.equal((await fetch(`${url}/users/7/favorites`)).status, 200);
  t.equal((await fetch(`${url}/users/8/favorites/`)).status, 200);
  t.equal((await fetch(`${url}/v1/items`)).status, 200);
  t.equal((await fetch(`${url}/v2/items`)).status, 200);
  t.equal((await fetch(`${url}/v2/items`)).status, 200);
  t.equal((await fetch(`${url}/nope/${Math.random()}`)).status, 404);
  t.equal((await fetch(`${url}/also/nope`)).status, 404);
  t.equal((await fetch(`${url}/boom`)).status, 500);
  t.equal((await fetch(`${url}/boom-async`)).status, 500);
  t.equal((await fetch(`${url}/teapot`)).status, 418);

  // one request held open: in flight 1, then back to 0 once it is answered
  const slow = fetch(`${url}/slow`);
  for (let i = 0; i < 100 && (await sample(registry, 'http_requests_in_flight', {})) !== 1; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(await sample(registry, 'http_requests_in_flight', {}), 1, 'one request in flight');
  await new Promise((r) => setTimeout(r, 320));
  release();
  t.equal((await (await slow).text()).length, 5000);
  await new Promise((r) => setTimeout(r, 20));
  t.equal(await sample(registry, 'http_requests_in_flight', {}), 0, 'in flight back to 0');

  const count = (method: string, route: string, code: string) => sample(registry, 'http_requests_total', { method, route, status_code: code });
  t.equal(await count('GET', '/api/recipes/:id', '200'), 3, 'route pattern with its mount prefix, not the raw URL');
  t.equal(await count('POST', '/api/recipes', '201'), 1);
  t.equal(await count('GET', '/users/:uid/favorites', '200'), 2, 'parameters in the mount path stay patterns');
  t.equal(await count('GET', '/v1/items', '200'), 1, 'one router mounted twice: first mount');
  t.equal(await count('GET', '/v2/items', '200'), 2, 'one router mounted twice: second mount');
  t.equal(await count('GET', '<unmatched>', '404'), 2, 'unmatched requests share one route value');
  t.equal(await count('GET', '/boom', '500'), 1, 'sync throw counted with its final status');
  t.equal(await count('GET', '/boom-async', '500'), 1, 'async rejection counted with its final status');
  t.equal(await count('GET', '/teapot', '418'), 1, "an error's own status");
  t.equal(await count('GET', '/slow', '200'), 1);

  const raw = (await registry.getMetricsAsJSON()).find((m) => m.name === 'http_requests_total')!;
  for (const v of raw.values as { labels: Labels }[]) t.notMatch(v.labels['route'], /\/api\/recipes\/\d|\/users\/\d|0\.\d/, `no raw URL in route label: ${v.labels['route']}`);

  const slowLabels = { method: 'GET', route: '/slow', status_code: '200' };
  t.equal(await sample(registry, 'http_request_duration_seconds', slowLabels, 'http_request_duration_seconds_count'), 1);
  t.ok((await sample(registry, 'http_request_duration_seconds', slowLabels, 'http_request_duration_seconds_sum'))! >= 0.3, 'slow request took >= 0.3 s');
  t.equal(await sample(registry, 'http_request_duration_seconds', { ...slowLabels, le: '0.2' }, 'http_request_duration_seconds_bucket'), 0, 'not in the 0.2 s bucket');
  t.equal(await sample(registry, 'http_request_duration_seconds', { ...slowLabels, le: '0.5' }, 'http_request_duration_seconds_bucket'), 1, 'in the 0.5 s bucket');
  t.equal(await sample(registry, 'http_response_size_bytes', slowLabels, 'http_response_size_bytes_sum'), 5000, 'response body bytes');
  t.equal((await (await fetch(`${url}/stream`)).text()).length, 3000);
  await new Promise((r) => setTimeout(r, 20));
  const streamed = (await sample(registry, 'http_response_size_bytes', { method: 'GET', route: '/stream', status_code: '200' }, 'http_response_size_bytes_sum'))!;
  t.ok(streamed >= 3000 && streamed <= 3100, `a streamed (chunked) body is measured from the socket: ${streamed} bytes incl. chunk framing`);
  const postLabels = { method: 'POST', route: '/api/recipes', status_code: '201' };
  t.equal(await sample(registry, 'http_request_size_bytes', postLabels, 'http_request_size_bytes_sum'), JSON.stringify({ title: 'soup' }).length, 'request body bytes');
  t.equal(await sample(registry, 'http_request_duration_seconds', { method: 'GET', route: '/api/recipes/:id', status_code: '200' }, 'http_request_duration_seconds_count'), 3);

  const res = await fetch(`${url}/metrics`);
  t.match(res.headers.get('content-type'), /text\/plain; version=0\.0\.4/);
  const text = await res.text();
  t.match(text, /http_requests_total\{method="GET",route="\/api\/recipes\/:id",status_code="200"\} 3/);
  const check = promtoolCheckMetrics(text);
  t.equal(check.status, 0, `promtool check metrics: ${check.output}`);
  t.equal(check.output, '', 'promtool reports nothing');
  const om = await fetch(`${url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
  t.match(await om.text(), /# EOF\n$/);
});

t.test('a client that goes away is counted as 499 and leaves in-flight at 0', async (t) => {
  const larder = createLarder();
  const app = express();
  app.use(larder.middleware);
  app.get('/hang', (_req, res) => {
    setTimeout(() => {
      if (!res.destroyed) res.send('late');
    }, 2000).unref();
  });
  const { server, url } = await listen(app);
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const ac = new AbortController();
  const pending = fetch(`${url}/hang`, { signal: ac.signal }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 100));
  ac.abort();
  await pending;
  let code: number | undefined;
  for (let i = 0; i < 100 && code === undefined; i++) {
    await new Promise((r) => setTimeout(r, 10));
    code = await sample(larder.registry, 'http_requests_total', { method: 'GET', route: '/hang', status_code: '499' });
  }
  t.equal(code, 1);
  t.equal(await sample(larder.registry, 'http_requests_in_flight', {}), 0);
});

t.test('bad bucket settings are refused with the metric named', async (t) => {
  t.throws(() => createLarder({ app: { httpDurationBuckets: [0.1, 0.05] } }).middleware, /http_request_duration_seconds: buckets must increase strictly, but 0.05 follows 0.1/);
  t.throws(() => createLarder({ app: { httpSizeBuckets: [] } }).middleware, /http_request_size_bytes: buckets must be a non-empty list/);
  const custom = createLarder({ app: { httpDurationBuckets: [0.5, 1] } });
  const app = express();
  app.use(custom.middleware);
  app.get('/x', (_req, res) => void res.send('x'));
  const { server, url } = await listen(app);
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  await fetch(`${url}/x`);
  await new Promise((r) => setTimeout(r, 20));
  const h = (await custom.registry.getMetricsAsJSON()).find((m) => m.name === 'http_request_duration_seconds')!;
  t.same([...new Set((h.values as { labels: Labels }[]).map((v) => v.labels['le']).filter((x) => x !== undefined))], ['0.5', '1', '+Inf']);
});

t.test('HTTP label sets obey the cardinality limit and expire together', async (t) => {
  const { Registry } = await import('prom-client');
  const { SeriesGuard } = await import('../../../exporters/guard/series-guard.js');
  const { createHttpMetrics } = await import('../../../exporters/http/middleware.js');
  const registry = new Registry();
  let now = 1_000_000;
  const guard = new SeriesGuard({ registry, limit: 2, expireAfter: 60_000, now: () => now });
  const http = createHttpMetrics({ guard });
  const app = express();
  app.use(http.middleware);
  for (const p of ['/a', '/b', '/c']) app.get(p, (_req, res) => void res.send(p));
  const { server, url } = await listen(app);
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const hit = async (p: string) => {
    await (await fetch(`${url}${p}`)).text();
    await new Promise((r) => setTimeout(r, 10));
  };
  await hit('/a');
  await hit('/b');
  await hit('/c'); // third label set: over the limit of 2
  await hit('/a');
  t.equal(await sample(registry, 'http_requests_total', { method: 'GET', route: '/a', status_code: '200' }), 2);
  t.equal(await sample(registry, 'http_requests_total', { method: 'GET', route: '/c', status_code: '200' }), undefined, 'the label set past the limit is dropped');
  t.equal(await sample(registry, 'http_request_duration_seconds', { method: 'GET', route: '/c', status_code: '200' }, 'http_request_duration_seconds_count'), undefined, 'from every HTTP metric');
  t.equal(await sample(registry, 'larder_dropped_series_total', { metric: 'http_requests_total' }), 1);
  now += 30_000;
  await hit('/b');
  now += 40_000; // /a idle 70 s, /b idle 40 s
  t.equal(guard.sweep(), 1);
  t.equal(await sample(registry, 'http_requests_total', { method: 'GET', route: '/a', status_code: '200' }), undefined, 'the idle route expired');
  t.equal(await sample(registry, 'http_response_size_bytes', { method: 'GET', route: '/a', status_code: '200' }, 'http_response_size_bytes_count'), undefined, 'from every HTTP metric');
  t.equal(await sample(registry, 'http_requests_total', { method: 'GET', route: '/b', status_code: '200' }), 2);
  await hit('/c'); // room again
  t.equal(await sample(registry, 'http_requests_total', { method: 'GET', route: '/c', status_code: '200' }), 1);
  t.equal(http.inFlight(), 0);
});
