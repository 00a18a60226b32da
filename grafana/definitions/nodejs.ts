/** Node.js service: the runtime (event loop, memory, GC, handles), HTTP (RED), database and Redis. */
import { traffic, type DashboardDef, type PanelDef } from '../model.js';
import { quantile, rate, sel } from './promql.js';

/** p50/p95/p99 of a histogram by one label: PromQL from the buckets, SQL from the stored quantiles. */
function latency(title: string, description: string, base: string, by: string): PanelDef {
  const qs = [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const;
  return {
    title, description, type: 'timeseries', unit: 's', min: 0, width: 8,
    prometheus: qs.map(([name, q]) => ({ expr: quantile(q, base, [by]), legend: `{{${by}}} ${name}` })),
    sql: qs.map(([name]) => ({ kind: 'quantile' as const, metrics: [base], quantile: name, by: [by], agg: 'max' as const, legend: `{{${by}}} ${name}` })),
  };
}

const SQL_QUANTILES = 'On SQL sources: the stored per-bucket quantiles of each label set, the highest among a group\'s label sets (docs/storage.md shows the exact quantile over merged label sets).';

export const NODEJS: DashboardDef = {
  key: 'nodejs',
  title: 'Larder / Node.js service',
  description: 'The Node.js runtime, HTTP traffic (rate, errors, duration), database and Redis calls of services instrumented with Larder.',
  tags: ['nodejs'],
  variableMetric: 'nodejs_heap_size_used_bytes',
  rows: [
    {
      title: 'Runtime',
      panels: [
        {
          title: 'Event-loop lag p99',
          description: 'The 99th percentile of the event-loop delay: how late a timer fires when the loop is busy. The mean hides the stalls users feel.',
          type: 'timeseries', unit: 's', min: 0, thresholds: traffic(0.1, 0.5), width: 8,
          prometheus: [{ expr: `max by (instance) (${sel('nodejs_eventloop_lag_p99_seconds')})`, legend: '{{instance}}' }],
          sql: [{ kind: 'gauge', metrics: ['nodejs_eventloop_lag_p99_seconds'], by: ['instance'], agg: 'max', legend: '{{instance}}' }],
        },
        {
          title: 'Event-loop utilisation',
          description: 'Share of the time the event loop ran code rather than waited for I/O or timers (0 to 1): near 1 the loop is saturated and every request queues, even when the lag looks small. Wall time on the loop\'s one thread, not CPU time: synchronous I/O and a busy host count too. Needs Larder\'s process collector (nodejs_eventloop_busy_seconds_total).',
          type: 'timeseries', unit: 'percentunit', min: 0, max: 1, thresholds: traffic(0.7, 0.9), width: 8,
          prometheus: [{ expr: `max by (instance) (${rate('nodejs_eventloop_busy_seconds_total')})`, legend: '{{instance}}' }],
          sql: [{ kind: 'rate', metrics: ['nodejs_eventloop_busy_seconds_total'], by: ['instance'], agg: 'max', legend: '{{instance}}' }],
        },
        {
          title: 'Heap used and RSS',
          description: 'V8 heap in use and the resident set size of the process.',
          type: 'timeseries', unit: 'bytes', min: 0, width: 8,
          prometheus: [
            { expr: `sum by (instance) (${sel('nodejs_heap_size_used_bytes')})`, legend: '{{instance}} heap used' },
            { expr: `sum by (instance) (${sel('process_resident_memory_bytes')})`, legend: '{{instance}} RSS' },
          ],
          sql: [
            { kind: 'gauge', metrics: ['nodejs_heap_size_used_bytes'], by: ['instance'], legend: '{{instance}} heap used' },
            { kind: 'gauge', metrics: ['process_resident_memory_bytes'], by: ['instance'], legend: '{{instance}} RSS' },
          ],
        },
        {
          title: 'Garbage collection',
          description: 'Share of time spent in garbage collection, by kind (minor, major, incremental, weakcb).',
          type: 'timeseries', unit: 'percentunit', min: 0, width: 8,
          prometheus: [{ expr: `sum by (kind) (${rate('nodejs_gc_duration_seconds_sum')})`, legend: '{{kind}}' }],
          sql: [{ kind: 'rate', metrics: ['nodejs_gc_duration_seconds_sum'], by: ['kind'], legend: '{{kind}}' }],
        },
        {
          title: 'Open handles and file descriptors',
          description: 'Active libuv handles (sockets, timers, …) and open file descriptors: a steady climb is a leak.',
          type: 'timeseries', unit: 'short', min: 0, width: 8,
          prometheus: [
            { expr: `sum by (instance) (${sel('nodejs_active_handles')})`, legend: '{{instance}} handles' },
            { expr: `sum by (instance) (${sel('process_open_fds')})`, legend: '{{instance}} fds' },
          ],
          sql: [
            { kind: 'gauge', metrics: ['nodejs_active_handles'], by: ['instance'], legend: '{{instance}} handles' },
            { kind: 'gauge', metrics: ['process_open_fds'], by: ['instance'], legend: '{{instance}} fds' },
          ],
        },
        {
          title: 'Process start',
          description: 'When the process last started: a restart shows as a recent time.',
          type: 'stat', unit: 'dateTimeFromNow', width: 8, height: 8,
          prometheus: [{ expr: `max(${sel('process_start_time_seconds')}) * 1000` }],
          sql: [{ kind: 'gauge', metrics: ['process_start_time_seconds'], agg: 'max', scale: 1000 }],
        },
      ],
    },
    {
      title: 'HTTP',
      panels: [
        {
          title: 'Requests by route',
          description: 'Requests per second, by route.',
          type: 'timeseries', unit: 'reqps', min: 0, width: 8,
          prometheus: [{ expr: `sum by (route) (${rate('http_requests_total')})`, legend: '{{route}}' }],
          sql: [{ kind: 'rate', metrics: ['http_requests_total'], by: ['route'], legend: '{{route}}' }],
        },
        {
          title: 'Error ratio by route',
          description: 'Share of requests answered with a 5xx status, by route.',
          type: 'timeseries', unit: 'percentunit', min: 0, thresholds: traffic(0.01, 0.05), width: 8,
          prometheus: [{ expr: `sum by (route) (${rate('http_requests_total', 'status_code=~"5.."')}) / sum by (route) (${rate('http_requests_total')})`, legend: '{{route}}' }],
          sql: [{ kind: 'rate', metrics: ['http_requests_total'], by: ['route'], ratio: { num: { metric: 'http_requests_total', like: { status_code: '5%' } }, den: { metric: 'http_requests_total' } }, legend: '{{route}}' }],
        },
        {
          title: 'Requests in flight',
          description: 'Requests received and not yet answered.',
          type: 'timeseries', unit: 'short', min: 0, width: 8,
          prometheus: [{ expr: `sum by (instance) (${sel('http_requests_in_flight')})`, legend: '{{instance}}' }],
          sql: [{ kind: 'gauge', metrics: ['http_requests_in_flight'], by: ['instance'], legend: '{{instance}}' }],
        },
        { ...latency('Request duration by route', `p50, p95 and p99 of the time to answer, by route. ${SQL_QUANTILES}`, 'http_request_duration_seconds', 'route'), width: 24 },
      ],
    },
    {
      title: 'Database and Redis',
      panels: [
        {
          title: 'Database queries',
          description: 'Database queries per second by SQL verb, and those that failed.',
          type: 'timeseries', unit: 'ops', min: 0, width: 8,
          prometheus: [
            { expr: `sum by (operation) (${rate('db_queries_total')})`, legend: '{{operation}}' },
            { expr: `sum(${rate('db_queries_total', 'status="error"')})`, legend: 'errors' },
          ],
          sql: [
            { kind: 'rate', metrics: ['db_queries_total'], by: ['operation'], legend: '{{operation}}' },
            { kind: 'rate', metrics: ['db_queries_total'], match: { status: 'error' }, legend: 'errors' },
          ],
        },
        latency('Database query duration', `p50, p95 and p99 of database query time, by SQL verb. ${SQL_QUANTILES}`, 'db_query_duration_seconds', 'operation'),
        {
          title: 'Redis commands',
          description: 'Redis commands per second by command, and those that failed.',
          type: 'timeseries', unit: 'ops', min: 0, width: 8,
          prometheus: [
            { expr: `sum by (command) (${rate('redis_commands_total')})`, legend: '{{command}}' },
            { expr: `sum(${rate('redis_commands_total', 'status="error"')})`, legend: 'errors' },
          ],
          sql: [
            { kind: 'rate', metrics: ['redis_commands_total'], by: ['command'], legend: '{{command}}' },
            { kind: 'rate', metrics: ['redis_commands_total'], match: { status: 'error' }, legend: 'errors' },
          ],
        },
        { ...latency('Redis command duration', `p50, p95 and p99 of Redis command time, by command. ${SQL_QUANTILES}`, 'redis_command_duration_seconds', 'command'), width: 24 },
      ],
    },
  ],
};
