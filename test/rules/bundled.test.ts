/**
 * The bundled rules' single source of truth: the checked-in YAML and docs are what the
 * generator writes, bundledRuleFiles() gives the same rules, and overrides (from the
 * options, flags, environment or config file) change exactly what they name.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config.js';
import { bundledRuleFiles } from '../../rules/bundled.js';
import { generatedFiles, repoDir } from '../../rules/generate.js';
import { outOfDate } from '../../scripts/generated-files.js';
import { num } from '../../rules/model.js';
import { bundledAlerts, DEFAULT_OVERRIDES } from '../../rules/overrides.js';
import { PACKS } from '../../rules/packs/index.js';
import { isAlertingRule, type AlertingRule } from '../../rules/rule-format.js';

const load = (argv: string[], env: Record<string, string> = {}, file?: string) =>
  loadConfig({ argv, env, readFile: () => (file === undefined ? '' : file) }).config;

/** One alert of the default or overridden bundled rules. */
function rule(files: ReturnType<typeof bundledRuleFiles>, name: string): AlertingRule | undefined {
  return files.flatMap((f) => f.file.groups.flatMap((g) => g.rules)).filter(isAlertingRule).find((r) => r.alert === name);
}

t.test('the generated files are up to date (make alert-rules)', async (t) => {
  t.same(outOfDate(generatedFiles(), repoDir()), [], 'rules/*.rules.yml and docs/alert-rules.md match rules/packs/');
});

t.test('bundledRuleFiles() without overrides is what the checked-in files hold', async (t) => {
  const files = bundledRuleFiles();
  t.same(files.map((f) => f.pack), PACKS.map((p) => p.name));
  for (const f of files) {
    t.equal(f.source, `bundled:${f.pack}`);
    t.same(parse(readFileSync(join(repoDir(), 'rules', `${f.pack}.rules.yml`), 'utf8')), f.file, `${f.pack}.rules.yml`);
  }
  t.same(bundledRuleFiles(DEFAULT_OVERRIDES), files, 'DEFAULT_OVERRIDES is the default');
});

t.test('names are unique, every alert is documented and every rule well formed', async (t) => {
  const names = PACKS.flatMap((p) => p.alerts.map((a) => a.name));
  t.equal(new Set(names).size, names.length, 'alert names unique');
  t.equal(new Set([...names, ...PACKS.map((p) => p.name)]).size, names.length + PACKS.length, 'pack names distinct from alert names');
  const docs = readFileSync(join(repoDir(), 'docs', 'alert-rules.md'), 'utf8');
  for (const pack of PACKS) {
    for (const a of pack.alerts) {
      t.match(a.name, /^[A-Z][A-Za-z0-9]+$/, `${a.name}: an alert name in Prometheus' style`);
      t.ok(docs.includes(`### ${a.name}\n`), `${a.name} has its section in docs/alert-rules.md`);
      t.match(a.for, /^\d+[smh]$/, `${a.name}: for ${a.for}`);
      for (const [k, p] of Object.entries(a.params)) t.ok(p.min <= p.default && p.default <= p.max, `${a.name}.${k}: default ${p.default} within ${p.min}..${p.max}`);
      const r = rule(bundledRuleFiles(), a.name)!;
      t.ok(r.labels?.['severity'] && r.annotations?.['summary'] && r.annotations?.['description'], `${a.name}: severity, summary and description`);
    }
  }
});

