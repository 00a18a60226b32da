/**
 * `make grafana-import`: sets Larder up in a running Grafana (10.4 to 13) through its
 * HTTP API: checks its health and version, creates or updates the data sources by uid,
 * a "Larder" folder, and every dashboard of the chosen sources. Idempotent: a second run
 * changes nothing. `--dry-run` prints what it would do and writes nothing.
 *
 * Environment: GRAFANA_URL; GRAFANA_TOKEN or GRAFANA_USER and GRAFANA_PASSWORD; the
 * data sources' settings as in grafana/provisioning (LARDER_PROMETHEUS_URL,
 * LARDER_SCRAPE_INTERVAL, LARDER_PG_HOST, LARDER_PG_PORT, LARDER_PG_DATABASE,
 * LARDER_PG_USER, LARDER_PG_PASSWORD, LARDER_PG_SSLMODE, LARDER_SQLITE_PATH).
 * Options: --sources=prometheus,postgresql,sqlite (default: prometheus,sqlite),
 * --dry-run, --force (overwrite dashboards edited in Grafana since the last import).
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { dashboardJson, dashboardUid } from './dashboard-json.js';
import { DASHBOARDS } from './definitions/index.js';
import { GrafanaApi, GrafanaUnreachableError, messageOf, type GrafanaAuth } from './grafana-api.js';
import { PLUGIN_ID, SOURCES, type Source } from './model.js';

/** What to import, and where. */
export interface ImportOptions {
  readonly url: string;
  readonly auth: GrafanaAuth;
  readonly sources: readonly Source[];
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The folder the dashboards go into. */
export const FOLDER = { uid: 'larder', title: 'Larder' } as const;
/** Oldest Grafana the dashboards work on (schemaVersion 39, the datasource uid API). */
export const MIN_VERSION = [10, 4] as const;
/** The `message` of dashboard versions this program saves; another message means a change made in Grafana. */
export const IMPORT_MESSAGE = 'Imported by Larder (make grafana-import)';

/** An error the user must act on; the program prints its message and exits 2. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
}

/** Parses the environment and arguments; throws ImportError naming what is missing or wrong. */
export function parseImportOptions(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): ImportOptions {
  let sources: Source[] = ['prometheus', 'sqlite'];
  let dryRun = false;
  let force = false;
  for (const arg of argv) {
    if (arg === '--dry-run') dryRun = true;
    else if (arg === '--force') force = true;
    else if (arg.startsWith('--sources=')) {
      const list = arg.slice('--sources='.length).split(',').map((s) => s.trim()).filter((s) => s !== '');
      const bad = list.filter((s) => !(SOURCES as readonly string[]).includes(s));
      if (bad.length > 0 || list.length === 0) throw new ImportError(`--sources: ${bad.join(', ') || 'empty'} is not one of ${SOURCES.join(', ')}`);
      sources = [...new Set(list as Source[])];
    } else throw new ImportError(`unknown argument ${JSON.stringify(arg)} (expected --sources=…, --dry-run, --force)`);
  }
  const url = env['GRAFANA_URL'];
  if (!url) throw new ImportError('GRAFANA_URL is not set (e.g. GRAFANA_URL=http://localhost:3000)');
  const token = env['GRAFANA_TOKEN'];
  const user = env['GRAFANA_USER'];
  const password = env['GRAFANA_PASSWORD'];
  let auth: GrafanaAuth;
  if (token) auth = { token };
  else if (user && password !== undefined) auth = { user, password };
  else throw new ImportError('set GRAFANA_TOKEN (a service account token with the Admin role) or GRAFANA_USER and GRAFANA_PASSWORD');
  const need = (name: string, source: Source): void => {
    if (sources.includes(source) && !env[name]) throw new ImportError(`${name} is not set: the ${source} data source needs it (or leave ${source} out of --sources)`);
  };
  need('LARDER_PROMETHEUS_URL', 'prometheus');
  need('LARDER_PG_HOST', 'postgresql');
  need('LARDER_PG_DATABASE', 'postgresql');
  need('LARDER_PG_USER', 'postgresql');
  need('LARDER_SQLITE_PATH', 'sqlite');
  return { url, auth, sources, dryRun, force, env };
}

/** The data source of a source, as `POST /api/datasources` takes it (the provisioning files' content). */
export function dataSourceBody(source: Source, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const common = { uid: `larder-${source}`, type: PLUGIN_ID[source], access: 'proxy', isDefault: false };
  if (source === 'prometheus') {
    return { ...common, name: 'Larder Prometheus', url: env['LARDER_PROMETHEUS_URL'], jsonData: { timeInterval: env['LARDER_SCRAPE_INTERVAL'] || '15s', httpMethod: 'POST' } };
  }
  if (source === 'postgresql') {
    return {
      ...common,
      name: 'Larder PostgreSQL',
      url: `${env['LARDER_PG_HOST']}:${env['LARDER_PG_PORT'] || '5432'}`,
      user: env['LARDER_PG_USER'],
      jsonData: { database: env['LARDER_PG_DATABASE'], sslmode: env['LARDER_PG_SSLMODE'] || 'disable', postgresVersion: 1300, timescaledb: false, maxOpenConns: 4 },
      secureJsonData: { password: env['LARDER_PG_PASSWORD'] ?? '' },
    };
  }
  return { ...common, name: 'Larder SQLite', jsonData: { path: env['LARDER_SQLITE_PATH'], pathPrefix: 'file:', pathOptions: 'vfs=unix-dotfile&mode=ro' } };
}

/** A dashboard ready for `POST /api/dashboards/db`: its data-source variable points at our data source. */
export function dashboardForImport(key: string, source: Source): Record<string, unknown> {
  const def = DASHBOARDS.find((d) => d.key === key)!;
  const d = dashboardJson(def, source);
  delete d['__inputs'];
  delete d['__requires'];
  const list = (d['templating'] as { list: Record<string, unknown>[] }).list;
  const ds = list.find((v) => v['name'] === 'datasource')!;
  ds['current'] = { selected: true, text: (dataSourceBody(source, {})['name'] as string), value: `larder-${source}` };
  return d;
}

/** Whether `have` already holds every field of `want` with the same value (Grafana adds its own fields). */
function covers(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w));
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
  return Object.entries(want).every(([k, w]) => covers((have as Record<string, unknown>)[k], w));
}

