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
