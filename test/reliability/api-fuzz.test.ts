/**
 * Hostile inputs, the HTTP API's parameters: a real `larder serve` with a SQLite store
 * and a rules file (so every /api/v1 endpoint is mounted and has data) takes requests
 * to each endpoint with parameters drawn by a fixed seed: PromQL mutated from valid
 * queries (deep nesting, regex bombs, huge ranges), timestamps, durations, steps and
 * limits at and past their edges, repeated and unknown names, as GET query strings and
 * POST form bodies. hostile-input.test.ts fuzzes /metrics' parameters against a Larder
 * with no store, where these endpoints do not exist. No answer may be a 500 or a
 * dropped connection, none may hang past the query timeout, memory stays bounded, and
 * Larder still serves and stops cleanly. Quick form: 300 requests; RELIABILITY=long: 3000.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLarderProcess } from '../helpers/larder-process.js';
import { freePort } from '../helpers/prometheus.js';
import { tempDir } from '../storage/fixtures/stores.js';
import { figure, LONG } from './figures.js';
import { Rng, mutate, NASTY } from './fuzz.js';
import { rssOf } from './http-client.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261203) + 3;
const REQUESTS = LONG ? 3000 : 300;
const RSS_BOUND = 400 * 1024 * 1024;
const QUERY_TIMEOUT_S = 5;

const RULES = `groups:
- name: fuzz
  interval: 1s
  rules:
  - record: fuzz:cpu
    expr: sum(rate(process_cpu_seconds_total[10s]))
  - alert: AlwaysOn
    expr: vector(1)
    labels: { severity: info }
`;

const ENDPOINTS = [
  '/api/v1/query', '/api/v1/query', '/api/v1/query_range', '/api/v1/query_range', '/api/v1/series', '/api/v1/labels',
  '/api/v1/label/__name__/values', '/api/v1/label/job/values', `/api/v1/label/${encodeURIComponent('a%b{')}/values`, '/api/v1/metadata',
  '/api/v1/format_query', '/api/v1/parse_query', '/api/v1/query_exemplars', '/api/v1/alerts', '/api/v1/rules', '/api/v1/alerts/history',
  '/api/v1/status/buildinfo', '/api/v1/nope',
];
const NAMES = ['query', 'query', 'time', 'start', 'end', 'step', 'timeout', 'limit', 'match[]', 'match[]', 'lookback_delta', 'stats', 'metric', 'type', 'state', 'since', 'until', 'name', 'rule_name[]', 'rule_group[]', 'file[]', 'exclude_alerts', 'group_limit', 'match', 'query[]', '__proto__', 'constructor[prototype][x]'];
const QUERIES = [
  'up', 'fuzz:cpu', 'rate(process_cpu_seconds_total[1m])', 'sum by (job) (rate(process_cpu_seconds_total[5m]))',
  'histogram_quantile(0.9, sum by (le) (rate(nodejs_gc_duration_seconds_bucket[5m])))', '{__name__=~".+"}', 'count_over_time({__name__=~".+"}[1h])',
  'topk(3, process_resident_memory_bytes)', 'up offset 1h', 'up @ 1700000000', 'max_over_time(up[1h:1s])', 'label_replace(up, "a", "$1", "job", "(.*)")',
  'vector(1) / 0', 'absent(nope)', 'time()', '{__name__=~"(a|aa)*b"}', '{job=~"(.*)*(.*)*(.*)*x"}', 'quantile_over_time(2, up[5m])',
  `${'('.repeat(300)}1${')'.repeat(300)}`, `${'-'.repeat(500)}1`, 'sum(up) by (' + 'a,'.repeat(200) + 'b)', 'predict_linear(up[1d], 1e308)',
  'ALERTS', 'ALERTS_FOR_STATE', 'sort_desc(count by (__name__) ({__name__!=""}))',
];
const TIMES = ['', 'now', '0', '-1', '1e308', '-1e308', '9999999999999', 'NaN', 'Inf', '-Inf', '2026-01-01T00:00:00Z', '2026-13-45T99:99:99Z', '1700000000.123', 'abc', `1${'0'.repeat(400)}`, '0x10', ' 1 '];
const DURATIONS = ['0', '-1', '0.001', '1e-9', '1ms', '1y', '15', '15s', 'NaN', 'Inf', '1h30m', '5m5m', '99999999999d', '-5m', '1e308'];
const LIMITS = ['-1', '0', '1', '1e9', '99999999999999999999', 'abc', '1.5', ''];

t.test(`fuzz: every HTTP API parameter, ${REQUESTS} requests, seed ${SEED}`, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'rules.yml'), RULES);
  const larder = await startLarderProcess(
    await freePort(),
    [`--rules.file=${join(dir, 'rules.yml')}`, '--rules.bundled=false', '--storage.spool-path=', '--no-collector.hostinfo', '--record-interval=1s', '--collect-interval=1s', `--query.timeout=${QUERY_TIMEOUT_S}s`],
    { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'monitoring.db') },
    {},
    60_000,
  );
  t.teardown(() => larder.stop('SIGKILL'));
  // a few records and rule evaluations to query
  for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
    const r = await fetch(`${larder.url}/api/v1/query?query=count(fuzz:cpu)`).then((x) => x.json() as Promise<{ data?: { result?: unknown[] } }>, () => undefined);
    if ((r?.data?.result?.length ?? 0) > 0) break;
  }

  // a form body over the API's 256 KiB limit is the client's fault: 413 in the API's JSON, not a 500
  const big = await fetch(`${larder.url}/api/v1/query`, { method: 'POST', body: `query=${'x'.repeat(300_000)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(big.status, 413, 'a POST body over the limit is 413');
  t.match(await big.text(), /^\{"status":"error","errorType":"bad_data","error":"request entity too large"\}$/);

  const rng = new Rng(SEED);
  const value = (name: string): string => {
    if (rng.int(5) === 0) return rng.string(rng.int(40), NASTY);
    switch (name) {
      case 'query':
      case 'match[]':
      case 'query[]':
        return rng.int(2) ? rng.pick(QUERIES) : mutate(rng, rng.pick(QUERIES), QUERIES);
      case 'time':
      case 'start':
      case 'end':
      case 'since':
      case 'until':
        return rng.pick(TIMES);
      case 'step':
      case 'timeout':
      case 'lookback_delta':
        return rng.pick(DURATIONS);
      case 'limit':
      case 'group_limit':
        return rng.pick(LIMITS);
      default:
        return rng.pick([...QUERIES.slice(0, 4), 'firing', 'resolved', 'all', 'true', 'false', 'AlwaysOn', 'fuzz', '*', '']);
    }
  };
  const codes = new Map<number, number>();
  const bad: string[] = [];
  const notFound = new Set<string>();
  let slowest = 0;
  const rssStart = await rssOf(larder.child.pid!);
  for (let i = 0; i < REQUESTS; i++) {
    const path = rng.pick(ENDPOINTS);
    const params = new URLSearchParams();
    for (let k = rng.int(rng.int(10) === 0 ? 60 : 6); k > 0; k--) {
      const name = rng.int(8) === 0 ? rng.string(1 + rng.int(6), NASTY) : rng.pick(NAMES);
      params.append(name, value(name));
    }
    const post = rng.int(3) === 0;
    const url = `${larder.url}${path}${post ? '' : `?${params}`}`;
    const started = performance.now();
    let status = 0;
    let error = '';
    try {
      const r = await fetch(url, {
        method: post ? 'POST' : 'GET',
        ...(post ? { body: params.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
        signal: AbortSignal.timeout(60_000),
      });
      status = r.status;
      const body = await r.text();
      if (status >= 500) error = body.slice(0, 300);
    } catch (e) {
      error = (e as Error).message;
    }
    const ms = performance.now() - started;
    slowest = Math.max(slowest, ms);
    codes.set(status, (codes.get(status) ?? 0) + 1);
    if (status === 404 && !post) notFound.add(path); // POST to a GET-only endpoint is 404 too
    // 503 is Prometheus' answer to a query that timed out or found no slot: allowed
    const acceptable = status !== 0 && (status < 500 || (status === 503 && /"errorType":"(timeout|canceled|unavailable)"/.test(error)));
    if (!acceptable && bad.length < 5) bad.push(`${status} for ${post ? 'POST' : 'GET'} ${path} ${params.toString().slice(0, 300)}: ${error}`);
  }
  const rssEnd = await rssOf(larder.child.pid!);
  figure(t, 'fuzz api: requests', `${REQUESTS} (seed ${SEED}): ${[...codes].sort(([a], [b]) => a - b).map(([c, n]) => `${c}×${n}`).join(', ')}`);
  figure(t, 'fuzz api: slowest answer', slowest.toFixed(1), 'ms');
  figure(t, 'fuzz api: larder RSS before, after', `${(rssStart / 1048576).toFixed(0)}, ${(rssEnd / 1048576).toFixed(0)}`, 'MiB');
  t.same(bad, [], 'no 500, no dropped connection');
  t.same([...notFound].filter((p) => p !== '/api/v1/nope'), [], 'every endpoint is mounted (a GET of only the made-up one is 404)');
  t.ok((codes.get(200) ?? 0) > REQUESTS / 10 && (codes.get(400) ?? 0) > 0, 'the fuzz reached both answers and refusals');
  t.ok(slowest < QUERY_TIMEOUT_S * 1000 + 10_000, `no request outlived the query timeout by 10 s (slowest ${slowest.toFixed(1)} ms)`);
  t.ok(rssEnd < RSS_BOUND, `memory bounded (${(rssEnd / 1048576).toFixed(0)} MiB)`);
  t.equal((await fetch(`${larder.url}/healthz`)).status, 200, 'still serving');
  t.equal(await larder.stop('SIGTERM'), 0, 'stops cleanly');
});
