/**
 * Larder's host collectors side by side with Debian's real prometheus-node-exporter on
 * this machine: the same values where both read the same thing, and the same metric
 * names and label names for every node_* metric both expose.
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { HOST_COLLECTORS } from '../../exporters/index.js';
import type { MetricFamily } from '../../exporters/metric-family.js';
import { parseExposition } from '../../exporters/text-parser.js';
import { need, promtoolCheckMetrics } from '../helpers/peers.js';
import { collectSnapshot } from '../../src/exposition/snapshot.js';
import { toPrometheusText } from '../../src/exposition/format.js';
import { freePort } from '../helpers/prometheus.js';
import { harness, samples, value } from './helpers.js';

/** Starts node_exporter on a free loopback port; returns its scrape and a stop. */
async function startNodeExporter(args: string[]): Promise<{ scrape(): Promise<Map<string, MetricFamily>>; text(): Promise<string>; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`, '--log.level=error', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}/metrics`;
  const text = async (): Promise<string> => (await fetch(url)).text();
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node_exporter exited: ${stderr}`);
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`node_exporter did not answer: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async scrape() {
      return new Map(parseExposition(await text(), 'text').map((f) => [f.name, f]));
    },
    text,
    stop,
  };
}

/** Larder's node_* metrics that node_exporter may not expose here, and why. */
const LARDER_ONLY: Record<string, string> = {
  node_cpu_guest_seconds_total: 'node_exporter leaves it out on kernels without guest columns',
  // the Node Exporter Full dashboard uses these; node_exporter 1.6+ has them, Debian's 1.5 not yet
  node_softnet_received_rps_total: 'node_exporter 1.6+',
  node_softnet_flow_limit_count_total: 'node_exporter 1.6+',
  node_netstat_TcpExt_TCPOFOQueue: 'node_exporter 1.6+ default netstat fields',
  node_netstat_TcpExt_TCPRcvQDrop: 'node_exporter 1.6+ default netstat fields',
  node_pressure_irq_stalled_seconds_total: 'node_exporter 1.6+, kernels with IRQ pressure',
};

