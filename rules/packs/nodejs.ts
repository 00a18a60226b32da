/**
 * The Node.js pack: the process metrics of prom-client's defaults as Larder's process
 * collector exposes them, plus the two it adds (event-loop utilisation, heap limit).
 * No public pack covers a Node.js service; thresholds are Larder's own.
 */
import { alert, num, pct, secs, type RulePack } from '../model.js';

export const nodejsPack: RulePack = {
  name: 'nodejs',
  group: 'larder-nodejs',
  title: 'Node.js service',
  about: 'Every Node.js process that exposes Larder\'s process metrics (Larder itself, a service using Larder as a library, or a scrape target with prom-client\'s default metrics; the utilisation and heap-limit rules need Larder\'s process collector).',
  alerts: [
    alert({
      name: 'NodejsEventLoopLagHigh',
      severity: 'warning',
      for: '5m',
      params: { threshold: { default: 0.1, unit: 'seconds', help: 'p99 event-loop lag above which it fires', min: 0, max: 3600 } },
      expr: (p) => `nodejs_eventloop_lag_p99_seconds > ${num(p.threshold)}`,
      summary: () => 'The event loop of {{ $labels.job }} on {{ $labels.instance }} lags.',
      description: (p) => `The p99 event-loop lag of {{ $labels.job }} on {{ $labels.instance }} is {{ $value | humanizeDuration }} (threshold ${secs(p.threshold)}): every request waits that long before it is even looked at.`,
      meaning: 'Something blocks the event loop: synchronous work (JSON of a huge body, a sync crypto or fs call, a regex on long input) runs while callbacks wait.',
      action: 'Take a CPU profile (`node --cpu-prof`, or `--inspect` and the Performance tab) during the lag and look for long synchronous frames; move the work to a worker thread or split it.',
    }),
    alert({
      name: 'NodejsEventLoopUtilizationHigh',
      severity: 'warning',
      for: '10m',
      params: { threshold: { default: 0.9, unit: 'ratio', help: 'event-loop utilisation (5-minute average) above which it fires', min: 0, max: 1 } },
      expr: (p) => `avg_over_time(nodejs_eventloop_utilization_ratio[5m]) > ${num(p.threshold)}`,
      summary: () => 'The event loop of {{ $labels.job }} on {{ $labels.instance }} is nearly always busy.',
      description: (p) => `The event loop of {{ $labels.job }} on {{ $labels.instance }} was busy {{ $value | humanizePercentage }} of the last 5 minutes (threshold ${pct(p.threshold)}).`,
      meaning: 'The process has no idle time left on its one JavaScript thread: it is at capacity, and any more load turns into lag and timeouts.',
      action: 'Scale out (more instances, PM2 cluster mode) or profile for the hot path; compare with the request rate to tell more load from slower code.',
    }),
    alert({
      name: 'NodejsHeapNearLimit',
      severity: 'critical',
      for: '5m',
      params: { threshold: { default: 0.9, unit: 'ratio', help: 'share of the V8 heap limit in use above which it fires', min: 0, max: 1 } },
      expr: (p) => `nodejs_heap_size_used_bytes / nodejs_heap_size_limit_bytes > ${num(p.threshold)}`,
      summary: () => 'The heap of {{ $labels.job }} on {{ $labels.instance }} is near its limit.',
      description: (p) => `{{ $labels.job }} on {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its heap limit (threshold ${pct(p.threshold)}); at the limit V8 aborts the process.`,
      meaning: 'The process will soon crash with "JavaScript heap out of memory", after a phase of back-to-back garbage collections that stall it.',
      action: 'Take a heap snapshot (`--heapsnapshot-near-heap-limit=1`, or `--inspect`) to find what holds the memory; raise `--max-old-space-size` only if the size is legitimate.',
    }),
    alert({
      name: 'NodejsHeapGrowing',
      severity: 'warning',
      for: '30m',
      params: { horizon: { default: 14400, unit: 'seconds', help: 'how far ahead the heap is predicted to reach its limit', min: 600, max: 7 * 86400 } },
      expr: (p) => `predict_linear(nodejs_heap_size_used_bytes[1h], ${num(p.horizon)}) > nodejs_heap_size_limit_bytes`,
      summary: (p) => `The heap of {{ $labels.job }} on {{ $labels.instance }} is predicted to reach its limit within ${secs(p.horizon)}.`,
      description: (p) => `The heap of {{ $labels.job }} on {{ $labels.instance }} has grown steadily for the last hour; at that rate it reaches {{ $value | humanize1024 }}B, past its limit, within ${secs(p.horizon)}.`,
      meaning: 'A steady climb of the used heap over an hour is the shape of a memory leak: a cache without bound, listeners never removed, a growing array of requests.',
      action: 'Compare two heap snapshots taken some minutes apart and look at the objects whose count grows. A restart buys time, not a fix.',
    }),
    alert({
      name: 'NodejsRestarting',
      severity: 'warning',
      for: '0s',
      params: { threshold: { default: 2, unit: 'count', help: 'restarts within 15 minutes above which it fires', min: 0, max: 10000 } },
      expr: (p) => `changes(process_start_time_seconds[15m]) > ${num(p.threshold)}`,
      summary: () => '{{ $labels.job }} on {{ $labels.instance }} keeps restarting.',
      description: (p) => `{{ $labels.job }} on {{ $labels.instance }} started {{ $value }} times in the last 15 minutes (threshold ${num(p.threshold)}).`,
      meaning: 'The process crashes and its supervisor (systemd, PM2, Kubernetes) restarts it: a crash loop.',
      action: 'Read the log just before each start (`journalctl -u <unit>`, `pm2 logs`): an uncaught exception, a failed start-up check or an out-of-memory abort.',
    }),
    alert({
      name: 'NodejsFileDescriptorsNearLimit',
      severity: 'warning',
      for: '5m',
      params: { threshold: { default: 0.8, unit: 'ratio', help: 'share of the process\'s file-descriptor limit in use above which it fires', min: 0, max: 1 } },
      expr: (p) => `process_open_fds / process_max_fds > ${num(p.threshold)}`,
      summary: () => '{{ $labels.job }} on {{ $labels.instance }} is near its file-descriptor limit.',
      description: (p) => `{{ $labels.job }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} of its file descriptors open (threshold ${pct(p.threshold)}).`,
      meaning: 'The process will soon fail to accept connections or open files with EMFILE.',
      action: 'Look for leaked sockets (`ls -l /proc/<pid>/fd`): HTTP clients without keep-alive limits, streams never closed. `LimitNOFILE=` (systemd) or `ulimit -n` raises the limit.',
    }),
  ],
};
