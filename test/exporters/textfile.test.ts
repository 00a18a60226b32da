/** The textfile collector: good, bad and changing files in a real temp folder, served through the real HTTP server. */
import { mkdtempSync, rmSync, renameSync, truncateSync, utimesSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cpuCollector } from '../../exporters/cpu.js';
import { loadavgCollector } from '../../exporters/loadavg.js';
import { mergeTextfiles, textfileCollector } from '../../exporters/textfile.js';
import { parseExposition } from '../../exporters/text-parser.js';
import { silentLogger } from '../../src/log.js';
import { startServer } from '../../src/server.js';
import { Authenticator } from '../../src/web-auth.js';
import { harness, samples, value } from './helpers.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'larder-textfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a file atomically, as cron jobs are told to: write aside, rename in. */
function writeAtomic(dir: string, name: string, text: string, mtimeSec?: number): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, text);
  if (mtimeSec !== undefined) utimesSync(tmp, mtimeSec, mtimeSec);
  renameSync(tmp, join(dir, name));
}

const GOOD = `# HELP backup_last_success_timestamp_seconds When the last backup succeeded.
# TYPE backup_last_success_timestamp_seconds gauge
backup_last_success_timestamp_seconds{target="db"} 1.7e9
# HELP backup_duration_seconds How long backups take.
# TYPE backup_duration_seconds histogram
backup_duration_seconds_bucket{le="60"} 3
backup_duration_seconds_bucket{le="+Inf"} 4
backup_duration_seconds_sum 250
backup_duration_seconds_count 4
`;

t.test('a good and a bad file: the good one is served, the bad one skipped whole and flagged', async (t) => {
  const dir = tempDir(t);
  writeAtomic(dir, 'backup.prom', GOOD, 1_700_000_000);
  writeAtomic(dir, 'broken.prom', 'half_written_metric{job="x"} 1\nhalf_written_metric{job="y" 2\n');
  writeFileSync(join(dir, 'notes.txt'), 'not a prom file');
  const h = harness([textfileCollector], { textfileDirectory: dir });
  const f = await h.collect();
  t.equal(value(f, 'node_textfile_scrape_error'), 1);
  t.equal(value(f, 'backup_last_success_timestamp_seconds', { target: 'db' }), 1.7e9);
  t.equal(f.get('backup_duration_seconds')?.type, 'histogram');
  t.equal(samples(f, 'backup_duration_seconds').length, 4, 'buckets, sum and count in one family');
  t.equal(f.get('half_written_metric'), undefined, 'not even the valid first line of the bad file');
  t.same(samples(f, 'node_textfile_mtime_seconds').map((s) => [s.labels['file'], s.value]), [['backup.prom', 1_700_000_000]]);
  t.equal(h.log.warnings.length, 1);
  t.match(h.log.warnings[0], /broken\.prom.*line 2/);
  t.ok(h.set.metricsOf(['textfile']).has('backup_duration_seconds'), 'textfile families belong to the textfile collector');

  // a second round: the same failure is not logged again
  await h.collect();
  t.equal(h.log.warnings.length, 1);

  // fix the file, remove the other: families follow the folder
  writeAtomic(dir, 'broken.prom', 'half_written_metric{job="x"} 1\n');
  unlinkSync(join(dir, 'backup.prom'));
  const f2 = await h.collect();
  t.equal(value(f2, 'node_textfile_scrape_error'), 0);
  t.equal(value(f2, 'half_written_metric', { job: 'x' }), 1);
  t.equal(f2.get('backup_duration_seconds'), undefined, 'a removed file takes its metrics along');
  t.same(samples(f2, 'node_textfile_mtime_seconds').map((s) => s.labels['file']), ['broken.prom']);
  h.stop();
});

