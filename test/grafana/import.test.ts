/**
 * `make grafana-import` against a local server answering as Grafana's HTTP API documents
 * (test/grafana/fake-grafana.ts): requests, payloads and auth headers; a second run changes
 * nothing; --dry-run writes nothing; each error case prints its message. One run goes
 * through the built program as a child process, as `make grafana-import` runs it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DASHBOARDS } from '../../grafana/definitions/index.js';
import { FOLDER, IMPORT_MESSAGE, ImportError, parseImportOptions, runImport, type ImportOptions } from '../../grafana/import.js';
import { freePort } from '../helpers/prometheus.js';
import { FakeGrafana } from './fake-grafana.js';

const ENV = { LARDER_PROMETHEUS_URL: 'http://127.0.0.1:9090', LARDER_SCRAPE_INTERVAL: '15s', LARDER_SQLITE_PATH: '/srv/larder/data/monitoring.db', LARDER_PG_HOST: 'db', LARDER_PG_DATABASE: 'larder', LARDER_PG_USER: 'grafana', LARDER_PG_PASSWORD: 'pg-secret' };

async function fake(t: Test): Promise<FakeGrafana> {
  const g = new FakeGrafana();
  await g.start();
  t.teardown(() => g.stop());
  return g;
}

function options(g: FakeGrafana, extra: Partial<ImportOptions> = {}, argv: string[] = []): ImportOptions {
  return { ...parseImportOptions({ ...ENV, GRAFANA_URL: g.url, GRAFANA_TOKEN: g.token }, argv), ...extra };
}

async function run(o: ImportOptions): Promise<{ lines: string[]; error?: Error }> {
  const lines: string[] = [];
  try {
    await runImport(o, (l) => lines.push(l));
    return { lines };
  } catch (err) {
    return { lines, error: err as Error };
  }
}

t.test('first run creates everything, a second run changes nothing', async (t) => {
  const g = await fake(t);
  const first = await run(options(g, {}, ['--sources=prometheus,postgresql,sqlite']));
  t.equal(first.error, undefined, 'no error');
  t.match(first.lines[0], /^Grafana 11\.3\.0 at http:\/\/127\.0\.0\.1:\d+$/);
  t.ok(g.requests.filter((r) => r.path !== '/api/health').every((r) => r.authorization === `Bearer ${g.token}`), 'every API call carries the bearer token');
  t.same([...g.folders], [[FOLDER.uid, FOLDER.title]], 'the Larder folder');
  t.same([...g.datasources.keys()].sort(), ['larder-postgresql', 'larder-prometheus', 'larder-sqlite']);
  const sqlite = g.datasources.get('larder-sqlite')!;
  t.match(sqlite, { type: 'frser-sqlite-datasource', jsonData: { path: ENV.LARDER_SQLITE_PATH, pathPrefix: 'file:', pathOptions: 'vfs=unix-dotfile&mode=ro' } }, 'SQLite through the dotfile VFS, read-only');
  t.match(g.datasources.get('larder-prometheus')!, { type: 'prometheus', url: ENV.LARDER_PROMETHEUS_URL, jsonData: { timeInterval: '15s' } }, 'Prometheus with the scrape interval');
  t.match(g.datasources.get('larder-postgresql')!, { type: 'grafana-postgresql-datasource', url: 'db:5432', user: 'grafana', jsonData: { database: 'larder' }, secureJsonData: { password: 'pg-secret' } }, 'PostgreSQL, database in jsonData');
  t.equal(g.dashboards.size, DASHBOARDS.length * 3, 'every dashboard of the three sources');
  const saves = g.requests.filter((r) => r.path === '/api/dashboards/db');
  t.ok(saves.every((r) => { const b = r.body as { folderUid: string; overwrite: boolean; message: string; dashboard: { uid: string; title: string } }; return b.folderUid === FOLDER.uid && b.overwrite === true && b.message === IMPORT_MESSAGE && /^larder-/.test(b.dashboard.uid); }), 'saved into the folder, overwrite, with our message');
  const host = g.dashboards.get('larder-host-sqlite')!.dashboard as { templating: { list: { name: string; current: { value: string } }[] }; __inputs?: unknown };
  t.equal(host.templating.list.find((v) => v.name === 'datasource')!.current.value, 'larder-sqlite', 'the data-source variable points at the created data source');
  t.equal(host.__inputs, undefined, 'no unresolved __inputs');
  t.match(first.lines.at(-1), /^\d+ change\(s\) made$/);

  const before = g.writes().length;
  const second = await run(options(g, {}, ['--sources=prometheus,postgresql,sqlite']));
  t.equal(second.error, undefined);
  t.equal(g.writes().length, before, 'the second run writes nothing');
  t.equal(second.lines.at(-1), 'nothing to change');
  t.ok(second.lines.filter((l) => l.endsWith(': unchanged')).length === 3 + DASHBOARDS.length * 3, 'every data source and dashboard reported unchanged');
});

t.test('basic auth, --dry-run, and an update after a change of settings', async (t) => {
  const g = await fake(t);
  const o = { ...parseImportOptions({ ...ENV, GRAFANA_URL: `${g.url}/`, GRAFANA_USER: g.user, GRAFANA_PASSWORD: g.password }, ['--dry-run']) };
  const dry = await run(o);
  t.equal(dry.error, undefined);
  t.same(g.writes(), [], '--dry-run writes nothing');
  t.ok(dry.lines.includes('data source larder-prometheus: would create') && dry.lines.includes('dashboard larder-host-prom: would create'), 'and says what it would do');
  t.ok(g.requests.filter((r) => r.path !== '/api/health').every((r) => r.authorization === `Basic ${Buffer.from(`${g.user}:${g.password}`).toString('base64')}`), 'basic auth header');
  await run({ ...o, dryRun: false });
  const changed = await run({ ...o, dryRun: false, env: { ...ENV, LARDER_SCRAPE_INTERVAL: '30s' } });
  t.ok(changed.lines.includes('data source larder-prometheus: updated'), 'a changed scrape interval updates the data source');
  t.equal(g.datasources.get('larder-prometheus')!['jsonData'] && (g.datasources.get('larder-prometheus')!['jsonData'] as { timeInterval: string }).timeInterval, '30s');
  g.datasources.get('larder-sqlite')!['readOnly'] = true;
  const ro = await run({ ...o, dryRun: false, env: { ...ENV, LARDER_SQLITE_PATH: '/elsewhere.db' } });
  t.equal(ro.error, undefined, 'a provisioned data source does not stop the import');
  t.ok(ro.lines.includes('data source larder-sqlite: provisioned from a file, left as it is (edit the provisioning file instead)'));
});

t.test('each error case says what is wrong', async (t) => {
  const g = await fake(t);
  const cases: [string, () => Promise<ImportOptions> | ImportOptions, RegExp][] = [
    ['unreachable', async () => ({ ...options(g), url: `http://127.0.0.1:${await freePort()}` }), /cannot reach Grafana at http:\/\/127\.0\.0\.1:\d+ \(GET \/api\/health\): ECONNREFUSED/],
    ['bad token', () => ({ ...options(g), auth: { token: 'wrong' } }), /Grafana refused the credentials \(401 on GET \/api\/folders\/larder\): check GRAFANA_TOKEN/],
    ['too old', () => { g.version = '10.2.3'; return options(g); }, /Grafana 10\.2\.3 is too old: the dashboards need 10\.4 or later/],
    ['no SQLite plugin', () => { g.version = '12.1.0'; g.plugins.delete('frser-sqlite-datasource'); return options(g); }, /plugin frser-sqlite-datasource is not installed in Grafana: grafana-cli plugins install frser-sqlite-datasource/],
  ];
  for (const [name, make, want] of cases) {
    const r = await run(await make());
    t.match(r.error?.message, want, name);
    t.notMatch(r.error?.message ?? '', /wrong|glsa_test_token|secret-pw/, `${name}: no secret in the message`);
  }
  g.plugins.add('frser-sqlite-datasource');
  t.equal((await run(options(g))).error, undefined, 'fine once the plugin is there');
  g.editInUi('larder-nodejs-prom');
  const edited = await run(options(g));
  t.match(edited.error?.message, /dashboard larder-nodejs-prom was changed in Grafana since the last import \(by alice\): .*--force/, 'a dashboard edited in Grafana is not overwritten');
  t.match(g.dashboards.get('larder-nodejs-prom')!.dashboard['title'], /\(mine\)$/, 'and is left as the user saved it');
  const forced = await run(options(g, {}, ['--force']));
  t.equal(forced.error, undefined);
  t.ok(forced.lines.includes('dashboard larder-nodejs-prom: updated'), '--force overwrites it');
  t.throws(() => parseImportOptions({ ...ENV }, []), new ImportError('GRAFANA_URL is not set (e.g. GRAFANA_URL=http://localhost:3000)'));
  t.throws(() => parseImportOptions({ ...ENV, GRAFANA_URL: g.url }, []), /set GRAFANA_TOKEN/);
  t.throws(() => parseImportOptions({ GRAFANA_URL: g.url, GRAFANA_TOKEN: 'x' }, ['--sources=postgresql']), /LARDER_PG_HOST is not set: the postgresql data source needs it/);
  t.throws(() => parseImportOptions({ ...ENV, GRAFANA_URL: g.url, GRAFANA_TOKEN: 'x' }, ['--sources=influx']), /--sources: influx is not one of prometheus, postgresql, sqlite/);
  t.throws(() => parseImportOptions({ ...ENV, GRAFANA_URL: g.url, GRAFANA_TOKEN: 'x' }, ['--yes']), /unknown argument "--yes"/);
  t.rejects(runImport({ ...options(g), url: 'http://user:pw@127.0.0.1:1' }, () => {}), /must not hold credentials/);
});

t.test('the built program, as make grafana-import runs it', async (t) => {
  const program = join(import.meta.dirname, '../../dist/grafana/import.js');
  // make test builds first; run `make build` before running this file alone.
  if (!t.ok(existsSync(program), 'dist/grafana/import.js is built')) return;
  const g = await fake(t);
  // Asynchronously: the fake Grafana answers from this process's event loop.
  const node = (args: string[], env: Record<string, string | undefined>): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
    });
  const ok = await node([program, '--sources=prometheus'], { ...ENV, PATH: process.env['PATH'], GRAFANA_URL: g.url, GRAFANA_TOKEN: g.token });
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /dashboard larder-host-prom: created/);
  const bad = await node([program], { PATH: process.env['PATH'] });
  t.equal(bad.status, 2, 'exit 2 on a usage error');
  t.equal(bad.stderr, 'grafana-import: GRAFANA_URL is not set (e.g. GRAFANA_URL=http://localhost:3000)\n');
});
