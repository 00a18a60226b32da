/** Every host collector on fixture /proc and /sys trees, with exact expected values. */
import { statfs } from 'node:fs/promises';
import t from 'tap';
import { cgroupCollector } from '../../exporters/cgroup.js';
import { cpuCollector } from '../../exporters/cpu.js';
import { diskstatsCollector } from '../../exporters/diskstats.js';
import { filesystemCollector } from '../../exporters/filesystem.js';
import { loadavgCollector } from '../../exporters/loadavg.js';
import { meminfoCollector } from '../../exporters/meminfo.js';
import { netdevCollector } from '../../exporters/netdev.js';
import { processesCollector } from '../../exporters/processes.js';
import { statCollector } from '../../exporters/stat.js';
import { timeCollector } from '../../exporters/time.js';
import { unameCollector } from '../../exporters/uname.js';
import { usageCollector } from '../../exporters/usage.js';
import { conntrackCollector } from '../../exporters/conntrack.js';
import { entropyCollector } from '../../exporters/entropy.js';
import { filefdCollector } from '../../exporters/filefd.js';
import { netclassCollector } from '../../exporters/netclass.js';
import { netstatCollector } from '../../exporters/netstat.js';
import { pressureCollector } from '../../exporters/pressure.js';
import { sockstatCollector } from '../../exporters/sockstat.js';
import { softnetCollector } from '../../exporters/softnet.js';
import { vmstatCollector } from '../../exporters/vmstat.js';
import { fixture, harness, samples, value } from './helpers.js';

const procfs = fixture('proc-basic');

t.test('cpu: USER_HZ ticks to seconds, one series per cpu and mode', async (t) => {
  const h = harness([cpuCollector], { procfs });
  const f = await h.collect();
  t.equal(samples(f, 'node_cpu_seconds_total').length, 16);
  t.equal(value(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'user' }), 6);
  t.equal(value(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'idle' }), 20);
  t.equal(value(f, 'node_cpu_seconds_total', { cpu: '1', mode: 'idle' }), 30);
  t.equal(value(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'steal' }), 0.07);
  t.equal(value(f, 'node_cpu_guest_seconds_total', { cpu: '0', mode: 'user' }), 0.03);
  t.equal(value(f, 'node_cpu_guest_seconds_total', { cpu: '0', mode: 'nice' }), 0.01);
  t.equal(f.get('node_cpu_seconds_total')?.type, 'counter');
  h.stop();
});

t.test('stat, loadavg, uname, time', async (t) => {
  const h = harness([statCollector, loadavgCollector, unameCollector, timeCollector], { procfs }, () => 1_700_000_123_456);
  const f = await h.collect();
  t.equal(value(f, 'node_boot_time_seconds'), 1_700_000_000);
  t.equal(value(f, 'node_context_switches_total'), 987654);
  t.equal(value(f, 'node_forks_total'), 4321);
  t.equal(value(f, 'node_intr_total'), 123456);
  t.equal(value(f, 'node_procs_running'), 3);
  t.equal(value(f, 'node_procs_blocked'), 1);
  t.same([value(f, 'node_load1'), value(f, 'node_load5'), value(f, 'node_load15')], [0.5, 1.25, 2]);
  t.same(samples(f, 'node_uname_info')[0]?.labels, {
    sysname: 'Linux',
    release: '6.1.0-test',
    version: '#1 SMP Test',
    machine: 'aarch64',
    nodename: 'fixture-host',
    domainname: '(none)',
  });
  t.equal(value(f, 'node_time_seconds'), 1_700_000_123.456);
  t.equal(samples(f, 'node_time_zone_offset_seconds').length, 1);
  h.stop();
});

t.test('meminfo: every field, kB to bytes, (x) to _x, unit-less kept', async (t) => {
  const h = harness([meminfoCollector], { procfs });
  const f = await h.collect();
  t.equal(value(f, 'node_memory_MemTotal_bytes'), 2_048_000 * 1024);
  t.equal(value(f, 'node_memory_MemAvailable_bytes'), 1_024_000 * 1024);
  t.equal(value(f, 'node_memory_SwapFree_bytes'), 50_000 * 1024);
  t.equal(value(f, 'node_memory_Active_anon_bytes'), 27_316 * 1024);
  t.equal(value(f, 'node_memory_HugePages_Total'), 4);
  t.equal(value(f, 'node_memory_Hugepagesize_bytes'), 2048 * 1024);
  t.equal([...f.keys()].filter((n) => n.startsWith('node_memory_')).length, 10);
  // the dynamic families belong to the collector, for collect[]
  t.ok(h.set.metricsOf(['meminfo']).has('node_memory_MemTotal_bytes'));
  h.stop();
});