t.test('overrides change the threshold, its description and for; disable removes alerts and packs', async (t) => {
  const dflt = rule(bundledRuleFiles(), 'HostFilesystemAlmostOutOfSpace')!;
  t.match(dflt.expr, /< 0\.05\n/);
  t.equal(dflt.for, '30m');
  const files = bundledRuleFiles({ enabled: true, disable: ['NodejsRestarting', 'clients'], set: { HostFilesystemAlmostOutOfSpace: { threshold: 0.125, for: '10m' }, HostOomKillDetected: { for: '5m' }, NodejsEventLoopLagHigh: { for: '0s' } } });
  const r = rule(files, 'HostFilesystemAlmostOutOfSpace')!;
  t.match(r.expr, /< 0\.125\n/, 'threshold in the expression');
  t.match(r.annotations?.['description'] ?? '', /\(threshold 12\.5%\)/, 'and in the description');
  t.equal(r.for, '10m');
  t.equal(rule(files, 'HostOomKillDetected')?.for, '5m', 'for set on an alert without thresholds');
  const failing = rule(bundledRuleFiles({ enabled: true, disable: [], set: { LarderCollectorFailing: { for: '1h' } } }), 'LarderCollectorFailing')!;
  t.equal(failing.for, '1h');
  t.match(failing.annotations?.['description'] ?? '', /on every update for 1h;/, 'a description that quotes for quotes the one in force');
  t.equal(rule(files, 'NodejsEventLoopLagHigh')?.for, undefined, 'for 0s: fires at once, written without for');
  t.equal(rule(files, 'NodejsRestarting'), undefined, 'an alert disabled');
  t.notOk(files.some((f) => f.pack === 'clients'), 'a pack disabled');
  t.equal(rule(files, 'HostOutOfMemory')?.expr, rule(bundledRuleFiles(), 'HostOutOfMemory')?.expr, 'the rest as shipped');
  const allNode = bundledRuleFiles({ enabled: true, disable: bundledRuleFiles()[1]!.file.groups[0]!.rules.filter(isAlertingRule).map((x) => x.alert), set: {} });
  t.notOk(allNode.some((f) => f.pack === 'nodejs'), 'a pack whose alerts are all disabled has no file');
  t.same(bundledRuleFiles({ enabled: false, disable: [], set: {} }), [], '--rules.bundled=false: none');
  t.throws(() => bundledRuleFiles({ enabled: true, disable: ['Nope'], set: {} }), /unknown bundled alert or pack "Nope"/);
  t.throws(() => bundledRuleFiles({ enabled: true, disable: [], set: { HostOutOfMemory: { threshold: 2 } } }), /out of range/);
  t.throws(() => bundledRuleFiles({ enabled: true, disable: [], set: { HostOutOfMemory: { horizon: 2 } } }), /no parameter "horizon"/);
});

t.test('every threshold of every alert can be overridden and shows in its expression', async (t) => {
  for (const [name, { alert }] of bundledAlerts()) {
    for (const [param, spec] of Object.entries(alert.params)) {
      // half way between the smallest allowed and the default: allowed, and never the default
      const value = Number(((spec.min + spec.default) / 2).toPrecision(3));
      const r = rule(bundledRuleFiles({ enabled: true, disable: [], set: { [name]: { [param]: value } } }), name)!;
      t.not(value, spec.default, `${name}.${param}: ${value} differs from the default`);
      t.ok(r.expr.includes(num(value)), `${name}.${param}=${value} is in the expression`);
      t.not(r.expr, rule(bundledRuleFiles(), name)!.expr, `${name}.${param}: the expression changed`);
    }
  }
});

t.test('options: flags, environment and config file', async (t) => {
  const d = load([]).bundledRules;
  t.same(d, { enabled: true, disable: [], set: {} }, 'defaults');
  t.same(bundledRuleFiles(d), bundledRuleFiles(), 'the config values are BundledOverrides');
  t.equal(load(['--rules.bundled=false']).bundledRules.enabled, false);
  t.equal(load([], { LARDER_RULES_BUNDLED: 'no' }).bundledRules.enabled, false);
  t.same(load(['--rules.bundled.disable', 'HostClockSkew, clients,']).bundledRules.disable, ['HostClockSkew', 'clients'], 'comma-separated, blanks dropped');
  t.same(load([], { LARDER_RULES_BUNDLED_DISABLE: 'http' }).bundledRules.disable, ['http']);
  t.same(
    load(['--rules.bundled.disable=HostClockSkew', '--rules.bundled.disable', 'clients,http', '--rules.bundled.disable=HostClockSkew']).bundledRules.disable,
    ['HostClockSkew', 'clients', 'http'],
    'the flag repeated: every occurrence counts (each may hold a comma list), duplicates once',
  );
  t.same(
    load(['--rules.bundled.set=HostOutOfMemory.threshold=0.05', '--rules.bundled.set=HostOutOfMemory.for=10m,NodejsHeapGrowing.horizon=7200']).bundledRules.set,
    { HostOutOfMemory: { threshold: 0.05, for: '10m' }, NodejsHeapGrowing: { horizon: 7200 } },
    '--rules.bundled.set repeated',
  );
  t.same(
    load(['--rules.bundled.set=HostOutOfMemory.threshold=0.05,HostOutOfMemory.for=10m,NodejsHeapGrowing.horizon=7200']).bundledRules.set,
    { HostOutOfMemory: { threshold: 0.05, for: '10m' }, NodejsHeapGrowing: { horizon: 7200 } },
  );
  t.same(load([], { LARDER_RULES_BUNDLED_SET: 'HttpSlowRoute.threshold=2.5' }).bundledRules.set, { HttpSlowRoute: { threshold: 2.5 } });
  const file = [
    'rules.bundled.disable: [HostClockSkew, larder]',
    'rules.bundled.set:',
    '  HostFilesystemAlmostOutOfSpace: { threshold: 0.1, for: 10m }',
    '  NodejsEventLoopLagHigh: { threshold: 0.25 }',
    '',
  ].join('\n');
  const c = load(['--config.file=x.yml'], {}, file).bundledRules;
  t.same(c.disable, ['HostClockSkew', 'larder']);
  t.same(c.set, { HostFilesystemAlmostOutOfSpace: { threshold: 0.1, for: '10m' }, NodejsEventLoopLagHigh: { threshold: 0.25 } });
  t.same(load(['--config.file=x.yml'], {}, 'rules.bundled.set: ["HttpSlowRoute.threshold=3"]\n').bundledRules.set, { HttpSlowRoute: { threshold: 3 } }, 'a list of ALERT.PARAM=VALUE in the file');
  t.match(rule(bundledRuleFiles(c), 'NodejsEventLoopLagHigh')!.expr, /> 0\.25$/);
});

