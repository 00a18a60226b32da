/**
 * The exposition of a real `larder serve` passes promtool, and a real Prometheus
 * scraping it sees `up` 1 and a CPU rate per core.
 */
import t from 'tap';
import { cpus } from 'node:os';
import { need, promtoolCheckMetrics } from '../helpers/peers.js';
import { freePort, startPrometheus } from '../helpers/prometheus.js';
import { startLarderProcess } from '../helpers/larder-process.js';

t.test('promtool check metrics reports no problems', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  const larder = await startLarderProcess(await freePort());
  t.teardown(() => larder.stop());
  const text = await (await fetch(`${larder.url}/metrics`)).text();
  t.match(text, /^node_cpu_seconds_total\{/m, 'host metrics are there');
  const lint = promtoolCheckMetrics(text);
  t.equal(lint.status, 0, 'promtool exits 0');
  t.equal(lint.output, '', 'promtool reports nothing');
  const om = await (await fetch(`${larder.url}/metrics`, { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } })).text();
  t.match(om, /# EOF\n$/);
});

t.test('a real Prometheus scrapes Larder', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  const port = await freePort();
  const larder = await startLarderProcess(port, [], { LARDER_COLLECT_INTERVAL: '1s' });
  t.teardown(() => larder.stop());
  const prom = await startPrometheus([{ job: 'larder', targets: [`127.0.0.1:${port}`] }]);
  t.teardown(() => prom.stop());
  const up = await prom.waitFor('up{job="larder"} == 1');
  t.equal(up.length, 1, 'up is 1');
  const rate = await prom.waitFor('sum by (cpu) (rate(node_cpu_seconds_total{job="larder"}[5s]))', cpus().length, 30_000);
  t.equal(rate.length, cpus().length, 'one CPU rate series per core');
  for (const r of rate) t.ok(Number(r.value[1]) >= 0 && Number(r.value[1]) <= 1.5, `cpu ${r.metric['cpu']} busy+idle rate ${r.value[1]} is about 1`);
  const mem = await prom.query('node_memory_MemAvailable_bytes{job="larder"} / node_memory_MemTotal_bytes{job="larder"}');
  t.equal(mem.length, 1);
  t.ok(Number(mem[0]!.value[1]) > 0 && Number(mem[0]!.value[1]) <= 1, 'available/total ratio within 0..1');
});
