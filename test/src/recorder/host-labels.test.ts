/**
 * Host identity in what the recorder stores: its own registry's series get job="larder"
 * and the instance (a sample's own job/instance move to exported_*, as a Prometheus
 * scrape of /metrics would store them); a scrape target's series keep the target's job
 * and instance; external labels are added where a series lacks them and never override.
 * /metrics itself is unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Counter, Gauge, Registry } from 'prom-client';
import { Recorder } from '../../../src/recorder/recorder.js';
import { flattenFamilies } from '../../../src/recorder/series-cache.js';
import { ownLabels } from '../../../src/recorder/hosts.js';
import { Logger } from '../../../src/log.js';
import { openSqliteStore } from '../../../storage/sqlite-store.js';

t.test('flattenFamilies: external labels only where missing', async (t) => {
  const flat = flattenFamilies(
    [{ name: 'g', help: 'x', type: 'gauge', samples: [{ name: 'g', labels: { dc: 'own', job: 'inner' }, value: 5 }, { name: 'g', labels: {}, value: 6 }] }],
    { job: 'larder', instance: 'web1' },
    { dc: 'eu', env: 'prod', instance: 'never' },
  );
  t.same(flat.map((f) => f.def.labels), [
    { dc: 'own', exported_job: 'inner', job: 'larder', instance: 'web1', env: 'prod' },
    { job: 'larder', instance: 'web1', dc: 'eu', env: 'prod' },
  ]);
  t.same(flattenFamilies([{ name: 'g', help: 'x', type: 'gauge', samples: [{ name: 'g', labels: { a: '1' }, value: 1 }] }], undefined, { dc: 'eu' })[0]!.def.labels, { a: '1', dc: 'eu' }, 'external labels alone');
});

t.test('the recorder stores its registry and a target with host labels; /metrics is unchanged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-hostlabels-'));
  const store = await openSqliteStore({ path: join(dir, 'monitoring.db') });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const registry = new Registry();
  new Gauge({ name: 'hl_temp', help: 'x', registers: [registry] }).set(3);
  new Counter({ name: 'hl_scrapes_total', help: 'x', labelNames: ['job', 'instance'], registers: [registry] }).inc({ job: 'node', instance: 'db1:9100' });
  const recorder = new Recorder({
    registry,
    store,
    log: new Logger('error', () => undefined),
    ownLabels: ownLabels({ instance: 'web1', externalLabels: {} }),
    externalLabels: { dc: 'eu' },
  });
  await recorder.tick();
  await recorder.submit([{ name: 'node_load1', help: 'x', type: 'gauge', samples: [{ name: 'node_load1', labels: {}, value: 0.5 }] }], Date.now(), { job: 'node', instance: 'db1:9100' });
  const series = (await store.listSeries()).filter((s) => s.name.startsWith('hl_') || s.name === 'node_load1');
  t.same(Object.fromEntries(series.map((s) => [s.name, s.labels])), {
    hl_temp: { dc: 'eu', instance: 'web1', job: 'larder' },
    hl_scrapes_total: { dc: 'eu', exported_instance: 'db1:9100', exported_job: 'node', instance: 'web1', job: 'larder' },
    node_load1: { dc: 'eu', instance: 'db1:9100', job: 'node' },
  });
  const exposition = await registry.metrics();
  t.match(exposition, /^hl_temp 3$/m, '/metrics keeps the series as they are');
  t.notMatch(exposition, /web1|dc="eu"/);
  await recorder.stop();
});
