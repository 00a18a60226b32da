/**
 * Scrape targets against real HTTP servers: the text format and OpenMetrics by
 * content negotiation, and targets that are down, slow (timeout) or send garbage,
 * each recorded as up 0 with its reason logged once, without disturbing the others.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { MetricFamily } from '../../../exporters/metric-family.js';
import { Logger } from '../../../src/log.js';
import { formatOf, scrapeOnce, ScrapeTarget, SCRAPE_ACCEPT, type TargetSpec } from '../../../src/scrape/target.js';
import { parseTargets } from '../../../src/options/recorder.js';
import { DEFAULT_SCRAPE_LIMITS, targetSpecs } from '../../../src/scrape/index.js';

const TEXT = `# HELP api_requests_total Requests.
# TYPE api_requests_total counter
api_requests_total{code="200",path="/a\\"b"} 42
api_requests_total{code="500"} 1 1767225600000
# TYPE api_latency_seconds histogram
api_latency_seconds_bucket{le="0.5"} 3
api_latency_seconds_bucket{le="+Inf"} 4
api_latency_seconds_sum 1.5
api_latency_seconds_count 4
# TYPE api_temp gauge
api_temp NaN
`;
const OM = `# TYPE jobs counter
jobs_total 7
jobs_created 1767225600
# TYPE mood gauge
mood -Inf
# EOF
`;

let lastAccept = '';
function serve(handler: (res: import('node:http').ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    lastAccept = String(req.headers.accept);
    handler(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` })));
}

const spec = (url: string, job: string, timeoutMs = 1000): TargetSpec => ({ url, job, instance: job, intervalMs: 5000, timeoutMs });
const value = (fams: readonly MetricFamily[], name: string): number | undefined => fams.flatMap((f) => f.samples).find((s) => s.name === name)?.value;

t.test('targets of every kind, each isolated', async (t) => {
  const text = await serve((res) => {
    res.setHeader('Content-Type', 'text/plain; version=0.0.4');
    res.end(TEXT);
  });
  const om = await serve((res) => {
    res.setHeader('Content-Type', 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    res.end(OM);
  });
  const slow = await serve((res) => {
    setTimeout(() => res.end(TEXT), 3000).unref();
  });
  const garbage = await serve((res) => res.end('api_requests_total{code="200" 42\n<html>oops</html>\n'));
  const failing = await serve((res) => {
    res.statusCode = 503;
    res.end('down for maintenance');
  });
  const closed = await serve(() => {});
  closed.server.close();
  const servers = [text, om, slow, garbage, failing];
  t.teardown(() => {
    for (const s of servers) s.server.closeAllConnections();
    for (const s of servers) s.server.close();
  });

  const recorded: { job: string; families: readonly MetricFamily[]; timeMs: number }[] = [];
  const lines: string[] = [];
  const log = new Logger('info', (l) => lines.push(l));
  const sink = async (families: readonly MetricFamily[], timeMs: number, labels: Readonly<Record<string, string>>): Promise<void> => {
    recorded.push({ job: labels['job']!, families, timeMs });
  };
  const targets = [
    new ScrapeTarget(spec(text.url, 'text'), sink, log),
    new ScrapeTarget(spec(om.url, 'om'), sink, log),
    new ScrapeTarget(spec(slow.url, 'slow', 300), sink, log),
    new ScrapeTarget(spec(garbage.url, 'garbage'), sink, log),
    new ScrapeTarget(spec(failing.url, 'failing'), sink, log),
    new ScrapeTarget(spec(closed.url, 'closed'), sink, log),
  ];
  const started = Date.now();
  await Promise.all(targets.map((x) => x.scrape()));
  t.ok(Date.now() - started < 2500, 'the slow target did not hold the others up (timeout 300 ms)');
  t.equal(lastAccept.startsWith('application/openmetrics-text'), true, 'OpenMetrics asked for first');
  t.equal(lastAccept, SCRAPE_ACCEPT);
  const byJob = new Map(recorded.map((r) => [r.job, r.families]));
  t.equal(value(byJob.get('text')!, 'up'), 1);
  t.equal(value(byJob.get('text')!, 'api_latency_seconds_bucket'), 3);
  t.ok(Number.isNaN(value(byJob.get('text')!, 'api_temp')!), 'NaN parsed');
  t.equal(byJob.get('text')!.flatMap((f) => f.samples).find((s) => s.name === 'api_requests_total')?.labels['path'], '/a"b', 'escapes parsed');
  t.equal(value(byJob.get('text')!, 'scrape_samples_scraped'), 7);
  t.ok(value(byJob.get('text')!, 'scrape_duration_seconds')! >= 0);
  t.equal(value(byJob.get('om')!, 'up'), 1);
  t.equal(value(byJob.get('om')!, 'jobs_total'), 7, 'OpenMetrics counter read by Content-Type');
  t.equal(value(byJob.get('om')!, 'mood'), -Infinity);
  for (const job of ['slow', 'garbage', 'failing', 'closed']) {
    t.equal(value(byJob.get(job)!, 'up'), 0, `${job}: up 0`);
    t.equal(byJob.get(job)!.length, 3, `${job}: only up, scrape_duration_seconds, scrape_samples_scraped`);
  }
  const reason = (job: string): string => lines.find((l) => l.includes(`job="${job}"`)) ?? '';
  t.match(reason('slow'), /timeout after 300 ms/);
  t.match(reason('garbage'), /malformed exposition: line 1/);
  t.match(reason('failing'), /HTTP status 503/);
  t.match(reason('closed'), /ECONNREFUSED/);

  // A second failing round logs nothing new; recovery is logged once.
  const before = lines.length;
  await Promise.all(targets.slice(3).map((x) => x.scrape()));
  t.equal(lines.length, before, 'each reason is logged once');
});

t.test('recovery is logged and up returns to 1', async (t) => {
  let healthy = false;
  const s = await serve((res) => {
    if (healthy) res.end('ok_metric 1\n');
    else {
      res.statusCode = 500;
      res.end();
    }
  });
  t.teardown(() => s.server.close());
  const lines: string[] = [];
  const ups: number[] = [];
  const target = new ScrapeTarget(spec(s.url, 'flip'), async (f) => void ups.push(value(f, 'up')!), new Logger('info', (l) => lines.push(l)));
  await target.scrape();
  healthy = true;
  await target.scrape();
  t.same(ups, [0, 1]);
  t.ok(lines.some((l) => l.includes('scrape target is up again')));
});

t.test('content type, spec building and config validation', async (t) => {
  t.equal(formatOf('application/openmetrics-text; version=1.0.0'), 'openmetrics');
  t.equal(formatOf('text/plain; version=0.0.4'), 'text');
  t.equal(formatOf(null), 'text');
  const targets = parseTargets([{ url: 'http://127.0.0.1:3000/metrics', job: 'api' }, { url: 'https://b:9/m', job: 'api', instance: 'b', interval: '30s', timeout: '5s' }]);
  t.same(targetSpecs(targets, 60_000), [
    { url: 'http://127.0.0.1:3000/metrics', job: 'api', instance: '127.0.0.1:3000', intervalMs: 60_000, timeoutMs: 10_000, maxTimestampAgeMs: 120_000, limits: DEFAULT_SCRAPE_LIMITS },
    { url: 'https://b:9/m', job: 'api', instance: 'b', intervalMs: 30_000, timeoutMs: 5_000, maxTimestampAgeMs: 120_000, limits: DEFAULT_SCRAPE_LIMITS },
  ]);
  t.same(targetSpecs(parseTargets([{ url: 'http://a/m', job: 'j' }]), 5000)[0]!.timeoutMs, 5000, 'timeout never above the interval');
  const bad: [unknown, RegExp][] = [
    ['x', /expected a list/],
    [[{ job: 'a' }], /targets\[0\]\.url/],
    [[{ url: 'ftp://a/b', job: 'a' }], /only http and https/],
    [[{ url: 'http://a/b' }], /targets\[0\]\.job/],
    [[{ url: 'http://a/b', job: 'a', interval: '5s', timeout: '10s' }], /must not exceed the interval/],
    [[{ url: 'http://a/b', job: 'a', interval: 'often' }], /targets\[0\]\.interval/],
    [[{ url: 'http://a/b', job: 'a', color: 'red' }], /unknown key "color"/],
    [[{ url: 'http://a/b', job: 'a' }, { url: 'http://a/b', job: 'a' }], /listed twice/],
  ];
  for (const [raw, err] of bad) t.throws(() => parseTargets(raw), err);
  const r = await scrapeOnce(spec('http://127.0.0.1:1/metrics', 'x'));
  t.equal(r.up, false, 'scrapeOnce never rejects');
});