t.test('diskstats: default excludes partitions and loop devices; sectors are 512 bytes', async (t) => {
  const h = harness([diskstatsCollector], { procfs });
  const f = await h.collect();
  t.same(samples(f, 'node_disk_reads_completed_total').map((s) => s.labels['device']), ['vda', 'sda']);
  t.equal(value(f, 'node_disk_read_bytes_total', { device: 'vda' }), 2000 * 512);
  t.equal(value(f, 'node_disk_written_bytes_total', { device: 'vda' }), 4000 * 512);
  t.equal(value(f, 'node_disk_writes_completed_total', { device: 'vda' }), 200);
  t.equal(value(f, 'node_disk_read_time_seconds_total', { device: 'vda' }), 0.5);
  t.equal(value(f, 'node_disk_io_time_seconds_total', { device: 'vda' }), 1.2);
  t.equal(value(f, 'node_disk_io_time_weighted_seconds_total', { device: 'vda' }), 2.1);
  t.equal(value(f, 'node_disk_io_now', { device: 'vda' }), 2);
  t.equal(value(f, 'node_disk_discarded_sectors_total', { device: 'vda' }), 50);
  t.equal(value(f, 'node_disk_flush_requests_total', { device: 'vda' }), 7);
  t.equal(value(f, 'node_disk_flush_requests_time_seconds_total', { device: 'vda' }), 0.08);
  t.same(samples(f, 'node_disk_info')[0]?.labels, { device: 'vda', major: '254', minor: '0' });
  h.stop();

  // an include pattern, and the 11-column format of old kernels (no discard/flush)
  const h2 = harness([diskstatsCollector], { procfs, diskDeviceExclude: undefined, diskDeviceInclude: /^(sda|vda1)$/ });
  const f2 = await h2.collect();
  t.same(samples(f2, 'node_disk_reads_completed_total').map((s) => s.labels['device']), ['vda1', 'sda']);
  t.same(samples(f2, 'node_disk_discards_completed_total').map((s) => s.labels['device']), ['vda1']);
  h2.stop();
});

t.test('netdev: every column, include/exclude', async (t) => {
  const h = harness([netdevCollector], { procfs });
  const f = await h.collect();
  t.equal(value(f, 'node_network_receive_bytes_total', { device: 'eth0' }), 5_000_000);
  t.equal(value(f, 'node_network_transmit_bytes_total', { device: 'eth0' }), 700_000);
  t.equal(value(f, 'node_network_receive_packets_total', { device: 'eth0' }), 4000);
  t.equal(value(f, 'node_network_transmit_packets_total', { device: 'eth0' }), 3000);
  t.equal(value(f, 'node_network_receive_errs_total', { device: 'eth0' }), 1);
  t.equal(value(f, 'node_network_transmit_errs_total', { device: 'eth0' }), 7);
  t.equal(value(f, 'node_network_transmit_colls_total', { device: 'eth0' }), 10);
  t.equal(value(f, 'node_network_transmit_compressed_total', { device: 'eth0' }), 12);
  t.equal(samples(f, 'node_network_receive_bytes_total').length, 2);
  h.stop();
  const h2 = harness([netdevCollector], { procfs, netdevDeviceExclude: /^lo$/ });
  t.same(samples(await h2.collect(), 'node_network_receive_bytes_total').map((s) => s.labels['device']), ['eth0']);
  h2.stop();
});

