/**
 * `larder serve` on the SQLite default records the very registry /metrics serves,
 * flushes on SIGTERM, and refuses a second writer on the same file.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { need, run } from '../helpers/peers.js';
import { freePort } from '../helpers/prometheus.js';
import { runCli, startLarderProcess } from '../helpers/larder-process.js';

t.test('records into SQLite, flushes on SIGTERM, refuses a second writer', async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'larder-rec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'monitoring.db');
  const env = { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: db, LARDER_SPOOL_PATH: join(dir, 'spool.db'), LARDER_RECORD_INTERVAL: '1s', LARDER_COLLECT_INTERVAL: '1s' };
  const larder = await startLarderProcess(await freePort(), [], env);
  t.teardown(() => larder.stop('SIGKILL'));

  // wait for a few recordings, as the recorder's own counter reports them
  let batches = 0;
  for (let i = 0; i < 60 && batches < 2; i++) {
    const text = await (await fetch(`${larder.url}/metrics`)).text();
    batches = Number(/^larder_recorder_batches_total (\S+)$/m.exec(text)?.[1] ?? 0);
    if (batches < 2) await new Promise((r) => setTimeout(r, 250));
  }
  t.ok(batches >= 2, `recorder wrote ${batches} batches`);

  const second = runCli(['serve', `--listen=127.0.0.1:${await freePort()}`], env);
  t.equal(second.status, 1, 'a second writer exits 1');
  t.match(second.stderr, /in use by another Larder process/);
  t.notMatch(second.stderr, /\n\s+at /, 'no stack trace for a known failure');

  t.equal(await larder.stop('SIGTERM'), 0, 'SIGTERM exits 0');
  t.match(larder.stdout(), /recording/, 'informational lines go to stdout');
  const uri = `file:${db}?vfs=unix-dotfile`;
  const cpuSeries = Number(run('sqlite3', [uri, "SELECT count(*) FROM series WHERE name = 'node_cpu_seconds_total'"]).trim());
  t.ok(cpuSeries >= 8, `${cpuSeries} node_cpu_seconds_total series recorded`);
  const latest = run('sqlite3', [uri, "SELECT count(*) FROM latest_metrics WHERE metric_name = 'larder_recorder_batches_total'"]).trim();
  t.equal(latest, '1', 'latest_metrics shows the recorder counter');
  t.equal(run('sqlite3', [uri, 'PRAGMA integrity_check']).trim(), 'ok');
  // after SIGTERM the lock is released: a new process can open the file at once
  const again = await startLarderProcess(await freePort(), [], env);
  t.equal(await again.stop('SIGTERM'), 0, 'the file opens again after a clean stop');
});
