/**
 * `larder test rules` against `promtool test rules`: two engines, one file. A file that
 * passes must pass in both; a file with wrong expectations must fail in both with the
 * same report (stdout, stderr) and exit code 1.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { testRules } from '../../src/alerting/unit-test.js';
import { need } from '../helpers/peers.js';

const DIR = 'test/fixtures/alerting';

async function larder(files: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await testRules(files, { out: (s) => void (stdout += s), err: (s) => void (stderr += s) });
  return { status, stdout, stderr };
}

function promtool(files: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('promtool', ['test', 'rules', ...files], { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

t.test('a passing file passes in both engines; a failing one fails in both, saying the same', async (t) => {
  const files = ['rules.test.yml', 'rules.fail.test.yml'];
  const ours = await larder(files.map((f) => join(DIR, f)));
  t.equal(ours.status, 1, 'exit code 1: a test failed');
  t.match(ours.stdout, /Unit Testing: {2}test\/fixtures\/alerting\/rules\.test\.yml\n {2}SUCCESS\n/);
  t.match(ours.stderr, /alertname: HighLatency, time: 2m, \n {8}exp:\[\n {12}0:\n {14}Labels:\{alertname="HighLatency", route="\/api", severity="critical"\}/, 'says which alert differed and how');
  t.match(ours.stderr, /alertname: InstanceDown, time: 6m, [\s\S]*got:\[\]/, 'not yet firing at 6m (for: 5m from 2m)');
  t.match(ours.stderr, /expr: "job:up:sum", time: 3m,\n {8}exp: \{__name__="job:up:sum", job="node"\} 2E\+00\n {8}got: \{__name__="job:up:sum", job="node"\} 0E\+00/);
  const passing = await larder([join(DIR, 'rules.test.yml'), join(DIR, 'templates.test.yml')]);
  t.equal(passing.status, 0, 'the passing files exit 0 (templates.test.yml: every template function, as Go prints it)');
  t.equal(passing.stderr, '');
  if (!(await need(t, 'prometheus'))) return;
  const theirs = promtool(files);
  t.equal(theirs.status, ours.status, 'same exit code as promtool');
  t.equal(ours.stdout.replaceAll(`${DIR}/`, ''), theirs.stdout, 'same stdout as promtool');
  t.equal(ours.stderr, theirs.stderr, 'same report of the differences as promtool');
  t.equal(promtool(['rules.test.yml', 'templates.test.yml']).status, 0, 'promtool passes the passing files too');
});