t.test('filesystem: pseudo filesystems excluded, duplicates folded, a failing mount flagged, the others served', async (t) => {
  const h = harness([filesystemCollector], { procfs });
  const f = await h.collect();
  const root = { device: '/dev/vda', fstype: 'ext4', mountpoint: '/' };
  const bad = { device: '/dev/vdb', fstype: 'xfs', mountpoint: '/nonexistent-larder mount' };
  t.same(samples(f, 'node_filesystem_device_error').map((s) => s.labels), [root, bad]);
  t.equal(value(f, 'node_filesystem_device_error', root), 0);
  t.equal(value(f, 'node_filesystem_device_error', bad), 1);
  t.equal(value(f, 'node_filesystem_readonly', bad), 1);
  t.equal(value(f, 'node_filesystem_readonly', root), 0);
  t.equal(value(f, 'node_filesystem_size_bytes', bad), undefined);
  const st = await statfs('/');
  t.equal(value(f, 'node_filesystem_size_bytes', root), st.blocks * st.bsize);
  t.equal(value(f, 'node_filesystem_files', root), st.files);
  const free = value(f, 'node_filesystem_free_bytes', root)!;
  const avail = value(f, 'node_filesystem_avail_bytes', root)!;
  t.ok(avail <= free && free <= value(f, 'node_filesystem_size_bytes', root)!);
  t.equal(h.log.warnings.length, 1, 'the failing mount is logged');
  await h.collect();
  t.equal(h.log.warnings.length, 1, '... once, not every interval');
  h.stop();

  const h2 = harness([filesystemCollector], { procfs, mountPointsInclude: /^\/$/ });
  t.same(samples(await h2.collect(), 'node_filesystem_size_bytes').map((s) => s.labels['mountpoint']), ['/']);
  h2.stop();
});

t.test('processes: pids, threads and states from /proc/<pid>/stat', async (t) => {
  const h = harness([processesCollector], { procfs });
  const f = await h.collect();
  t.equal(value(f, 'node_processes_pids'), 2);
  t.equal(value(f, 'node_processes_threads'), 8);
  t.same(samples(f, 'node_processes_state').map((s) => [s.labels['state'], s.value]), [['R', 1], ['S', 1]]);
  t.equal(value(f, 'node_processes_max_processes'), 4_194_304);
  t.equal(value(f, 'node_processes_max_threads'), 63_000);
  h.stop();
});

t.test('usage: memory 1 - available/total, processes counted, CPU from two readings of a still file', async (t) => {
  const h = harness([usageCollector], { procfs });
  const f = await h.collect();
  t.equal(value(f, 'larder_memory_usage_ratio'), 0.5);
  t.equal(value(f, 'larder_processes'), 2);
  // the fixture's counters do not move, so no CPU figure can be computed yet
  t.equal(value(f, 'larder_cpu_usage_ratio'), undefined);
  const ratio = value(f, 'larder_filesystem_usage_ratio', { mountpoint: '/' })!;
  t.ok(ratio >= 0 && ratio <= 1, `${ratio} in 0..1`);
  t.equal(samples(f, 'larder_filesystem_usage_ratio').length, 1, 'the failing mount has no ratio');
  h.stop();
});

t.test('cgroup v1: tightest limit of the chain, quota in cores, usage', async (t) => {
  const h = harness([cgroupCollector], { procfs: fixture('proc-cgroupv1'), sysfs: fixture('sys-cgroupv1') });
  const f = await h.collect();
  t.same(samples(f, 'larder_cgroup_info')[0]?.labels, { version: '1', path: '/docker/abc' });
  t.equal(value(f, 'larder_cgroup_memory_limit_bytes'), 536_870_912, 'the parent limit is tighter');
  t.equal(value(f, 'larder_cgroup_memory_usage_bytes'), 123_456_789);
  t.equal(value(f, 'larder_cgroup_cpu_quota_cores'), 0.5);
  t.equal(value(f, 'larder_cgroup_cpu_usage_seconds_total'), 2.5);
  h.stop();
});

t.test('cgroup v2: memory.max of an ancestor, cpu.max, cpu.stat', async (t) => {
  const h = harness([cgroupCollector], { procfs: fixture('proc-cgroupv2'), sysfs: fixture('sys-cgroupv2') });
  const f = await h.collect();
  t.same(samples(f, 'larder_cgroup_info')[0]?.labels, { version: '2', path: '/user.slice/app.scope' });
  t.equal(value(f, 'larder_cgroup_memory_limit_bytes'), 1_073_741_824);
  t.equal(value(f, 'larder_cgroup_memory_usage_bytes'), 33_554_432);
  t.equal(value(f, 'larder_cgroup_cpu_quota_cores'), 1.5);
  t.equal(value(f, 'larder_cgroup_cpu_usage_seconds_total'), 4.2);
  h.stop();
});

t.test('cgroup: nothing readable, nothing exposed, success still 1', async (t) => {
  const h = harness([cgroupCollector], { procfs, sysfs: fixture('sys-cgroupv2') });
  const f = await h.collect();
  t.equal(samples(f, 'larder_cgroup_info').length, 0);
  t.equal(samples(f, 'larder_cgroup_memory_limit_bytes').length, 0);
  t.equal(value(f, 'larder_collector_success', { collector: 'cgroup' }), 1);
  h.stop();
});

