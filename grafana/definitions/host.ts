/** Host: the first rows of "Node Exporter Full", compact. */
import { traffic, type DashboardDef } from '../model.js';
import { rate, sel } from './promql.js';

const NOT_FS = ['tmpfs', 'overlay', 'squashfs', 'devtmpfs', 'nsfs', 'ramfs'];
const NOT_FS_RE = NOT_FS.join('|');

export const HOST: DashboardDef = {
  key: 'host',
  title: 'Larder / Host',
  description: 'CPU, memory, disks, network and pressure of the hosts Larder runs on (node_exporter names).',
  tags: ['host'],
  variableMetric: 'node_uname_info',
  nodename: true,
  rows: [
    {
      title: 'Overview',
      panels: [
        {
          title: 'CPU busy',
          description: 'Share of CPU time not idle, averaged over every CPU of the selected hosts.',
          type: 'gauge', unit: 'percentunit', min: 0, max: 1, thresholds: traffic(0.7, 0.9), width: 4,
          prometheus: [{ expr: `1 - avg(${rate('node_cpu_seconds_total', 'mode="idle"')})` }],
          sql: [{ kind: 'rate', metrics: ['node_cpu_seconds_total'], ratio: { num: { metric: 'node_cpu_seconds_total', match: { mode: 'idle' } }, den: { metric: 'node_cpu_seconds_total' }, oneMinus: true } }],
        },
        {
          title: 'Memory used',
          description: 'Share of memory in use: 1 - MemAvailable / MemTotal (page cache that can be dropped counts as free).',
          type: 'gauge', unit: 'percentunit', min: 0, max: 1, thresholds: traffic(0.8, 0.95), width: 4,
          prometheus: [{ expr: `1 - sum(${sel('node_memory_MemAvailable_bytes')}) / sum(${sel('node_memory_MemTotal_bytes')})` }],
          sql: [{ kind: 'gauge', metrics: ['node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes'], ratio: { num: { metric: 'node_memory_MemAvailable_bytes' }, den: { metric: 'node_memory_MemTotal_bytes' }, oneMinus: true } }],
        },
        {
          title: 'Root filesystem used',
          description: 'Share of the root filesystem in use, as seen by unprivileged users (avail, not free).',
          type: 'gauge', unit: 'percentunit', min: 0, max: 1, thresholds: traffic(0.8, 0.9), width: 4,
          prometheus: [{ expr: `1 - sum(${sel('node_filesystem_avail_bytes', 'mountpoint="/"')}) / sum(${sel('node_filesystem_size_bytes', 'mountpoint="/"')})` }],
          sql: [{ kind: 'gauge', metrics: ['node_filesystem_avail_bytes', 'node_filesystem_size_bytes'], match: { mountpoint: '/' }, ratio: { num: { metric: 'node_filesystem_avail_bytes' }, den: { metric: 'node_filesystem_size_bytes' }, oneMinus: true } }],
        },
        {
          title: 'CPUs',
          description: 'Number of logical CPUs of the selected hosts (compare the load average with it).',
          type: 'stat', unit: 'short', width: 4,
          prometheus: [{ expr: `count(${rate('node_cpu_seconds_total', 'mode="idle"')})` }],
          sql: [{ kind: 'gauge', metrics: ['node_cpu_seconds_total'], match: { mode: 'idle' }, agg: 'count' }],
        },
        {
          title: 'Uptime',
          description: 'Time since the host booted (the shortest of the selected hosts).',
          type: 'stat', unit: 's', width: 4, thresholds: [{ value: null, color: 'orange' }, { value: 3600, color: 'green' }],
          prometheus: [{ expr: `min(${sel('node_time_seconds')} - ${sel('node_boot_time_seconds')})` }],
          sql: [{ kind: 'gauge', metrics: ['node_time_seconds', 'node_boot_time_seconds'], ratio: { num: { metric: 'node_time_seconds' }, den: { metric: 'node_boot_time_seconds' }, op: '-' } }],
        },
        {
          title: 'Load per CPU (1m)',
          description: 'One-minute load average divided by the number of CPUs: above 1 means runnable tasks wait for a CPU.',
          type: 'stat', unit: 'short', width: 4, thresholds: traffic(0.8, 1.5),
          prometheus: [{ expr: `sum(${sel('node_load1')}) / count(${rate('node_cpu_seconds_total', 'mode="idle"')})` }],
          sql: [{ kind: 'gauge', metrics: ['node_load1', 'node_cpu_seconds_total'], ratio: { num: { metric: 'node_load1' }, den: { metric: 'node_cpu_seconds_total', match: { mode: 'idle' }, count: true } } }],
        },
      ],
    },
    {
      title: 'CPU and load',
      panels: [
        {
          title: 'CPU by mode',
          description: 'Share of CPU time per mode (user, system, iowait, steal, …), averaged over the CPUs; idle left out.',
          type: 'timeseries', unit: 'percentunit', min: 0,
          prometheus: [{ expr: `avg by (mode) (${rate('node_cpu_seconds_total', 'mode!="idle"')})`, legend: '{{mode}}' }],
          sql: [{ kind: 'rate', metrics: ['node_cpu_seconds_total'], notIn: { mode: ['idle'] }, by: ['mode'], agg: 'avg', legend: '{{mode}}' }],
        },
        {
          title: 'Load average',
          description: 'Runnable and uninterruptible tasks averaged over 1, 5 and 15 minutes, per host.',
          type: 'timeseries', unit: 'short', min: 0,
          prometheus: [
            { expr: `sum by (instance) (${sel('node_load1')})`, legend: '{{instance}} 1m' },
            { expr: `sum by (instance) (${sel('node_load15')})`, legend: '{{instance}} 15m' },
          ],
          sql: [
            { kind: 'gauge', metrics: ['node_load1'], by: ['instance'], legend: '{{instance}} 1m' },
            { kind: 'gauge', metrics: ['node_load15'], by: ['instance'], legend: '{{instance}} 15m' },
          ],
        },
      ],
    },
    {
      title: 'Memory and pressure',
      panels: [
        {
          title: 'Memory',
          description: 'Memory in use (MemTotal - MemAvailable) and available, and swap in use, per host.',
          type: 'timeseries', unit: 'bytes', min: 0,
          prometheus: [
            { expr: `sum by (instance) (${sel('node_memory_MemTotal_bytes')} - ${sel('node_memory_MemAvailable_bytes')})`, legend: '{{instance}} used' },
            { expr: `sum by (instance) (${sel('node_memory_MemAvailable_bytes')})`, legend: '{{instance}} available' },
            { expr: `sum by (instance) (${sel('node_memory_SwapTotal_bytes')} - ${sel('node_memory_SwapFree_bytes')})`, legend: '{{instance}} swap used' },
          ],
          sql: [
            { kind: 'gauge', metrics: ['node_memory_MemTotal_bytes', 'node_memory_MemAvailable_bytes'], by: ['instance'], ratio: { num: { metric: 'node_memory_MemTotal_bytes' }, den: { metric: 'node_memory_MemAvailable_bytes' }, op: '-' }, legend: '{{instance}} used' },
            { kind: 'gauge', metrics: ['node_memory_MemAvailable_bytes'], by: ['instance'], legend: '{{instance}} available' },
            { kind: 'gauge', metrics: ['node_memory_SwapTotal_bytes', 'node_memory_SwapFree_bytes'], by: ['instance'], ratio: { num: { metric: 'node_memory_SwapTotal_bytes' }, den: { metric: 'node_memory_SwapFree_bytes' }, op: '-' }, legend: '{{instance}} swap used' },
          ],
        },
        {
          title: 'Pressure (PSI)',
          description: 'Share of time some task waited for CPU, memory or I/O (Linux pressure stall information); sustained values above 10% mean the host is short of that resource.',
          type: 'timeseries', unit: 'percentunit', min: 0, thresholds: traffic(0.1, 0.3),
          prometheus: [
            { expr: `max(${rate('node_pressure_cpu_waiting_seconds_total')})`, legend: 'cpu' },
            { expr: `max(${rate('node_pressure_memory_waiting_seconds_total')})`, legend: 'memory' },
            { expr: `max(${rate('node_pressure_io_waiting_seconds_total')})`, legend: 'io' },
          ],
          sql: [
            { kind: 'rate', metrics: ['node_pressure_cpu_waiting_seconds_total'], agg: 'max', legend: 'cpu' },
            { kind: 'rate', metrics: ['node_pressure_memory_waiting_seconds_total'], agg: 'max', legend: 'memory' },
            { kind: 'rate', metrics: ['node_pressure_io_waiting_seconds_total'], agg: 'max', legend: 'io' },
          ],
        },
      ],
    },
    {
      title: 'Disks and filesystems',
      panels: [
        {
          title: 'Filesystem use per mount',
          description: `Share of each filesystem in use (1 - avail / size), pseudo filesystems (${NOT_FS.join(', ')}) left out.`,
          type: 'timeseries', unit: 'percentunit', min: 0, max: 1, thresholds: traffic(0.8, 0.9), width: 8,
          prometheus: [{ expr: `1 - sum by (mountpoint) (${sel('node_filesystem_avail_bytes', `fstype!~"${NOT_FS_RE}"`)}) / sum by (mountpoint) (${sel('node_filesystem_size_bytes', `fstype!~"${NOT_FS_RE}"`)})`, legend: '{{mountpoint}}' }],
          sql: [{ kind: 'gauge', metrics: ['node_filesystem_avail_bytes', 'node_filesystem_size_bytes'], notIn: { fstype: NOT_FS }, by: ['mountpoint'], ratio: { num: { metric: 'node_filesystem_avail_bytes' }, den: { metric: 'node_filesystem_size_bytes' }, oneMinus: true }, legend: '{{mountpoint}}' }],
        },
        {
          title: 'Disk I/O',
          description: 'Bytes read and written per second, per device.',
          type: 'timeseries', unit: 'Bps', min: 0, width: 8,
          prometheus: [
            { expr: `sum by (device) (${rate('node_disk_read_bytes_total')})`, legend: '{{device}} read' },
            { expr: `sum by (device) (${rate('node_disk_written_bytes_total')})`, legend: '{{device}} written' },
          ],
          sql: [
            { kind: 'rate', metrics: ['node_disk_read_bytes_total'], by: ['device'], legend: '{{device}} read' },
            { kind: 'rate', metrics: ['node_disk_written_bytes_total'], by: ['device'], legend: '{{device}} written' },
          ],
        },
        {
          title: 'Disk latency',
          description: 'Mean time a read or a write took, per device: time spent divided by operations completed.',
          type: 'timeseries', unit: 's', min: 0, width: 8,
          prometheus: [
            { expr: `sum by (device) (${rate('node_disk_read_time_seconds_total')}) / sum by (device) (${rate('node_disk_reads_completed_total')})`, legend: '{{device}} read' },
            { expr: `sum by (device) (${rate('node_disk_write_time_seconds_total')}) / sum by (device) (${rate('node_disk_writes_completed_total')})`, legend: '{{device}} write' },
          ],
          sql: [
            { kind: 'rate', metrics: ['node_disk_read_time_seconds_total', 'node_disk_reads_completed_total'], by: ['device'], ratio: { num: { metric: 'node_disk_read_time_seconds_total' }, den: { metric: 'node_disk_reads_completed_total' } }, legend: '{{device}} read' },
            { kind: 'rate', metrics: ['node_disk_write_time_seconds_total', 'node_disk_writes_completed_total'], by: ['device'], ratio: { num: { metric: 'node_disk_write_time_seconds_total' }, den: { metric: 'node_disk_writes_completed_total' } }, legend: '{{device}} write' },
          ],
        },
      ],
    },
    {
      title: 'Network',
      panels: [
        {
          title: 'Network traffic',
          description: 'Bytes received and sent per second, per interface (loopback left out).',
          type: 'timeseries', unit: 'Bps',
          prometheus: [
            { expr: `sum by (device) (${rate('node_network_receive_bytes_total', 'device!="lo"')})`, legend: '{{device}} in' },
            { expr: `sum by (device) (${rate('node_network_transmit_bytes_total', 'device!="lo"')})`, legend: '{{device}} out' },
          ],
          sql: [
            { kind: 'rate', metrics: ['node_network_receive_bytes_total'], notIn: { device: ['lo'] }, by: ['device'], legend: '{{device}} in' },
            { kind: 'rate', metrics: ['node_network_transmit_bytes_total'], notIn: { device: ['lo'] }, by: ['device'], legend: '{{device}} out' },
          ],
        },
        {
          title: 'Network errors and drops',
          description: 'Packets per second received or sent with errors, or dropped, over every interface.',
          type: 'timeseries', unit: 'pps', min: 0,
          prometheus: [
            { expr: `sum(${rate('node_network_receive_errs_total')}) + sum(${rate('node_network_transmit_errs_total')})`, legend: 'errors' },
            { expr: `sum(${rate('node_network_receive_drop_total')}) + sum(${rate('node_network_transmit_drop_total')})`, legend: 'drops' },
          ],
          sql: [
            { kind: 'rate', metrics: ['node_network_receive_errs_total', 'node_network_transmit_errs_total'], legend: 'errors' },
            { kind: 'rate', metrics: ['node_network_receive_drop_total', 'node_network_transmit_drop_total'], legend: 'drops' },
          ],
        },
      ],
    },
    {
      title: 'Container limits',
      panels: [
        {
          title: 'Container CPU: usage and quota',
          description: 'CPU used by the cgroup Larder runs in, in cores, against its quota (empty outside a container or without a quota).',
          type: 'timeseries', unit: 'short', min: 0,
          prometheus: [
            { expr: `sum(${rate('larder_cgroup_cpu_usage_seconds_total')})`, legend: 'used cores' },
            { expr: `sum(${sel('larder_cgroup_cpu_quota_cores')})`, legend: 'quota' },
          ],
          sql: [
            { kind: 'rate', metrics: ['larder_cgroup_cpu_usage_seconds_total'], legend: 'used cores' },
            { kind: 'gauge', metrics: ['larder_cgroup_cpu_quota_cores'], legend: 'quota' },
          ],
        },
        {
          title: 'Container memory: usage and limit',
          description: 'Memory charged to the cgroup, against its limit (empty outside a container or without a limit).',
          type: 'timeseries', unit: 'bytes', min: 0,
          prometheus: [
            { expr: `sum(${sel('larder_cgroup_memory_usage_bytes')})`, legend: 'used' },
            { expr: `sum(${sel('larder_cgroup_memory_limit_bytes')})`, legend: 'limit' },
          ],
          sql: [
            { kind: 'gauge', metrics: ['larder_cgroup_memory_usage_bytes'], legend: 'used' },
            { kind: 'gauge', metrics: ['larder_cgroup_memory_limit_bytes'], legend: 'limit' },
          ],
        },
      ],
    },
  ],
};
