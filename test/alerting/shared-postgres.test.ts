/**
 * Two Larders on one PostgreSQL (docs/many-hosts.md), each `larder serve` as startLarder
 * runs it, in one fresh schema: the bundled rules of each evaluate over its own series
 * only (its `instance`, its external labels), so an alert true on both hosts fires once
 * per host, not once per Larder per host; a user's rule file stays global, as in
 * Prometheus, and sees both hosts' series. Restoring after start closes only its own
 * alert_history rows, never the other Larder's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { Logger } from '../../src/log.js';
import { startLarder, type Larder } from '../../src/main.js';
import { PG, need } from '../helpers/peers.js';
import { dropSchema, schemaName } from '../storage/fixtures/stores.js';

type Json = Record<string, unknown>;
interface ApiAlert {
  labels: Record<string, string>;
  state: string;
}

const USER_RULES = `groups:
- name: user
  interval: 1s
  rules:
  - alert: HeapsSeen
    expr: count(nodejs_heap_size_used_bytes) >= 2
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function alerts(l: Larder): Promise<ApiAlert[]> {
  const body = (await (await fetch(`${l.server.url}/api/v1/alerts`)).json()) as Json;
  return ((body['data'] as Json)['alerts'] as ApiAlert[]) ?? [];
}

t.test('two Larders on one PostgreSQL: each bundled alert fires once per host, from that host', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const dir = mkdtempSync(join(tmpdir(), 'larder-shared-pg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'user.yml'), USER_RULES);
  const start = async (instance: string): Promise<Larder> => {
    const { config } = loadConfig({
      argv: [
        '--listen=127.0.0.1:0',
        `--instance=${instance}`,
        '--external-label=dc=eu',
        `--storage.pg-schema=${schema}`,
        '--storage.spool-path=',
        '--no-collector.hostinfo',
        '--record-interval=1s',
        '--collect-interval=1s',
        '--rules.evaluation-interval=1s',
        `--rules.file=${join(dir, 'user.yml')}`,
        // only the Node.js pack, one alert of it made true on every host at once (repeated flags)
        '--rules.bundled.disable=host,http,clients',
        '--rules.bundled.disable=larder',
        '--rules.bundled.set=NodejsHeapNearLimit.threshold=0',
        '--rules.bundled.set=NodejsHeapNearLimit.for=0s',
      ],
      env: { MONITORING_DB: 'postgresql', DB_HOST: PG.host, DB_PORT: String(PG.port), DB_NAME: PG.database, DB_USER: PG.user },
    });
    return startLarder(config, new Logger('error', () => undefined));
  };
  // one after the other: the first applies the migrations to the fresh schema
  const web1 = await start('web1');
  t.teardown(() => web1.stop());
  const web2 = await start('web2');
  t.teardown(() => web2.stop());

  const rules = (await (await fetch(`${web1.server.url}/api/v1/rules`)).json()) as Json;
  const heap = ((rules['data'] as Json)['groups'] as Json[]).flatMap((g) => g['rules'] as Json[]).find((r) => r['name'] === 'NodejsHeapNearLimit');
  t.equal(heap?.['query'], 'nodejs_heap_size_used_bytes{dc="eu",instance="web1"} / nodejs_heap_size_limit_bytes{dc="eu",instance="web1"} > 0', "the bundled rule's query names web1's series: what runs is what the API shows");
  const user = ((rules['data'] as Json)['groups'] as Json[]).flatMap((g) => g['rules'] as Json[]).find((r) => r['name'] === 'HeapsSeen');
  t.equal(user?.['query'], 'count(nodejs_heap_size_used_bytes) >= 2', "a user's rule is left as written");

  // until both Larders evaluated since both hosts' series are in the store
  const heapAlerts = async (l: Larder): Promise<ApiAlert[]> => (await alerts(l)).filter((a) => a.labels['alertname'] === 'NodejsHeapNearLimit');
  let seen1: ApiAlert[] = [];
  let seen2: ApiAlert[] = [];
  let global: ApiAlert[] = [];
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(500)) {
    global = (await alerts(web1)).filter((a) => a.labels['alertname'] === 'HeapsSeen');
    seen1 = await heapAlerts(web1);
    seen2 = await heapAlerts(web2);
    if (global.length > 0 && seen1.length > 0 && seen2.length > 0) break;
  }
  t.equal(global.length, 1, "web1's user rule counts the heaps of both hosts (user rules are global)");
  // a few more evaluations, each over both hosts' series
  await sleep(3000);
  seen1 = await heapAlerts(web1);
  seen2 = await heapAlerts(web2);
  t.same(seen1.map((a) => [a.labels['instance'], a.labels['dc'], a.state]), [['web1', 'eu', 'firing']], 'web1 fires for web1 alone');
  t.same(seen2.map((a) => [a.labels['instance'], a.labels['dc'], a.state]), [['web2', 'eu', 'firing']], 'web2 fires for web2 alone');

  const store = web1.app.store!;
  const history = await store.query<{ labels: string; status: string }>("SELECT labels::text AS labels, status FROM alert_history WHERE name = 'NodejsHeapNearLimit' ORDER BY id");
  t.same(
    history.map((h) => [(JSON.parse(h.labels) as Record<string, string>)['instance'], h.status]).sort(),
    [['web1', 'firing'], ['web2', 'firing']],
    'alert_history: one firing row per host, not one per Larder per host',
  );
  const stored = await store.query<{ labels: string }>("SELECT labels::text AS labels FROM series WHERE name = 'ALERTS' AND labels->>'alertname' = 'NodejsHeapNearLimit'");
  t.same(stored.map((s) => (JSON.parse(s.labels) as Record<string, string>)['instance']).sort(), ['web1', 'web2'], 'ALERTS in the store: one series per host');
});

/** A port the kernel says is free now. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

t.test("a Larder's bundled host rules cover the hosts it scrapes, and on a shared PostgreSQL each host alerts once", async (t) => {
  if (!(await need(t, 'postgres'))) return;
  if (!(await need(t, 'node-exporter'))) return;
  const schema = schemaName();
  t.teardown(() => dropSchema(schema));
  const dir = mkdtempSync(join(tmpdir(), 'larder-scope-targets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // a real node_exporter, recorded by web1 as instance "db.1:9100" (a dot: the scope escapes it)
  const nePort = await freePort();
  const { spawn } = await import('node:child_process');
  const ne = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`, '--collector.disable-defaults', '--collector.loadavg', '--collector.cpu'], { stdio: 'ignore' });
  t.teardown(() => void ne.kill('SIGTERM'));
  for (const until = Date.now() + 20_000; ; await sleep(200)) {
    if ((await fetch(`http://127.0.0.1:${nePort}/metrics`).catch(() => undefined))?.ok === true) break;
    if (Date.now() > until || ne.exitCode !== null) throw new Error('node_exporter did not start');
  }
  writeFileSync(join(dir, 'web1.yml'), `targets:\n  - url: http://127.0.0.1:${nePort}/metrics\n    job: node\n    instance: db.1:9100\n    interval: 1s\n    timeout: 1s\n`);
  const start = async (instance: string, config?: string): Promise<Larder> => {
    const { config: c } = loadConfig({
      argv: [
        '--listen=127.0.0.1:0',
        `--instance=${instance}`,
        '--external-label=dc=eu',
        `--storage.pg-schema=${schema}`,
        '--storage.spool-path=',
        '--no-collector.hostinfo',
        '--record-interval=1s',
        '--collect-interval=1s',
        '--rules.evaluation-interval=1s',
        ...(config === undefined ? [] : [`--config.file=${config}`]),
        // one bundled host alert, made true on every host at once
        '--rules.bundled.disable=nodejs,http,clients,larder',
        '--rules.bundled.set=HostHighLoadPerCpu.threshold=0',
        '--rules.bundled.set=HostHighLoadPerCpu.for=0s',
      ],
      env: { MONITORING_DB: 'postgresql', DB_HOST: PG.host, DB_PORT: String(PG.port), DB_NAME: PG.database, DB_USER: PG.user },
    });
    return startLarder(c, new Logger('error', () => undefined));
  };
  const web1 = await start('web1', join(dir, 'web1.yml'));
  t.teardown(() => web1.stop());
  const web2 = await start('web2');
  t.teardown(() => web2.stop());

  const rules = (await (await fetch(`${web1.server.url}/api/v1/rules`)).json()) as Json;
  const load = ((rules['data'] as Json)['groups'] as Json[]).flatMap((g) => g['rules'] as Json[]).find((r) => r['name'] === 'HostHighLoadPerCpu');
  t.match(load?.['query'], 'node_load1{dc="eu",instance=~"db\\\\.1:9100|web1"}', "web1's scope: its own instance and its target's, the dot escaped");

  const loadAlerts = async (l: Larder): Promise<string[]> => (await alerts(l)).filter((a) => a.labels['alertname'] === 'HostHighLoadPerCpu' && a.state === 'firing').map((a) => a.labels['instance']!).sort();
  let seen1: string[] = [];
  let seen2: string[] = [];
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(500)) {
    seen1 = await loadAlerts(web1);
    seen2 = await loadAlerts(web2);
    if (seen1.length >= 2 && seen2.length >= 1) break;
  }
  await sleep(3000); // more evaluations, each over every host's series in the schema
  seen1 = await loadAlerts(web1);
  seen2 = await loadAlerts(web2);
  t.same(seen1, ['db.1:9100', 'web1'], 'web1 alerts for itself and for the node_exporter it scrapes');
  t.same(seen2, ['web2'], 'web2 alerts for itself only, not for the host web1 scrapes');

  const store = web1.app.store!;
  const history = await store.query<{ labels: string; status: string }>("SELECT labels::text AS labels, status FROM alert_history WHERE name = 'HostHighLoadPerCpu' ORDER BY id");
  t.same(
    history.map((h) => [(JSON.parse(h.labels) as Record<string, string>)['instance'], h.status]).sort(),
    [['db.1:9100', 'firing'], ['web1', 'firing'], ['web2', 'firing']],
    'alert_history: one firing row per host, the scraped one included',
  );
});
