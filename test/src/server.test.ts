import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import { Counter, Registry } from 'prom-client';
import { CollectorSet } from '../../exporters/collector-set.js';
import type { CollectorDefinition } from '../../exporters/collector.js';
import { ConstMetric } from '../../exporters/const-metric.js';
import { silentLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { Authenticator } from '../../src/web-auth.js';

const hostOptions = { procfs: '/proc', sysfs: '/sys', textfileDirectory: '' };

/** Two tiny collectors so the collect[] filter has something to choose between. */
function fakeCollector(name: string, value: number): CollectorDefinition {
  return {
    name,
    defaultEnabled: true,
    create(ctx) {
      const m = new ConstMetric(ctx.registry, { name: `test_${name}_value`, help: `Value of ${name}.` });
      return { update: async () => m.setValue(value) };
    },
  };
}

async function serve(opts: { auth?: Authenticator; maxRequests?: number; tls?: { cert: Buffer; key: Buffer } } = {}): Promise<{ server: RunningServer; registry: Registry }> {
  const registry = new Registry();
  const collectors = new CollectorSet({ registry, options: hostOptions, log: silentLogger, now: Date.now }, [fakeCollector('alpha', 1), fakeCollector('beta', 2)], {
    interval: 60_000,
    slowInterval: 60_000,
    timeout: 1000,
  });
  await collectors.updateAll();
  const server = await startServer(
    { registry, collectors, auth: opts.auth ?? new Authenticator({ basicAuthUsers: {} }, undefined), log: silentLogger, maxRequests: opts.maxRequests ?? 40, tls: opts.tls },
    { host: '127.0.0.1', port: 0 },
  );
  return { server, registry };
}

t.test('GET /metrics serves the text format with every collector', async (t) => {
  const { server } = await serve();
  t.teardown(() => server.close());
  const res = await fetch(`${server.url}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  t.equal(res.headers.get('etag'), null, 'no ETag hashed over each exposition');
  const body = await res.text();
  t.match(body, /^test_alpha_value 1$/m);
  t.match(body, /^test_beta_value 2$/m);
  t.match(body, /^larder_collector_success\{collector="alpha"\} 1$/m);
});

t.test('OpenMetrics when asked, gzip when allowed, HEAD works', async (t) => {
  const { server, registry } = await serve();
  t.teardown(() => server.close());
  new Counter({ name: 'test_things_total', help: 'Things.', registers: [registry] }).inc(3);
  const om = await fetch(`${server.url}/metrics`, { headers: { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' } });
  t.match(om.headers.get('content-type'), /^application\/openmetrics-text; version=1\.0\.0/);
  const text = await om.text();
  t.match(text, /^# TYPE test_things counter$/m);
  t.match(text, /^test_things_total 3$/m);
  t.match(text, /# EOF\n$/);

  // fetch() decompresses for us; ask with a raw request to see the gzip bytes.
  const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
    import('node:http').then(({ get }) => {
      get(`${server.url}/metrics`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      }).on('error', reject);
    }, reject);
  });
  t.equal(raw.encoding, 'gzip');
  t.match(gunzipSync(raw.body).toString(), /^test_alpha_value 1$/m);

  const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '');
});

t.test('Accept and Accept-Encoding are read as HTTP defines them', async (t) => {
  const { server } = await serve();
  t.teardown(() => server.close());
  const { get } = await import('node:http');
  const ask = (headers: Record<string, string>): Promise<{ type: string | undefined; encoding: string | undefined; body: Buffer }> =>
    new Promise((resolve, reject) => {
      get(`${server.url}/metrics`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ type: res.headers['content-type'], encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
  const refused = await ask({ 'Accept-Encoding': 'gzip;q=0' });
  t.equal(refused.encoding, undefined, 'gzip;q=0 means not gzip');
  t.match(refused.body.toString(), /^test_alpha_value 1$/m);
  const upper = await ask({ 'Accept-Encoding': 'GZIP' });
  t.equal(upper.encoding, 'gzip', 'codings are case-insensitive');
  t.match(gunzipSync(upper.body).toString(), /^test_alpha_value 1$/m);
  t.equal((await ask({ 'Accept-Encoding': '*' })).encoding, 'gzip');
  const noOm = await ask({ Accept: 'application/openmetrics-text;q=0, text/plain' });
  t.match(noOm.type, /^text\/plain; version=0\.0\.4/, 'OpenMetrics with q=0 is not served');
  t.notMatch(noOm.body.toString(), /# EOF/);
  const om = await ask({ Accept: 'Application/OpenMetrics-Text' });
  t.match(om.type, /^application\/openmetrics-text/);
});

t.test('collect[] and exclude[] filter by collector', async (t) => {
  const { server } = await serve();
  t.teardown(() => server.close());
  const only = await (await fetch(`${server.url}/metrics?collect[]=alpha`)).text();
  t.match(only, /test_alpha_value 1/);
  t.notMatch(only, /test_beta_value/);
  const without = await (await fetch(`${server.url}/metrics?exclude[]=alpha`)).text();
  t.notMatch(without, /test_alpha_value/);
  t.match(without, /test_beta_value 2/);
  const both = await fetch(`${server.url}/metrics?collect[]=alpha&exclude[]=beta`);
  t.equal(both.status, 400);
  t.match(await both.text(), /cannot be used together/);
  const unknown = await fetch(`${server.url}/metrics?collect[]=gamma`);
  t.equal(unknown.status, 400);
  t.match(await unknown.text(), /unknown or disabled collector "gamma"/);
});

t.test('other paths and methods', async (t) => {
  const { server } = await serve();
  t.teardown(() => server.close());
  t.equal((await fetch(`${server.url}/healthz`)).status, 200);
  const index = await fetch(`${server.url}/`);
  t.equal(index.status, 200);
  t.match(await index.text(), /href="metrics"/);
  const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD');
  const missing = await fetch(`${server.url}/nope`);
  t.equal(missing.status, 404);
  t.match(await missing.text(), /Not found/);
  const counted = await (await fetch(`${server.url}/metrics`)).text();
  t.match(counted, /larder_metric_handler_requests_total\{handler="other",code="404"\} 1/);
  t.match(counted, /larder_metric_handler_requests_total\{handler="\/metrics",code="405"\} 1/);
});

t.test('more concurrent scrapes than the limit get 503', async (t) => {
  const { server, registry } = await serve({ maxRequests: 1 });
  t.teardown(() => server.close());
  // a metric whose collect takes a while keeps the first scrape in flight
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  new ConstMetric(registry, { name: 'test_slow', help: 'Slow.' }).get = async () => {
    await gate;
    return { name: 'test_slow', help: 'Slow.', type: 'gauge', aggregator: 'sum', values: [] };
  };
  const first = fetch(`${server.url}/metrics`);
  await new Promise((r) => setTimeout(r, 100));
  const second = await fetch(`${server.url}/metrics`);
  t.equal(second.status, 503);
  release();
  t.equal((await first).status, 200);
});

t.test('a metric whose collect throws is left out, the rest served', async (t) => {
  const { server, registry } = await serve();
  t.teardown(() => server.close());
  new ConstMetric(registry, { name: 'test_broken', help: 'Broken.' }).get = async () => {
    throw new Error('boom');
  };
  const res = await fetch(`${server.url}/metrics`);
  t.equal(res.status, 200);
  const body = await res.text();
  t.notMatch(body, /test_broken/);
  t.match(body, /test_alpha_value 1/);
});

t.test('basic auth with bcrypt hashes and bearer tokens', async (t) => {
  const hash = bcrypt.hashSync('s3cret', 4);
  const { server } = await serve({ auth: new Authenticator({ basicAuthUsers: { alice: hash } }, 'token-123456') });
  t.teardown(() => server.close());
  const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
  const none = await fetch(`${server.url}/metrics`);
  t.equal(none.status, 401);
  t.match(none.headers.get('www-authenticate'), /^Basic realm/);
  t.notMatch(await none.text(), /test_alpha/);
  t.equal((await fetch(`${server.url}/metrics`, { headers: basic('alice', 'wrong') })).status, 401);
  t.equal((await fetch(`${server.url}/metrics`, { headers: basic('bob', 's3cret') })).status, 401);
  t.equal((await fetch(`${server.url}/metrics`, { headers: { Authorization: 'Bearer wrong-token' } })).status, 401);
  const ok = await fetch(`${server.url}/metrics`, { headers: basic('alice', 's3cret') });
  t.equal(ok.status, 200);
  t.match(await ok.text(), /test_alpha_value 1/);
  // second time is served from the verified cache; still correct
  t.equal((await fetch(`${server.url}/metrics`, { headers: basic('alice', 's3cret') })).status, 200);
  t.equal((await fetch(`${server.url}/metrics`, { headers: { Authorization: 'Bearer token-123456' } })).status, 200);
});

t.test('TLS from cert and key files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const { server } = await serve({ tls: { cert, key: readFileSync(join(dir, 'key.pem')) } });
  t.teardown(() => server.close());
  t.match(server.url, /^https:/);
  const body = await new Promise<string>((resolve, reject) => {
    httpsRequest(`${server.url}/metrics`, { ca: cert, checkServerIdentity: () => undefined }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
  t.match(body, /test_alpha_value 1/);
});
