/**
 * Scrape targets end to end, real HTTP targets on loopback recorded into a real
 * SQLite store: exposed timestamps are honoured (text format ms, OpenMetrics
 * seconds) unless the target says `honor_timestamps: false`; a timestamp out of
 * bounds is dropped and counted; a repeated series no longer fails the scrape: the
 * first sample is kept, the repeats dropped and counted, as Prometheus does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import t from 'tap';
import { settleSamples } from '../../../src/scrape/sample-times.js';
import { scrapeOnce } from '../../../src/scrape/target.js';
import { loadConfig } from '../../../src/config.js';
import { Logger } from '../../../src/log.js';
import { parseTargets } from '../../../src/options/recorder.js';
import { startRecording } from '../../../src/recorder/index.js';
import { Recorder } from '../../../src/recorder/recorder.js';
import { startScrapeTargets, targetSpecs } from '../../../src/scrape/index.js';
import { openSqliteStore } from '../../../storage/sqlite-store.js';
import type { Store } from '../../../storage/store.js';

function serve(contentType: string, body: () => string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.setHeader('Content-Type', contentType);
    res.end(body());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` })));
}

/** Every stored sample of `name` for `job`, as [time, value]. */
async function stored(store: Store, name: string, job: string): Promise<[number, number][]> {
  const r = await store.readSamples({ name, matchers: [{ label: 'job', op: '=', value: job }], fromMs: 0, toMs: Date.now() + 3_600_000 });
  return r.samples.map((s) => [s.timeMs, s.value]);
}

t.test('timestamps honoured, out-of-bounds and repeated samples dropped and counted, into SQLite', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-scrape-ts-'));
  const store = await openSqliteStore({ path: join(dir, 'monitoring.db') });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // exposed times a little in the past (within the default 2-minute rollup grace), set per request
  let exposedMs = 0;
  const textBody = (exposedMs: number): string => {
    return [
      '# TYPE job_last_run_seconds gauge',
      `job_last_run_seconds{task="a"} 12 ${exposedMs}`,
      `job_last_run_seconds{task="stale"} 13 ${exposedMs - 3_600_000}`,
      `job_last_run_seconds{task="future"} 14 ${exposedMs + 3_600_000}`,
      'plain_gauge 7',
      'repeated{a="1"} 1',
      'repeated{a="1"} 2',
      'repeated{a="2"} 3',
      '',
    ].join('\n');
  };
  const text = await serve('text/plain; version=0.0.4', () => textBody((exposedMs = Date.now() - 30_000)));
  const text2 = await serve('text/plain; version=0.0.4', () => textBody(Date.now() - 30_000));
  let omExposedMs = 0;
  const om = await serve('application/openmetrics-text; version=1.0.0; charset=utf-8', () => {
    omExposedMs = Math.floor(Date.now() / 1000) * 1000 - 20_000;
    return `# TYPE batch_items counter\nbatch_items_total 5 ${omExposedMs / 1000}\n# EOF\n`;
  });
  t.teardown(() => {
    for (const s of [text, text2, om]) s.server.close();
  });

  const targets = parseTargets([
    { url: text.url, job: 'honour' },
    { url: text2.url, job: 'scrape-time', honor_timestamps: false },
    { url: om.url, job: 'om' },
  ]);
  t.equal(targets[1]?.honorTimestamps, false, 'honor_timestamps read from the config');
  const registry = new Registry();
  const lines: string[] = [];
  const log = new Logger('info', (l) => lines.push(l));
  const recorder = new Recorder({ registry, store, log, intervalMs: 3_600_000 });
  const manager = startScrapeTargets({ specs: targetSpecs(targets, 3_600_000), sink: (f, time, labels) => recorder.submit(f, time, labels), registry, log });
  t.teardown(() => manager.stop());
  // start() began one scrape of each target; scrape() returns the one in flight
  const before = Date.now();
  await Promise.all(manager.targets.map((x) => x.scrape()));
  const after = Date.now();

  const honour = manager.targets[0]!.last!;
  t.equal(honour.up, true, 'a target that repeats a series still counts as up');
  t.equal(honour.duplicates, 1);
  t.equal(honour.outOfBounds, 2);
  t.same(await stored(store, 'job_last_run_seconds', 'honour'), [[exposedMs, 12]], 'stored at the exposed time; the stale and the future sample dropped');
  const [plain] = await stored(store, 'plain_gauge', 'honour');
  t.ok(plain && plain[0] >= before - 1000 && plain[0] <= after, 'a sample without a timestamp is stored at the scrape time');
  const repeated = await store.readSamples({ name: 'repeated', matchers: [{ label: 'job', op: '=', value: 'honour' }], fromMs: 0, toMs: after + 1 });
  t.same(
    repeated.samples.map((s) => [repeated.series.find((x) => x.id === s.seriesId)?.labels['a'], s.value]).sort(),
    [['1', 1], ['2', 3]],
    'the repeated series keeps its first sample; the other series of that name is kept too',
  );

  const scrapeTime = await stored(store, 'job_last_run_seconds', 'scrape-time');
  t.same(scrapeTime.map(([, v]) => v).sort(), [12, 13, 14], 'honor_timestamps: false: nothing is out of bounds');
  t.ok(scrapeTime.every(([time]) => time >= before - 1000 && time <= after), 'every sample at the scrape time, not the exposed one');
  t.equal(manager.targets[1]!.last!.outOfBounds, 0);
  t.equal(manager.targets[1]!.last!.duplicates, 1);

  t.same(await stored(store, 'batch_items_total', 'om'), [[omExposedMs, 5]], 'OpenMetrics seconds stored as ms');

  const metrics = await registry.getSingleMetricAsString('larder_scrape_target_samples_duplicate_total');
  t.match(metrics, /larder_scrape_target_samples_duplicate_total\{job="honour",instance="127\.0\.0\.1:\d+"\} 1/);
  t.match(metrics, /job="scrape-time".*\} 1/);
  t.match(await registry.getSingleMetricAsString('larder_scrape_target_samples_out_of_bounds_total'), /job="honour".*\} 2/);
  t.ok(lines.some((l) => l.includes('repeats series') && l.includes('job="honour"')), 'the repeats are logged once');
  t.ok(lines.some((l) => l.includes('out of bounds') && l.includes('honor_timestamps: false')), 'the hint names the option');
});

