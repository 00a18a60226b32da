/**
 * Bad rule files are refused with `file:line: reason` (syntax, unknown function, bad
 * duration, bad template, duplicate group, alert and record together, bad names), and
 * globs, repeatable --rules.file and the rules.* defaults.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadRules, RuleLoadError, checkRuleFile } from '../../src/alerting/load.js';
import { loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'larder-rules-load-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function problems(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  try {
    loadRules([p]);
  } catch (e) {
    if (e instanceof RuleLoadError) return e.message.replaceAll(`${dir}/`, '');
    throw e;
  }
  return '';
}

const GOOD = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n';

t.test('each bad file names file, line and reason', async (t) => {
  t.equal(problems('syntax.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n       for: 5m\n'), 'syntax.yml:6: yaml: Sequence item without - indicator');
  t.equal(
    problems('func.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: nosuchfn(up) > 1\n'),
    'func.yml:5: group "g", rule 1, "A": could not parse expression: 1:1: parse error: unknown function with name "nosuchfn"',
  );
  t.equal(problems('dur.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5 minutes\n'), 'dur.yml:6: group "g", rule 1, "A": for: not a valid duration string: "5 minutes"');
  t.equal(
    problems('tmpl.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: "{{ $labels.job | nosuch }}"\n'),
    'tmpl.yml:7: group "g", rule 1, "A": annotation "summary": template: __alert_A: function "nosuch" not defined',
  );
  t.equal(
    problems('tmpl2.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labels:\n          x: "{{ if $value }}"\n'),
    'tmpl2.yml:7: group "g", rule 1, "A": label "x": template: __alert_A: unexpected EOF',
  );
  t.equal(problems('dup.yml', `${GOOD}  - name: g\n    rules: []\n`), 'dup.yml:6: groupname: "g" is repeated in the same file');
  t.equal(problems('both.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        record: b\n        expr: up\n'), `both.yml:4: group "g", rule 1, "A": only one of 'record' and 'alert' must be set`);
  t.equal(problems('none.yml', 'groups:\n  - name: g\n    rules:\n      - expr: up\n'), `none.yml:4: group "g", rule 1, "": one of 'record' or 'alert' must be set`);
  t.equal(problems('rec.yml', 'groups:\n  - name: g\n    rules:\n      - record: bad-name\n        expr: up\n'), 'rec.yml:4: group "g", rule 1, "bad-name": invalid recording rule name: bad-name');
  t.equal(problems('label.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          0bad: x\n'), 'label.yml:7: group "g", rule 1, "A": labels: invalid label name: 0bad');
  t.equal(problems('unknown.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        fore: 5m\n'), 'unknown.yml:6: group "g", rule 1, "A": field fore not found in type rulefmt.Rule');
  t.equal(problems('matrix.yml', 'groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up[5m]\n'), 'rec.yml'.replace('rec', 'matrix') + ':5: group "g", rule 1, "r": could not parse expression: expression must be of type instant vector or scalar, got range vector');
  t.equal(problems('recann.yml', 'groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n        for: 1m\n'), `recann.yml:6: group "g", rule 1, "r": invalid field 'for' in recording rule`);
  t.equal(problems('ok.yml', GOOD), '', 'a good file loads');
  const many = problems('many.yml', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n      - alert: B\n        expr: up\n        for: x\n');
  t.equal(many.split('\n').length, 2, 'every problem of a file is listed, one a line');
});

t.test('missing files, globs, bundled rule objects', async (t) => {
  t.throws(() => loadRules([join(dir, 'nope.yml')]), /nope\.yml: cannot read rule file: ENOENT/);
  writeFileSync(join(dir, 'g1.rules.yml'), GOOD);
  writeFileSync(join(dir, 'g2.rules.yml'), GOOD.replace('name: g', 'name: h'));
  const groups = loadRules([join(dir, '*.rules.yml')]);
  t.same(groups.map((g) => g.name), ['g', 'h'], 'a glob loads every match, sorted');
  t.same(loadRules([join(dir, 'none-*.yml')]), [], 'a glob matching nothing is no error (as Prometheus)');
  t.throws(() => checkRuleFile({ groups: [{ name: 'x', rules: [{ alert: 'A', expr: 'up ==' }] }] }, 'bundled/node.yml'), /^bundled\/node\.yml: group "x", rule 1, "A": could not parse expression/);
});

t.test('options: repeatable --rules.file, Prometheus defaults', async (t) => {
  const { config } = loadConfig({ argv: ['--rules.file', 'a.yml', '--rules.file=b/*.yml'], env: {} });
  t.same(config.rules.files, ['a.yml', 'b/*.yml']);
  t.equal(config.rules.evaluationInterval, 60_000);
  t.equal(config.rules.alertResendDelay, 60_000);
  t.equal(config.rules.forOutageTolerance, 3_600_000);
  t.equal(config.rules.forGracePeriod, 600_000);
  t.same(loadConfig({ argv: [], env: { LARDER_RULES_FILE: 'x.yml, y.yml' } }).config.rules.files, ['x.yml', 'y.yml']);
  t.throws(() => loadConfig({ argv: ['--rules.evaluation-interval=fast'], env: {} }), /invalid value "fast" for --rules.evaluation-interval/);
});
