/**
 * Every SQL query of every generated dashboard (panels and variables), run against real
 * data: a SQLite file read by the `sqlite3` CLI through the very URI the provisioning
 * builds (unix-dotfile VFS, read-only), and the real PostgreSQL, both filled and rolled up
 * (test/grafana/fixture.ts), with Grafana's macros expanded as ../shared/GRAFANA.md says.
 * Three ranges: 1 hour (raw samples), 2 days (the 5m tier), 8 days (the 1h tier; raw
 * samples older than 2 days were dropped, so only the tier can answer).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { grafanaDir } from '../../grafana/generate.js';
import { tierForRange } from '../../grafana/sql-query.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Store } from '../../storage/store.js';
import { need } from '../helpers/peers.js';
import { openTestStore } from '../rollup/stores.js';
import { END, INSTANCES, JOB, RAW_FROM, fillForDashboards } from './fixture.js';
import { expandPostgres, expandSqlite, rangeOf, type GrafanaRange } from './grafana-macros.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RANGES: readonly { name: string; range: GrafanaRange; tier: string }[] = [
  { name: '1 hour', range: rangeOf(END - HOUR, END), tier: 'raw' },
  { name: '2 days', range: rangeOf(END - 2 * DAY, END), tier: '5m' },
  { name: '8 days', range: rangeOf(END - 8 * DAY, END), tier: '1h' },
];
const VARS = { job: [JOB], instance: INSTANCES };

type Target = { refId: string; rawSql?: string; queryText?: string; rawQueryText?: string; timeColumns?: string[]; queryType?: string };
type Panel = { type: string; title: string; targets?: Target[]; fieldConfig?: { defaults: { unit?: string; max?: number } } };
type Dashboard = { panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] } };

function dashboards(source: 'postgresql' | 'sqlite'): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const key of ['host', 'nodejs', 'business', 'larder']) out.set(key, JSON.parse(readFileSync(join(grafanaDir(), 'dashboards', source, `${key}.json`), 'utf8')) as Dashboard);
  return out;
}

/** The URI the SQLite data source opens: pathPrefix + path + '?' + pathOptions, from the provisioning file. */
function provisionedUri(path: string): string {
  const yaml = parse(readFileSync(join(grafanaDir(), 'provisioning', 'datasources', 'sqlite.yaml'), 'utf8')) as { datasources: { jsonData: { path: string; pathPrefix: string; pathOptions: string } }[] };
  const j = yaml.datasources[0]!.jsonData;
  t.equal(j.path, '$LARDER_SQLITE_PATH', 'the provisioning takes the path from the environment');
  return `${j.pathPrefix}${j.path.replace('$LARDER_SQLITE_PATH', path)}?${j.pathOptions}`;
}

/** Runs SQL through the sqlite3 CLI (JSON rows), as Grafana's plugin would read the file. */
function sqliteCli(uri: string, sql: string): Record<string, unknown>[] {
  const r = spawnSync('sqlite3', ['-bail', '-cmd', '.timeout 10000', '-json', uri], { input: sql, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`sqlite3 failed (${r.status}): ${r.stderr}\n${sql.slice(0, 500)}`);
  return r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as Record<string, unknown>[]);
}

const timeMs = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === 'string' && Number.isNaN(Number(v)) ? Date.parse(v) : Number(v) * 1000);

/** Checks one result as a time-series panel needs it; returns the times seen. */
function checkSeries(t: Test, rows: readonly Record<string, unknown>[], what: string, unit: string | undefined, max: number | undefined): number[] {
  const times = rows.map((r) => timeMs(r['time']));
  const ordered = times.every((x, i) => i === 0 || x >= times[i - 1]!);
  const numeric = rows.every((r) => r['value'] === null || typeof r['value'] === 'number' || (typeof r['value'] === 'string' && !Number.isNaN(Number(r['value']))));
  const labels = rows.every((r) => Object.entries(r).every(([k, v]) => k === 'time' || k === 'value' || typeof v === 'string'));
  const perSeries = new Map<string, number>();
  for (const r of rows) {
    const key = Object.entries(r).filter(([k]) => k !== 'time' && k !== 'value').map(([, v]) => String(v)).join('|');
    perSeries.set(key, (perSeries.get(key) ?? 0) + 1);
  }
  const most = Math.max(0, ...perSeries.values());
  if (!(rows.length > 0 && ordered && numeric && labels && most <= 2000)) {
    t.fail(`${what}: rows ${rows.length}, ordered ${ordered}, numeric ${numeric}, text labels ${labels}, most points per series ${most}`, { first: rows[0] });
  }
  // What the values mean: shares within [0, 1] where the panel says so, rates never negative.
  const values = rows.map((r) => r['value']).filter((v) => v !== null).map(Number);
  if (max === 1 && values.some((v) => v < -1e-9 || v > 1 + 1e-9)) t.fail(`${what}: a share outside [0, 1]: ${values.find((v) => v < 0 || v > 1)}`);
  if (['Bps', 'ops', 'reqps', 'pps'].includes(unit ?? '') && values.some((v) => v < 0)) t.fail(`${what}: a negative ${unit} value (a counter reset taken as a drop?)`);
  return times;
}

type Runner = (sql: string, range: GrafanaRange) => Promise<Record<string, unknown>[]>;

/** Each source's answers, by dashboard, panel, target and range, for the comparison at the end. */
const answers: Record<'postgresql' | 'sqlite', Map<string, { time: number; labels: string; value: number | null }[]>> = { postgresql: new Map(), sqlite: new Map() };