t.test('settleSamples: the time window and the first-kept rule', async (t) => {
  const fam = { name: 'g', help: '', type: 'gauge' as const, samples: [
    { name: 'g', labels: { a: '1', b: '2' }, value: 1, timestampMs: 1000 },
    { name: 'g', labels: { b: '2', a: '1' }, value: 2, timestampMs: 1000 },
    { name: 'g', labels: { a: '1', b: '2' }, value: 3, timestampMs: 2000 },
    { name: 'g', labels: { a: '1', b: '2' }, value: 4, timestampMs: 500 },
    { name: 'g', labels: { a: '1', b: '2' }, value: 5, timestampMs: 9000 },
  ] };
  const r = settleSamples([fam], { honor: true, scrapeTimeMs: 2000, maxAgeMs: 1000, maxAheadMs: 100 });
  t.same(r.families[0]?.samples.map((s) => s.value), [1, 3], 'label order does not make another series; another time is another sample');
  t.equal(r.duplicates, 1);
  t.equal(r.outOfBounds, 2);
  const off = settleSamples([fam], { honor: false, scrapeTimeMs: 2000, maxAgeMs: 1000, maxAheadMs: 100 });
  t.same(off.families[0]?.samples, [{ name: 'g', labels: { a: '1', b: '2' }, value: 1 }], 'without honouring, one sample at the scrape time');
  t.equal(off.duplicates, 4);
});

t.test('honor_timestamps in the config file: a boolean, true by default', async (t) => {
  t.equal(parseTargets([{ url: 'http://a/m', job: 'j' }])[0]?.honorTimestamps, true);
  t.throws(() => parseTargets([{ url: 'http://a/m', job: 'j', honor_timestamps: 'no' }]), /targets\[0\]\.honor_timestamps: expected true or false/);
  const [spec] = targetSpecs(parseTargets([{ url: 'http://a/m', job: 'j', honor_timestamps: false }]), 60_000, 300_000);
  t.equal(spec?.honorTimestamps, false);
  t.equal(spec?.maxTimestampAgeMs, 300_000, 'the oldest timestamp kept follows the rollup grace');
});

t.test('a body that is not UTF-8 fails the scrape, for each format, instead of storing U+FFFD', async (t) => {
  const bytes = Buffer.concat([Buffer.from('city_temperature{city="Z'), Buffer.from([0xfc]), Buffer.from('rich"} 5\n')]);
  for (const [type, tail] of [['text/plain; version=0.0.4', ''], ['application/openmetrics-text; version=1.0.0', '# EOF\n']] as const) {
    const server = createServer((_req, res) => {
      res.setHeader('Content-Type', type);
      res.end(Buffer.concat([bytes, Buffer.from(tail)]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    const r = await scrapeOnce({ url, job: 'latin1', instance: 'x', intervalMs: 5000, timeoutMs: 2000 });
    server.close();
    t.equal(r.up, false, type);
    t.match(r.error, /malformed exposition: line 1: invalid UTF-8/, type);
  }
});

t.test('from a config file through startRecording: honor_timestamps per target, the age bound from --rollup.grace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-scrape-cfg-'));
  const store = await openSqliteStore({ path: join(dir, 'monitoring.db') });
  // four minutes old: kept only because --rollup.grace is 5m (the default 2m would drop it)
  let exposedMs = 0;
  const target = await serve('text/plain; version=0.0.4', () => `queue_depth 9 ${(exposedMs = Date.now() - 240_000)}\n`);
  const other = await serve('text/plain; version=0.0.4', () => `queue_depth 9 ${Date.now() - 240_000}\n`);
  t.teardown(async () => {
    target.server.close();
    other.server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'larder.yml');
  writeFileSync(file, `targets:\n  - url: ${target.url}\n    job: honour\n  - url: ${other.url}\n    job: scrape-time\n    honor_timestamps: false\n`);
  const { config } = loadConfig({ argv: [`--config.file=${file}`, '--rollup.grace=5m'], env: {} });
  const rec = startRecording({ registry: new Registry(), store, config, log: new Logger('error', () => {}) });
  const started = Date.now();
  let honour: [number, number][] = [];
  let scrapeTime: [number, number][] = [];
  while (Date.now() - started < 10_000 && (honour.length === 0 || scrapeTime.length === 0)) {
    await new Promise((r) => setTimeout(r, 100));
    honour = await stored(store, 'queue_depth', 'honour');
    scrapeTime = await stored(store, 'queue_depth', 'scrape-time');
  }
  await rec.stop();
  t.same(honour, [[exposedMs, 9]], 'stored at the exposed time');
  t.equal(scrapeTime.length, 1);
  t.ok(scrapeTime[0]![0] >= started - 1000, 'honor_timestamps: false: stored at the scrape time');
});