t.test('options: bad names and values are refused with what and where', async (t) => {
  const refused = (argv: string[], pattern: RegExp, env: Record<string, string> = {}, file?: string): void => {
    t.throws(() => load(argv, env, file), pattern, argv.join(' ') || JSON.stringify(env) || String(file));
    try {
      load(argv, env, file);
    } catch (err) {
      t.type(err, ConfigError);
    }
  };
  refused(['--rules.bundled.set=HostOutOfMemry.threshold=0.1'], /--rules\.bundled\.set: unknown bundled alert "HostOutOfMemry" \(did you mean HostOutOfMemory\?\)/);
  refused(['--rules.bundled.set=HostOutOfMemory.threshold=ten'], /--rules\.bundled\.set: HostOutOfMemory\.threshold: expected a number \(ratio\) from 0 to 1/);
  refused(['--rules.bundled.set=HostOutOfMemory.threshold=1.5'], /HostOutOfMemory\.threshold: 1\.5 is out of range/);
  refused(['--rules.bundled.set=HostOutOfMemory.threshold='], /expected a number/);
  refused(['--rules.bundled.set=HostOutOfMemory.treshold=0.1'], /HostOutOfMemory has no parameter "treshold" \(did you mean threshold\?\); it takes for, threshold/);
  refused(['--rules.bundled.set=HostOutOfMemory.for=soon'], /HostOutOfMemory\.for: expected a duration/);
  refused(['--rules.bundled.set=HostOutOfMemory'], /expected ALERT\.PARAM=VALUE/);
  refused(['--rules.bundled.set=threshold=1'], /expected ALERT\.PARAM/);
  refused(['--rules.bundled.disable=nodej'], /--rules\.bundled\.disable: unknown bundled alert or pack "nodej" \(did you mean nodejs\?\)/);
  refused([], /LARDER_RULES_BUNDLED_DISABLE \(--rules\.bundled\.disable\): unknown bundled alert or pack "x"/, { LARDER_RULES_BUNDLED_DISABLE: 'x' });
  refused(['--config.file=x.yml'], /config file key "rules\.bundled\.set": HostOutOfMemory: expected a mapping/, {}, 'rules.bundled.set: { HostOutOfMemory: 0.1 }\n');
  refused(['--config.file=x.yml'], /config file key "rules\.bundled\.set": HostOutOfMemory\.threshold: expected a number/, {}, 'rules.bundled.set: { HostOutOfMemory: { threshold: [1] } }\n');
  refused(['--config.file=x.yml'], /config file key "rules\.bundled\.disable": expected alert or pack names/, {}, 'rules.bundled.disable: { a: 1 }\n');
  refused([`--rules.bundled.disable=${Array.from({ length: 501 }, () => 'host').join(',')}`], /501 items, more than the 500 allowed/);
  refused([`--rules.bundled.disable=${'x'.repeat(200)}`], /a name of at most 100 characters/);
  refused(['--rules.bundled.disable=host', '--rules.bundled.disable=nodej'], /--rules\.bundled\.disable: unknown bundled alert or pack "nodej"/);
  refused(['--rules.bundled.set=HostOutOfMemory.threshold=0.1', '--rules.bundled.set=HostOutOfMemory.threshold=2'], /--rules\.bundled\.set: HostOutOfMemory\.threshold: 2 is out of range/);
});