t.test('refused: timestamps, a clash with another collector, conflicting declarations across files', async (t) => {
  const dir = tempDir(t);
  writeAtomic(dir, 'a.prom', '# HELP shared_total Shared.\n# TYPE shared_total counter\nshared_total{from="a"} 1\n');
  writeAtomic(dir, 'b.prom', '# HELP shared_total Shared.\n# TYPE shared_total counter\nshared_total{from="b"} 2\n');
  writeAtomic(dir, 'c.prom', '# TYPE shared_total gauge\nshared_total{from="c"} 3\n');
  writeAtomic(dir, 'd.prom', 'stamped 1 1700000000000\n');
  writeAtomic(dir, 'e.prom', 'node_load1 99\n');
  writeAtomic(dir, 'f.prom', '# HELP shared_total Shared.\n# TYPE shared_total counter\nshared_total{from="a"} 5\n');
  const h = harness([loadavgCollector, textfileCollector], { textfileDirectory: dir });
  const f = await h.collect();
  t.same(samples(f, 'shared_total').map((s) => s.labels['from']), ['a', 'b'], 'same declaration in two files merges');
  t.equal(f.get('stamped'), undefined);
  t.equal(samples(f, 'node_load1').length, 1);
  t.not(value(f, 'node_load1'), 99, 'the host value, not the textfile one');
  t.equal(value(f, 'node_textfile_scrape_error'), 1);
  const logged = h.log.warnings.join('\n');
  t.match(logged, /c\.prom.*declared differently/);
  t.match(logged, /d\.prom.*timestamp/);
  t.match(logged, /e\.prom.*already exported by another collector/);
  t.match(logged, /f\.prom.*already in an earlier file/);
  t.equal(value(f, 'shared_total', { from: 'a' }), 1);
  h.stop();
});

t.test('no directory configured: idle with error 0; a missing directory: error 1', async (t) => {
  const h = harness([textfileCollector], { textfileDirectory: '' });
  t.equal(value(await h.collect(), 'node_textfile_scrape_error'), 0);
  h.stop();
  const h2 = harness([textfileCollector], { textfileDirectory: join(tmpdir(), 'larder-no-such-dir-' + process.pid) });
  const f = await h2.collect();
  t.equal(value(f, 'node_textfile_scrape_error'), 1);
  t.equal(value(f, 'larder_collector_success', { collector: 'textfile' }), 1, 'the collector itself works');
  h2.stop();
});

t.test('mergeTextfiles is pure and orders files by name', async (t) => {
  const r = mergeTextfiles(
    [
      { name: 'z.prom', text: 'm{f="z"} 2\n' },
      { name: 'a.prom', text: 'm{f="a"} 1\n' },
    ],
    () => false,
  );
  t.same(r.ok, ['a.prom', 'z.prom']);
  t.same(r.families[0]?.samples.map((s) => s.labels['f']), ['a', 'z']);
  t.equal(r.families[0]?.help, 'Metric read from a.prom', 'a family without HELP gets one naming its file');
});

