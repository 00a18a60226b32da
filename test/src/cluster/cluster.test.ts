/**
 * The cluster view with real processes: a node `cluster` primary with two workers on
 * one public port (what PM2 cluster mode is), and a peer that stops answering.
 */
import t from 'tap';
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLarder } from '../../../src/larder.js';
import { mergeInstances } from '../../../src/cluster/aggregate.js';
import { decodeSnapshot, encodeSnapshot } from '../../../src/cluster/wire.js';
import { validateClusterOptions } from '../../../src/cluster/cluster-view.js';
import { need, promtoolCheckMetrics } from '../../helpers/peers.js';
import { freePort } from '../../helpers/prometheus.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/instance.ts', import.meta.url));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port with `n` free ports after it. */
async function freeRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error('no free port range');
}

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
  t.equal(line(text, /^recipes_created_total\{category="soup"\} (\S+)$/m), 1, 'sum over the instances that answered');
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
  t.equal(soup(partial), 10);
  const up = partial.families.find((f) => f.name === 'larder_cluster_instance_up')!;
  t.same(up.samples.map((s) => [s.labels['app_instance'], s.value]), [['0', 1], ['1', 0]]);

  child.kill('SIGCONT');
  await new Promise((r) => setTimeout(r, 200));
  const back = await larder.snapshot();
  t.same(back.missing, []);
  t.equal(soup(back), 12);
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
