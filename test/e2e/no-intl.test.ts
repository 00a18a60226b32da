/**
 * `larder serve` never touches Intl's locale or zone data: the first use maps ~5 MB
 * of ICU data into the process for good (idle RSS is a target). Every use in the
 * process, dependencies included, is caught by a preloaded probe.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../helpers/prometheus.js';
import { startLarderProcess } from '../helpers/larder-process.js';

const PROBE = pathToFileURL(join(import.meta.dirname, '..', 'fixtures', 'intl-probe.mjs')).href;

t.test('serving, recording into SQLite and scheduling jobs use no Intl', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-intl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'intl.txt');
  const larder = await startLarderProcess(await freePort(), [], {
    MONITORING_DB: 'sqlite',
    SQLITE_DB_PATH: join(dir, 'monitoring.db'),
    LARDER_SPOOL_PATH: join(dir, 'spool.db'),
    LARDER_RECORD_INTERVAL: '1s',
    LARDER_COLLECT_INTERVAL: '1s',
    NODE_OPTIONS: `--import=${PROBE}`,
    LARDER_INTL_PROBE_OUT: out,
  });
  t.teardown(() => larder.stop('SIGKILL'));

  let text = '';
  for (let i = 0; i < 60; i++) {
    text = await (await fetch(`${larder.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } })).text();
    if (Number(/^larder_recorder_batches_total (\S+)$/m.exec(text)?.[1] ?? 0) >= 2) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  t.match(text, /^larder_recorder_batches_total [2-9]/m, 'the recorder wrote two batches');
  t.match(text, /^node_time_zone_offset_seconds\{time_zone="[^"]+"\} /m, 'the time zone is named');
  t.match(text, /^# TYPE larder_job_runs_total counter$/m, 'the scheduler runs');
  t.equal(await larder.stop('SIGTERM'), 0);
  t.equal(existsSync(out) ? readFileSync(out, 'utf8') : '', '', 'no Intl use recorded');
});
