/** Larder itself: collectors, recorder, store, spool and dropped series. */
import { traffic, type DashboardDef } from '../model.js';
import { quantile, rate, sel } from './promql.js';

export const LARDER: DashboardDef = {
  key: 'larder',
  title: 'Larder / Larder',
  description: 'How Larder is doing: collectors, the recorder, the store and its spool, dropped series.',
  tags: ['self'],
  variableMetric: 'larder_recorder_samples_written_total',
  rows: [
    {
      title: 'Collectors',
      panels: [
        {
          title: 'Collector success',
          description: 'Whether each collector\'s last update succeeded (1) or failed (0); the lowest over the selected hosts.',
          type: 'timeseries', unit: 'short', min: 0, max: 1, thresholds: [{ value: null, color: 'red' }, { value: 1, color: 'green' }],
          prometheus: [{ expr: `min by (collector) (${sel('larder_collector_success')})`, legend: '{{collector}}' }],
          sql: [{ kind: 'gauge', metrics: ['larder_collector_success'], by: ['collector'], agg: 'min', legend: '{{collector}}' }],
        },
        {
          title: 'Collector duration',
          description: 'Time the last update of each collector took; the longest over the selected hosts.',
          type: 'timeseries', unit: 's', min: 0,
          prometheus: [{ expr: `max by (collector) (${sel('larder_collector_duration_seconds')})`, legend: '{{collector}}' }],
          sql: [{ kind: 'gauge', metrics: ['larder_collector_duration_seconds'], by: ['collector'], agg: 'max', legend: '{{collector}}' }],
        },
      ],
    },
    {
      title: 'Recorder',
      panels: [
        {
          title: 'Samples written',
          description: 'Samples the recorder wrote to the store per second.',
          type: 'timeseries', unit: 'ops', min: 0, width: 8,
          prometheus: [{ expr: `sum by (instance) (${rate('larder_recorder_samples_written_total')})`, legend: '{{instance}}' }],
          sql: [{ kind: 'rate', metrics: ['larder_recorder_samples_written_total'], by: ['instance'], legend: '{{instance}}' }],
        },
        {
          title: 'Recorder lag',
          description: 'Age of the oldest snapshot not yet written: 0 when the store keeps up.',
          type: 'timeseries', unit: 's', min: 0, thresholds: traffic(60, 300), width: 8,
          prometheus: [{ expr: `max by (instance) (${sel('larder_recorder_lag_seconds')})`, legend: '{{instance}}' }],
          sql: [{ kind: 'gauge', metrics: ['larder_recorder_lag_seconds'], by: ['instance'], agg: 'max', legend: '{{instance}}' }],
        },
        {
          title: 'Batch write duration p95',
          description: 'The 95th percentile of the time to write one batch to the store. On SQL sources: the stored p95 of the 5-minute (or coarser) tier.',
          type: 'timeseries', unit: 's', min: 0, width: 8,
          prometheus: [{ expr: quantile(0.95, 'larder_recorder_write_duration_seconds', ['instance']), legend: '{{instance}}' }],
          sql: [{ kind: 'quantile', metrics: ['larder_recorder_write_duration_seconds'], quantile: 'p95', by: ['instance'], agg: 'max', legend: '{{instance}}' }],
        },
        {
          title: 'Recorder errors and drops',
          description: 'Failed recorder steps per second (a failed write is retried) and samples dropped because the retry buffer was full.',
          type: 'timeseries', unit: 'ops', min: 0, width: 12,
          prometheus: [
            { expr: `sum by (stage) (${rate('larder_recorder_errors_total')})`, legend: 'errors {{stage}}' },
            { expr: `sum(${rate('larder_recorder_samples_dropped_total')})`, legend: 'samples dropped' },
          ],
          sql: [
            { kind: 'rate', metrics: ['larder_recorder_errors_total'], by: ['stage'], legend: 'errors {{stage}}' },
            { kind: 'rate', metrics: ['larder_recorder_samples_dropped_total'], legend: 'samples dropped' },
          ],
        },
        {
          title: 'Dropped series',
          description: 'Updates dropped per second because their metric already had as many label sets as the cardinality limit allows.',
          type: 'timeseries', unit: 'ops', min: 0, width: 12,
          prometheus: [{ expr: `sum by (metric) (${rate('larder_dropped_series_total')})`, legend: '{{metric}}' }],
          sql: [{ kind: 'rate', metrics: ['larder_dropped_series_total'], by: ['metric'], legend: '{{metric}}' }],
        },
      ],
    },
    {
      title: 'Store',
      panels: [
        {
          title: 'Store size',
          description: 'Size of the whole store on disk (the figure --storage.max-bytes caps).',
          type: 'timeseries', unit: 'bytes', min: 0,
          prometheus: [{ expr: `max by (instance) (${sel('larder_store_size_bytes')})`, legend: '{{instance}}' }],
          sql: [{ kind: 'gauge', metrics: ['larder_store_size_bytes'], by: ['instance'], agg: 'max', legend: '{{instance}}' }],
        },
        {
          title: 'Spool depth',
          description: 'Samples kept in the local spool while PostgreSQL is unreachable; 0 when not spooling.',
          type: 'timeseries', unit: 'short', min: 0, thresholds: traffic(1, 100000),
          prometheus: [{ expr: `max by (instance) (${sel('larder_store_spool_depth')})`, legend: '{{instance}}' }],
          sql: [{ kind: 'gauge', metrics: ['larder_store_spool_depth'], by: ['instance'], agg: 'max', legend: '{{instance}}' }],
        },
      ],
    },
  ],
};
