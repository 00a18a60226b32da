/**
 * Every metric and label the bundled rules read is one Larder really exposes: the host,
 * process and self metrics of a running `larder serve` (on the fixture /proc and /sys, so
 * every host collector has data whatever the machine), and the metrics the HTTP, database
 * and Redis instrumentation declares, from a real express app and the client metrics.
 * A rule on a name nobody exposes would never fire, and no test of its own would notice.
 */
import t, { type Test } from 'tap';
import express from 'express';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { createDbMetrics } from '../../exporters/db/db-metrics.js';
import { SeriesGuard } from '../../exporters/guard/series-guard.js';
import { createHttpMetrics } from '../../exporters/http/middleware.js';
import { createRedisMetrics } from '../../exporters/redis/redis-metrics.js';
import { parseExposition, type ParsedFamily } from '../../exporters/text-parser.js';
import { bundledRuleFiles } from '../../rules/bundled.js';
import { isAlertingRule } from '../../rules/rule-format.js';
import { startLarderProcess } from '../helpers/larder-process.js';
import { freePort } from '../helpers/prometheus.js';
import { exprUse, templateLabels } from './rule-labels.js';

/** Labels every stored or scraped series carries: set by the scrape (or Larder's recorder), not by the exporter. */
const TARGET_LABELS = ['instance', 'job'];

/** Family name → the label names its samples carry (`le` on a histogram's buckets). */
type Exposed = Map<string, { type: string; labels: Set<string> }>;

function addFamilies(into: Exposed, families: readonly ParsedFamily[], source: string): void {
  for (const f of families) {
    if (f.samples.length === 0) continue; // declared but never set: not evidence of what it carries
    const labels = new Set(f.samples.flatMap((s) => Object.keys(s.labels)));
    into.set(f.name, { type: `${f.type} (${source})`, labels });
  }
}

/** The family a selector's metric belongs to: itself, or a histogram's `_bucket`/`_sum`/`_count`. */
function familyOf(exposed: Exposed, metric: string): { labels: Set<string> } | undefined {
  const direct = exposed.get(metric);
  if (direct) return direct;
  const m = /^(.*)_(bucket|sum|count)$/.exec(metric);
  const base = m ? exposed.get(m[1]!) : undefined;
  return base && base.type.startsWith('histogram') ? base : undefined;
}

async function larderMetrics(t: Test): Promise<{ families: ParsedFamily[]; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-rules-metrics-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // a scrape target on a closed port: larder_scrape_target_up then has a sample, at 0
  const config = join(dir, 'larder.yml');
  writeFileSync(config, `targets:\n  - url: http://127.0.0.1:${await freePort()}/metrics\n    job: down\n    interval: 1s\n    timeout: 500ms\n`);
  const larder = await startLarderProcess(
    await freePort(),
    [
      `--config.file=${config}`,
      `--path.procfs=${fileURLToPath(new URL('../fixtures/proc-basic', import.meta.url))}`,
      `--path.sysfs=${fileURLToPath(new URL('../fixtures/sys-basic', import.meta.url))}`,
      '--collect-interval=1s',
      '--record-interval=1s',
      '--storage.max-bytes=1GiB',
      '--storage.spool-path=',
    ],
    { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'monitoring.db') },
    {},
    // a start-up on a machine shared by many test runs can take longer than the usual 20 s
    60_000,
  );
  t.teardown(() => larder.stop());
  // the store's gauges and the target's state appear once the first write and scrape are done
  const deadline = Date.now() + 30_000;
  for (;;) {
    const families = parseExposition(await (await fetch(`${larder.url}/metrics`)).text(), 'text');
    const has = (name: string): boolean => families.some((f) => f.name === name && f.samples.length > 0);
    if ((has('larder_scrape_target_up') && has('larder_store_size_bytes') && has('nodejs_eventloop_utilization_ratio')) || Date.now() > deadline) return { families, url: larder.url };
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function instrumentationMetrics(t: Test): Promise<ParsedFamily[]> {
  const registry = new Registry();
  const guard = new SeriesGuard({ registry, limit: 100 });
  const http = createHttpMetrics({ guard });
  const app = express();
  app.use(http.middleware);
  app.get('/recipes/:id', (_req, res) => void res.status(500).send('no'));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/recipes/1`)).text();
  await new Promise((r) => setTimeout(r, 50)); // recorded when the response closes
  createDbMetrics(guard).record('SELECT', false, 0.01);
  createRedisMetrics(guard).record('GET', false, 0.001);
  return parseExposition(await registry.metrics(), 'text');
}

t.test('every metric and label of the bundled rules is exposed by Larder or its instrumentation', async (t) => {
  const exposed: Exposed = new Map();
  const larder = await larderMetrics(t);
  addFamilies(exposed, larder.families, 'larder serve');
  addFamilies(exposed, await instrumentationMetrics(t), 'instrumentation');
  t.ok(exposed.has('node_cpu_seconds_total') && exposed.has('http_requests_total'), 'both sources were read');

  let rules = 0;
  for (const { file } of bundledRuleFiles()) {
    for (const rule of file.groups.flatMap((g) => g.rules)) {
      if (!isAlertingRule(rule)) continue;
      rules++;
      const use = exprUse(rule.expr);
      const available = new Set(TARGET_LABELS);
      for (const s of use.selectors) {
        const family = familyOf(exposed, s.metric);
        if (!t.ok(family, `${rule.alert}: ${s.metric} is exposed`)) continue;
        const labels = new Set([...family!.labels, ...TARGET_LABELS, ...(s.metric.endsWith('_bucket') ? ['le'] : [])]);
        for (const l of labels) available.add(l);
        for (const l of s.labels) t.ok(labels.has(l), `${rule.alert}: ${s.metric} carries the label ${l} it matches on`);
      }
      for (const l of use.grouping) t.ok(available.has(l), `${rule.alert}: grouping label ${l} is a label of its metrics`);
      const templates = [...Object.values(rule.annotations ?? {}), ...Object.values(rule.labels ?? {})].flatMap(templateLabels);
      // a label the template shows must survive the expression: not dropped by `without`, kept by every `by`
      const inResult = (l: string): boolean => available.has(l) && !use.dropped.includes(l) && use.kept.every((by) => by.includes(l));
      for (const l of new Set(templates)) t.ok(inResult(l), `${rule.alert}: template label ${l} is a label of its result`);
    }
  }
  t.ok(rules >= 30, `${rules} bundled alerts checked`);

  // The same Larder's own PromQL engine, over what it has recorded so far, takes every expression.
  for (const { file } of bundledRuleFiles()) {
    for (const rule of file.groups.flatMap((g) => g.rules).filter(isAlertingRule)) {
      const res = await fetch(`${larder.url}/api/v1/query?${new URLSearchParams({ query: rule.expr })}`);
      const body = (await res.json()) as { status: string; error?: string };
      t.equal(body.status, 'success', `${rule.alert}: Larder's query API evaluates its expression${body.error ? `: ${body.error}` : ''}`);
    }
  }
});
