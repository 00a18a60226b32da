/**
 * The server's side of the built-in page (src/ui-files.ts behind src/server.ts): `/` and
 * `/ui/<file>` from the built dist/ui, with content types, caching, gzip, HEAD, and the
 * same auth as /metrics. A real server on a loopback port.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import bcrypt from 'bcryptjs';
import { Registry } from 'prom-client';
import { CollectorSet } from '../../exporters/collector-set.js';
import { silentLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { defaultUiDir, UiFiles } from '../../src/ui-files.js';
import { Authenticator } from '../../src/web-auth.js';

async function serve(t: Test, opts: { auth?: Authenticator; ui?: UiFiles } = {}): Promise<RunningServer> {
  const registry = new Registry();
  const collectors = new CollectorSet({ registry, options: { procfs: '/proc', sysfs: '/sys', textfileDirectory: '' }, log: silentLogger, now: Date.now }, [], { interval: 60_000, slowInterval: 60_000, timeout: 1000 });
  const server = await startServer(
    { registry, collectors, auth: opts.auth ?? new Authenticator({ basicAuthUsers: {} }, undefined), log: silentLogger, maxRequests: 40, ui: opts.ui },
    { host: '127.0.0.1', port: 0 },
  );
  t.teardown(() => server.close());
  return server;
}

/** Raw GET without fetch's transparent gunzip, so the wire bytes can be checked. */
function raw(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const assets = readdirSync(defaultUiDir());
const js = assets.find((f) => f.endsWith('.js')) as string;
const css = assets.find((f) => f.endsWith('.css')) as string;

t.test('GET / is the page; its assets have their types and are cached for good', async (t) => {
  const server = await serve(t);
  const page = await fetch(`${server.url}/`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html; charset=utf-8/);
  t.equal(page.headers.get('cache-control'), 'no-cache', 'the page is revalidated, so a new build shows');
  t.match(page.headers.get('content-security-policy'), /default-src 'self'/);
  t.match(page.headers.get('content-security-policy'), /connect-src 'self'/);
  const html = await page.text();
  t.match(html, new RegExp(`src="ui/${js}"`));
  t.match(html, /href="metrics"/);
  t.match(html, /href="healthz"/);

  const script = await fetch(`${server.url}/ui/${js}`);
  t.equal(script.status, 200);
  t.match(script.headers.get('content-type'), /^text\/javascript; charset=utf-8/);
  t.equal(script.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  t.ok((await script.text()).length > 10_000, 'the bundle');
  const style = await fetch(`${server.url}/ui/${css}`);
  t.match(style.headers.get('content-type'), /^text\/css; charset=utf-8/);
  t.equal((await fetch(`${server.url}/ui/LICENSES.txt`)).headers.get('cache-control'), 'no-cache', 'an unhashed file is revalidated');
});

t.test('gzip when allowed, 304 on a matching ETag, HEAD without a body', async (t) => {
  const server = await serve(t);
  const plain = await raw(`${server.url}/ui/${js}`);
  const zipped = await raw(`${server.url}/ui/${js}`, { 'accept-encoding': 'gzip' });
  t.equal(plain.headers['content-encoding'], undefined);
  t.equal(zipped.headers['content-encoding'], 'gzip');
  t.ok(zipped.body.length < plain.body.length / 2, `gzip ${zipped.body.length} of ${plain.body.length} bytes`);
  // Accept-Encoding as RFC 9110 has it (the /metrics negotiation's parser): q=0 refuses, names are case-insensitive
  t.equal((await raw(`${server.url}/ui/${js}`, { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding'], undefined, 'gzip;q=0: not gzip');
  t.equal((await raw(`${server.url}/ui/${js}`, { 'accept-encoding': 'GZIP' })).headers['content-encoding'], 'gzip', 'GZIP: gzip');
  const etag = String(plain.headers['etag']);
  const again = await raw(`${server.url}/`, { 'if-none-match': String((await raw(`${server.url}/`)).headers['etag']) });
  t.equal(again.status, 304);
  t.equal(again.body.length, 0);
  t.equal((await raw(`${server.url}/ui/${js}`, { 'if-none-match': etag })).status, 304);
  t.equal((await raw(`${server.url}/ui/${js}`, { 'if-none-match': '"other"' })).status, 200);
  const head = await raw(`${server.url}/`, {}, 'HEAD');
  t.equal(head.status, 200);
  t.match(String(head.headers['content-type']), /^text\/html/);
  t.equal(head.body.length, 0);
  t.equal((await raw(`${server.url}/`, {}, 'POST')).status, 405);
});

t.test('nothing but the built files: unknown names and traversal are 404', async (t) => {
  const server = await serve(t);
  for (const path of ['/ui/nope.js', '/ui/..%2fpackage.json', '/ui/%2e%2e%2fpackage.json', '/ui/', '/ui/index.html', '/ui/../package.json']) {
    const res = await fetch(`${server.url}${path}`);
    t.equal(res.status, 404, path);
    await res.arrayBuffer();
  }
});

t.test('without a build, / is a page with the links', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'larder-ui-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const ui = new UiFiles(join(empty, 'missing'));
  t.equal(ui.built, false);
  const server = await serve(t, { ui });
  const res = await fetch(`${server.url}/`);
  t.equal(res.status, 200);
  const html = await res.text();
  t.match(html, /href="metrics"/);
  t.match(html, /npm run build/);
  t.equal((await fetch(`${server.url}/ui/${js}`)).status, 404);
});

t.test('with auth on, the page and its assets need credentials', async (t) => {
  const auth = new Authenticator({ basicAuthUsers: { admin: bcrypt.hashSync('s3cret', 4) } }, undefined);
  const server = await serve(t, { auth });
  for (const path of ['/', `/ui/${js}`, `/ui/${css}`]) {
    const res = await fetch(`${server.url}${path}`);
    t.equal(res.status, 401, `${path} without credentials`);
    t.notMatch(await res.text(), /<script|uPlot/, 'and none of the page');
  }
  const good = { authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` };
  const bad = { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` };
  t.equal((await fetch(`${server.url}/`, { headers: bad })).status, 401);
  t.equal((await fetch(`${server.url}/`, { headers: good })).status, 200);
  t.equal((await fetch(`${server.url}/ui/${js}`, { headers: good })).status, 200);
});
