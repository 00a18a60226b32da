/**
 * startRecording wired from a real config: the registry and a scrape target recorded
 * into a real SQLite store every second, `up{job,instance}` for a target that is down,
 * the jobs callable, and stop() flushing and ending every timer.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Gauge, Registry } from 'prom-client';
import { loadConfig } from '../../../src/config.js';
import { Logger } from '../../../src/log.js';
import { startRecording } from '../../../src/recorder/index.js';
import { openSqliteStore } from '../../../storage/sqlite-store.js';
import { isStaleNaN } from '../../../storage/stale.js';

t.test('registry and scrape targets recorded; stop() flushes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-recording-'));
  const target = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/plain; version=0.0.4');
    res.end('# TYPE backend_jobs_total counter\nbackend_jobs_total{queue="mail"} 12\n');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const port = (target.address() as AddressInfo).port;
  const file = join(dir, 'larder.yml');
  writeFileSync(
    file,
    `targets:\n  - url: http://127.0.0.1:${port}/metrics\n    job: backend\n    instance: api-1\n    interval: 2s\n    timeout: 2s\n  - url: http://127.0.0.1:1/metrics\n    job: gone\n    interval: 1s\n    timeout: 500ms\n`,
  );
  const { config } = loadConfig({ argv: [`--config.file=${file}`, '--record-interval=1s'], env: {} });
  t.equal(config.recorder.targets.length, 2);
  const store = await openSqliteStore({ path: join(dir, 'monitoring.db') });
  t.teardown(async () => {
    await store.close();
    target.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const registry = new Registry();
  new Gauge({ name: 'host_temp_celsius', help: 'x', registers: [registry] }).set(40);
  const lines: string[] = [];
  const rec = startRecording({ registry, store, config, log: new Logger('info', (l) => lines.push(l)) });
  t.same(rec.tiers.map((x) => x.name), ['1m', '5m', '1h', '1d'], 'a 1 s record interval adds the 1m tier');
  await new Promise((r) => setTimeout(r, 3000));
  await rec.jobs.rollup();
  await rec.stop();

  const series = await store.listSeries();
  const find = (name: string, labels: Record<string, string>): number | undefined => series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.id;
  const readAll = async (id: number | undefined): Promise<number[]> => (id === undefined ? [] : (await store.readSamples({ seriesIds: [id], fromMs: 0, toMs: Date.now() + 1000 })).samples.map((s) => s.value));
  // The values recorded, without the stale marker that stop() ends each series with.
  const read = async (id: number | undefined): Promise<number[]> => (await readAll(id)).filter((v) => !isStaleNaN(v));
  t.ok((await read(find('host_temp_celsius', {}))).length >= 2, 'the registry recorded every second');
  t.ok((await read(find('backend_jobs_total', { job: 'backend', instance: 'api-1', queue: 'mail' }))).includes(12), 'the target recorded with job and instance');
  const up = await read(find('up', { job: 'backend', instance: 'api-1' }));
  t.ok(up.length >= 1 && up.every((v) => v === 1), `up 1 for the live target (${up.join(',')})`);
  const down = await read(find('up', { job: 'gone', instance: '127.0.0.1:1' }));
  t.ok(down.length >= 1 && down.every((v) => v === 0), 'up 0 for the target that is down');
  for (const [name, labels] of [['up', { job: 'backend', instance: 'api-1' }], ['host_temp_celsius', {}]] as const) {
    const all = await readAll(find(name, labels));
    t.ok(all.length > 0 && isStaleNaN(all[all.length - 1]!) && all.filter((v) => isStaleNaN(v)).length === 1, `${name}: stop() ended it with one stale marker`);
  }
  t.equal(lines.filter((l) => l.includes('scrape target down')).length, 1, 'its reason logged once');
  const runs = (await registry.getSingleMetric('larder_job_runs_total')!.get()).values.find((v) => v.labels['job'] === 'rollup');
  t.equal(runs?.value, 1, 'the rollup job ran through the scheduler');
  const batches = (await registry.getSingleMetric('larder_recorder_batches_total')!.get()).values[0]!.value;
  await new Promise((r) => setTimeout(r, 1500));
  t.equal((await registry.getSingleMetric('larder_recorder_batches_total')!.get()).values[0]!.value, batches, 'nothing recorded after stop()');
});
