/**
 * The rule evaluator in a running Larder (real HTTP server, real SQLite store):
 * /api/v1/rules and /api/v1/alerts compared field for field with a real Prometheus
 * loading the same rule file, ALERTS on /metrics, recording results through
 * /api/v1/query, POST /-/reload keeping the old rules when the new ones are bad, and
 * `larder serve` refusing a bad rule file with exit code 2 and file:line, and SIGHUP.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { Logger } from '../../src/log.js';
import { startLarder } from '../../src/main.js';
import { need } from '../helpers/peers.js';
import { freePort, launchPrometheus } from '../helpers/prometheus.js';
import { runCli, startLarderProcess } from '../helpers/larder-process.js';

// Prometheus 2.42 (Debian 12) knows keep_firing_for but not group labels: the file keeps to what both read.
const RULES = `groups:
  - name: compare
    rules:
      - record: answer:value
        expr: vector(42)
      - alert: AlwaysFiring
        expr: vector(1) > 0
        labels:
          severity: warning
        annotations:
          summary: "value {{ $value }}"
      - alert: NeverFiring
        expr: absent(vector(1))
        for: 5m
        keep_firing_for: 1m
`;

type Json = Record<string, unknown>;

async function getJson(url: string): Promise<Json> {
  const r = await fetch(url);
  return (await r.json()) as Json;
}

/** Times and durations differ between two runs: keep their type and shape only. */
function normalize(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, normalize(x, k)]));
  if (key === 'lastEvaluation' || key === 'activeAt') return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[-+]\d\d:\d\d)$/.test(v) && !v.startsWith('0001') ? '<time>' : `<bad time ${String(v)}>`;
  if (key === 'evaluationTime') return typeof v === 'number' && v >= 0 ? '<seconds>' : `<bad ${String(v)}>`;
  return v;
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const evaluated = (body: Json): boolean => {
  const groups = ((body['data'] as Json | undefined)?.['groups'] ?? []) as Json[];
  return groups.length > 0 && groups.every((g) => (g['rules'] as Json[]).every((r) => r['health'] === 'ok'));
};