async function checkSource(t: Test, source: 'postgresql' | 'sqlite', run: Runner): Promise<void> {
  let queries = 0;
  for (const [key, dash] of dashboards(source)) {
    for (const v of dash.templating.list.filter((x) => x.type === 'query')) {
      const rows = await run(String(v.query), RANGES[0]!.range);
      const values = rows.map((r) => r['__value'] ?? r['job']);
      t.ok(values.length > 0 && values.every((x) => typeof x === 'string'), `${source} ${key}: variable ${v.name} lists ${values.join(', ')}`);
      if (v.name === 'instance' && key === 'host') t.same(rows.map((r) => r['__text']).sort(), ['host-a', 'host-b'], `${source} host: the host picker shows node_uname_info's nodename`);
    }
    for (const p of dash.panels.filter((x) => x.type !== 'row')) {
      for (const target of p.targets ?? []) {
        const sql = source === 'postgresql' ? target.rawSql! : target.queryText!;
        if (source === 'sqlite') t.equal(target.rawQueryText, target.queryText, `${key} / ${p.title}: rawQueryText = queryText`);
        for (const { name, range, tier } of RANGES) {
          const what = `${source} ${key} / ${p.title} ${target.refId} over ${name}`;
          let rows: Record<string, unknown>[];
          try {
            rows = await run(sql, range);
          } catch (err) {
            t.fail(`${what}: ${(err as Error).message.slice(0, 2000)}`);
            continue;
          }
          queries++;
          answers[source].set(what.replace(/^\S+ /, ''), rows.map((r) => ({ time: timeMs(r['time']), labels: Object.entries(r).filter(([k]) => k !== 'time' && k !== 'value').map(([k, v]) => `${k}=${String(v)}`).join(','), value: r['value'] === null ? null : Number(r['value']) })));
          const times = checkSeries(t, rows, what, p.fieldConfig?.defaults.unit, p.fieldConfig?.defaults.max);
          if (name === '8 days' && times.length > 0 && Math.min(...times) >= RAW_FROM) t.fail(`${what}: nothing older than the raw samples kept: the 1h tier was not read`);
          if (name === '2 days' && tier === '5m' && times.some((x) => x % 300_000 !== 0)) t.fail(`${what}: points not on 5-minute buckets: not the 5m tier`);
        }
      }
    }
  }
  t.ok(queries > 150, `${source}: ${queries} panel queries ran and returned time series`);
}

t.test('the ranges choose the tiers they are meant to', async (t) => {
  for (const r of RANGES) t.equal(tierForRange(r.range.toMs - r.range.fromMs, 'rate'), r.tier, `${r.name} reads ${r.tier}`);
  t.equal(tierForRange(HOUR, 'quantile'), '5m', 'quantiles have no raw form: the 5m tier answers short ranges');
  t.equal(tierForRange(90 * DAY + 1, 'gauge'), '1d');
});

t.test('SQLite: every panel and variable query through the sqlite3 CLI and the provisioned URI', async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'larder-grafana-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'monitoring.db');
  const store: Store = await openSqliteStore({ path, now: () => END });
  const { samples: written } = await fillForDashboards(store);
  t.ok(written > 100_000, `${written} samples written and rolled up`);
  const uri = provisionedUri(path);
  t.match(uri, /^file:\/.*monitoring\.db\?vfs=unix-dotfile&mode=ro$/, `the URI: ${uri}`);
  // Larder keeps the store open meanwhile: the CLI reads through the same lock protocol.
  try {
    await checkSource(t, 'sqlite', async (sql, range) => sqliteCli(uri, expandSqlite(sql, range, VARS)));
    const rows = sqliteCli(uri, 'PRAGMA integrity_check');
    t.same(rows, [{ integrity_check: 'ok' }], 'the store is intact after the reads');
  } finally {
    await store.close();
  }
});

t.test('PostgreSQL: every panel and variable query on the real server', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const store = await openTestStore(t, 'postgresql', () => END);
  if (!store) return;
  const { samples: written } = await fillForDashboards(store);
  t.ok(written > 100_000, `${written} samples written and rolled up`);
  await checkSource(t, 'postgresql', async (sql, range) => store.query(expandPostgres(sql, range, VARS)));
});

t.test('SQLite and PostgreSQL give the same answers', async (t) => {
  if (answers.sqlite.size === 0 || answers.postgresql.size === 0) {
    t.comment('one of the sources did not run');
    return;
  }
  t.same([...answers.sqlite.keys()].sort(), [...answers.postgresql.keys()].sort(), 'the same queries ran on both');
  const close = (a: number | null, b: number | null): boolean => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)));
  const differ: string[] = [];
  for (const [key, lite] of answers.sqlite) {
    const pg = answers.postgresql.get(key) ?? [];
    const same = lite.length === pg.length && lite.every((r, i) => r.time === pg[i]!.time && r.labels === pg[i]!.labels && close(r.value, pg[i]!.value));
    if (!same) differ.push(`${key}: SQLite ${JSON.stringify(lite.find((r, i) => !(r.time === pg[i]?.time && close(r.value, pg[i]!.value))))} PostgreSQL ${JSON.stringify(pg[lite.findIndex((r, i) => !(r.time === pg[i]?.time && close(r.value, pg[i]!.value)))])} (${lite.length} / ${pg.length} rows)`);
  }
  t.same(differ.slice(0, 5), [], `every one of ${answers.sqlite.size} answers agrees (times, labels, values)`);
});
