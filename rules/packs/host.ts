/**
 * The host pack: node_exporter's metrics as Larder's host collectors expose them. Names and
 * thresholds follow node-mixin (the filesystem, file-descriptor, load and error-rate rules)
 * and awesome-prometheus-alerts (memory, swap, OOM kills, conntrack).
 */
import { alert, num, pct, secs, type RulePack } from '../model.js';

/** The filesystems worth watching: every one Larder reports has a type (pseudo ones are left out by the collector). */
const FS = 'fstype!=""';

const ratio = (help: string, def: number) => ({ default: def, unit: 'ratio' as const, help, min: 0, max: 1 });

export const hostPack: RulePack = {
  name: 'host',
  group: 'larder-host',
  title: 'Host',
  about: 'The machine Larder runs on (or any host whose node_exporter-style metrics it records): disks, memory, CPU, file descriptors, network and clock.',
  alerts: [
    alert({
      name: 'HostFilesystemSpaceFillingUp',
      severity: 'warning',
      for: '1h',
      params: {
        threshold: ratio('share of space left below which the prediction counts', 0.4),
        horizon: { default: 86400, unit: 'seconds', help: 'how far ahead the space left is predicted to reach 0', min: 600, max: 30 * 86400 },
      },
      expr: (p) => `(
  node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}} < ${num(p.threshold)}
and
  predict_linear(node_filesystem_avail_bytes{${FS}}[6h], ${num(p.horizon)}) < 0
and
  node_filesystem_readonly{${FS}} == 0
)`,
      summary: (p) => `Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is predicted to fill up within ${secs(p.horizon)}.`,
      description: (p) =>
        `Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} has {{ $value | humanizePercentage }} of its space left and, at the rate of the last 6 hours, will be full within ${secs(p.horizon)} (warning below ${pct(p.threshold)} left).`,
      meaning: 'Space is running out at a steady pace: at the trend of the last 6 hours the filesystem is full within the horizon. Less noisy than a fixed threshold on a disk that is always 80% full.',
      action: 'Find what grows (`du -xh --max-depth=2 <mountpoint> | sort -h`, logs, Larder\'s own store under data/): rotate or delete it, or grow the volume. A periodic write-then-clean job can trick the prediction; raise `for` or lower `threshold` for that disk.',
    }),
    alert({
      name: 'HostFilesystemAlmostOutOfSpace',
      severity: 'critical',
      for: '30m',
      params: { threshold: ratio('share of space left below which it fires', 0.05) },
      expr: (p) => `(
  node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}} < ${num(p.threshold)}
and
  node_filesystem_readonly{${FS}} == 0
)`,
      summary: () => 'Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is almost full.',
      description: (p) => `Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} has only {{ $value | humanizePercentage }} of its space left (threshold ${pct(p.threshold)}).`,
      meaning: 'The filesystem is nearly full: writes (databases, logs, Larder\'s store) will soon fail with ENOSPC.',
      action: 'Free space now (old logs, caches, core dumps, `journalctl --vacuum-size`), then find the cause. Larder\'s store can be capped with `--storage.max-bytes`.',
    }),
    alert({
      name: 'HostFilesystemAlmostOutOfFiles',
      severity: 'warning',
      for: '1h',
      params: { threshold: ratio('share of inodes left below which it fires', 0.05) },
      expr: (p) => `(
  node_filesystem_files_free{${FS}} / node_filesystem_files{${FS}} < ${num(p.threshold)}
and
  node_filesystem_readonly{${FS}} == 0
)`,
      summary: () => 'Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is running out of inodes.',
      description: (p) => `Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} has only {{ $value | humanizePercentage }} of its inodes left (threshold ${pct(p.threshold)}).`,
      meaning: 'Nearly every inode is used: creating a file will fail with "No space left on device" even though `df -h` shows free space.',
      action: 'Look for folders with millions of small files (`find <mountpoint> -xdev -type f | cut -d/ -f2-3 | sort | uniq -c | sort -n`): session files, mail queues, caches. Delete them or move them to a filesystem with more inodes.',
    }),
    alert({
      name: 'HostOutOfMemory',
      severity: 'warning',
      for: '5m',
      params: { threshold: ratio('share of memory available below which it fires', 0.1) },
      expr: (p) => `node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < ${num(p.threshold)}`,
      summary: () => 'Host {{ $labels.instance }} is running out of memory.',
      description: (p) => `Only {{ $value | humanizePercentage }} of the memory of {{ $labels.instance }} is available (threshold ${pct(p.threshold)}).`,
      meaning: 'Little memory is left that the kernel can hand out without swapping: the OOM killer is close.',
      action: 'See which processes hold the memory (`ps aux --sort=-rss | head`), restart or limit the one that grows, or add memory.',
    }),
    alert({
      name: 'HostSwapIsFillingUp',
      severity: 'warning',
      for: '5m',
      params: { threshold: ratio('share of swap used above which it fires', 0.8) },
      expr: (p) => `(1 - node_memory_SwapFree_bytes / node_memory_SwapTotal_bytes) > ${num(p.threshold)}`,
      summary: () => 'Swap on {{ $labels.instance }} is filling up.',
      description: (p) => `{{ $value | humanizePercentage }} of the swap of {{ $labels.instance }} is used (threshold ${pct(p.threshold)}).`,
      meaning: 'Memory has been short long enough to push most of the swap full; once it is, the OOM killer runs.',
      action: 'As for HostOutOfMemory: find the process that grew. A host without swap never fires this.',
    }),
    alert({
      name: 'HostMemoryMajorPageFaults',
      severity: 'warning',
      for: '15m',
      params: { threshold: { default: 500, unit: 'per second', help: 'major page faults per second above which it fires', min: 0, max: 1e9 } },
      expr: (p) => `rate(node_vmstat_pgmajfault[5m]) > ${num(p.threshold)}`,
      summary: () => 'Host {{ $labels.instance }} is under memory pressure (major page faults).',
      description: (p) => `{{ $labels.instance }} takes {{ $value | humanize }} major page faults per second (threshold ${num(p.threshold)}): pages are read back from disk.`,
      meaning: 'The working set no longer fits in memory: pages of programs and files are evicted and read back from disk, and everything slows down.',
      action: 'Look at memory use and `node_pressure_memory_*`; reduce what runs on the host or add memory.',
    }),
    alert({
      name: 'HostOomKillDetected',
      severity: 'warning',
      for: '0s',
      params: {},
      expr: () => 'increase(node_vmstat_oom_kill[5m]) > 0',
      summary: () => 'The kernel killed a process on {{ $labels.instance }} for lack of memory.',
      // no $value: increase() extrapolates, and Prometheus 2 and 3 bound the window differently
      description: () => 'The OOM killer ran on {{ $labels.instance }} in the last 5 minutes.',
      meaning: 'Memory ran out and the kernel killed a process to free some: a service may have restarted or be gone.',
      action: '`journalctl -k | grep -i "killed process"` names the victim; check it restarted, then find what used the memory.',
    }),
    alert({
      name: 'HostHighCpuUsage',
      severity: 'warning',
      for: '15m',
      params: { threshold: ratio('share of CPU time busy (not idle), averaged over all CPUs, above which it fires', 0.9) },
      expr: (p) => `1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{mode="idle"}[5m])) > ${num(p.threshold)}`,
      summary: () => 'CPU of {{ $labels.instance }} is busy.',
      description: (p) => `The CPUs of {{ $labels.instance }} are {{ $value | humanizePercentage }} busy on average over 5 minutes (threshold ${pct(p.threshold)}).`,
      meaning: 'The host has had almost no idle CPU for a long time: requests queue and latency grows.',
      action: '`top` or `pidstat 5` names the process; look for a runaway loop, a traffic jump or a batch job at the wrong hour.',
    }),
    alert({
      name: 'HostHighLoadPerCpu',
      severity: 'warning',
      for: '15m',
      params: { threshold: { default: 2, unit: 'count', help: '1-minute load average per CPU above which it fires', min: 0, max: 1000 } },
      expr: (p) => `node_load1 / count without (cpu, mode) (node_cpu_seconds_total{mode="idle"}) > ${num(p.threshold)}`,
      summary: () => 'Host {{ $labels.instance }} is saturated (load per CPU).',
      description: (p) => `The 1-minute load of {{ $labels.instance }} is {{ $value | humanize }} per CPU (threshold ${num(p.threshold)}).`,
      meaning: 'More tasks want to run (or wait on disk I/O) than there are CPUs to run them.',
      action: 'If CPU is busy, see HostHighCpuUsage; if not, the load is tasks blocked on I/O: check `node_disk_io_time_seconds_total` and `node_pressure_io_*`.',
    }),
    alert({
      name: 'HostFileDescriptorsNearLimit',
      severity: 'warning',
      for: '15m',
      params: { threshold: ratio('share of the kernel\'s file-descriptor limit in use above which it fires', 0.7) },
      expr: (p) => `node_filefd_allocated / node_filefd_maximum > ${num(p.threshold)}`,
      summary: () => 'Host {{ $labels.instance }} is near its file-descriptor limit.',
      description: (p) => `{{ $value | humanizePercentage }} of the kernel's file descriptors of {{ $labels.instance }} are allocated (threshold ${pct(p.threshold)}).`,
      meaning: 'Opening a file or socket will soon fail everywhere on the host with "Too many open files".',
      action: 'Find the process holding them (`ls /proc/*/fd | wc -l` per process); a leak of sockets is common. `fs.file-max` raises the limit.',
    }),
    alert({
      name: 'HostNetworkReceiveErrors',
      severity: 'warning',
      for: '15m',
      params: { threshold: ratio('share of received packets in error above which it fires', 0.01) },
      expr: (p) => `rate(node_network_receive_errs_total[5m]) / rate(node_network_receive_packets_total[5m]) > ${num(p.threshold)}`,
      summary: () => 'Network interface {{ $labels.device }} on {{ $labels.instance }} has receive errors.',
      description: (p) => `{{ $value | humanizePercentage }} of the packets received on {{ $labels.device }} of {{ $labels.instance }} are errors (threshold ${pct(p.threshold)}).`,
      meaning: 'Packets arrive damaged or are lost by the interface: a bad cable, a duplex mismatch or a driver problem.',
      action: '`ip -s link show <device>` and `ethtool -S <device>` show which error counter grows; check the cable, switch port and driver.',
    }),
    alert({
      name: 'HostNetworkTransmitErrors',
      severity: 'warning',
      for: '15m',
      params: { threshold: ratio('share of transmitted packets in error above which it fires', 0.01) },
      expr: (p) => `rate(node_network_transmit_errs_total[5m]) / rate(node_network_transmit_packets_total[5m]) > ${num(p.threshold)}`,
      summary: () => 'Network interface {{ $labels.device }} on {{ $labels.instance }} has transmit errors.',
      description: (p) => `{{ $value | humanizePercentage }} of the packets sent on {{ $labels.device }} of {{ $labels.instance }} are errors (threshold ${pct(p.threshold)}).`,
      meaning: 'The interface fails to send packets: carrier losses, collisions or a driver problem.',
      action: '`ip -s link show <device>` and `ethtool -S <device>`; check the link and the driver.',
    }),
    alert({
      name: 'HostConntrackNearLimit',
      severity: 'warning',
      for: '5m',
      params: { threshold: ratio('share of the connection-tracking table in use above which it fires', 0.75) },
      expr: (p) => `node_nf_conntrack_entries / node_nf_conntrack_entries_limit > ${num(p.threshold)}`,
      summary: () => 'The connection-tracking table of {{ $labels.instance }} is nearly full.',
      description: (p) => `{{ $value | humanizePercentage }} of the conntrack entries of {{ $labels.instance }} are in use (threshold ${pct(p.threshold)}).`,
      meaning: 'When the table is full the kernel drops new connections ("nf_conntrack: table full, dropping packet").',
      action: 'Look for a connection flood or short-lived connections without keep-alive; raise `net.netfilter.nf_conntrack_max` if the load is real.',
    }),
    alert({
      name: 'HostClockSkew',
      severity: 'warning',
      for: '10m',
      params: { threshold: { default: 1, unit: 'seconds', help: 'difference between the host\'s clock and the scraper\'s above which it fires', min: 0, max: 86400 } },
      expr: (p) => `abs(node_time_seconds - timestamp(node_time_seconds)) > ${num(p.threshold)}`,
      summary: () => 'The clock of {{ $labels.instance }} is off.',
      description: (p) => `The clock of {{ $labels.instance }} differs by {{ $value | humanizeDuration }} from the clock of the server that scraped it (threshold ${secs(p.threshold)}).`,
      meaning: 'The host\'s clock and the scraper\'s disagree: timestamps, TLS certificates, cron and token expiry go wrong. It compares node_time_seconds with the time of its sample, so it only sees a skew when another machine (Prometheus, or a Larder recording this host as a scrape target) scrapes the host.',
      action: 'Check time synchronisation on both machines (`timedatectl status`, `chronyc tracking`) and start chrony or systemd-timesyncd.',
    }),
  ],
};
