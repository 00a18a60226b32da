/**
 * The README's "Query with PromQL" examples, run as printed (only the address changed)
 * with the real curl against a real `larder serve` that has recorded its own metrics for
 * a few seconds: each command exits 0 and prints Prometheus' success envelope, and the
 * instant query finds the CPU series it sums. An example that curl cannot send (it reads
 * `[ ]` and `{ }` in a URL as its own patterns, and with `-s` says nothing) fails here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startLarderProcess } from '../helpers/larder-process.js';
import { need } from '../helpers/peers.js';
import { freePort } from '../helpers/prometheus.js';
import { tempDir } from '../storage/fixtures/stores.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const ADDRESS = 'http://localhost:9464';

/** The commands of the first `sh` block under a heading, continuation lines joined, comments dropped. */
function commandsUnder(heading: string): string[] {
  const at = README.indexOf(`\n## ${heading}\n`);
  if (at < 0) throw new Error(`README has no "## ${heading}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(at));
  if (block === null) throw new Error(`no sh block under "## ${heading}"`);
  return block[1]!
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

t.test("the README's PromQL examples work as printed", async (t) => {
  const commands = commandsUnder('Query with PromQL');
  t.ok(commands.length >= 5, `${commands.length} commands`);
  for (const c of commands) t.ok(c.startsWith('curl ') && c.includes(ADDRESS), `a curl to ${ADDRESS}: ${c}`);
  if (!(await need(t, 'curl'))) return;

  const dir = tempDir(t);
  const port = await freePort();
  const larder = await startLarderProcess(port, ['--rules.bundled=false'], {
    MONITORING_DB: 'sqlite',
    SQLITE_DB_PATH: join(dir, 'l.db'),
    LARDER_COLLECT_INTERVAL: '1s',
    LARDER_RECORD_INTERVAL: '1s',
  });
  try {
    // Records enough that a rate has two samples (the second record a second after the
    // first, later on a loaded machine): asked directly until it answers, 60 s at most.
    const cpu = new URLSearchParams({ query: 'sum(rate(node_cpu_seconds_total[5m]))' });
    for (let waited = 0; ; waited += 500) {
      const r = (await (await fetch(`${larder.url}/api/v1/query`, { method: 'POST', body: cpu })).json()) as { data?: { result?: unknown[] } };
      if ((r.data?.result?.length ?? 0) > 0) break;
      if (waited > 60_000) throw new Error('no CPU rate after 60 s of recording');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    for (const command of commands) {
      const run = command.replaceAll(ADDRESS, larder.url);
      const r = spawnSync('bash', ['-c', run], { encoding: 'utf8', timeout: 30_000 });
      t.equal(r.status, 0, `exits 0: ${command}${r.stderr ? ` (${r.stderr.trim()})` : ''}`);
      let body: { status?: string; data?: unknown } | undefined;
      try {
        body = JSON.parse(r.stdout) as typeof body;
      } catch {
        body = undefined;
      }
      t.equal(body?.status, 'success', `answers success: ${command}: ${r.stdout.slice(0, 200)}`);
      if (command.includes('node_cpu_seconds_total')) {
        const result = (body?.data as { result?: unknown[] } | undefined)?.result ?? [];
        t.equal(result.length, 1, `the sum of the CPU series is there: ${r.stdout.slice(0, 200)}`);
      }
    }
  } finally {
    await larder.stop(); // before the folder it writes to is removed
  }
});
