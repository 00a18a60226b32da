/** Every host collector on this live machine: plausible, self-consistent values, and counters that never go down. */
import { cpus, hostname, release, uptime } from 'node:os';
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { HOST_COLLECTORS } from '../../exporters/index.js';
import type { MetricFamily } from '../../exporters/metric-family.js';
import { harness, samples, value } from './helpers.js';

const key = (name: string, labels: Record<string, string>): string => `${name}${JSON.stringify(Object.entries(labels).sort())}`;

t.test('live host', async (t) => {
  const h = harness(HOST_COLLECTORS);
  t.teardown(() => h.stop());
  const first = await h.collect();
  await new Promise((r) => setTimeout(r, 300));
  const second = await h.collect();

  t.test('every collector succeeds', async (t) => {
    for (const c of HOST_COLLECTORS) t.equal(value(second, 'larder_collector_success', { collector: c.name }), 1, c.name);
  });

  t.test('cpu: one cpu label per core, eight modes each', async (t) => {
    const byCpu = new Map<string, number>();
    for (const s of samples(second, 'node_cpu_seconds_total')) byCpu.set(s.labels['cpu']!, (byCpu.get(s.labels['cpu']!) ?? 0) + 1);
    t.equal(byCpu.size, cpus().length);
    for (const [cpu, n] of byCpu) t.equal(n, 8, `cpu ${cpu}`);
    const idle = samples(second, 'node_cpu_seconds_total', { mode: 'idle' }).reduce((a, s) => a + s.value, 0);
    t.ok(idle > 0 && idle < uptime() * cpus().length + 5, `idle ${idle}s fits in the uptime`);
  });

  t.test('counters never go down between two collections', async (t) => {
    const before = new Map<string, number>();
    const counters = (fams: Map<string, MetricFamily>): MetricFamily[] => [...fams.values()].filter((f) => f.type === 'counter');
    for (const f of counters(first)) for (const s of f.samples) before.set(key(s.name, s.labels), s.value);
    let checked = 0;
    for (const f of counters(second)) {
      for (const s of f.samples) {
        const prev = before.get(key(s.name, s.labels));
        if (prev === undefined) continue;
        checked++;
        if (s.value < prev) t.fail(`${s.name}${JSON.stringify(s.labels)} went down: ${prev} → ${s.value}`);
      }
    }
    t.ok(checked > 50, `${checked} counter samples compared`);
  });

  t.test('memory: available, free ≤ total; swap free ≤ swap total', async (t) => {
    const total = value(second, 'node_memory_MemTotal_bytes')!;
    t.ok(total > 64 * 1024 * 1024);
    t.ok(value(second, 'node_memory_MemAvailable_bytes')! <= total);
    t.ok(value(second, 'node_memory_MemFree_bytes')! <= total);
    t.ok(value(second, 'node_memory_Buffers_bytes')! >= 0 && value(second, 'node_memory_Cached_bytes')! <= total);
    t.ok(value(second, 'node_memory_SwapFree_bytes')! <= value(second, 'node_memory_SwapTotal_bytes')!);
    const ratio = value(second, 'larder_memory_usage_ratio')!;
    t.ok(ratio > 0 && ratio < 1, `memory ratio ${ratio}`);
    // the two collectors read /proc/meminfo at slightly different moments
    const expected = 1 - value(second, 'node_memory_MemAvailable_bytes')! / total;
    t.ok(Math.abs(ratio - expected) < 0.02, `usage ratio ${ratio} ≈ 1 - MemAvailable/MemTotal ${expected}`);
  });

  t.test('filesystem: / is reported, avail ≤ free ≤ size, no device errors', async (t) => {
    const sizes = samples(second, 'node_filesystem_size_bytes');
    t.ok(sizes.some((s) => s.labels['mountpoint'] === '/'), 'the root filesystem');
    for (const s of sizes) {
      const free = value(second, 'node_filesystem_free_bytes', s.labels)!;
      const avail = value(second, 'node_filesystem_avail_bytes', s.labels)!;
      t.ok(avail <= free && free <= s.value, `${s.labels['mountpoint']}: ${avail} ≤ ${free} ≤ ${s.value}`);
      t.ok(value(second, 'node_filesystem_files_free', s.labels)! <= value(second, 'node_filesystem_files', s.labels)!);
      const ratio = value(second, 'larder_filesystem_usage_ratio', s.labels)!;
      t.ok(ratio >= 0 && ratio <= 1, `${s.labels['mountpoint']} usage ${ratio}`);
    }
    for (const s of samples(second, 'node_filesystem_device_error')) t.equal(s.value, 0, s.labels['mountpoint']);
  });

  t.test('network: every device of /proc/net/dev, pseudo filesystems left out', async (t) => {
    const text = await readFile('/proc/net/dev', 'utf8');
    const devices = text.split('\n').slice(2).filter((l) => l.includes(':')).map((l) => l.split(':')[0]!.trim());
    t.same(samples(second, 'node_network_receive_bytes_total').map((s) => s.labels['device']).sort(), devices.sort());
    t.notOk(samples(second, 'node_filesystem_size_bytes').some((s) => ['proc', 'sysfs', 'cgroup', 'devpts'].includes(s.labels['fstype']!)));
  });

  t.test('stat, time, uname, load', async (t) => {
    const now = Date.now() / 1000;
    const boot = value(second, 'node_boot_time_seconds')!;
    t.ok(Math.abs(boot - (now - uptime())) < 5, `boot time ${boot} ≈ now - uptime`);
    t.ok(Math.abs(value(second, 'node_time_seconds')! - now) < 5);
    t.ok(value(second, 'node_procs_running')! >= 1, 'at least this process runs');
    t.ok(value(second, 'node_context_switches_total')! > 0 && value(second, 'node_forks_total')! > 0);
    const uname = samples(second, 'node_uname_info')[0]!.labels;
    t.equal(uname['nodename'], hostname());
    t.equal(uname['release'], release());
    t.equal(uname['sysname'], 'Linux');
    for (const n of ['node_load1', 'node_load5', 'node_load15']) t.ok(value(second, n)! >= 0, n);
  });

  t.test('processes and usage', async (t) => {
    const pids = value(second, 'node_processes_pids')!;
    const count = value(second, 'larder_processes')!;
    t.ok(pids > 1 && Math.abs(pids - count) < 50, `pids ${pids} ≈ larder_processes ${count}`);
    t.ok(value(second, 'node_processes_threads')! >= pids);
    t.equal(samples(second, 'node_processes_state').reduce((a, s) => a + s.value, 0), pids);
    const cpu = value(second, 'larder_cpu_usage_ratio');
    t.ok(cpu !== undefined && cpu >= 0 && cpu <= 1, `cpu usage ${cpu}`);
  });

  t.test('cgroup: this process is in a memory cgroup here', async (t) => {
    const own = await readFile('/proc/self/cgroup', 'utf8');
    if (!/memory|^0::/m.test(own)) return t.pass('no cgroup on this machine', { skip: true });
    const info = samples(second, 'larder_cgroup_info');
    t.equal(info.length, 1);
    t.ok(value(second, 'larder_cgroup_memory_usage_bytes')! > 0);
    const limit = value(second, 'larder_cgroup_memory_limit_bytes');
    if (limit !== undefined) t.ok(limit > 0);
  });
});
