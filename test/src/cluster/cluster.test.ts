/**
 * The cluster view with real processes: a node `cluster` primary with two workers on
 * one public port (what PM2 cluster mode is), and a peer that stops answering.
 */
import t from 'tap';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLarder } from '../../../src/larder.js';
import { mergeInstances } from '../../../src/cluster/aggregate.js';
import { decodeSnapshot, encodeSnapshot } from '../../../src/cluster/wire.js';
import { Contributions } from '../../../src/cluster/contributions.js';
import { ClusterView, PEER_PATH, REMEMBERED_PATH, validateClusterOptions } from '../../../src/cluster/cluster-view.js';
import { need, promtoolCheckMetrics } from '../../helpers/peers.js';
import { freePort } from '../../helpers/prometheus.js';
import { freeRange } from '../../helpers/ports.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/instance.ts', import.meta.url));


function start(env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(FIXTURE, [], { env: { ...process.env, ...env }, execArgv: ['--import', '@tapjs/typescript/import'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fixture did not become ready')), 60_000);
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
    child.on('message', (m) => {
      if (m === 'ready') {
        clearTimeout(timer);
        resolve(child);
      }
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function line(text: string, re: RegExp): number | undefined {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

t.test('node cluster workers on one port: any worker answers with the merged view', async (t) => {
  const base = await freeRange(2);
  const publicPort = await freePort();
  const child = await start({
    FIXTURE_MODE: 'cluster',
    FIXTURE_PUBLIC_PORT: String(publicPort),
    LARDER_CLUSTER_INSTANCES: '2',
    LARDER_CLUSTER_PORT_BASE: String(base),
    LARDER_CLUSTER_TIMEOUT: '1s',
    FIXTURE_CONFIG: 'business-metrics:\n  - {name: queue_depth, type: gauge, help: Jobs waiting.}\ncluster.aggregation:\n  queue_depth: max\n',
  });
  t.teardown(() => stop(child));
  const url = `http://127.0.0.1:${publicPort}`;

  const served = new Set<string>();
  for (let i = 0; i < 30; i++) served.add(await (await fetch(`${url}/work`)).text());
  t.equal(served.size, 2, `requests spread over both workers (${[...served].join(',')})`);

  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/metrics`);
    t.equal(res.status, 200);
    t.equal(res.headers.get('x-larder-missing-instances'), null);
    const text = await res.text();
    t.equal(line(text, /^recipes_created_total\{category="soup"\} (\S+)$/m), 3, 'counters summed over the 2 workers (1+2)');
    t.equal(line(text, /^http_requests_total\{method="GET",route="\/work",status_code="200"\} (\S+)$/m), 30, 'HTTP counts summed: every /work request once');
    t.equal(line(text, /^http_request_duration_seconds_count\{method="GET",route="\/work",status_code="200"\} (\S+)$/m), 30, 'histograms summed');
    for (const id of ['0', '1']) {
      t.equal(line(text, new RegExp(`^user_engagement_score\\{app_instance="${id}"\\} (\\S+)$`, 'm')), Number(id) * 10, `gauge kept per instance ${id}`);
      t.equal(line(text, new RegExp(`^larder_cluster_instance_up\\{app_instance="${id}"\\} (\\S+)$`, 'm')), 1);
    }
    t.equal(line(text, /^queue_depth (\S+)$/m), 101, 'per-metric aggregation from the config file (max)');
    if (i === 0 && (await need(t, 'prometheus'))) {
      const check = promtoolCheckMetrics(text);
      t.equal(check.status, 0, check.output);
      t.equal(check.output, '');
    }
  }

  // one instance dies: the scrape still answers, partial, naming it
  await new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.send({ kill: 1 });
  });
  const started = performance.now();
  const res = await fetch(`${url}/metrics`);
  t.equal(res.status, 200, 'not a failed scrape');
  t.ok(performance.now() - started < 3000, 'answered within the bounded wait');
  t.equal(res.headers.get('x-larder-missing-instances'), '1');
  const text = await res.text();
  t.equal(line(text, /^larder_cluster_instance_up\{app_instance="1"\} (\S+)$/m), 0, 'the missing instance is named');
  // Instance 0 heard instance 1's values, by asking it or by being told them when 1
  // answered a scrape: the sum keeps 1's last contribution and does not drop to 1.
  t.equal(line(text, /^recipes_created_total\{category="soup"\} (\S+)$/m), 3, 'the sum keeps the missing instance\'s last contribution');
  t.equal(line(text, /^http_requests_total\{method="GET",route="\/work",status_code="200"\} (\S+)$/m), 30, 'so does every summed counter');
  t.equal(line(text, /^user_engagement_score\{app_instance="1"\} (\S+)$/m), undefined, 'a gauge of the missing instance is not kept');
});

t.test('a peer that hangs is left out after the timeout; it is back once it answers', async (t) => {
  const base = await freeRange(2);
  const child = await start({ LARDER_CLUSTER_INSTANCES: '2', NODE_APP_INSTANCE: '1', LARDER_CLUSTER_PORT_BASE: String(base), LARDER_CLUSTER_TIMEOUT: '500ms' });
  t.teardown(async () => {
    child.kill('SIGCONT');
    await stop(child);
  });
  const larder = createLarder({ collectors: [], app: { clusterInstances: 2, clusterInstanceId: 0, clusterPortBase: base, clusterTimeout: 400 } });
  await larder.start();
  t.teardown(() => larder.stop());
  larder.business.counter('recipes_created_total', 'Recipes created.', ['category']).inc({ category: 'soup' }, 10);

  const whole = await larder.snapshot();
  t.same(whole.missing, []);
  const soup = (s: typeof whole) => s.families.find((f) => f.name === 'recipes_created_total')!.samples.find((x) => x.labels['category'] === 'soup')!.value;
  t.equal(soup(whole), 12, '10 here + 2 in the child');

  child.kill('SIGSTOP');
  const started = performance.now();
  const partial = await larder.snapshot();
  const took = performance.now() - started;
  t.ok(took >= 350 && took < 2000, `waited about the timeout (${Math.round(took)} ms)`);
  t.same(partial.missing, [{ instance: '1', reason: 'no answer within 400 ms' }]);
  t.equal(soup(partial), 12, 'the missing peer counts with its last values: the sum does not drop');
  const up = partial.families.find((f) => f.name === 'larder_cluster_instance_up')!;
  t.same(up.samples.map((s) => [s.labels['app_instance'], s.value]), [['0', 1], ['1', 0]]);

  child.kill('SIGCONT');
  await new Promise((r) => setTimeout(r, 200));
  const back = await larder.snapshot();
  t.same(back.missing, []);
  t.equal(soup(back), 12);
});

t.test('summed counters never drop while an instance is missing, whoever answers the scrape', async (t) => {
  // Instances 0 and 1 here, 2 a child process with its own public port; the child's
  // GET /work requests are counted in its http_requests_total only.
  const base = await freeRange(3);
  const publicPort = await freePort();
  const child = await start({ LARDER_CLUSTER_INSTANCES: '3', NODE_APP_INSTANCE: '2', LARDER_CLUSTER_PORT_BASE: String(base), LARDER_CLUSTER_TIMEOUT: '500ms', FIXTURE_PUBLIC_PORT: String(publicPort) });
  t.teardown(async () => {
    child.kill('SIGCONT');
    await stop(child);
  });
  const larders = [0, 1].map((id) => createLarder({ collectors: [], app: { clusterInstances: 3, clusterInstanceId: id, clusterPortBase: base, clusterTimeout: 400 } }));
  for (const l of larders) {
    await l.start();
    t.teardown(() => l.stop());
  }
  const [l0, l1] = larders as [ReturnType<typeof createLarder>, ReturnType<typeof createLarder>];
  const WORK = /^http_requests_total\{method="GET",route="\/work",status_code="200"\} (\S+)$/m;
  const work = (s: Awaited<ReturnType<typeof l0.snapshot>>): number | undefined =>
    s.families.find((f) => f.name === 'http_requests_total')?.samples.find((x) => x.labels['route'] === '/work')?.value;
  const hit = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await (await fetch(`http://127.0.0.1:${publicPort}/work`)).text();
  };
  const seen: number[] = [];

  t.equal(work(await l0.snapshot()), undefined, 'instance 0 hears the child before any /work');
  await hit(5);
  const by1 = await l1.snapshot();
  t.equal(work(by1), 5, 'instance 1 answers a scrape: 5');
  seen.push(work(by1)!);

  child.kill('SIGSTOP');
  const by0 = await l0.snapshot();
  t.same(by0.missing.map((m) => m.instance), ['2'], 'the child is missing');
  t.equal(work(by0), 5, 'instance 0 never heard 5 itself; instance 1 remembered it');
  seen.push(work(by0)!);
  child.kill('SIGCONT');

  // The child answers a scrape itself (its values go to the peers with its questions), then stops.
  await hit(3);
  const text = await (await fetch(`http://127.0.0.1:${publicPort}/metrics`)).text();
  t.equal(line(text, WORK), 8, 'the child answers a scrape: 8');
  seen.push(line(text, WORK)!);
  child.kill('SIGSTOP');
  for (const l of [l0, l1]) {
    const s = await l.snapshot();
    t.same(s.missing.map((m) => m.instance), ['2']);
    t.equal(work(s), 8, 'the child\'s last answer is known to the others');
    seen.push(work(s)!);
  }
  t.same(seen, [...seen].sort((a, b) => a - b), `never down: ${seen.join(' → ')}`);
  const up = (await l0.snapshot()).families.find((f) => f.name === 'larder_cluster_instance_up')!;
  t.same(up.samples.map((s) => [s.labels['app_instance'], s.value]), [['0', 1], ['1', 1], ['2', 0]], 'still named as missing');
});

t.test('the peer endpoint keeps only plausible pushes', async (t) => {
  const base = await freeRange(2);
  let clock = 1_000_000;
  const view = new ClusterView(async () => ({ families: [], errors: [] }), { instances: 2, instanceId: 0, portBase: base, timeout: 500, label: 'app_instance', now: () => clock });
  await view.start();
  t.teardown(() => view.stop());
  const url = `http://127.0.0.1:${base}`;
  const counter = (v: number) => [{ name: 'a_total', help: 'A.', type: 'counter' as const, samples: [{ name: 'a_total', labels: {}, value: v }] }];
  const push = async (body: string): Promise<number> => {
    const res = await fetch(`${url}${PEER_PATH}`, { method: 'POST', body });
    await res.text();
    return res.status;
  };
  const remembered = async (): Promise<number | undefined> => {
    const res = await fetch(`${url}${REMEMBERED_PATH}1`);
    if (res.status !== 200) return undefined;
    return decodeSnapshot(await res.text()).families[0]?.samples[0]?.value;
  };
  t.equal(await push('not json'), 200, 'a malformed push still gets the snapshot');
  t.equal(await push(encodeSnapshot('0', counter(9), clock)), 200);
  t.equal(await push(encodeSnapshot('5', counter(9), clock)), 200);
  t.equal(await push(encodeSnapshot('1', counter(9), clock + 3_600_000)), 200);
  t.equal(await remembered(), undefined, 'nothing kept: not JSON, its own id, an id beyond the cluster, a time an hour ahead');
  t.equal(await push(encodeSnapshot('1', counter(4), clock)), 200);
  t.equal(await remembered(), 4, 'a plausible push is kept');
  clock += 1000;
  t.equal(await push(encodeSnapshot('1', counter(3), clock - 5000)), 200);
  t.equal(await remembered(), 4, 'an older one does not replace it');
  t.equal(await push('x'.repeat(16 * 1024 * 1024 + 1)), 413, 'a push over 16 MB is refused');
});

t.test('remembered contributions: newest wins, only counters and histograms summed (pure)', async (t) => {
  const fam = (name: string, type: 'counter' | 'gauge' | 'histogram', value: number) => ({ name, help: 'x', type, samples: [{ name: type === 'histogram' ? `${name}_count` : name, labels: {}, value }] });
  const c = new Contributions({ jobs_total: 'max' });
  c.heard('1', [fam('a_total', 'counter', 5), fam('g', 'gauge', 9), fam('h', 'histogram', 2), fam('jobs_total', 'counter', 4)], 1000);
  t.same(c.of('1')!.families.map((f) => f.name), ['a_total', 'h'], 'gauges and non-sum counters are not kept');
  c.offer('1', { atMs: 900, families: [fam('a_total', 'counter', 3)] });
  t.equal(c.of('1')!.families[0]!.samples[0]!.value, 5, 'an older memory does not replace a newer one');
  c.offer('1', { atMs: 1100, families: [fam('a_total', 'counter', 7), fam('g', 'gauge', 1)] });
  t.same(c.of('1')!.families.map((f) => [f.name, f.samples[0]!.value]), [['a_total', 7]], 'a newer one does, filtered too');
  t.equal(c.of('2'), undefined);
  const wire = decodeSnapshot(encodeSnapshot('1', [], 1234));
  t.equal(wire.atMs, 1234);
  t.throws(() => decodeSnapshot('{"instance":"1","families":[],"atMs":"soon"}'), /bad atMs/);
});

t.test('merge rules and the wire format (pure)', async (t) => {
  const merged = mergeInstances(
    [
      { instance: '0', families: [{ name: 'a_total', help: 'A.', type: 'counter', samples: [{ name: 'a_total', labels: { k: 'x' }, value: 1 }] }, { name: 'g', help: 'G.', type: 'gauge', samples: [{ name: 'g', labels: {}, value: 5 }] }] },
      { instance: '1', families: [{ name: 'a_total', help: 'A.', type: 'counter', samples: [{ name: 'a_total', labels: { k: 'x' }, value: 2 }, { name: 'a_total', labels: { k: 'y' }, value: 7 }] }, { name: 'g', help: 'G.', type: 'gauge', samples: [{ name: 'g', labels: {}, value: 3 }] }] },
    ],
    { label: 'worker', modes: { g: 'min' } },
  );
  t.same(merged[0]!.samples.map((s) => [s.labels['k'], s.value]), [['x', 3], ['y', 7]]);
  t.same(merged[1]!.samples.map((s) => s.value), [3]);
  const perInstance = mergeInstances([{ instance: '4', families: [{ name: 'g', help: 'G.', type: 'gauge', samples: [{ name: 'g', labels: {}, value: 1 }] }] }], { label: 'worker' });
  t.same(perInstance[0]!.samples[0]!.labels, { worker: '4' });
  const wire = decodeSnapshot(encodeSnapshot('3', [{ name: 'g', help: 'G.', type: 'gauge', samples: [{ name: 'g', labels: {}, value: NaN }, { name: 'g', labels: { a: 'b' }, value: Infinity }] }]));
  t.ok(Number.isNaN(wire.families[0]!.samples[0]!.value));
  t.equal(wire.families[0]!.samples[1]!.value, Infinity);
  t.throws(() => decodeSnapshot('{"instance":"1","families":[{"name":1}]}'), /family 0 is malformed/);
  t.throws(() => validateClusterOptions({ instances: 2, instanceId: 2, portBase: 9000, timeout: 100, label: 'x' }), /cluster.instance-id must be from 0 to 1/);
  t.throws(() => createLarder({ collectors: [], app: { clusterInstances: 3, clusterInstanceId: 5 } }), /cluster.instance-id must be from 0 to 2/);
});