t.test('served over HTTP: collect[] per collector name, exclude[], and the exposition parses back', async (t) => {
  const dir = tempDir(t);
  writeAtomic(dir, 'job.prom', GOOD);
  const h = harness([cpuCollector, loadavgCollector, textfileCollector], { textfileDirectory: dir });
  await h.set.updateAll();
  const server = await startServer(
    { registry: h.registry, collectors: h.set, auth: new Authenticator({ basicAuthUsers: {} }, undefined), log: silentLogger, maxRequests: 10, tls: undefined },
    { host: '127.0.0.1', port: 0 },
  );
  t.teardown(async () => {
    await server.close();
    h.stop();
  });
  const names = async (query: string): Promise<string[]> => {
    const res = await fetch(`${server.url}/metrics${query}`);
    t.equal(res.status, 200, query);
    return parseExposition(await res.text(), 'text').map((f) => f.name);
  };
  const onlyText = await names('?collect[]=textfile');
  t.ok(onlyText.includes('backup_duration_seconds'));
  t.ok(onlyText.includes('node_textfile_scrape_error'));
  t.notOk(onlyText.includes('node_load1'));
  t.notOk(onlyText.includes('node_cpu_seconds_total'));
  const onlyLoad = await names('?collect[]=loadavg');
  t.ok(onlyLoad.includes('node_load1'));
  t.notOk(onlyLoad.includes('backup_duration_seconds'));
  const both = await names('?collect[]=cpu&collect[]=loadavg');
  t.ok(both.includes('node_cpu_seconds_total') && both.includes('node_load15'));
  const noText = await names('?exclude[]=textfile');
  t.notOk(noText.includes('backup_duration_seconds'));
  t.ok(noText.includes('node_cpu_seconds_total'));
  // OpenMetrics negotiation of the same families parses too
  const om = await fetch(`${server.url}/metrics?collect[]=textfile`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
  const fams = parseExposition(await om.text(), 'openmetrics');
  t.equal(fams.find((f) => f.name === 'backup_duration_seconds')?.samples.length, 4);
});

t.test('refused whole: invalid UTF-8 in a label value (not read as U+FFFD), a series repeated in one file', async (t) => {
  const dir = tempDir(t);
  writeAtomic(dir, 'ok.prom', 'city_temperature{city="Zürich"} 4\n');
  const bad = join(dir, 'latin1.prom');
  writeFileSync(bad, Buffer.concat([Buffer.from('city_temperature{city="Z'), Buffer.from([0xfc]), Buffer.from('rich2"} 5\n')]));
  writeAtomic(dir, 'twice.prom', 'repeated{a="1"} 1\nrepeated{a="1"} 2\n');
  const h = harness([textfileCollector], { textfileDirectory: dir });
  const f = await h.collect();
  t.same(samples(f, 'city_temperature').map((s) => s.labels['city']), ['Zürich'], 'only the valid file is served');
  t.equal(f.get('repeated'), undefined);
  t.equal(value(f, 'node_textfile_scrape_error'), 1);
  const logged = h.log.warnings.join('\n');
  t.match(logged, /latin1\.prom.*line 1: invalid UTF-8/);
  t.match(logged, /twice\.prom.*appears twice/);
  h.stop();
});

t.test('a file over --collector.textfile.max-bytes is skipped unread and flagged; the others are served', async (t) => {
  const dir = tempDir(t);
  writeAtomic(dir, 'backup.prom', GOOD);
  const limit = Buffer.byteLength(GOOD);
  writeAtomic(dir, 'huge.prom', `huge_metric 1\n${'# padding\n'.repeat(100)}`);
  const h = harness([textfileCollector], { textfileDirectory: dir, textfileMaxBytes: limit });
  const f = await h.collect();
  t.equal(value(f, 'node_textfile_scrape_error'), 1);
  t.equal(f.get('huge_metric'), undefined);
  t.equal(value(f, 'backup_last_success_timestamp_seconds', { target: 'db' }), 1.7e9, 'a file of exactly the limit is read');
  t.same(samples(f, 'node_textfile_mtime_seconds').map((s) => s.labels['file']), ['backup.prom']);
  t.equal(h.log.warnings.length, 1);
  t.match(h.log.warnings[0], new RegExp(`huge\\.prom.*file is 1014 bytes, over the ${limit}-byte limit`));
  h.stop();

  // the default: a 50 MB file (sparse, so the test writes nothing) is refused by its size alone
  truncateSync(join(dir, 'huge.prom'), 50_000_000);
  const h2 = harness([textfileCollector], { textfileDirectory: dir });
  const started = Date.now();
  const f2 = await h2.collect();
  t.ok(Date.now() - started < 1000, 'skipped at once');
  t.equal(value(f2, 'node_textfile_scrape_error'), 1);
  t.match(h2.log.warnings.join('\n'), /huge\.prom.*file is 50000000 bytes, over the 1048576-byte limit/);
  h2.stop();
});
