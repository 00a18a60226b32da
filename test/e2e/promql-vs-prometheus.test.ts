/**
 * Larder's PromQL side by side with a real Prometheus (Debian's 2.x): both scrape the
 * same target every second, Larder into its SQLite store through `larder serve`, and
 * the same range queries go to both APIs.
 *
 * The target's counters grow linearly with time (and its gauges are constant), so an
 * answer does not depend on the moment each scraper happened to sample: rates,
 * ratios and quantiles are the same for any phase. Each sample carries the time the
 * target computed it (both scrapers honour exposed timestamps by default): a scraper's
 * own timestamp is taken when its scrape starts, and on a loaded machine the answer
 * came tens of milliseconds later (a CI run read rates 0.55 % apart over a 10 s
 * window). Values must agree within 0.5 % relative. The compared window starts 20 s after
 * both began and ends 3 s before the last scrape, and every range selector is 10 s
 * wide (10 samples): far from the edges where Prometheus 2.x (left-closed ranges) and 3.x
 * (left-open) differ, since no sample falls exactly on a window boundary.
 */
import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { need } from '../helpers/peers.js';
import { freePort, startPrometheus } from '../helpers/prometheus.js';
import { startLarderProcess } from '../helpers/larder-process.js';
import { tempDir } from '../storage/fixtures/stores.js';

/** Rates per second of the linear counters, by route and code. */
const RATES: [string, string, number][] = [
  ['/a', '200', 10],
  ['/a', '500', 1],
  ['/b', '200', 4],
];
/** Cumulative share of requests per latency bucket. */
const BUCKETS: [string, number][] = [
  ['0.1', 0.5],
  ['0.5', 0.8],
  ['1', 0.9],
  ['+Inf', 1],
];

