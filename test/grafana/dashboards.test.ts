/**
 * The generated dashboards: up to date with their definitions, structurally valid for the
 * schema version they declare, and (Prometheus) passing grafana/dashboard-linter's rules,
 * with every PromQL expression accepted by promtool. Each check is also shown failing on a
 * broken copy, so a check that cannot fail would be caught.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { generatedFiles, grafanaDir } from '../../grafana/generate.js';
import { outOfDate } from '../../scripts/generated-files.js';
import { DASHBOARDS } from '../../grafana/definitions/index.js';
import { SOURCES } from '../../grafana/model.js';
import { need } from '../helpers/peers.js';
import { allPanels, linterProblems, promqlOf, structureProblems, type Dash, type Exclusions } from './lint-rules.js';

const read = (source: string, key: string): Dash => JSON.parse(readFileSync(join(grafanaDir(), 'dashboards', source, `${key}.json`), 'utf8')) as Dash;

function exclusionsOf(key: string): Exclusions {
  const path = join(grafanaDir(), 'dashboards', 'prometheus', `${key}.lint`);
  if (!existsSync(path)) return {};
  const doc = parse(readFileSync(path, 'utf8')) as { exclusions: Record<string, { reason: string; entries: { panel: string }[] }> };
  const out: Record<string, string[]> = {};
  for (const [rule, e] of Object.entries(doc.exclusions)) {
    if (typeof e.reason !== 'string' || e.reason.length < 20) throw new Error(`${key}.lint: ${rule} has no reason`);
    out[rule] = e.entries.map((x) => x.panel);
  }
  return out;
}

t.test('the checked-in JSON is what the definitions generate', async (t) => {
  t.same(outOfDate(generatedFiles(), grafanaDir()), [], 'no file out of date (run make grafana-dashboards)');
  t.equal(generatedFiles().size, DASHBOARDS.length * SOURCES.length + DASHBOARDS.filter((d) => d.lint).length);
  // And the check sees a stale file: a copy of the folder with one dashboard changed.
  const dir = mkdtempSync(join(tmpdir(), 'larder-grafana-stale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [rel, content] of generatedFiles()) {
    const path = join(dir, rel);
    spawnSync('mkdir', ['-p', join(path, '..')]);
    writeFileSync(path, rel === join('dashboards', 'sqlite', 'host.json') ? content.replace('CPU busy', 'CPU busier') : content);
  }
  t.same(outOfDate(generatedFiles(), dir), [join('dashboards', 'sqlite', 'host.json')], 'an edited file is reported');
});

t.test('every dashboard is structurally valid', async (t) => {
  const uids = new Set<string>();
  for (const def of DASHBOARDS) {
    for (const source of SOURCES) {
      const d = read(source, def.key);
      t.same(structureProblems(d), [], `${source}/${def.key}.json: valid`);
      uids.add(String(d.uid));
      t.ok(allPanels(d).filter((p) => p.type !== 'row').length >= 5, `${source}/${def.key}: has panels`);
    }
  }
  t.equal(uids.size, DASHBOARDS.length * SOURCES.length, 'uids unique across dashboards and sources');
  const broken = read('sqlite', 'host');
  broken.panels[2]!.gridPos = { ...broken.panels[1]!.gridPos };
  broken.panels[3]!.id = broken.panels[1]!.id;
  broken.panels[4]!.type = 'graph';
  broken.uid = 'has spaces';
  broken.templating.list = broken.templating.list.filter((v) => v.name !== 'instance');
  const problems = structureProblems(broken).join('\n');
  for (const want of ['overlap', 'not unique', 'not a current panel type', 'uid', 'variable $instance used but not defined']) t.match(problems, want, `a broken copy: ${want}`);
});

t.test('Prometheus dashboards pass grafana/dashboard-linter\'s rules', async (t) => {
  for (const def of DASHBOARDS) {
    const problems = linterProblems(read('prometheus', def.key), exclusionsOf(def.key));
    t.same(problems, {}, `prometheus/${def.key}.json: no rule broken`);
  }
  // Each rule fires on a dashboard that breaks it.
  const d = read('prometheus', 'nodejs');
  const p = allPanels(d).find((x) => x.type === 'timeseries')!;
  delete p.description;
  p.fieldConfig = { defaults: { unit: 'furlongs' } };
  p.targets = [{ refId: 'A', expr: 'rate(http_requests_total{job=~"$job"}[5m]) + process_open_fds + http_requests_total{job=~"$job",instance=~"$instance"}', datasource: { type: 'prometheus', uid: 'abc' } }];
  p.datasource = { type: 'prometheus', uid: 'abc' };
  d.editable = true;
  d.templating.list.find((v) => v.name === 'job')!.allValue = null;
  d.templating.list.find((v) => v.name === 'instance')!.refresh = 1;
  const found = Object.keys(linterProblems(d)).sort();
  t.same(found, ['panel-datasource-rule', 'panel-title-description-rule', 'panel-units-rule', 'target-counter-agg-rule', 'target-instance-rule', 'target-job-rule', 'target-rate-interval-rule', 'template-job-rule', 'template-on-time-change-reload-rule', 'uneditable-dashboard'], 'a broken copy breaks the rules it should');
  const withoutLint = linterProblems(read('prometheus', 'business'));
  t.ok(withoutLint['target-rate-interval-rule']?.length === 3, 'the business totals need their .lint exception (increase over $__range)');
});

t.test('every PromQL expression parses (promtool)', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  const exprs = DASHBOARDS.flatMap((def) => promqlOf(read('prometheus', def.key)).map((e) => ({ ...e, where: `${def.key}: ${e.where}` })));
  t.ok(exprs.length > 60, `${exprs.length} expressions`);
  const dir = mkdtempSync(join(tmpdir(), 'larder-promql-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const check = (list: readonly { where: string; expr: string }[]): { status: number | null; out: string } => {
    const rules = { groups: [{ name: 'dashboards', rules: list.map((e, i) => ({ record: `dashboard:expr_${i}`, expr: e.expr })) }] };
    const file = join(dir, 'rules.yml');
    writeFileSync(file, JSON.stringify(rules));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const ok = check(exprs);
  t.equal(ok.status, 0, ok.status === 0 ? 'promtool accepts every expression' : ok.out.slice(0, 3000));
  t.not(check([{ where: 'bad', expr: 'sum(rate(x[5m])' }]).status, 0, 'promtool refuses a broken one');
});
