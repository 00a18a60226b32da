/** Options of the host collectors (node_exporter's flags where they mean the same). */
import { bytes, defineOptions, duration, oneOf, regex, showDuration, showRegex, str } from './option.js';

// node_exporter's defaults, so the same mounts and devices are reported.
const MOUNT_EXCLUDE = '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)';
const FS_TYPE_EXCLUDE =
  '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs|tmpfs|ramfs|fuse\\.lxcfs|shm)$';
const DISK_EXCLUDE = '^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$';

export const collectorOptions = defineOptions({
  collectInterval: {
    flag: 'collect-interval',
    env: ['LARDER_COLLECT_INTERVAL'],
    default: 15_000,
    help: 'how often collectors refresh their values; a scrape serves the last values',
    parse: duration({ min: 1000, max: 3_600_000 }),
    show: showDuration,
  },
  slowCollectInterval: {
    flag: 'slow-collect-interval',
    env: ['LARDER_SLOW_COLLECT_INTERVAL'],
    default: 60_000,
    help: 'refresh interval of the costly collectors (the per-process scan of the processes collector)',
    parse: duration({ min: 1000, max: 3_600_000 }),
    show: showDuration,
  },
  collectTimeout: {
    flag: 'collect-timeout',
    env: ['LARDER_COLLECT_TIMEOUT'],
    default: 10_000,
    help: 'a collector running longer is abandoned, keeps its last values and reports success 0',
    parse: duration({ min: 100, max: 600_000 }),
    show: showDuration,
  },
  hostSource: {
    flag: 'collector.host-source',
    env: ['LARDER_HOST_SOURCE'],
    default: 'auto' as 'auto' | 'procfs' | 'systeminformation',
    help: 'where cpu, meminfo, filesystem, netdev and loadavg read from: procfs (/proc, /sys), systeminformation (macOS, Windows; on the slow interval), or auto: procfs when <path.procfs>/stat exists',
    parse: oneOf(['auto', 'procfs', 'systeminformation'] as const),
  },
  procfs: {
    flag: 'path.procfs',
    env: ['LARDER_PROCFS'],
    default: '/proc',
    help: 'procfs mount point',
    parse: str(),
  },
  sysfs: {
    flag: 'path.sysfs',
    env: ['LARDER_SYSFS'],
    default: '/sys',
    help: 'sysfs mount point',
    parse: str(),
  },
  rootfs: {
    flag: 'path.rootfs',
    env: ['LARDER_ROOTFS'],
    default: '/',
    help: "root of the host's file system (e.g. /host when it is mounted into a container): os-release and filesystem sizes are read under it",
    parse: str(),
  },
  mountPointsExclude: {
    flag: 'collector.filesystem.mount-points-exclude',
    env: ['LARDER_FILESYSTEM_MOUNT_POINTS_EXCLUDE'],
    default: new RegExp(MOUNT_EXCLUDE) as RegExp | undefined,
    help: 'regex of mount points to leave out',
    parse: regex(),
    show: showRegex,
  },
  mountPointsInclude: {
    flag: 'collector.filesystem.mount-points-include',
    env: ['LARDER_FILESYSTEM_MOUNT_POINTS_INCLUDE'],
    default: undefined as RegExp | undefined,
    help: 'regex of mount points to report (all when empty)',
    parse: regex(),
    show: showRegex,
  },
  fsTypesExclude: {
    flag: 'collector.filesystem.fs-types-exclude',
    env: ['LARDER_FILESYSTEM_FS_TYPES_EXCLUDE'],
    default: new RegExp(FS_TYPE_EXCLUDE) as RegExp | undefined,
    help: 'regex of filesystem types to leave out (pseudo filesystems by default)',
    parse: regex(),
    show: showRegex,
  },
  diskDeviceExclude: {
    flag: 'collector.diskstats.device-exclude',
    env: ['LARDER_DISKSTATS_DEVICE_EXCLUDE'],
    default: new RegExp(DISK_EXCLUDE) as RegExp | undefined,
    help: 'regex of block devices to leave out (partitions and loop devices by default)',
    parse: regex(),
    show: showRegex,
  },
  diskDeviceInclude: {
    flag: 'collector.diskstats.device-include',
    env: ['LARDER_DISKSTATS_DEVICE_INCLUDE'],
    default: undefined as RegExp | undefined,
    help: 'regex of block devices to report (all when empty)',
    parse: regex(),
    show: showRegex,
  },
  netdevDeviceExclude: {
    flag: 'collector.netdev.device-exclude',
    env: ['LARDER_NETDEV_DEVICE_EXCLUDE'],
    default: undefined as RegExp | undefined,
    help: 'regex of network devices to leave out',
    parse: regex(),
    show: showRegex,
  },
  netdevDeviceInclude: {
    flag: 'collector.netdev.device-include',
    env: ['LARDER_NETDEV_DEVICE_INCLUDE'],
    default: undefined as RegExp | undefined,
    help: 'regex of network devices to report (all when empty)',
    parse: regex(),
    show: showRegex,
  },
  filesystemMountTimeout: {
    flag: 'collector.filesystem.mount-timeout',
    env: ['LARDER_FILESYSTEM_MOUNT_TIMEOUT'],
    default: 5_000,
    help: 'a statfs on one mount running longer (a stale NFS server) marks it node_filesystem_device_error 1; it is skipped until the call returns',
    parse: duration({ min: 100, max: 600_000 }),
    show: showDuration,
  },
  textfileDirectory: {
    flag: 'collector.textfile.directory',
    env: ['LARDER_TEXTFILE_DIRECTORY'],
    default: '',
    help: 'folder whose *.prom files are served (written atomically by cron jobs); empty = none',
    parse: str(),
  },
  textfileMaxBytes: {
    flag: 'collector.textfile.max-bytes',
    env: ['LARDER_TEXTFILE_MAX_BYTES'],
    default: 1024 * 1024,
    help: 'a *.prom file larger than this is not read: it sets node_textfile_scrape_error 1 and is logged (0 = no limit)',
    parse: bytes(),
    show: (v: number) => (v === 1024 * 1024 ? '1MiB' : String(v)),
  },
});
