/** Table tests of the pure /proc parsers, on strings. */
import t from 'tap';
import {
  cgroupDirs,
  parseCgroupMounts,
  parseCpuMaxV2,
  parseCpuQuotaV1,
  parseCpuStatUsageV2,
  parseMemoryLimit,
  parseProcCgroup,
} from '../../../exporters/procfs/cgroup.js';
import { parseDiskstats } from '../../../exporters/procfs/diskstats.js';
import { parseLoadavg } from '../../../exporters/procfs/loadavg.js';
import { memoryUsageRatio, parseMeminfo } from '../../../exporters/procfs/meminfo.js';
import { parseMounts, selectMounts, unescapeMountField } from '../../../exporters/procfs/mounts.js';
import { parseNetDev } from '../../../exporters/procfs/netdev.js';
import { parsePidStat } from '../../../exporters/procfs/pid-stat.js';
import { busyRatio, parseStat } from '../../../exporters/procfs/stat.js';

t.test('parseStat', async (t) => {
  const s = parseStat('cpu  100 0 50 800 50 0 0 0\ncpu0 100 0 50 800 50 0 0 0 10 5\nintr 7 1 2\nctxt 8\nbtime 9\nprocesses 10\nprocs_running 2\nprocs_blocked 0\n');
  t.equal(s.cpus.length, 1);
  t.equal(s.total.cpu, '');
  t.same(s.cpus[0]!.seconds, { user: 1, nice: 0, system: 0.5, idle: 8, iowait: 0.5, irq: 0, softirq: 0, steal: 0 });
  t.equal(s.cpus[0]!.guest, 0.1);
  t.equal(s.cpus[0]!.guestNice, 0.05);
  t.same([s.intr, s.ctxt, s.btime, s.processes, s.procsRunning, s.procsBlocked], [7, 8, 9, 10, 2, 0]);
  // old kernels: 4 CPU columns only
  const old = parseStat('cpu 1 2 3 4\ncpu0 1 2 3 4\nctxt 1\nbtime 2\nprocesses 3\n');
  t.equal(old.cpus[0]!.seconds.steal, 0);
  t.equal(old.cpus[0]!.seconds.idle, 0.04);
  t.throws(() => parseStat('ctxt 1\n'), /no aggregate cpu line/);
  t.throws(() => parseStat('cpu 1 2 3 4\nctxt x\nbtime 1\nprocesses 1\n'), /\/proc\/stat ctxt: expected a number, got "x"/);
  t.throws(() => parseStat('cpu 1 2 3 4\nctxt 1\nprocesses 1\n'), /no btime line/);
});

t.test('busyRatio', async (t) => {
  const at = (user: number, idle: number, iowait: number) => parseStat(`cpu ${user} 0 0 ${idle} ${iowait} 0 0 0\nctxt 1\nbtime 1\nprocesses 1\n`).total;
  t.equal(busyRatio(at(0, 0, 0), at(25, 50, 25)), 0.25);
  t.equal(busyRatio(at(0, 0, 0), at(100, 0, 0)), 1);
  t.ok(Number.isNaN(busyRatio(at(5, 5, 5), at(5, 5, 5))), 'no time passed');
  t.equal(busyRatio(at(0, 100, 0), at(10, 95, 0)), 1, 'idle stepping back is clamped to 0..1');
});

