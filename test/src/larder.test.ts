/** The library API: createLarder's lifecycle, its own /metrics server, the standalone built from it, and the public surface. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import * as api from '../../src/index.js';
import { createLarder } from '../../src/larder.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { startLarder } from '../../src/main.js';

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = createServer();
    s.once('error', () => r(false));
    s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
  });
}

t.test('start() runs steps in order before the server, stop() in reverse after it', async (t) => {
  const larder = createLarder({ collectors: ['process'], serve: { listen: { host: '127.0.0.1', port: 0 } }, log: silentLogger });
  const events: string[] = [];
  larder.use({ name: 'a', start: () => void events.push(`a start, server ${larder.server ? 'up' : 'down'}`), stop: () => void events.push(`a stop, server ${larder.server ? 'up' : 'down'}`) });
  larder.use({ name: 'b', start: async () => void events.push('b start'), stop: async () => void events.push('b stop') });
  larder.use({ name: 'c', stop: () => { throw new Error('c fails to stop'); } });
  await larder.start();
  t.throws(() => larder.use({ name: 'late' }), /step "late" added after start\(\)/);
  const url = larder.server!.url;
  const text = await (await fetch(`${url}/metrics`)).text();
  t.match(text, /^process_cpu_user_seconds_total \S+$/m, 'the process collector runs');
  t.notMatch(text, /user_registrations_total/, 'no business metric unless the service declares it');
  t.match(text, /^# TYPE larder_dropped_series_total counter$/m, 'the guard reports itself');
  t.notMatch(text, /http_requests_total/, 'HTTP metrics only once the middleware is used');
  larder.middleware;
  t.match(await (await fetch(`${url}/metrics`)).text(), /# TYPE http_requests_total counter/);
  await larder.stop();
  t.same(events, ['a start, server down', 'b start', 'b stop', 'a stop, server down'], 'a failing stop step does not stop the others');
  await t.rejects(fetch(`${url}/metrics`), 'the server is closed');
  await larder.stop(); // twice is fine
});

t.test('bad settings are refused, naming them', async (t) => {
  t.throws(() => createLarder({ collectors: ['nope'] }), /unknown collector "nope"; known collectors: process/);
  t.throws(() => createLarder({ app: { cardinalityLimit: -5 } }), /limit must be an integer >= 0/);
  const { config } = loadConfig({ argv: ['--cluster.instances=2', '--cluster.instance-id=7', '--listen=127.0.0.1:0'], env: {} });
  await t.rejects(startLarder(config, silentLogger), { name: 'ConfigError', message: /cluster.instance-id must be from 0 to 1/ });
  t.throws(() => loadConfig({ argv: ['--app.http-duration-buckets=1,0.5'], env: {} }), /invalid value "1,0.5" for --app.http-duration-buckets: expected increasing numbers/);
  t.throws(() => loadConfig({ argv: [], env: { LARDER_CARDINALITY_LIMIT: 'lots' } }), /LARDER_CARDINALITY_LIMIT \(--app.cardinality-limit\).*integer/);
  t.throws(() => loadConfig({ argv: ['--config.file=c.yml'], env: {}, readFile: () => 'cluster.aggregation:\n  x: average\n' }), /metric x: expected one of sum, max, min, instance, got "average"/);
});

t.test('options from flags, variables and the file', async (t) => {
  const { config } = loadConfig({
    argv: ['--config.file=c.yml', '--app.series-expiry=10m'],
    env: { LARDER_CARDINALITY_LIMIT: '500', NODE_APP_INSTANCE: '3', LARDER_CLUSTER_INSTANCES: '4' },
    readFile: () => 'app.http-duration-buckets: [0.1, 0.5, 2]\ncluster.aggregation: {queue_depth: max}\n',
  });
  t.equal(config.app.cardinalityLimit, 500);
  t.equal(config.app.seriesExpiry, 600_000);
  t.same(config.app.httpDurationBuckets, [0.1, 0.5, 2]);
  t.equal(config.app.clusterInstanceId, 3, "PM2's NODE_APP_INSTANCE");
  t.equal(config.app.clusterInstances, 4);
  t.same(config.app.clusterAggregation, { queue_depth: 'max' });
  const defaults = loadConfig({ argv: [], env: {} }).config.app;
  t.equal(defaults.cardinalityLimit, 2000);
  t.equal(defaults.seriesExpiry, 0);
  t.equal(defaults.clusterInstances, 0);
});

t.test('larder serve is built from createLarder; its server serves the cluster view', async (t) => {
  let base = 0;
  for (let i = 0; i < 50 && !base; i++) {
    const b = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await portFree(b)) && (await portFree(b + 1))) base = b;
  }
  const { config } = loadConfig({ argv: ['--listen=127.0.0.1:0', '--no-collector.process', `--cluster.instances=2`, '--cluster.instance-id=0', `--cluster.port-base=${base}`, '--cluster.timeout=300ms'], env: {} });
  const standalone = await startLarder(config, silentLogger);
  t.teardown(() => standalone.stop());
  t.equal(standalone.registry, standalone.app.registry);
  t.ok(standalone.app.cluster, 'cluster view on');
  const peer = createLarder({ collectors: [], app: { clusterInstances: 2, clusterInstanceId: 1, clusterPortBase: base, clusterTimeout: 300 } });
  peer.business.counter('searches_total', 'Searches run.', ['kind']).inc({ kind: 'text' }, 4);
  standalone.app.business.counter('searches_total', 'Searches run.', ['kind']).inc({ kind: 'text' }, 1);
  await peer.start();
  let text = await (await fetch(`${standalone.server.url}/metrics`)).text();
  t.match(text, /^searches_total\{kind="text"\} 5$/m, 'summed over both instances');
  t.match(text, /^larder_cluster_instance_up\{app_instance="1"\} 1$/m);
  await peer.stop();
  text = await (await fetch(`${standalone.server.url}/metrics`)).text();
  t.match(text, /^larder_cluster_instance_up\{app_instance="1"\} 0$/m, 'partial answer naming the missing instance');
  t.match(text, /^searches_total\{kind="text"\} 5$/m, 'the missing instance counts with its last values: the sum does not drop');
});

t.test('the public surface lists its exports by name and builds declaration files', async (t) => {
  for (const name of ['createLarder', 'startLarder', 'loadConfig', 'SeriesGuard', 'BusinessMetrics', 'createHttpMetrics', 'instrumentPg', 'instrumentPgPromise', 'instrumentIoRedis', 'instrumentNodeRedis', 'sqlOperation', 'ClusterView', 'mergeInstances', 'InvalidNameError', 'collectSnapshot', 'toPrometheusText']) {
    t.type((api as Record<string, unknown>)[name], 'function', name);
  }
  const index = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');
  t.notMatch(index, /^export \*/m, 'no export *');
  t.notMatch(index, /^export default/m, 'no default export');

  // declaration build of the public entry point (and what it imports), as `npm run build` makes it
  const root = resolve(new URL('../..', import.meta.url).pathname);
  const out = mkdtempSync(join(tmpdir(), 'larder-dts-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  writeFileSync(join(out, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { outDir: join(out, 'dist'), rootDir: root, emitDeclarationOnly: true, typeRoots: [join(root, 'node_modules/@types')] }, include: [], files: [join(root, 'src/index.ts')] }));
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(out, 'tsconfig.json')], { stdio: 'pipe' });
  const dts = readFileSync(join(out, 'dist/src/index.d.ts'), 'utf8');
  t.match(dts, /export \{ createLarder \} from '\.\/larder\.js';/);
  t.match(readFileSync(join(out, 'dist/src/larder.d.ts'), 'utf8'), /export declare function createLarder\(options\?: LarderOptions\): Larder;/);
});
