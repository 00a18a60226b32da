/**
 * Options of the application metrics: the series guard, HTTP histogram buckets,
 * business metrics declared in the config file, and the cluster (PM2 / worker) view.
 */
import { DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS } from '../../exporters/http/middleware.js';
import { parseBusinessMetrics, type BusinessMetricDefinition } from '../../exporters/business/business-metrics.js';
import { assertBuckets } from '../../exporters/guard/series-guard.js';
import { AGGREGATION_MODES, type AggregationMode } from '../cluster/aggregate.js';
import { bool, defineOptions, duration, int, showDuration, str } from './option.js';

const MODES = AGGREGATION_MODES;

/** A list of bucket bounds: `0.01,0.1,1` from a flag or variable, a list in the config file. */
function buckets(): (raw: unknown) => readonly number[] {
  return (raw) => {
    const items = Array.isArray(raw) ? raw : String(raw).split(',').map((s) => s.trim());
    const out = items.map((v) => (typeof v === 'number' ? v : v === '' ? NaN : Number(v)));
    try {
      assertBuckets('histogram', out);
    } catch {
      throw new Error('expected increasing numbers separated by commas, such as 0.01,0.05,0.1,0.5,1');
    }
    return out;
  };
}

/** The config file's `cluster.aggregation`: metric name → sum | max | min | instance. */
function aggregation(raw: unknown): Readonly<Record<string, AggregationMode>> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`expected a mapping of metric name to one of ${MODES.join(', ')}`);
  const out: Record<string, AggregationMode> = {};
  for (const [metric, mode] of Object.entries(raw as Record<string, unknown>)) {
    if (!(MODES as readonly unknown[]).includes(mode)) throw new Error(`metric ${metric}: expected one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
    out[metric] = mode as AggregationMode;
  }
  return out;
}

const showList = (v: readonly number[]): string => v.join(',');

export const appOptions = defineOptions({
  cardinalityLimit: {
    flag: 'app.cardinality-limit',
    env: ['LARDER_CARDINALITY_LIMIT'],
    default: 2000,
    help: 'most label sets one application metric may have; new ones beyond it are dropped and counted in larder_dropped_series_total (0 = no limit)',
    parse: int({ min: 0, max: 10_000_000 }),
  },
  seriesExpiry: {
    flag: 'app.series-expiry',
    env: ['LARDER_SERIES_EXPIRY'],
    default: 0,
    help: 'application label sets not updated for this long are removed (0s = never)',
    parse: duration({ min: 0 }),
    show: showDuration,
  },
  httpDurationBuckets: {
    flag: 'app.http-duration-buckets',
    env: ['LARDER_HTTP_DURATION_BUCKETS'],
    default: DEFAULT_DURATION_BUCKETS,
    help: 'upper bounds in seconds of http_request_duration_seconds',
    parse: buckets(),
    show: showList,
  },
  httpSizeBuckets: {
    flag: 'app.http-size-buckets',
    env: ['LARDER_HTTP_SIZE_BUCKETS'],
    default: DEFAULT_SIZE_BUCKETS,
    help: 'upper bounds in bytes of http_request_size_bytes and http_response_size_bytes',
    parse: buckets(),
    show: showList,
  },
  businessSeed: {
    flag: 'business-metrics.seed',
    env: ['LARDER_BUSINESS_METRICS_SEED'],
    default: false,
    help: "declare the recipe site's business metrics at 0 (user_registrations_total, recipes_created_total, searches_total, user_engagement_score); a service declares its own with larder.business or business-metrics",
    parse: bool(),
  },
  businessMetrics: {
    flag: 'business-metrics',
    default: [] as readonly BusinessMetricDefinition[],
    help: 'config file only: a list of {name, type: counter|gauge, help, labels: [..]} declared at start',
    parse: parseBusinessMetrics,
    show: () => '[]',
    fileOnly: true,
  },
  clusterInstances: {
    flag: 'cluster.instances',
    env: ['LARDER_CLUSTER_INSTANCES'],
    default: 0,
    help: 'number of instances (PM2 cluster processes or workers) whose metrics /metrics merges; 0 = no cluster view',
    parse: int({ min: 0, max: 1024 }),
  },
  clusterInstanceId: {
    flag: 'cluster.instance-id',
    env: ['LARDER_CLUSTER_INSTANCE_ID', 'NODE_APP_INSTANCE'],
    default: 0,
    help: "this instance's number, 0 to instances-1 (PM2 sets NODE_APP_INSTANCE)",
    parse: int({ min: 0, max: 1023 }),
  },
  clusterPortBase: {
    flag: 'cluster.port-base',
    env: ['LARDER_CLUSTER_PORT_BASE'],
    default: 9470,
    help: 'instance N serves its own metrics to its peers on 127.0.0.1:(port-base + N)',
    parse: int({ min: 1, max: 65535 }),
  },
  clusterTimeout: {
    flag: 'cluster.timeout',
    env: ['LARDER_CLUSTER_TIMEOUT'],
    default: 2000,
    help: 'how long a scrape waits for the other instances; a late one is named in larder_cluster_instance_up 0 and left out',
    parse: duration({ min: 10, max: 60_000 }),
    show: showDuration,
  },
  clusterLabel: {
    flag: 'cluster.label',
    env: ['LARDER_CLUSTER_LABEL'],
    default: 'app_instance',
    help: 'label naming the instance on metrics kept per instance (not "instance", which Prometheus sets itself)',
    parse: str({ pattern: /^[a-zA-Z_][a-zA-Z0-9_]*$/, allowed: 'a label name ([a-zA-Z_][a-zA-Z0-9_]*)' }),
  },
  clusterAggregation: {
    flag: 'cluster.aggregation',
    default: {} as Readonly<Record<string, AggregationMode>>,
    help: 'config file only: metric name → sum | max | min | instance (default: sum for counters and histograms, instance for the rest)',
    parse: aggregation,
    show: () => '{}',
    fileOnly: true,
  },
});