t.test('parseMeminfo and memoryUsageRatio', async (t) => {
  const f = parseMeminfo('MemTotal:  1000 kB\nMemFree:  100 kB\nMemAvailable: 250 kB\nActive(file): 3 kB\nHugePages_Total:  2\nbogus line\n');
  t.same(f, [
    { name: 'MemTotal_bytes', value: 1_024_000 },
    { name: 'MemFree_bytes', value: 102_400 },
    { name: 'MemAvailable_bytes', value: 256_000 },
    { name: 'Active_file_bytes', value: 3072 },
    { name: 'HugePages_Total', value: 2 },
  ]);
  t.equal(memoryUsageRatio(f), 0.75);
  // before Linux 3.14: free + buffers + cached
  t.equal(memoryUsageRatio(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 350 kB\n')), 0.5);
  t.ok(Number.isNaN(memoryUsageRatio([])));
});

t.test('parseLoadavg', async (t) => {
  t.same(parseLoadavg('0.33 0.35 0.22 1/136 7955\n'), { load1: 0.33, load5: 0.35, load15: 0.22 });
  t.throws(() => parseLoadavg(''), /loadavg: expected a number/);
});

t.test('parseMounts, unescape, selectMounts', async (t) => {
  t.equal(unescapeMountField('/a\\040b\\011c\\134d'), '/a b\tc\\d');
  const m = parseMounts('/dev/a / ext4 rw 0 0\n/dev/b /mnt/my\\040disk vfat ro,noatime 0 0\nshort line\n/dev/c / xfs rw 0 0\nproc /proc proc rw 0 0\n');
  t.same(m[1], { device: '/dev/b', mountPoint: '/mnt/my disk', fsType: 'vfat', options: ['ro', 'noatime'] });
  t.equal(m.length, 4);
  const sel = selectMounts(m, { fsTypesExclude: /^proc$/ });
  t.same(sel.map((x) => [x.mountPoint, x.device]), [['/mnt/my disk', '/dev/b'], ['/', '/dev/c']], 'the last mount over / wins');
  t.same(selectMounts(m, { mountPointsExclude: /^\/mnt/ }).map((x) => x.mountPoint), ['/', '/proc']);
  t.same(selectMounts(m, { mountPointsInclude: /^\/mnt/ }).map((x) => x.mountPoint), ['/mnt/my disk']);
});

t.test('parseDiskstats: 14, 18 and 20 column formats', async (t) => {
  const d = parseDiskstats(
    '8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n8 2 sdc 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\nshort\n',
  );
  t.equal(d.length, 3);
  t.same([d[0]!.readsCompleted, d[0]!.sectorsWritten, d[0]!.ioTimeWeightedMs], [1, 7, 11]);
  t.equal(d[0]!.discards, undefined);
  t.same(d[1]!.discards, { completed: 12, merged: 13, sectors: 14, timeMs: 15 });
  t.equal(d[1]!.flush, undefined);
  t.same(d[2]!.flush, { completed: 16, timeMs: 17 });
  t.throws(() => parseDiskstats('8 0 sda 1 2 x 4 5 6 7 8 9 10 11\n'), /diskstats sda: expected a number, got "x"/);
});

t.test('parseNetDev: columns from the header', async (t) => {
  const text =
    'Inter-|   Receive                            |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
    '  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n' +
    'veth1234567:1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0\n';
  const d = parseNetDev(text);
  t.same(d.map((x) => x.device), ['eth0', 'veth1234567']);
  t.equal(d[0]!.counters['receive_bytes'], 1);
  t.equal(d[0]!.counters['receive_multicast'], 8);
  t.equal(d[0]!.counters['transmit_bytes'], 9);
  t.equal(d[0]!.counters['transmit_compressed'], 16);
  t.equal(d[1]!.counters['transmit_bytes'], 2, 'no space after the colon');
  t.throws(() => parseNetDev('nonsense'), /missing header/);
  t.throws(() => parseNetDev(text.split('\n').slice(0, 2).join('\n') + '\n eth0: 1 2 3\n'), /eth0: expected 16 columns, got 3/);
});

t.test('parsePidStat: command names with spaces and parentheses', async (t) => {
  const rest = 'S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 5 0 100 0 0';
  t.same(parsePidStat(`123 (a (weird) name) ${rest}`), { state: 'S', numThreads: 5 });
  t.same(parsePidStat(`7 (kworker/0:1) ${rest.replace(/^S/, 'I')}`), { state: 'I', numThreads: 5 });
  t.throws(() => parsePidStat('garbage'), /no command name/);
  t.throws(() => parsePidStat('1 (x) S 1'), /malformed/);
});

t.test('cgroup parsers', async (t) => {
  const memberships = parseProcCgroup('4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/system.slice/x.service\n');
  t.same(memberships[1], { hierarchy: '3', controllers: ['cpu', 'cpuacct'], path: '/docker/abc' });
  t.same(memberships[2], { hierarchy: '0', controllers: [], path: '/system.slice/x.service' });
  const mounts = parseCgroupMounts(
    '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory\n' +
      '31 30 0:28 /docker /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n' +
      '29 22 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n' +
      '22 1 0:21 / /proc rw - proc proc rw\n',
  );
  t.same(mounts.map((m) => [m.version, m.mountPoint, m.controllers]), [
    [1, '/sys/fs/cgroup/memory', ['memory']],
    [1, '/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct']],
    [2, '/sys/fs/cgroup/unified', []],
  ]);
  t.same(cgroupDirs(memberships, mounts, 'memory'), ['/sys/fs/cgroup/memory/docker/abc', '/sys/fs/cgroup/memory']);
  t.same(cgroupDirs(memberships, mounts, 'cpu'), ['/sys/fs/cgroup/cpu,cpuacct/abc', '/sys/fs/cgroup/cpu,cpuacct'], 'mount root stripped');
  t.same(cgroupDirs(memberships, mounts, undefined), ['/sys/fs/cgroup/unified/system.slice/x.service', '/sys/fs/cgroup/unified']);
  t.same(cgroupDirs(memberships, mounts, 'blkio'), []);

  t.equal(parseMemoryLimit('max\n'), undefined);
  t.equal(parseMemoryLimit('9223372036854771712\n'), undefined, 'v1 "unlimited"');
  t.equal(parseMemoryLimit('536870912\n'), 536_870_912);
  t.throws(() => parseMemoryLimit('lots'), /unexpected "lots"/);
  t.equal(parseCpuMaxV2('max 100000\n'), undefined);
  t.equal(parseCpuMaxV2('250000 100000\n'), 2.5);
  t.throws(() => parseCpuMaxV2('x y'), /cpu.max/);
  t.equal(parseCpuQuotaV1('-1\n', '100000\n'), undefined);
  t.equal(parseCpuQuotaV1('50000\n', '100000\n'), 0.5);
  t.throws(() => parseCpuQuotaV1('1', '0'), /cfs_quota_us/);
  t.equal(parseCpuStatUsageV2('usage_usec 1500000\nuser_usec 1\n'), 1.5);
  t.equal(parseCpuStatUsageV2('nr_periods 0\n'), undefined);
});

t.test('netstat, sockstat, softnet, pressure, vmstat parsers', async (t) => {
  const { parseNetstatPairs, parseSnmp6 } = await import('../../../exporters/procfs/netstat.js');
  const { parseSockstat } = await import('../../../exporters/procfs/sockstat.js');
  const { parseSoftnet } = await import('../../../exporters/procfs/softnet.js');
  const { parsePressure } = await import('../../../exporters/procfs/pressure.js');
  const { parseVmstat } = await import('../../../exporters/procfs/vmstat.js');
  t.same(parseNetstatPairs('Tcp: A B\nTcp: 1 2\n'), [
    { protocol: 'Tcp', name: 'A', value: 1 },
    { protocol: 'Tcp', name: 'B', value: 2 },
  ]);
  t.throws(() => parseNetstatPairs('Tcp: A B\nUdp: 1 2\n'), /mismatched lines for Tcp/);
  t.throws(() => parseNetstatPairs('Tcp: A B\nTcp: 1\n'), /mismatched/);
  t.same(parseSnmp6('Ip6InOctets 5\nUdpLite6InErrors 2\nOther 1\n'), [
    { protocol: 'Ip6', name: 'InOctets', value: 5 },
    { protocol: 'UdpLite6', name: 'InErrors', value: 2 },
  ]);
  t.same(parseSockstat('sockets: used 3\nTCP: inuse 1 mem 2\n'), [
    { protocol: 'sockets', field: 'used', value: 3 },
    { protocol: 'TCP', field: 'inuse', value: 1 },
    { protocol: 'TCP', field: 'mem', value: 2 },
  ]);
  t.throws(() => parseSockstat('TCP: inuse\n'), /odd number of fields/);
  // an old kernel: 10 columns, no CPU column; CPUs by line
  const old = parseSoftnet('00000010 00000001 00000002 0 0 0 0 0 0 00000003\n00000020 0 0 0 0 0 0 0 0 0\n');
  t.same(old.map((s) => [s.cpu, s.processed, s.receivedRps, s.flowLimitCount]), [['0', 16, 3, undefined], ['1', 32, 0, undefined]]);
  // 5.10+: CPU 3 alone online
  t.equal(parseSoftnet('1 0 0 0 0 0 0 0 0 0 0 0 00000003\n')[0]!.cpu, '3');
  t.throws(() => parseSoftnet('zz\n'), /expected hex columns/);
  t.same(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n'), { some: 1.5 });
  t.same(parsePressure('some avg10=0 total=1\nfull avg10=0 total=2\n'), { some: 0.000001, full: 0.000002 });
  t.same(parseVmstat('pgfault 5\nnr_x 1\npswpin 2\n', /^(pgfault|pswp)/), [{ name: 'pgfault', value: 5 }, { name: 'pswpin', value: 2 }]);
});

t.test('parseOsRelease and osVersionNumber', async (t) => {
  const { parseOsRelease, osVersionNumber } = await import('../../../exporters/procfs/os-release.js');
  t.same(parseOsRelease('ID=debian\nNAME="Debian GNU/Linux"\nX=\'single $quoted\'\nESC="a \\"b\\" \\\\ c"\n# comment\nbad line\n'), {
    ID: 'debian',
    NAME: 'Debian GNU/Linux',
    X: 'single $quoted',
    ESC: 'a "b" \\ c',
  });
  t.equal(osVersionNumber('12'), 12);
  t.equal(osVersionNumber('22.04'), 22.04);
  t.equal(osVersionNumber('3.19.1'), 3.19);
  t.ok(Number.isNaN(osVersionNumber('rolling')));
});