t.test('a missing procfs file fails the collector, which keeps its last values', async (t) => {
  const h = harness([loadavgCollector], { procfs: fixture('proc-cgroupv1') });
  const f = await h.collect();
  t.equal(value(f, 'larder_collector_success', { collector: 'loadavg' }), 0);
  t.equal(samples(f, 'node_load1').length, 0);
  h.stop();
});

t.test('vmstat: node_exporter default fields only, untyped', async (t) => {
  const h = harness([vmstatCollector], { procfs });
  const f = await h.collect();
  t.same([...f.keys()].filter((n) => n.startsWith('node_vmstat_')).sort(), [
    'node_vmstat_oom_kill', 'node_vmstat_pgfault', 'node_vmstat_pgmajfault', 'node_vmstat_pgpgin', 'node_vmstat_pgpgout', 'node_vmstat_pswpin', 'node_vmstat_pswpout',
  ]);
  t.equal(value(f, 'node_vmstat_pgfault'), 50_000);
  t.equal(f.get('node_vmstat_pgfault')?.type, 'untyped');
  h.stop();
});

t.test('netstat: netstat, snmp and snmp6 with the default field selection', async (t) => {
  const h = harness([netstatCollector], { procfs });
  const f = await h.collect();
  const want: Record<string, number> = {
    node_netstat_TcpExt_SyncookiesSent: 1, node_netstat_TcpExt_ListenDrops: 4, node_netstat_TcpExt_TCPRcvQDrop: 8, node_netstat_IpExt_InOctets: 123_456,
    node_netstat_Ip_Forwarding: 1, node_netstat_Tcp_CurrEstab: 8, node_netstat_Tcp_InErrs: 6, node_netstat_Tcp_RetransSegs: 5, node_netstat_Udp_InErrors: 13,
    node_netstat_Udp_SndbufErrors: 16, node_netstat_Ip6_InOctets: 5000, node_netstat_Icmp6_InMsgs: 7, node_netstat_Udp6_InDatagrams: 8,
  };
  for (const [name, v] of Object.entries(want)) t.equal(value(f, name), v, name);
  t.equal(f.get('node_netstat_TcpExt_DelayedACKs'), undefined, 'not a default field');
  t.equal(f.get('node_netstat_Ip_DefaultTTL'), undefined);
  h.stop();
});

t.test('sockstat, softnet, pressure, filefd, entropy, conntrack', async (t) => {
  const h = harness([sockstatCollector, softnetCollector, pressureCollector, filefdCollector, entropyCollector, conntrackCollector], { procfs });
  const f = await h.collect();
  t.equal(value(f, 'node_sockstat_sockets_used'), 43);
  t.equal(value(f, 'node_sockstat_TCP_tw'), 42);
  t.equal(value(f, 'node_sockstat_TCP_mem'), 3);
  t.equal(value(f, 'node_sockstat_TCP_mem_bytes'), 3 * 4096);
  t.equal(value(f, 'node_sockstat_UDP_mem_bytes'), 4096);
  t.equal(value(f, 'node_sockstat_TCP6_inuse'), 2);
  t.equal(value(f, 'node_softnet_processed_total', { cpu: '0' }), 0x40cc);
  t.equal(value(f, 'node_softnet_processed_total', { cpu: '1' }), 0xc33b);
  t.equal(value(f, 'node_softnet_dropped_total', { cpu: '0' }), 1);
  t.equal(value(f, 'node_softnet_times_squeezed_total', { cpu: '0' }), 2);
  t.equal(value(f, 'node_softnet_received_rps_total', { cpu: '0' }), 5);
  t.equal(value(f, 'node_softnet_flow_limit_count_total', { cpu: '0' }), 6);
  t.equal(value(f, 'node_pressure_cpu_waiting_seconds_total'), 11.984873);
  t.equal(value(f, 'node_pressure_io_waiting_seconds_total'), 2.5);
  t.equal(value(f, 'node_pressure_io_stalled_seconds_total'), 1.5);
  t.equal(value(f, 'node_pressure_memory_stalled_seconds_total'), 0.000005);
  t.equal(value(f, 'node_pressure_irq_stalled_seconds_total'), undefined, 'no irq file, no series');
  t.equal(value(f, 'node_filefd_allocated'), 1184);
  t.equal(value(f, 'node_filefd_maximum'), 9_223_372_036_854_775_807);
  t.equal(value(f, 'node_entropy_available_bits'), 256);
  t.equal(value(f, 'node_nf_conntrack_entries'), 7);
  t.equal(value(f, 'node_nf_conntrack_entries_limit'), 262_144);
  h.stop();
});

