/**
 * The package as a user gets it: `npm pack` into a temporary folder, `npm i` of the
 * tarball into an empty service folder, and the README's "Use Larder inside your
 * service" snippet run there as written (extracted from README.md here, so the two
 * cannot drift). It records into SQLite and stops on SIGTERM; the store is then read
 * back through the `larder-metrics/storage` subpath of the installed package.
 * Needs dist/ (npm run build; make test builds first) and the npm cache or registry.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuilt } from '../helpers/larder-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The first ```js block under the README heading "Use Larder inside your service". */
function readmeSnippet(readme: string): string {
  const at = readme.indexOf('\n## Use Larder inside your service\n');
  if (at < 0) throw new Error('README.md has no "## Use Larder inside your service" section');
  const next = readme.indexOf('\n## ', at + 1);
  const section = readme.slice(at, next < 0 ? undefined : next);
  const m = /```js\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('the section has no ```js block');
  return m[1]!;
}

function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

t.test('the tarball installs into an empty folder and the README snippet runs as written', async (t) => {
  assertBuilt();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  t.equal(pkg.name, 'larder-metrics', 'the name the README tells users to install');
  const dir = mkdtempSync(join(tmpdir(), 'larder-pack-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // dist/ is built already: pack it as is (prepare, which builds, is for git installs)
  npm(['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  t.equal(tarball, `${pkg.name}-${pkg.version}.tgz`);
  const listing = spawnSync('tar', ['-tzf', join(dir, tarball!)], { encoding: 'utf8' }).stdout.split('\n');
  t.ok(listing.includes('package/dist/src/index.js') && listing.includes('package/dist/src/index.d.ts'), 'the main entry and its types are packed');
  t.ok(listing.includes('package/dist/storage/index.js') && listing.includes('package/dist/ui/index.html'), 'so are the storage subpath and the built page');
  t.notOk(listing.some((f) => f.startsWith('package/test/') || f.endsWith('.map') || f.startsWith('package/src/')), 'no tests, sources or source maps');

  const app = join(dir, 'service');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'service', private: true, type: 'module' }));
  const started = Date.now();
  npm(['i', join(dir, tarball!), 'express', '--prefer-offline', '--no-audit', '--no-fund'], app);
  t.comment(`npm i took ${((Date.now() - started) / 1000).toFixed(1)} s`);

  writeFileSync(join(app, 'service.mjs'), readmeSnippet(readFileSync(join(ROOT, 'README.md'), 'utf8')));
  const child = spawn(process.execPath, ['service.mjs'], { cwd: app, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the snippet did not listen within 30 s: ${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`the snippet exited with ${code}: ${stderr}`)));
  });

  for (let i = 0; i < 3; i++) t.equal((await fetch(`${url}/orders`, { method: 'POST' })).status, 201);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.match(metrics, /^orders_total\{channel="web"\} 3$/m, '/metrics serves the business counter');
  t.match(metrics, /^http_requests_total\{method="POST",route="\/orders",status_code="201"\} 3$/m, 'and the HTTP metrics');
  const stats = (await (await fetch(`${url}/admin/store`)).json()) as { dialect: string; schemaVersion: number };
  t.equal(stats.dialect, 'sqlite', 'larder.store answers the seed\'s getDatabaseStats()');
  t.ok(stats.schemaVersion > 0);

  child.kill('SIGTERM');
  t.equal(await exited, 0, `SIGTERM: the service stops and exits 0 ${stderr}`);

  // Read back through the installed package's storage subpath, once the service has closed the file.
  writeFileSync(
    join(app, 'read.mjs'),
    `import { openStore } from 'larder-metrics/storage';
const store = await openStore({ engine: 'sqlite', sqlitePath: 'data/metrics.db' });
const latest = await store.getLatestMetrics();
const rows = await store.query("SELECT count(*) AS n FROM latest_metrics WHERE metric_name = 'http_requests_total'");
await store.close();
console.log(JSON.stringify({ latest: latest.filter((m) => m.name === 'orders_total'), http: rows[0].n }));
`,
  );
  const read = spawnSync(process.execPath, ['read.mjs'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
  t.equal(read.status, 0, read.stderr);
  const got = JSON.parse(read.stdout) as { latest: { labels: Record<string, string>; value: number }[]; http: number };
  t.same(got.latest.map((m) => [m.labels, m.value]), [[{ channel: 'web', instance: hostname(), job: 'larder' }, 3]], 'the last record (written at stop) holds orders_total 3');
  t.ok(Number(got.http) >= 1, 'http_requests_total recorded, read through SQL');
});