t.test('rules and alerts API, /metrics, query, reload', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-rules-serve-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rulesPath = join(dir, 'rules.yml');
  writeFileSync(rulesPath, RULES);
  const lines: string[] = [];
  const { config } = loadConfig({
    argv: ['--listen=127.0.0.1:0', '--no-collector.process', `--rules.file=${rulesPath}`, '--rules.evaluation-interval=1s', '--rules.bundled=false'],
    env: { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'm.db') },
  });
  const larder = await startLarder(config, new Logger('info', (l) => void lines.push(l)));
  t.teardown(() => larder.stop());
  const url = larder.server.url;
  await until('Larder evaluated its rules', async () => evaluated(await getJson(`${url}/api/v1/rules`)));
  const ours = await getJson(`${url}/api/v1/rules`);
  const ourAlerts = await getJson(`${url}/api/v1/alerts`);

  t.same(normalize(ours), {
    status: 'success',
    data: {
      groups: [
        {
          name: 'compare',
          file: rulesPath,
          rules: [
            { name: 'answer:value', query: 'vector(42)', health: 'ok', evaluationTime: '<seconds>', lastEvaluation: '<time>', type: 'recording' },
            {
              state: 'firing', name: 'AlwaysFiring', query: 'vector(1) > 0', duration: 0, keepFiringFor: 0, labels: { severity: 'warning' }, annotations: { summary: 'value {{ $value }}' },
              alerts: [{ labels: { alertname: 'AlwaysFiring', severity: 'warning' }, annotations: { summary: 'value 1' }, state: 'firing', activeAt: '<time>', value: '1e+00' }],
              health: 'ok', evaluationTime: '<seconds>', lastEvaluation: '<time>', type: 'alerting',
            },
            { state: 'inactive', name: 'NeverFiring', query: 'absent(vector(1))', duration: 300, keepFiringFor: 60, labels: {}, annotations: {}, alerts: [], health: 'ok', evaluationTime: '<seconds>', lastEvaluation: '<time>', type: 'alerting' },
          ],
          interval: 1,
          limit: 0,
          evaluationTime: '<seconds>',
          lastEvaluation: '<time>',
        },
      ],
    },
  });
  t.same(normalize(ourAlerts), { status: 'success', data: { alerts: [{ labels: { alertname: 'AlwaysFiring', severity: 'warning' }, annotations: { summary: 'value 1' }, state: 'firing', activeAt: '<time>', value: '1e+00' }] } });
  t.same(Object.keys((((ours['data'] as Json)['groups'] as Json[])[0]!['rules'] as Json[])[1]!), ['state', 'name', 'query', 'duration', 'keepFiringFor', 'labels', 'annotations', 'alerts', 'health', 'evaluationTime', 'lastEvaluation', 'type'], "fields in Prometheus' order");

  // filters
  const only = async (q: string): Promise<string[]> => (((await getJson(`${url}/api/v1/rules?${q}`))['data'] as Json)['groups'] as Json[]).flatMap((g) => (g['rules'] as Json[]).map((r) => String(r['name'])));
  t.same(await only('type=alert'), ['AlwaysFiring', 'NeverFiring']);
  t.same(await only('type=record'), ['answer:value']);
  t.same(await only('rule_name[]=NeverFiring'), ['NeverFiring']);
  t.same(await only('rule_group[]=other'), []);
  t.same(await only(`file[]=${encodeURIComponent(rulesPath)}&group_name[]=compare&type=alert&rule_name[]=AlwaysFiring`), ['AlwaysFiring']);
  const bad = await fetch(`${url}/api/v1/rules?type=both`);
  t.equal(bad.status, 400);
  t.same(await bad.json(), { status: 'error', errorType: 'bad_data', error: "invalid query parameter type='both'" });

  // ALERTS on /metrics, recording results through the query API
  // ALERTS_FOR_STATE is served once the for-state was restored, after the second evaluation
  await until('ALERTS_FOR_STATE on /metrics', async () => (await (await fetch(`${url}/metrics`)).text()).includes('\nALERTS_FOR_STATE{'));
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.match(metrics, /\nALERTS\{alertname="AlwaysFiring",alertstate="firing",severity="warning"\} 1\n/);
  t.match(metrics, /\nALERTS_FOR_STATE\{alertname="AlwaysFiring",severity="warning"\} \d+\n/);
  t.match(metrics, /\nlarder_rules_last_reload_successful 1\n/);
  t.match(metrics, /\nlarder_rule_group_last_duration_seconds\{rule_group="[^"]+;compare"\} [\d.e-]+\n/);
  const q = await getJson(`${url}/api/v1/query?query=answer:value`);
  t.same(((q['data'] as Json)['result'] as Json[]).map((r) => [r['metric'], (r['value'] as unknown[])[1]]), [[{ __name__: 'answer:value' }, '42']], 'a recording rule result is queryable');
  const hist = await getJson(`${url}/api/v1/query?query=ALERTS{alertstate="firing"}`);
  t.equal(((hist['data'] as Json)['result'] as Json[]).length, 1, 'ALERTS is in the store');

  // reload: a bad file keeps the old rules and says why
  writeFileSync(rulesPath, RULES.replace('expr: vector(42)', 'expr: vector(42'));
  const failed = await fetch(`${url}/-/reload`, { method: 'POST' });
  t.equal(failed.status, 500);
  t.match(await failed.text(), new RegExp(`${rulesPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5: group "compare", rule 1, "answer:value": could not parse expression`));
  t.match(await (await fetch(`${url}/metrics`)).text(), /\nlarder_rules_last_reload_successful 0\n/);
  t.same(await only('type=record'), ['answer:value'], 'old rules still loaded');
  t.ok(lines.some((l) => l.includes('rule reload failed; keeping the rules loaded before')), 'the log says why');
  t.equal((await fetch(`${url}/-/reload`)).status, 405, 'GET /-/reload is refused');
  // a good file replaces them, keeping the state of the alert that stays
  const activeBefore = ((ourAlerts['data'] as Json)['alerts'] as Json[])[0]!['activeAt'];
  writeFileSync(rulesPath, RULES.replace('answer:value', 'answer:renamed'));
  t.equal((await fetch(`${url}/-/reload`, { method: 'POST' })).status, 200);
  t.same(await only('type=record'), ['answer:renamed']);
  const after = await getJson(`${url}/api/v1/alerts`);
  t.equal(((after['data'] as Json)['alerts'] as Json[])[0]!['activeAt'], activeBefore, 'the firing alert kept its activeAt across the reload');
  t.match(await (await fetch(`${url}/metrics`)).text(), /\nlarder_rules_last_reload_successful 1\n/);
  writeFileSync(rulesPath, RULES);
  t.equal((await fetch(`${url}/-/reload`, { method: 'POST' })).status, 200);

  if (!(await need(t, 'prometheus'))) return;
  const promDir = join(dir, 'prom');
  const promRules = join(dir, 'prom-rules.yml');
  copyFileSync(rulesPath, promRules);
  // the same file name in both answers: Prometheus reads a copy at another path, compared after renaming
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  evaluation_interval: 1s\nrule_files:\n  - ${promRules}\n`);
  const prom = await launchPrometheus(join(dir, 'prometheus.yml'), promDir);
  t.teardown(() => prom.stop());
  await until('Prometheus evaluated its rules', async () => evaluated(await getJson(`${prom.url}/api/v1/rules`)));
  const theirs = JSON.parse(JSON.stringify(await getJson(`${prom.url}/api/v1/rules`)).replaceAll(promRules, rulesPath)) as Json;
  // the last reload brought answer:value back as a new rule: compared once it ran too
  await until('Larder evaluated its reloaded rules', async () => evaluated(await getJson(`${url}/api/v1/rules`)));
  const oursNow = await getJson(`${url}/api/v1/rules`);
  t.same(normalize(oursNow), normalize(theirs), '/api/v1/rules: the same fields and values as Prometheus');
  t.same(normalize(await getJson(`${url}/api/v1/alerts`)), normalize(await getJson(`${prom.url}/api/v1/alerts`)), '/api/v1/alerts: the same as Prometheus');
});

t.test('larder serve refuses a bad rule file with exit code 2 and file:line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-rules-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.yml');
  writeFileSync(bad, 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x[5m]\n');
  const r = runCli(['serve', '--listen=127.0.0.1:0', `--rules.file=${bad}`], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'm.db') });
  t.equal(r.status, 2, 'exit code 2, as other config errors');
  t.match(r.stderr, `larder: cannot load rule files:\n${bad}:5: group "g", rule 1, "A": could not parse expression:`);
});

t.test('SIGHUP reloads the rule files of a running larder serve', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-rules-hup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rulesPath = join(dir, 'rules.yml');
  writeFileSync(rulesPath, RULES);
  const port = await freePort();
  const proc = await startLarderProcess(port, [`--rules.file=${rulesPath}`, '--rules.evaluation-interval=1s', '--no-collector.process', '--rules.bundled=false'], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'm.db') });
  t.teardown(() => proc.stop());
  const names = async (): Promise<string[]> => (((await getJson(`${proc.url}/api/v1/rules`))['data'] as Json)['groups'] as Json[]).flatMap((g) => (g['rules'] as Json[]).map((r) => String(r['name'])));
  t.same(await names(), ['answer:value', 'AlwaysFiring', 'NeverFiring']);
  writeFileSync(rulesPath, RULES.replace('NeverFiring', 'StillNever'));
  proc.child.kill('SIGHUP');
  await until('the reload', async () => (await names()).includes('StillNever'));
  t.pass('the new rule file runs after SIGHUP');
  writeFileSync(rulesPath, 'groups: [');
  proc.child.kill('SIGHUP');
  await until('the failed reload is logged', async () => proc.stderr().includes('rule reload failed; keeping the rules loaded before'));
  t.same(await names(), ['answer:value', 'AlwaysFiring', 'StillNever'], 'a bad file keeps the rules running');
  t.equal(await proc.stop(), 0, 'SIGTERM still stops it cleanly');
});
