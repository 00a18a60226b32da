/**
 * Every PromQL target and variable of the Prometheus dashboards against a real Prometheus
 * scraping a running `larder serve` (host, process and Larder's own metrics) and the
 * recipes example under synthetic traffic (HTTP, database, Redis, business metrics).
 * A target whose selectors all have series on this machine must return series; the
 * others (no PSI, no cgroup limits, no 5xx, …) are listed, not failed.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { generateTraffic, startRecipes } from '../../examples/recipes/server.js';
import { grafanaDir } from '../../grafana/generate.js';
import { DASHBOARDS } from '../../grafana/definitions/index.js';
import { need } from '../helpers/peers.js';
import { freePort, startPrometheus } from '../helpers/prometheus.js';
import { startLarderProcess } from '../helpers/larder-process.js';
import { allPanels, selectors, variableExpr, type Dash } from './lint-rules.js';

/** Grafana's variables for "All" and a 1 s scrape interval ($__rate_interval = max(4 × scrape, …)). */
const fill = (e: string): string => e.replace(/\$__rate_interval/g, '5s').replace(/\$__range/g, '30s').replace(/\$job|\$instance/g, '.+');

t.test('Prometheus dashboards against a real Prometheus scraping Larder and the example service', async (t) => {
  if (!(await need(t, 'prometheus')) || !(await need(t, 'postgres')) || !(await need(t, 'redis'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'larder-promql-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const larder = await startLarderProcess(await freePort(), [], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'monitoring.db'), LARDER_SPOOL_PATH: '', LARDER_RECORD_INTERVAL: '1s', LARDER_COLLECT_INTERVAL: '1s' });
  t.teardown(() => larder.stop());
  const service = await startRecipes({ port: 0, larderArgs: ['--log.level=warn', '--storage.engine=none'] });
  t.teardown(() => service.stop());
  const stopTraffic = generateTraffic(service.url, 40);
  t.teardown(stopTraffic);
  const prom = await startPrometheus([
    { job: 'larder', targets: [larder.url.replace('http://', '')] },
    { job: 'recipes', targets: [service.url.replace('http://', '')] },
  ]);
  t.teardown(() => prom.stop());
  await prom.waitFor('up == 1', 2, 30_000);
  await prom.waitFor('rate(http_requests_total[5s]) > 0', 1, 30_000);

  const runnable: string[] = [];
  const absent: string[] = [];
  for (const def of DASHBOARDS) {
    const d = JSON.parse(readFileSync(join(grafanaDir(), 'dashboards', 'prometheus', `${def.key}.json`), 'utf8')) as Dash;
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      const q = (v.query as { query: string }).query;
      const expr = fill(variableExpr(q)!);
      const result = await prom.waitFor(expr, 1, 15_000);
      if (q.startsWith('query_result(')) {
        // Grafana's text of each series, then the variable's regex: value = instance, text = nodename.
        const re = new RegExp(String(v.regex).slice(1, -1));
        const picked = result.map((r) => re.exec(`node_uname_info{${Object.entries(r.metric).filter(([k]) => k !== '__name__').map(([k, val]) => `${k}="${val}"`).join(', ')}} ${r.value[1]} ${r.value[0]}`)?.groups);
        t.ok(picked.length > 0 && picked.every((g) => g?.['value'] === larder.url.replace('http://', '') && typeof g?.['text'] === 'string' && g['text'] !== ''), `${def.key}: the host picker shows ${picked.map((g) => g?.['text']).join(', ')} and selects the instance`);
      } else t.ok(result.length > 0, `${def.key}: variable ${v.name} has values`);
    }
    for (const p of allPanels(d)) {
      for (const target of p.targets ?? []) {
        if (!target.expr) continue;
        const what = `${def.key} / ${p.title} ${target.refId}`;
        const expr = fill(target.expr);
        const missing: string[] = [];
        for (const s of selectors(target.expr)) {
          const sel = fill(`${s.name}{${s.matchers}}`);
          if ((await prom.query(`count(${sel})`)).length === 0) missing.push(sel);
        }
        if (missing.length > 0) {
          absent.push(`${what} (${missing.join(', ')})`);
          continue;
        }
        runnable.push(what);
        try {
          await prom.waitFor(expr, 1, 15_000);
        } catch (err) {
          t.fail(`${what}: ${(err as Error).message}`);
        }
      }
    }
  }
  t.comment(`not on this machine: ${absent.join('; ') || 'none'}`);
  t.ok(runnable.length >= 50, `${runnable.length} targets returned series; ${absent.length} read metrics this machine does not have`);
  for (const key of ['host / CPU busy A', 'nodejs / Event-loop lag p99 A', 'nodejs / Event-loop utilisation A', 'nodejs / Request duration by route B', 'nodejs / Database queries A', 'nodejs / Redis commands A', 'business / Searches per minute A', 'larder / Samples written A']) {
    t.ok(runnable.includes(key), `${key} ran against real data`);
  }
});
