/**
 * The bundled rule files pass `promtool check rules`, and their unit tests
 * (rules/tests/*.test.yml) pass both `promtool test rules` and Larder's own runner of the
 * same files (`larder test rules`): two engines, one test file. Every alert has a case
 * that fires and one that does not. The tests also fail, in both engines, when a
 * threshold moves, so they test the rules.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { bundledRuleFiles } from '../../rules/bundled.js';
import { repoDir } from '../../rules/generate.js';
import { PACKS } from '../../rules/packs/index.js';
import { testRules } from '../../src/alerting/unit-test.js';
import { need } from '../helpers/peers.js';

const root = repoDir();
const rulesDir = join(root, 'rules');
const testsDir = join(rulesDir, 'tests');

function promtool(args: string[], cwd = root): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface AlertTest {
  alertname: string;
  exp_alerts?: unknown[] | null;
}
interface TestFile {
  rule_files: string[];
  tests: { alert_rule_test?: AlertTest[] }[];
}

t.test('every pack has a rule file and a test file, and every alert a firing and a quiet case', async (t) => {
  const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.rules.yml')).sort();
  t.same(ruleFiles, PACKS.map((p) => `${p.name}.rules.yml`).sort(), 'one generated file per pack, no stray one');
  t.same(readdirSync(testsDir).filter((f) => f.endsWith('.test.yml')).sort(), PACKS.map((p) => `${p.name}.test.yml`).sort(), 'one test file per pack');
  for (const pack of PACKS) {
    const file = parse(readFileSync(join(testsDir, `${pack.name}.test.yml`), 'utf8')) as TestFile;
    t.same(file.rule_files, [`../${pack.name}.rules.yml`], `${pack.name}: tests its own rule file`);
    const cases = file.tests.flatMap((g) => g.alert_rule_test ?? []);
    for (const a of pack.alerts) {
      const mine = cases.filter((c) => c.alertname === a.name);
      t.ok(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${a.name} has a case where it fires`);
      t.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${a.name} has a case where it does not`);
    }
    t.same([...new Set(cases.map((c) => c.alertname).filter((n) => !pack.alerts.some((a) => a.name === n)))], [], `${pack.name}: no case of an alert the pack lacks`);
  }
});

t.test('promtool check rules passes every generated file', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  for (const pack of PACKS) {
    const r = promtool(['check', 'rules', join('rules', `${pack.name}.rules.yml`)]);
    t.equal(r.status, 0, `${pack.name}.rules.yml: ${r.output.trim()}`);
    t.match(r.output, new RegExp(`SUCCESS: ${pack.alerts.length} rules found`), `${pack.name}: all ${pack.alerts.length} rules`);
  }
});

t.test('promtool test rules passes every test file', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  for (const pack of PACKS) {
    const r = promtool(['test', 'rules', join('rules', 'tests', `${pack.name}.test.yml`)]);
    t.equal(r.status, 0, `${pack.name}.test.yml${r.status === 0 ? '' : `:\n${r.output}`}`);
  }
});

/** Larder's runner over `files`, as `larder test rules` runs it. */
async function larder(files: string[]): Promise<{ status: number; output: string }> {
  let output = '';
  const status = await testRules(files, { out: (s) => void (output += s), err: (s) => void (output += s) });
  return { status, output };
}

t.test("Larder's runner (larder test rules) passes every test file", async (t) => {
  const files = readdirSync(testsDir).filter((f) => f.endsWith('.test.yml')).sort();
  t.same(files, PACKS.map((p) => `${p.name}.test.yml`).sort(), 'every test file of rules/tests');
  const r = await larder(files.map((f) => join(testsDir, f)));
  t.equal(r.status, 0, `exit code 0${r.status === 0 ? '' : `:\n${r.output}`}`);
  for (const f of files) t.match(r.output, new RegExp(`Unit Testing: {2}\\S*${f.replace(/\./g, '\\.')}\n {2}SUCCESS\n`), `${f}: SUCCESS`);
});

t.test('the tests fail when a threshold or a for is overridden past what they expect, in both engines', async (t) => {
  const hasPromtool = await need(t, 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'larder-rules-promtool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'tests'));
  copyFileSync(join(testsDir, 'host.test.yml'), join(dir, 'tests', 'host.test.yml'));
  const write = (set: Record<string, Record<string, number | string>>): void => {
    const host = bundledRuleFiles({ enabled: true, disable: [], set }).find((b) => b.pack === 'host')!;
    writeFileSync(join(dir, 'host.rules.yml'), stringify(host.file));
  };
  /** The host test file in Larder's runner, and in promtool when there is one; each output starts with the engine's name. */
  const both = async (): Promise<{ status: number | null; output: string }[]> => {
    const ours = await larder([join(dir, 'tests', 'host.test.yml')]);
    const runs = [{ status: ours.status as number | null, output: `larder: ${ours.output}` }];
    if (hasPromtool) {
      const theirs = promtool(['test', 'rules', join('tests', 'host.test.yml')], dir);
      runs.push({ status: theirs.status, output: `promtool: ${theirs.output}` });
    }
    return runs;
  };
  write({});
  for (const r of await both()) t.equal(r.status, 0, `the defaults written by bundledRuleFiles pass: ${r.output.slice(0, 80)}`);
  write({ HostOutOfMemory: { threshold: 0.04 } });
  for (const r of await both()) {
    t.not(r.status, 0, `a lower memory threshold fails the test: ${r.output.slice(0, 60)}`);
    t.match(r.output, /alertname: HostOutOfMemory/, 'on HostOutOfMemory');
  }
  write({ HostClockSkew: { for: '30m' } });
  for (const r of await both()) {
    t.not(r.status, 0, `a longer for fails the test: ${r.output.slice(0, 60)}`);
    t.match(r.output, /alertname: HostClockSkew/, 'on HostClockSkew');
  }
});
