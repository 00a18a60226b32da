/**
 * The exposition of a real `larder serve` passes promtool, and a real Prometheus
 * scraping it sees `up` 1 and a CPU rate per core.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { need, promtoolCheckMetrics } from '../helpers/peers.js';
import { freePort, startPrometheus } from '../helpers/prometheus.js';
import { startLarderProcess } from '../helpers/larder-process.js';

/** promtool's findings, one `metric message` line each. */
function lintFindings(exposition: string): { status: number; findings: string[] } {
  const r = promtoolCheckMetrics(exposition);
  return { status: r.status, findings: r.output.split('\n').filter((l) => l.trim() !== '') };
}

t.test('promtool check metrics: no problem beyond the names we keep on purpose', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  if (!(await need(t, 'node-exporter'))) return;
  const larder = await startLarderProcess(await freePort());
  t.teardown(() => larder.stop());
  const text = await (await fetch(`${larder.url}/metrics`)).text();
  t.match(text, /^node_cpu_seconds_total\{/m, 'host metrics are there');
  const ours = lintFindings(text);
  // promtool exits 3 for lint findings and 1 for a malformed exposition.
  t.not(ours.status, 1, 'the exposition parses');

  // node_exporter's own names (node_memory_MemTotal_bytes, node_netstat_Tcp_InSegs,
  // node_entropy_available_bits) break promtool's style lints; we keep them so that
  // existing dashboards and alerts work. So: every finding must be one the real
  // node_exporter gets for the same metric, or one of prom-client's default metrics.
  const nePort = await freePort();
  const ne = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`], { stdio: 'ignore' });
  t.teardown(() => ne.kill());
  let neText = '';
  for (let i = 0; i < 50 && neText === ''; i++) {
    neText = await fetch(`http://127.0.0.1:${nePort}/metrics`).then((r) => r.text(), () => '');
    if (neText === '') await new Promise((r) => setTimeout(r, 100));
  }
  const neMessages = new Set(lintFindings(neText).findings.map((l) => l.slice(l.indexOf(' ') + 1)));
  const neNames = new Set(lintFindings(neText).findings.map((l) => l.split(' ')[0]));
  // node_exporter has the same camelCase lint for every /proc-named metric it can read; a
  // metric it does not emit on this host (e.g. node_memory_SecPageTables_bytes on an older
  // kernel) is judged by the same message.
  const unexplained = ours.findings.filter((line) => {
    const [name] = line.split(' ');
    const message = line.slice(line.indexOf(' ') + 1);
    if (neNames.has(name)) return false;
    if (/^nodejs_active_(handles|requests|resources)_total$/.test(name!)) return false; // prom-client's names
    return !(name!.startsWith('node_') && neMessages.has(message));
  });
  t.same(unexplained, [], 'no lint finding node_exporter itself does not have');

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
  for (const r of rate) t.ok(Number(r.value[1]) >= 0 && Number(r.value[1]) <= 1.5, `cpu ${r.metric['cpu']} all-modes rate ${r.value[1]} within 0..1.5 s/s`);
  const mem = await prom.query('node_memory_MemAvailable_bytes{job="larder"} / node_memory_MemTotal_bytes{job="larder"}');
  t.equal(mem.length, 1);
  t.ok(Number(mem[0]!.value[1]) > 0 && Number(mem[0]!.value[1]) <= 1, 'available/total ratio within 0..1');
});
