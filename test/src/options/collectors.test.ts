/** The host-collector options: node_exporter's default patterns, the mount timeout, and a switch per collector. */
import t from 'tap';
import { COLLECTORS, HOST_COLLECTORS } from '../../../exporters/index.js';
import { ConfigError, loadConfig, optionsHelp } from '../../../src/config.js';

const load = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv, env }).config;

t.test('default patterns behave as node_exporter documents them', async (t) => {
  const c = load([]).collectors;
  const mounts = c.mountPointsExclude!;
  for (const p of ['/proc', '/proc/sys/fs/binfmt_misc', '/sys', '/sys/fs/cgroup', '/dev', '/dev/shm', '/run/credentials/x.service', '/var/lib/docker/overlay2/abc/merged']) {
    t.ok(mounts.test(p), `${p} left out`);
  }
  for (const p of ['/', '/home', '/var/lib/docker', '/devices', '/run', '/srv/data']) t.notOk(mounts.test(p), `${p} kept`);
  const types = c.fsTypesExclude!;
  for (const f of ['proc', 'sysfs', 'tmpfs', 'overlay', 'cgroup2', 'squashfs', 'devpts', 'fuse.lxcfs']) t.ok(types.test(f), `${f} left out`);
  for (const f of ['ext4', 'xfs', 'btrfs', 'zfs', 'nfs4', 'vfat', 'fuse.sshfs']) t.notOk(types.test(f), `${f} kept`);
  const disks = c.diskDeviceExclude!;
  for (const d of ['sda1', 'vdb2', 'xvda1', 'nvme0n1p1', 'loop0', 'ram0', 'zram0', 'fd0']) t.ok(disks.test(d), `${d} left out`);
  for (const d of ['sda', 'vda', 'nvme0n1', 'dm-0', 'md0', 'mmcblk0']) t.notOk(disks.test(d), `${d} kept`);
  t.equal(c.netdevDeviceExclude, undefined);
  t.equal(c.filesystemMountTimeout, 5000);
  t.equal(c.textfileDirectory, '');
});

t.test('options from flags and environment, bad values refused with the option named', async (t) => {
  t.equal(load(['--collector.filesystem.mount-timeout=2s']).collectors.filesystemMountTimeout, 2000);
  t.equal(load([], { LARDER_FILESYSTEM_MOUNT_TIMEOUT: '250ms' }).collectors.filesystemMountTimeout, 250);
  t.throws(() => load(['--collector.filesystem.mount-timeout=5']), /--collector\.filesystem\.mount-timeout: expected a duration/);
  t.same(load(['--collector.netdev.device-exclude=^(lo|veth.*)$']).collectors.netdevDeviceExclude?.source, '^(lo|veth.*)$');
  t.equal(load(['--collector.filesystem.mount-points-exclude=']).collectors.mountPointsExclude, undefined, 'empty switches a default off');
  t.throws(() => load(['--collector.diskstats.device-include=(']), ConfigError);
  t.throws(() => load(['--collector.diskstats.device-include=(']), /--collector\.diskstats\.device-include: expected a regular expression/);
  t.equal(load(['--path.procfs=/host/proc', '--path.sysfs=/host/sys']).collectors.procfs, '/host/proc');
});

t.test('every collector has a unique name usable as --collector.<name> / --no-collector.<name>', async (t) => {
  const names = COLLECTORS.map((c) => c.name);
  t.equal(new Set(names).size, names.length, 'unique');
  const help = optionsHelp();
  for (const c of HOST_COLLECTORS) {
    t.match(c.name, /^[a-z_]+$/);
    t.equal(load([`--no-collector.${c.name}`]).collectorsEnabled[c.name], false, `--no-collector.${c.name}`);
    t.equal(load([`--collector.${c.name}`]).collectorsEnabled[c.name], true, `--collector.${c.name}`);
    t.match(help, `--collector.${c.name} (default: enabled)`);
  }
  t.ok(HOST_COLLECTORS.find((c) => c.name === 'processes')?.slow, 'the per-process scan is slow');
  t.notOk(HOST_COLLECTORS.find((c) => c.name === 'cpu')?.slow);
});
