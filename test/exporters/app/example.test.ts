/**
 * The recipes example under a real Prometheus: it scrapes the example's own /metrics
 * while synthetic users drive it, and computes the p95 request latency from the
 * histogram with histogram_quantile.
 */
import t from 'tap';
import { generateTraffic, startRecipes } from '../../../examples/recipes/server.js';
import { need, promtoolCheckMetrics } from '../../helpers/peers.js';
import { startPrometheus } from '../../helpers/prometheus.js';

t.test('Prometheus computes histogram_quantile(0.95) over the example service', async (t) => {
  if (!(await need(t, 'postgres')) || !(await need(t, 'redis')) || !(await need(t, 'prometheus'))) return;
  const service = await startRecipes({ port: 0, larderArgs: ['--log.level=warn', '--storage.engine=none'] });
  t.teardown(() => service.stop());
  const stopTraffic = generateTraffic(service.url, 40);
  t.teardown(stopTraffic);
  const prom = await startPrometheus([{ job: 'recipes', targets: [service.url.replace('http://', '')] }]);
  t.teardown(() => prom.stop());

  const expr = 'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="recipes",route="/api/recipes/:id"}[5s])))';
  const deadline = Date.now() + 30_000;
  let p95 = NaN;
  while (Date.now() < deadline) {
    const r = await prom.query(expr);
    p95 = r.length ? Number(r[0]!.value[1]) : NaN;
    if (Number.isFinite(p95)) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  t.ok(Number.isFinite(p95) && p95 > 0 && p95 < 1, `p95 of GET /api/recipes/:id is a finite latency (${p95} s)`);

  const byRoute = await prom.waitFor('sum by (route, status_code) (http_requests_total{job="recipes"})', 3);
  const routes = new Set(byRoute.map((r) => r.metric['route']));
  for (const route of ['/api/users', '/api/recipes', '/api/recipes/:id', '/api/recipes/search']) t.ok(routes.has(route), `Prometheus sees route ${route}`);
  t.ok(byRoute.some((r) => r.metric['route'] === '/api/recipes/:id' && r.metric['status_code'] === '404'), 'and the 404s of missing recipes');
  t.ok((await prom.waitFor('db_queries_total{job="recipes",operation="SELECT",status="ok"}')).length > 0, 'database metrics scraped');
  t.ok((await prom.waitFor('redis_commands_total{job="recipes",command="GET"}')).length > 0, 'redis metrics scraped');
  t.ok((await prom.waitFor('user_registrations_total{job="recipes"} > 0')).length > 0, 'business metrics scraped');

  const text = await (await fetch(`${service.url}/metrics`)).text();
  const own = text.split('\n').filter((l) => !/^(# (HELP|TYPE) )?(nodejs|process)_/.test(l)).join('\n');
  const check = promtoolCheckMetrics(own);
  t.equal(check.status, 0, `promtool on the application metrics: ${check.output}`);
});