t.test('netclass: up, carrier, mtu, speed, queue length and info from a sysfs tree', async (t) => {
  const h = harness([netclassCollector], { sysfs: fixture('sys-basic') });
  const f = await h.collect();
  t.same(samples(f, 'node_network_up').map((s) => [s.labels['device'], s.value]), [['eth0', 1], ['lo', 0], ['wg0', 0]]);
  t.same(samples(f, 'node_network_carrier').map((s) => s.labels['device']), ['eth0', 'lo'], 'no carrier file, no series');
  t.equal(value(f, 'node_network_mtu_bytes', { device: 'wg0' }), 1420);
  t.equal(value(f, 'node_network_speed_bytes', { device: 'eth0' }), 125_000_000);
  t.equal(value(f, 'node_network_speed_bytes', { device: 'wg0' }), -125_000, 'unknown speed, as node_exporter shows it');
  t.equal(value(f, 'node_network_transmit_queue_length', { device: 'wg0' }), 500);
  t.same(samples(f, 'node_network_info', { device: 'eth0' })[0]?.labels, {
    address: '02:fc:00:00:00:01', broadcast: 'ff:ff:ff:ff:ff:ff', device: 'eth0', duplex: 'full', ifalias: 'uplink', operstate: 'up',
  });
  h.stop();
  const h2 = harness([netclassCollector], { sysfs: fixture('sys-basic'), netdevDeviceExclude: /^(lo|wg\d+)$/ });
  t.same(samples(await h2.collect(), 'node_network_up').map((s) => s.labels['device']), ['eth0']);
  h2.stop();
});

t.test('os: os-release under the rootfs, /usr/lib fallback', async (t) => {
  const { osCollector } = await import('../../exporters/os.js');
  const h = harness([osCollector], { rootfs: fixture('rootfs-basic') });
  const f = await h.collect();
  t.same(samples(f, 'node_os_info')[0]?.labels, {
    build_id: '', id: 'ubuntu', id_like: 'debian', image_id: '', image_version: '', name: 'Ubuntu', pretty_name: 'Ubuntu 22.04.4 LTS',
    variant: '', variant_id: '', version: '22.04.4 LTS (Jammy Jellyfish)', version_codename: 'jammy', version_id: '22.04',
  });
  t.same(samples(f, 'node_os_version')[0], { name: 'node_os_version', labels: { id: 'ubuntu', id_like: 'debian', name: 'Ubuntu' }, value: 22.04 });
  h.stop();
  const h2 = harness([osCollector], { rootfs: fixture('rootfs-usrlib') });
  const f2 = await h2.collect();
  t.equal(samples(f2, 'node_os_info')[0]?.labels['pretty_name'], 'Alpine "Linux" v3.19');
  t.equal(samples(f2, 'node_os_info')[0]?.labels['name'], 'Alpine Linux');
  t.equal(value(f2, 'node_os_version'), 3.19);
  h2.stop();
});

t.test('filesystem: sizes are read under the rootfs, labels keep the host mount point', async (t) => {
  const h = harness([filesystemCollector], { procfs, rootfs: fixture('rootfs-basic') });
  const f = await h.collect();
  const st = await statfs(fixture('rootfs-basic'));
  t.equal(value(f, 'node_filesystem_size_bytes', { mountpoint: '/' }), st.blocks * st.bsize);
  t.equal(value(f, 'node_filesystem_device_error', { mountpoint: '/nonexistent-larder mount' }), 1);
  h.stop();
});

t.test('node_time_seconds is read at scrape time, not at the last collection', async (t) => {
  const { collectSnapshot } = await import('../../src/exposition/snapshot.js');
  let clock = 1_700_000_000_000;
  const h = harness([timeCollector], {}, () => clock);
  await h.collect();
  clock += 14_000; // most of a collect interval later, no update in between
  const snap = await collectSnapshot(h.registry);
  t.equal(snap.families.find((f) => f.name === 'node_time_seconds')?.samples[0]?.value, 1_700_000_014);
  h.stop();
});
