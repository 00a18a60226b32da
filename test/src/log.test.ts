/** Log lines go where process managers expect them: info to stdout, warnings and errors to stderr. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Logger, type LogLevel } from '../../src/log.js';
import { freePort } from '../helpers/prometheus.js';
import { startLarderProcess } from '../helpers/larder-process.js';

const CHILD = fileURLToPath(new URL('../fixtures/log-streams.ts', import.meta.url));

function runChild(...args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', '@tapjs/typescript/import', CHILD, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child exited ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

t.test('debug and info to stdout, warn and error to stderr', async (t) => {
  const { stdout, stderr } = runChild();
  t.match(stdout, /^ts=\S+ level=debug component=probe msg="a debug line"$/m);
  t.match(stdout, /^ts=\S+ level=info component=probe msg="an info line"$/m);
  t.notMatch(stdout, /level=(warn|error)/);
  t.match(stderr, /^ts=\S+ level=warn component=probe msg="a warning"$/m);
  t.match(stderr, /^ts=\S+ level=error component=probe msg="an error"$/m);
  t.notMatch(stderr, /level=(debug|info)/);
});

t.test("under journald, a stream that is the journal's carries syslog priorities", async (t) => {
  const { stdout, stderr } = runChild('journal');
  t.match(stderr, /^<4>ts=\S+ level=warn /m);
  t.match(stderr, /^<3>ts=\S+ level=error /m);
  t.match(stdout, /^ts=\S+ level=info /m, 'stdout is not the journal here: no prefix');
  t.notMatch(stdout, /^</m);
});

t.test('the sink is told the level', async (t) => {
  const seen: [LogLevel, string][] = [];
  const log = new Logger('info', (line, level) => seen.push([level, line]));
  log.debug('hidden');
  log.info('shown');
  log.error('bad');
  t.same(seen.map(([l]) => l), ['info', 'error']);
});

t.test('larder serve logs its start-up on stdout and nothing routine on stderr', async (t) => {
  const larder = await startLarderProcess(await freePort());
  t.equal(await larder.stop('SIGTERM'), 0);
  t.match(larder.stdout(), /level=info msg="larder listening"/);
  t.match(larder.stdout(), /level=info msg="stopping" signal="SIGTERM"/);
  t.notMatch(larder.stderr(), /level=info/);
});
