/**
 * Prometheus' per-target limits against real HTTP servers: each exceeded limit fails
 * the whole scrape (up 0) with the limit as its reason, counted on
 * larder_scrape_target_failures_total and logged once per change; the body and sample
 * caps abort the request while it streams, so an endless body costs nothing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import type { MetricFamily } from '../../../exporters/metric-family.js';
import { Logger } from '../../../src/log.js';
import { parseTargets } from '../../../src/options/recorder.js';
import { DEFAULT_SCRAPE_LIMITS, SampleLineCounter, type ScrapeLimits } from '../../../src/scrape/limits.js';
import { scrapeOnce, startScrapeTargets, targetSpecs, type TargetSpec } from '../../../src/scrape/index.js';

function serve(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` })));
}

const NO_LIMITS: ScrapeLimits = { sampleLimit: 0, labelLimit: 0, labelNameLengthLimit: 0, labelValueLengthLimit: 0, bodySizeLimit: 0 };
const spec = (url: string, limits: Partial<ScrapeLimits>, timeoutMs = 5000): TargetSpec => ({ url, job: 'j', instance: 'i', intervalMs: 10_000, timeoutMs, limits: { ...NO_LIMITS, ...limits } });
const lines = (n: number, labels = 'a="x"'): string => Array.from({ length: n }, (_, i) => `m{${labels},n="${i}"} ${i}\n`).join('');

t.test('the sample line counter counts samples, not comments or blank lines, across chunk edges', async (t) => {
  const text = '# HELP m x\n# TYPE m gauge\nm 1\n\n   \nm{a="b"} 2\n  m 3\n# EOF\nlast 4';
  for (const size of [1, 2, 3, 7, 1000]) {
    const c = new SampleLineCounter();
    const buf = Buffer.from(text);
    for (let i = 0; i < buf.length; i += size) c.push(buf.subarray(i, i + size));
    t.equal(c.count, 4, `chunks of ${size}`);
  }
});

t.test('body_size_limit aborts an endless body while it streams', async (t) => {
  let closedAt = 0;
  let sent = 0;
  const endless = await serve(t, (req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    const line = Buffer.from(`# ${'x'.repeat(1000)}\n`);
    const pump = (): void => {
      while (!res.destroyed && res.write(line)) sent += line.length;
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => (closedAt = Date.now()));
    pump();
  });
  const started = Date.now();
  const r = await scrapeOnce(spec(endless.url, { bodySizeLimit: 100_000 }));
  t.equal(r.up, false);
  t.equal(r.reason, 'body_size_limit');
  t.match(r.error, /body size limit exceeded/);
  t.ok(Date.now() - started < 2000, 'failed at once, not at the timeout');
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.ok(closedAt > 0, 'the connection was closed by the scraper');
  t.ok(sent < 10_000_000, `the server could send only ${sent} bytes before the abort`);
});

t.test('body_size_limit: a declared Content-Length over it fails before reading; a gzip body counts decoded bytes', async (t) => {
  const big = await serve(t, (_req, res) => {
    res.setHeader('Content-Length', '50000000');
    res.write('m 1\n');
  });
  const r1 = await scrapeOnce(spec(big.url, { bodySizeLimit: 1_000_000 }));
  t.equal(r1.reason, 'body_size_limit');
  t.match(r1.error, /Content-Length 50000000/);

  const bomb = gzipSync(Buffer.alloc(5_000_000, '# zeros\n'));
  const gz = await serve(t, (_req, res) => {
    res.setHeader('Content-Encoding', 'gzip');
    res.end(bomb);
  });
  t.ok(bomb.length < 100_000, 'the compressed body is small');
  const r2 = await scrapeOnce(spec(gz.url, { bodySizeLimit: 1_000_000 }));
  t.equal(r2.reason, 'body_size_limit', 'the decompressed size is what counts');
  const r3 = await scrapeOnce(spec(gz.url, { bodySizeLimit: 10_000_000 }));
  t.equal(r3.up, true, 'under the limit it is scraped');
});

t.test('sample_limit: exceeded fails the scrape; an endless stream of samples is cut off', async (t) => {
  const fixed = await serve(t, (_req, res) => res.end(`# TYPE m gauge\n${lines(1000)}`));
  const over = await scrapeOnce(spec(fixed.url, { sampleLimit: 999 }));
  t.equal(over.up, false);
  t.equal(over.reason, 'sample_limit');
  t.equal(over.families.find((f) => f.name === 'up')?.samples[0]?.value, 0);
  const at = await scrapeOnce(spec(fixed.url, { sampleLimit: 1000 }));
  t.equal(at.up, true, 'exactly at the limit is fine');
  t.equal(at.families.find((f) => f.name === 'scrape_samples_scraped')?.samples[0]?.value, 1000);

  let n = 0;
  const endless = await serve(t, (_req, res) => {
    const pump = (): void => {
      while (!res.destroyed && res.write(`m{n="${n}"} 1\n`)) n++;
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  });
  const cut = await scrapeOnce(spec(endless.url, { sampleLimit: 5000 }));
  t.equal(cut.reason, 'sample_limit');
  t.ok(n < 2_000_000, `stopped after ${n} lines were written`);
});

t.test('label limits count the name, job and instance as Prometheus does', async (t) => {
  const s = await serve(t, (_req, res) => res.end(`ok{a="1"} 1\nwide{a="1",b="2",c="3"} 1\n`));
  const r = await scrapeOnce(spec(s.url, { labelLimit: 5 }));
  t.equal(r.reason, 'label_limit');
  t.match(r.error, /metric "wide" has 6 labels > label_limit 5/);
  t.equal((await scrapeOnce(spec(s.url, { labelLimit: 6 }))).up, true);

  const long = await serve(t, (_req, res) => res.end(`m{${'n'.repeat(40)}="v"} 1\nv{a="${'é'.repeat(30)}"} 1\n`));
  const name = await scrapeOnce(spec(long.url, { labelNameLengthLimit: 39 }));
  t.equal(name.reason, 'label_name_length_limit');
  t.equal((await scrapeOnce(spec(long.url, { labelNameLengthLimit: 40 }))).up, true);
  const value = await scrapeOnce(spec(long.url, { labelValueLengthLimit: 59 }));
  t.equal(value.reason, 'label_value_length_limit', 'bytes, not characters: 30 × é is 60 bytes');
  t.match(value.error, /60 bytes > 59/);
  t.equal((await scrapeOnce(spec(long.url, { labelValueLengthLimit: 60 }))).up, true);
});

t.test('defaults protect an unconfigured target; config keys parse and are checked', async (t) => {
  const [d] = parseTargets([{ url: 'http://a/m', job: 'j' }]);
  t.same(d!.limits, DEFAULT_SCRAPE_LIMITS);
  t.equal(DEFAULT_SCRAPE_LIMITS.sampleLimit, 50_000);
  t.equal(DEFAULT_SCRAPE_LIMITS.bodySizeLimit, 16 * 1024 * 1024);
  const [c] = parseTargets([{ url: 'http://a/m', job: 'j', sample_limit: 10, label_limit: 0, label_name_length_limit: '64', label_value_length_limit: 256, body_size_limit: '10MiB' }]);
  t.same(c!.limits, { sampleLimit: 10, labelLimit: 0, labelNameLengthLimit: 64, labelValueLengthLimit: 256, bodySizeLimit: 10 * 1024 * 1024 });
  t.equal(targetSpecs([c!], 60_000)[0]!.limits, c!.limits, 'the spec carries them');
  t.throws(() => parseTargets([{ url: 'http://a/m', job: 'j', sample_limit: -1 }]), /targets\[0\]\.sample_limit: expected a whole number/);
  t.throws(() => parseTargets([{ url: 'http://a/m', job: 'j', body_size_limit: 'lots' }]), /targets\[0\]\.body_size_limit: expected a size/);

  // an unconfigured target sending more than 50 000 samples fails
  const many = await serve(t, (_req, res) => res.end(lines(50_001)));
  const r = await scrapeOnce({ url: many.url, job: 'j', instance: 'i', intervalMs: 10_000, timeoutMs: 5000 });
  t.equal(r.reason, 'sample_limit');
});

t.test('failures are counted by reason and logged once per change of reason', async (t) => {
  let mode: 'big' | 'ok' | 'bad' = 'big';
  const s = await serve(t, (_req, res) => {
    if (mode === 'big') res.end(lines(20));
    else if (mode === 'ok') res.end(lines(5));
    else {
      res.statusCode = 500;
      res.end();
    }
  });
  const registry = new Registry();
  const logged: string[] = [];
  const recorded: (readonly MetricFamily[])[] = [];
  const mgr = startScrapeTargets({
    specs: [{ ...spec(s.url, { sampleLimit: 10 }), intervalMs: 3_600_000 }],
    sink: async (f) => void recorded.push(f),
    registry,
    log: new Logger('info', (l) => logged.push(l)),
  });
  t.teardown(() => mgr.stop());
  const target = mgr.targets[0]!;
  await target.scrape();
  await target.scrape();
  await target.scrape();
  mode = 'bad';
  await target.scrape();
  mode = 'ok';
  await target.scrape();
  const text = await registry.metrics();
  t.match(text, /larder_scrape_target_failures_total\{job="j",instance="i",reason="sample_limit"\} 3/);
  t.match(text, /larder_scrape_target_failures_total\{job="j",instance="i",reason="http_status"\} 1/);
  t.match(text, /larder_scrape_target_up\{job="j",instance="i"\} 1/);
  const downs = logged.filter((l) => l.includes('scrape target down'));
  t.equal(downs.length, 2, 'one line for the sample limit, one when it changed to the HTTP status');
  t.match(downs[0], /sample limit exceeded/);
  t.equal(logged.filter((l) => l.includes('up again')).length, 1);
  t.same(recorded.map((f) => f.find((x) => x.name === 'up')?.samples[0]?.value), [0, 0, 0, 0, 1]);
});