function versionOf(text: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Runs the import; `log` gets one line per action. Throws ImportError (or GrafanaUnreachableError) on what stops it. */
export async function runImport(o: ImportOptions, log: (line: string) => void): Promise<{ changes: number }> {
  const api = new GrafanaApi(o.url, o.auth);
  let changes = 0;
  const fail: (what: string, r: { status: number; body: unknown }) => never = (what, r) => {
    if (r.status === 401) throw new ImportError(`Grafana refused the credentials (401 on ${what}): check GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD`);
    if (r.status === 403) throw new ImportError(`Grafana denied ${what} (403): the token or user needs the Admin role`);
    throw new ImportError(`${what} failed: HTTP ${r.status}${messageOf(r.body) ? `: ${messageOf(r.body)}` : ''}`);
  };

  // 1. Health and version (no auth needed there).
  const health = await api.request('GET', '/api/health');
  const version = typeof (health.body as { version?: unknown })?.version === 'string' ? (health.body as { version: string }).version : '';
  if (health.status !== 200 || version === '') throw new ImportError(`${api.url} does not answer as Grafana: GET /api/health gave HTTP ${health.status}`);
  const v = versionOf(version);
  if (!v || v[0] < MIN_VERSION[0] || (v[0] === MIN_VERSION[0] && v[1] < MIN_VERSION[1])) throw new ImportError(`Grafana ${version} is too old: the dashboards need ${MIN_VERSION.join('.')} or later`);
  log(`Grafana ${version} at ${api.url}`);

  // 2. Credentials and the folder.
  const folder = await api.request('GET', `/api/folders/${FOLDER.uid}`);
  if (folder.status === 404) {
    if (!o.dryRun) {
      const r = await api.request('POST', '/api/folders', FOLDER);
      if (r.status !== 200 && r.status !== 409) fail('creating the folder', r);
    }
    changes++;
    log(`folder ${FOLDER.uid}: ${o.dryRun ? 'would create' : 'created'}`);
  } else if (folder.status !== 200) fail(`GET /api/folders/${FOLDER.uid}`, folder);

  // 3. The SQLite plugin must be installed for its data source to work.
  if (o.sources.includes('sqlite')) {
    const plugin = await api.request('GET', `/api/plugins/${PLUGIN_ID.sqlite}/settings`);
    if (plugin.status === 404) throw new ImportError(`the SQLite data source plugin ${PLUGIN_ID.sqlite} is not installed in Grafana: grafana-cli plugins install ${PLUGIN_ID.sqlite}, restart Grafana, and run again (or leave sqlite out of --sources)`);
    if (plugin.status !== 200) fail(`GET /api/plugins/${PLUGIN_ID.sqlite}/settings`, plugin);
  }

  // 4. Data sources by uid.
  for (const source of o.sources) {
    const want = dataSourceBody(source, o.env);
    const uid = want['uid'] as string;
    const have = await api.request('GET', `/api/datasources/uid/${uid}`);
    const { secureJsonData, ...visible } = want;
    if (have.status === 404) {
      if (!o.dryRun) {
        const r = await api.request('POST', '/api/datasources', want);
        if (r.status === 409) throw new ImportError(`data source ${uid}: Grafana has another data source named "${String(want['name'])}": rename or delete it`);
        if (r.status !== 200) fail(`creating data source ${uid}`, r);
      }
      changes++;
      log(`data source ${uid}: ${o.dryRun ? 'would create' : 'created'}`);
    } else if (have.status === 200) {
      // The password is never sent back by Grafana: it is set on creation and left alone after.
      if (covers(have.body, visible)) log(`data source ${uid}: unchanged`);
      else if ((have.body as { readOnly?: boolean }).readOnly === true) log(`data source ${uid}: provisioned from a file, left as it is (edit the provisioning file instead)`);
      else {
        if (!o.dryRun) {
          const r = await api.request('PUT', `/api/datasources/uid/${uid}`, { ...visible, ...(secureJsonData && source === 'postgresql' && o.env['LARDER_PG_PASSWORD'] ? { secureJsonData } : {}) });
          if (r.status === 403 && /read-only/i.test(messageOf(r.body))) log(`data source ${uid}: provisioned from a file, left as it is (edit the provisioning file instead)`);
          else if (r.status !== 200) fail(`updating data source ${uid}`, r);
        }
        changes++;
        log(`data source ${uid}: ${o.dryRun ? 'would update' : 'updated'}`);
      }
    } else fail(`GET /api/datasources/uid/${uid}`, have);
  }

  // 5. Dashboards: created, updated when they differ, refused when edited in Grafana since our last import.
  for (const source of o.sources) {
    for (const def of DASHBOARDS) {
      const uid = dashboardUid(def, source);
      const dashboard = dashboardForImport(def.key, source);
      const have = await api.request('GET', `/api/dashboards/uid/${uid}`);
      let action: 'create' | 'update';
      if (have.status === 404) action = 'create';
      else if (have.status === 200) {
        const stored = (have.body as { dashboard?: unknown }).dashboard;
        // Grafana numbers ids and versions itself: everything else must be ours.
        const { id: _id, version: _version, ...comparable } = dashboard;
        if (covers(stored, comparable) && (have.body as { meta?: { folderUid?: string } }).meta?.folderUid === FOLDER.uid) {
          log(`dashboard ${uid}: unchanged`);
          continue;
        }
        const versions = await api.request('GET', `/api/dashboards/uid/${uid}/versions?limit=1`);
        const list = Array.isArray(versions.body) ? versions.body : (versions.body as { versions?: unknown[] })?.versions ?? [];
        const last = list[0] as { message?: string; createdBy?: string } | undefined;
        if (versions.status === 200 && last && last.message !== IMPORT_MESSAGE && !o.force) {
          throw new ImportError(`dashboard ${uid} was changed in Grafana since the last import (by ${last.createdBy ?? 'someone'}): save your version under another uid, or run with --force to overwrite it`);
        }
        action = 'update';
      } else fail(`GET /api/dashboards/uid/${uid}`, have);
      if (!o.dryRun) {
        const r = await api.request('POST', '/api/dashboards/db', { dashboard, folderUid: FOLDER.uid, overwrite: true, message: IMPORT_MESSAGE });
        if (r.status !== 200) fail(`saving dashboard ${uid}`, r);
      }
      changes++;
      log(`dashboard ${uid}: ${o.dryRun ? `would ${action}` : `${action}d`}`);
    }
  }
  log(o.dryRun ? `dry run: ${changes} change(s) would be made` : changes === 0 ? 'nothing to change' : `${changes} change(s) made`);
  return { changes };
}

async function main(): Promise<number> {
  try {
    const o = parseImportOptions(process.env, process.argv.slice(2));
    await runImport(o, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } catch (err) {
    if (err instanceof ImportError || err instanceof GrafanaUnreachableError) {
      process.stderr.write(`grafana-import: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`grafana-import: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