/** The deterministic target: everything is a function of the seconds since it started. */
function target(): Promise<Server> {
  const t0 = Date.now();
  const server = createServer((_req, res) => {
    const now = Date.now();
    const s = (now - t0) / 1000 + 100; // +100: counters are far from zero, no zero-point clamping
    const lines = ['# TYPE demo_requests_total counter'];
    for (const [route, code, rate] of RATES) lines.push(`demo_requests_total{route="${route}",code="${code}"} ${rate * s}`);
    lines.push('# TYPE demo_temperature_celsius gauge', 'demo_temperature_celsius{room="x"} 21.5', 'demo_temperature_celsius{room="y"} 19');
    lines.push('# TYPE demo_route_info gauge', 'demo_route_info{route="/a",owner="web"} 1', 'demo_route_info{route="/b",owner="api"} 1');
    lines.push('# TYPE demo_latency_seconds histogram');
    for (const route of ['/a', '/b']) {
      const n = route === '/a' ? 11 : 4;
      for (const [le, share] of BUCKETS) lines.push(`demo_latency_seconds_bucket{route="${route}",le="${le}"} ${n * share * s}`);
      lines.push(`demo_latency_seconds_sum{route="${route}"} ${n * 0.3 * s}`, `demo_latency_seconds_count{route="${route}"} ${n * s}`);
    }
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    // every sample at the time its value was computed
    res.end(lines.map((l) => (l.startsWith('#') ? l : `${l} ${now}`)).join('\n') + '\n');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

type Matrix = { metric: Record<string, string>; values: [number, string][] }[];

async function rangeQuery(base: string, query: string, startS: number, endS: number, stepS: number): Promise<Matrix> {
  const body = new URLSearchParams({ query, start: String(startS), end: String(endS), step: String(stepS) });
  const res = await fetch(`${base}/api/v1/query_range`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const json = (await res.json()) as { status: string; error?: string; data: { result: Matrix } };
  if (json.status !== 'success') throw new Error(`${base}: ${query}: ${json.error}`);
  return json.data.result;
}

const key = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));

/** Differences between two matrices: series present on one side only, and values further apart than `rel`. */
function compare(larder: Matrix, prom: Matrix, rel: number): string[] {
  const out: string[] = [];
  const theirs = new Map(prom.map((s) => [key(s.metric), s.values]));
  const ours = new Map(larder.map((s) => [key(s.metric), s.values]));
  for (const k of theirs.keys()) if (!ours.has(k)) out.push(`missing in Larder: ${k}`);
  for (const [k, values] of ours) {
    const other = theirs.get(k);
    if (!other) {
      out.push(`only in Larder: ${k}`);
      continue;
    }
    const at = new Map(other.map(([ts, v]) => [ts, Number(v)]));
    if (values.length !== other.length) out.push(`${k}: ${values.length} points in Larder, ${other.length} in Prometheus`);
    for (const [ts, v] of values) {
      const want = at.get(ts);
      const got = Number(v);
      if (want === undefined) out.push(`${k}@${ts}: only in Larder`);
      else if (Math.abs(got - want) > rel * Math.max(Math.abs(want), 1e-9)) out.push(`${k}@${ts}: Larder ${got}, Prometheus ${want}`);
    }
  }
  return out;
}

const QUERIES = [
  'demo_temperature_celsius',
  'rate(demo_requests_total[10s])',
  'sum by (route) (rate(demo_requests_total[10s]))',
  'sum without (code) (increase(demo_requests_total[10s]))',
  'histogram_quantile(0.9, sum by (le) (rate(demo_latency_seconds_bucket[10s])))',
  'histogram_quantile(0.5, rate(demo_latency_seconds_bucket[10s]))',
  'sum by (route) (rate(demo_requests_total{code="500"}[10s])) / on (route) sum by (route) (rate(demo_requests_total[10s]))',
  'sum by (route) (rate(demo_requests_total[10s])) * on (route) group_left (owner) demo_route_info',
  'topk(2, rate(demo_requests_total[10s]))',
  'max_over_time(demo_temperature_celsius[30s]) - min_over_time(demo_temperature_celsius[30s])',
  'avg_over_time(demo_temperature_celsius[30s])',
  'rate(demo_latency_seconds_sum[10s]) / rate(demo_latency_seconds_count[10s])',
  'demo_temperature_celsius > bool 20',
  'count by (route) (demo_latency_seconds_bucket)',
];

t.test('the same range queries answer the same on Larder and on Prometheus', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  const server = await target();
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const targetAddr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = tempDir(t);
  const config = join(dir, 'larder.yml');
  writeFileSync(config, `targets:\n  - url: http://${targetAddr}/metrics\n    job: demo\n    interval: 1s\n    timeout: 1s\n`);
  const larder = await startLarderProcess(await freePort(), [`--config.file=${config}`, '--record-interval=1s', '--collect-interval=1s'], {
    MONITORING_DB: 'sqlite',
    SQLITE_DB_PATH: join(dir, 'store.db'),
    LARDER_SPOOL_PATH: '',
  });
  t.teardown(() => larder.stop());
  const prom = await startPrometheus([{ job: 'demo', targets: [targetAddr] }]);
  t.teardown(() => prom.stop());

  const began = Date.now() / 1000;
  await new Promise((r) => setTimeout(r, 38_000));
  const startS = Math.floor(began) + 20;
  const endS = Math.floor(Date.now() / 1000) - 3;
  t.ok(endS - startS >= 10, `a window of ${endS - startS} s to compare`);

  for (const q of QUERIES) {
    const [ours, theirs] = await Promise.all([rangeQuery(larder.url, q, startS, endS, 2), rangeQuery(prom.url, q, startS, endS, 2)]);
    t.ok(theirs.length > 0, `Prometheus answers ${q}`);
    t.same(compare(ours, theirs, 0.005), [], q);
  }
  const rate = await rangeQuery(larder.url, 'sum(rate(demo_requests_total[10s]))', startS, endS, 2);
  t.ok(rate[0]!.values.every(([, v]) => Math.abs(Number(v) - 15) < 0.075), 'and the rate is the one the target was built with (15/s)');
});
