/**
 * The overview's charts: what each reads and in which unit. `$__rate`, `$__gauge()` and
 * `$__peak()` are filled for the step by range.ts `expand`. Pure data, so a test can check every query parses
 * and every metric it names is one Larder records.
 */
import type { Unit } from './format.js';

/** One query of a panel; `legend` is a template such as `{{device}} read`. */
export interface PanelQuery {
  readonly expr: string;
  readonly legend: string;
}

/** A chart of the overview. */
export interface Panel {
  readonly id: string;
  readonly title: string;
  readonly unit: Unit;
  readonly queries: readonly PanelQuery[];
  /** The metrics the panel needs; without them it shows "no data" and why. */
  readonly metrics: readonly string[];
  readonly section: 'host' | 'service';
}

/** The CPU count, from a rate (which a rollup tier can answer) rather than a plain selector. */
const CPUS = 'scalar(count(rate(node_cpu_seconds_total{mode="idle"}[$__rate])))';

/** The overview's panels, in page order. */
export const PANELS: readonly Panel[] = [
  {
    id: 'cpu',
    title: 'CPU busy',
    unit: 'percent',
    section: 'host',
    metrics: ['node_cpu_seconds_total'],
    queries: [{ expr: 'avg by (mode) (rate(node_cpu_seconds_total{mode!="idle"}[$__rate]))', legend: '{{mode}}' }],
  },
  {
    id: 'load',
    title: 'Load per CPU',
    unit: 'number',
    section: 'host',
    metrics: ['node_load1', 'node_cpu_seconds_total'],
    queries: [
      {
        // one query, not three: the CPU count is then read once (at 30 days this cut the panel's time by two thirds)
        expr: `(label_replace($__gauge(node_load1), "window", "1m", "", "") or label_replace($__gauge(node_load5), "window", "5m", "", "") or label_replace($__gauge(node_load15), "window", "15m", "", "")) / ${CPUS}`,
        legend: '{{window}}',
      },
    ],
  },
  {
    id: 'memory',
    title: 'Memory',
    unit: 'bytes',
    section: 'host',
    metrics: ['node_memory_MemTotal_bytes', 'node_memory_MemAvailable_bytes'],
    queries: [
      { expr: '$__gauge(node_memory_MemTotal_bytes) - $__gauge(node_memory_MemAvailable_bytes)', legend: 'used' },
      { expr: '$__gauge(node_memory_Buffers_bytes) + $__gauge(node_memory_Cached_bytes)', legend: 'buffers + cache' },
      { expr: '$__gauge(node_memory_MemTotal_bytes)', legend: 'total' },
    ],
  },
  {
    id: 'swap',
    title: 'Swap',
    unit: 'bytes',
    section: 'host',
    metrics: ['node_memory_SwapTotal_bytes', 'node_memory_SwapFree_bytes'],
    queries: [
      { expr: '$__gauge(node_memory_SwapTotal_bytes) - $__gauge(node_memory_SwapFree_bytes)', legend: 'used' },
      { expr: '$__gauge(node_memory_SwapTotal_bytes)', legend: 'total' },
    ],
  },
  {
    id: 'filesystems',
    title: 'Filesystem use',
    unit: 'percent',
    section: 'host',
    metrics: ['node_filesystem_avail_bytes', 'node_filesystem_size_bytes'],
    queries: [{ expr: '1 - $__gauge(node_filesystem_avail_bytes) / ($__gauge(node_filesystem_size_bytes) > 0)', legend: '{{mountpoint}}' }],
  },
  {
    id: 'disk',
    title: 'Disk throughput',
    unit: 'bytes/s',
    section: 'host',
    metrics: ['node_disk_read_bytes_total', 'node_disk_written_bytes_total'],
    queries: [
      { expr: 'sum by (device) (rate(node_disk_read_bytes_total[$__rate]))', legend: '{{device}} read' },
      { expr: 'sum by (device) (rate(node_disk_written_bytes_total[$__rate]))', legend: '{{device}} written' },
    ],
  },
  {
    id: 'network',
    title: 'Network throughput',
    unit: 'bytes/s',
    section: 'host',
    metrics: ['node_network_receive_bytes_total', 'node_network_transmit_bytes_total'],
    queries: [
      { expr: 'sum by (device) (rate(node_network_receive_bytes_total{device!="lo"}[$__rate]))', legend: '{{device}} received' },
      { expr: 'sum by (device) (rate(node_network_transmit_bytes_total{device!="lo"}[$__rate]))', legend: '{{device}} sent' },
    ],
  },
  {
    id: 'requests',
    title: 'Request rate',
    unit: 'per-second',
    section: 'service',
    metrics: ['http_requests_total'],
    queries: [{ expr: 'sum by (job) (rate(http_requests_total[$__rate]))', legend: '{{job}} requests' }],
  },
  {
    id: 'errors',
    title: 'Error ratio (5xx)',
    unit: 'percent',
    section: 'service',
    metrics: ['http_requests_total'],
    queries: [
      {
        // `or … * 0` keeps a zero line while no request failed, instead of "no data"
        expr: '(sum by (job) (rate(http_requests_total{status_code=~"5.."}[$__rate])) or sum by (job) (rate(http_requests_total[$__rate])) * 0) / sum by (job) (rate(http_requests_total[$__rate]))',
        legend: '{{job}} errors',
      },
    ],
  },
  {
    id: 'latency',
    title: 'Latency p95',
    unit: 'seconds',
    section: 'service',
    metrics: ['http_request_duration_seconds_bucket'],
    queries: [{ expr: 'histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[$__rate])))', legend: '{{job}} p95' }],
  },
  {
    id: 'eventloop',
    title: 'Event-loop lag p99',
    unit: 'seconds',
    section: 'service',
    metrics: ['nodejs_eventloop_lag_p99_seconds'],
    queries: [{ expr: '$__peak(nodejs_eventloop_lag_p99_seconds)', legend: '{{job}} {{instance}} p99' }],
  },
  {
    id: 'heap',
    title: 'Heap',
    unit: 'bytes',
    section: 'service',
    metrics: ['nodejs_heap_size_used_bytes'],
    queries: [
      { expr: '$__gauge(nodejs_heap_size_used_bytes)', legend: '{{job}} {{instance}} used' },
      { expr: '$__gauge(nodejs_heap_size_total_bytes)', legend: '{{job}} {{instance}} total' },
    ],
  },
];