t.test('side by side with prometheus-node-exporter', async (t) => {
  if (!(await need(t, 'node-exporter'))) return;
  // processes is off by default in node_exporter; switch it on to compare ours
  const ne = await startNodeExporter(['--collector.processes']);
  t.teardown(() => ne.stop());
  const h = harness(HOST_COLLECTORS);
  t.teardown(() => h.stop());
  const [theirs, ours] = await Promise.all([ne.scrape(), h.collect()]);

  t.test('memory total is identical', async (t) => {
    t.equal(value(ours, 'node_memory_MemTotal_bytes'), value(theirs, 'node_memory_MemTotal_bytes'));
    t.equal(value(ours, 'node_memory_SwapTotal_bytes'), value(theirs, 'node_memory_SwapTotal_bytes'));
    const avail = [value(ours, 'node_memory_MemAvailable_bytes')!, value(theirs, 'node_memory_MemAvailable_bytes')!];
    t.ok(Math.abs(avail[0]! - avail[1]!) / avail[1]! < 0.05, `MemAvailable within 5%: ${avail.join(' vs ')}`);
  });

  t.test('filesystems: the same mounts, the same size of /', async (t) => {
    const mounts = (f: Map<string, MetricFamily>): string[] => samples(f, 'node_filesystem_size_bytes').map((s) => `${s.labels['device']} ${s.labels['fstype']} ${s.labels['mountpoint']}`).sort();
    t.same(mounts(ours), mounts(theirs), 'same default mount selection');
    t.equal(value(ours, 'node_filesystem_size_bytes', { mountpoint: '/' }), value(theirs, 'node_filesystem_size_bytes', { mountpoint: '/' }));
    t.equal(value(ours, 'node_filesystem_files', { mountpoint: '/' }), value(theirs, 'node_filesystem_files', { mountpoint: '/' }));
    const avail = [value(ours, 'node_filesystem_avail_bytes', { mountpoint: '/' })!, value(theirs, 'node_filesystem_avail_bytes', { mountpoint: '/' })!];
    t.ok(Math.abs(avail[0]! - avail[1]!) < 1e9, `avail of / within 1 GB: ${avail.join(' vs ')}`);
  });

  t.test('the same CPUs, boot time and uname', async (t) => {
    const cpus = (f: Map<string, MetricFamily>): string[] => [...new Set(samples(f, 'node_cpu_seconds_total').map((s) => s.labels['cpu']!))].sort();
    t.same(cpus(ours), cpus(theirs));
    t.ok(Math.abs(value(ours, 'node_boot_time_seconds')! - value(theirs, 'node_boot_time_seconds')!) <= 1, 'boot time within 1 s');
    t.same(samples(ours, 'node_uname_info')[0]?.labels, samples(theirs, 'node_uname_info')[0]?.labels);
    for (const s of samples(theirs, 'node_cpu_seconds_total')) {
      const mine = value(ours, 'node_cpu_seconds_total', s.labels);
      t.ok(mine !== undefined && Math.abs(mine - s.value) < 5, `cpu ${s.labels['cpu']} ${s.labels['mode']}: ${mine} vs ${s.value}`);
    }
  });

  t.test('disk and network counters agree for the devices both report', async (t) => {
    for (const name of ['node_disk_reads_completed_total', 'node_disk_read_bytes_total', 'node_network_receive_packets_total']) {
      for (const s of samples(theirs, name)) {
        const mine = value(ours, name, s.labels);
        if (mine === undefined) continue; // a device our default patterns leave out
        t.ok(Math.abs(mine - s.value) <= Math.max(1000, s.value * 0.01), `${name}${JSON.stringify(s.labels)}: ${mine} vs ${s.value}`);
      }
    }
  });

  t.test('kernel tables and interface properties agree', async (t) => {
    for (const name of ['node_filefd_maximum', 'node_entropy_pool_size_bits', 'node_nf_conntrack_entries_limit', 'node_processes_max_processes', 'node_netstat_Ip_Forwarding']) {
      t.equal(value(ours, name), value(theirs, name), name);
    }
    for (const name of ['node_network_mtu_bytes', 'node_network_up', 'node_network_carrier', 'node_network_speed_bytes', 'node_network_transmit_queue_length', 'node_network_info']) {
      const bySeries = (f: Map<string, MetricFamily>): string[] => samples(f, name).map((s) => `${JSON.stringify(Object.entries(s.labels).sort())} ${s.value}`).sort();
      t.same(bySeries(ours), bySeries(theirs), name);
    }
    for (const s of samples(theirs, 'node_softnet_processed_total')) {
      const mine = value(ours, 'node_softnet_processed_total', s.labels);
      t.ok(mine !== undefined && Math.abs(mine - s.value) <= Math.max(1000, s.value * 0.05), `softnet cpu ${s.labels['cpu']}: ${mine} vs ${s.value}`);
    }
  });

  t.test('every node_* metric both expose has the same type and label names', async (t) => {
    let compared = 0;
    for (const [name, f] of ours) {
      if (!name.startsWith('node_') || f.samples.length === 0) continue;
      const other = theirs.get(name);
      if (!other) {
        if (!(name in LARDER_ONLY)) t.fail(`${name} is not exposed by node_exporter`);
        continue;
      }
      compared++;
      t.equal(f.type, other.type, `${name} type`);
      const labelNames = (fam: MetricFamily): string[] => [...new Set(fam.samples.flatMap((s) => Object.keys(s.labels)))].sort();
      const theirsLabels = labelNames(other).filter((l) => !(name === 'node_disk_info' && ['path', 'wwn', 'model', 'serial', 'revision'].includes(l)));
      if (f.samples.length && other.samples.length) t.same(labelNames(f), theirsLabels, `${name} labels`);
    }
    t.ok(compared > 80, `${compared} metrics compared`);
  });

  t.test('promtool: every finding on the host metrics is one node_exporter itself gets (the names are kept for compatibility)', async (t) => {
    if (!(await need(t, 'prometheus'))) return;
    const mine = promtoolCheckMetrics(toPrometheusText((await collectSnapshot(h.registry)).families));
    const theirsLint = new Set(promtoolCheckMetrics(await ne.text()).output.split('\n'));
    const extra = mine.output
      .split('\n')
      .filter((l) => l !== '' && !theirsLint.has(l))
      .filter((l) => !Object.keys(LARDER_ONLY).some((name) => l.startsWith(`${name} `)));
    t.same(extra, [], 'no finding of our own making');
    t.notMatch(mine.output, /^larder_/m, "Larder's own metrics are clean");
  });

  t.test('the dashboard panels: node_exporter metrics the issue names are all there', async (t) => {
    const required = [
      'node_cpu_seconds_total', 'node_load1', 'node_load5', 'node_load15', 'node_memory_MemTotal_bytes', 'node_memory_MemAvailable_bytes',
      'node_memory_MemFree_bytes', 'node_memory_Buffers_bytes', 'node_memory_Cached_bytes', 'node_memory_SwapTotal_bytes', 'node_memory_SwapFree_bytes',
      'node_filesystem_size_bytes', 'node_filesystem_avail_bytes', 'node_filesystem_free_bytes', 'node_filesystem_files', 'node_filesystem_files_free',
      'node_filesystem_readonly', 'node_disk_read_bytes_total', 'node_disk_written_bytes_total', 'node_disk_reads_completed_total',
      'node_disk_writes_completed_total', 'node_disk_io_time_seconds_total', 'node_network_receive_bytes_total', 'node_network_transmit_bytes_total',
      'node_network_receive_packets_total', 'node_network_transmit_packets_total', 'node_network_receive_errs_total', 'node_network_transmit_errs_total',
      'node_boot_time_seconds', 'node_time_seconds', 'node_procs_running', 'node_procs_blocked', 'node_context_switches_total', 'node_forks_total',
      'node_intr_total', 'node_uname_info',
    ];
    for (const name of required) t.ok(ours.get(name)?.samples.length, name);
  });
});
