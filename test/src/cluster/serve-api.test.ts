/**
 * `larder serve` in cluster mode (as PM2 starts it: the same settings, NODE_APP_INSTANCE
 * apart), with real processes on one SQLite store: only instance 0 opens the store, and
 * instance 1 answers `/api/v1/*` as instance 0 does by forwarding there (behind the same
 * auth); with instance 0 gone it answers 503 `unavailable`, naming it, and /metrics still works.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLarderProcess, type LarderProcess } from '../../helpers/larder-process.js';
import { freePort } from '../../helpers/prometheus.js';
import { freeRange } from '../../helpers/ports.js';

interface ApiAnswer {
  readonly status: string;
  readonly data?: unknown;
  readonly errorType?: string;
  readonly error?: string;
}

const TOKEN = 'lib18-cluster-token';
const auth = { Authorization: `Bearer ${TOKEN}` };

async function get(url: string, headers: Record<string, string> = auth): Promise<{ code: number; body: ApiAnswer | string }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  try {
    return { code: res.status, body: JSON.parse(text) as ApiAnswer };
  } catch {
    return { code: res.status, body: text };
  }
}

t.test('larder serve, 2 cluster instances on one SQLite store: instance 1 answers /api/v1 as instance 0 does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lib18-cluster-api-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const base = await freeRange(2);
  const env = {
    MONITORING_DB: 'sqlite',
    LARDER_CLUSTER_INSTANCES: '2',
    LARDER_CLUSTER_PORT_BASE: String(base),
    LARDER_CLUSTER_TIMEOUT: '2s',
  };
  const args = [
    `--storage.sqlite-path=${join(dir, 'monitoring.db')}`,
    `--storage.spool-path=`,
    '--record-interval=1s',
    '--collect-interval=1s',
    `--web.bearer-token-file=${tokenFile}`,
    // a small Larder: the process collector only, no bundled rules
    '--rules.bundled=false',
    ...['cpu', 'loadavg', 'meminfo', 'filesystem', 'diskstats', 'netdev', 'netclass', 'netstat', 'sockstat', 'softnet', 'conntrack', 'stat', 'vmstat', 'pressure', 'filefd', 'entropy', 'time', 'uname', 'os', 'processes', 'usage', 'cgroup', 'textfile', 'hostinfo'].map((c) => `--no-collector.${c}`),
  ];
  const ports = [await freePort(), await freePort()];
  const start = (id: number): Promise<LarderProcess> => startLarderProcess(ports[id]!, args, { ...env, NODE_APP_INSTANCE: String(id) }, auth, 60_000);
  const one = await start(1);
  t.teardown(() => void one.stop('SIGKILL'));
  const zero = await start(0);
  t.teardown(() => void zero.stop('SIGKILL'));

  // wait for records: instance 0 answers the counter of its scrapes from the store
  const q = (url: string, query: string, at: number): Promise<{ code: number; body: ApiAnswer | string }> => get(`${url}/api/v1/query?query=${encodeURIComponent(query)}&time=${at / 1000}`);
  let at = 0;
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 1000));
    at = Date.now();
    const r = await q(zero.url, 'larder_cluster_instance_up', at);
    if (r.code === 200 && typeof r.body === 'object' && ((r.body.data as { result: unknown[] }).result.length ?? 0) === 2) break;
  }
  const query = 'larder_cluster_instance_up';
  const fromZero = await q(zero.url, query, at);
  const fromOne = await q(one.url, query, at);
  t.equal(fromZero.code, 200, `instance 0 answers ${query}`);
  t.equal((fromZero.body as ApiAnswer & { data: { result: unknown[] } }).data.result.length, 2, 'both instances recorded up, by instance 0');
  t.equal(fromOne.code, 200, 'instance 1 answers too (it forwarded to instance 0; before, it answered 503: no store)');
  t.same(fromOne.body, fromZero.body, 'the same answer');

  // a range query, a POST with a form body, labels, series: all the same from either instance
  const range = `/api/v1/query_range?query=${encodeURIComponent('sum(larder_cluster_instance_up)')}&start=${(at - 10_000) / 1000}&end=${at / 1000}&step=1`;
  const [r0, r1] = await Promise.all([get(`${zero.url}${range}`), get(`${one.url}${range}`)]);
  t.equal(r1.code, 200, 'query_range through instance 1');
  t.same(r1.body, r0.body, 'query_range: the same answer');
  const post = async (url: string) => {
    const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `query=${encodeURIComponent('count(larder_cluster_instance_up)')}&time=${at / 1000}` });
    return { code: res.status, body: (await res.json()) as ApiAnswer };
  };
  const [p0, p1] = await Promise.all([post(zero.url), post(one.url)]);
  t.equal(p1.code, 200, 'POST /api/v1/query (form body) through instance 1');
  t.same(p1.body, p0.body, 'POST: the same answer');
  t.same((p1.body.data as { result: { value: [number, string] }[] }).result[0]?.value[1], '2', 'count = 2');
  for (const path of ['/api/v1/labels', `/api/v1/series?match[]=larder_cluster_instance_up&start=${(at - 60_000) / 1000}&end=${at / 1000}`, '/api/v1/rules', '/api/v1/alerts/history']) {
    const [a, b] = await Promise.all([get(`${zero.url}${path}`), get(`${one.url}${path}`)]);
    t.equal(b.code, a.code, `${path}: the same status (${b.code})`);
    t.same(b.body, a.body, `${path}: the same answer`);
  }
  const bad = await get(`${one.url}/api/v1/query?query=${encodeURIComponent('sum(')}`);
  t.equal(bad.code, 400, 'a bad query through instance 1: 400, as instance 0 answers it');
  t.equal((bad.body as ApiAnswer).errorType, 'bad_data');

  // the same auth: instance 1's own port, and instance 0's peer endpoint the API goes through
  t.equal((await get(`${one.url}/api/v1/query?query=up`, {})).code, 401, 'instance 1 without the token: 401');
  const peer = `http://127.0.0.1:${base}/larder/cluster/api/v1/query?query=up`;
  t.equal((await get(peer, {})).code, 401, "instance 0's peer endpoint without the token: 401 (the API is not opened on loopback)");
  t.equal((await get(peer, { Authorization: 'Bearer wrong-token-x' })).code, 401, 'with a wrong token: 401');
  t.equal((await get(peer)).code, 200, 'with the token: 200');
  t.equal((await get(`http://127.0.0.1:${base + 1}/larder/cluster/api/v1/query?query=up`)).code, 404, "instance 1's peer endpoint serves no API (it has no store)");

  // instance 0 gone: instance 1 says why, and still serves /metrics
  t.equal(await zero.stop(), 0, 'instance 0 stops on SIGTERM');
  const gone = await q(one.url, query, at);
  t.equal(gone.code, 503, 'instance 1 without instance 0: 503');
  t.equal((gone.body as ApiAnswer).errorType, 'unavailable');
  t.match((gone.body as ApiAnswer).error, new RegExp(`cluster instance 0 \\(127\\.0\\.0\\.1:${base}\\)`), 'naming instance 0 and where it was looked for');
  t.equal((await fetch(`${one.url}/metrics`, { headers: auth })).status, 200, '/metrics of instance 1 still answers');
  t.equal(await one.stop(), 0, 'instance 1 stops on SIGTERM');
  t.match(one.stderr(), /cannot forward a query to cluster instance 0/, 'instance 1 logged the failed forward');
  t.notMatch(zero.stderr(), /level=(warn|error)/, 'no warning or error from instance 0');
});
