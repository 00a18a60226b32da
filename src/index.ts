/**
 * Larder's public surface: `import { createLarder } from 'larder-metrics'`. Every export
 * is listed by name (no `export *`), so the API is what this file says. The storage
 * package in full (the SQLite, PostgreSQL and fallback stores by class) is the subpath
 * `larder-metrics/storage` (storage/index.ts).
 */
export { createLarder } from './larder.js';
export type { AppSettings, CollectorSettings, Larder, LarderOptions, LifecycleStep, RecordSettings, RecorderSettings, ServeOptions, StorageSettings, StoreSettings } from './larder.js';
export type { RecordingStep } from './recording-step.js';
export type { Recording } from './recorder/index.js';

// the store: `larder.store` while recording runs, or `openStore()` for a store of your own
export { openStore } from '../storage/open-store.js';
export type {
  AlertInput,
  AlertRecord,
  AlertSeverity,
  AlertStatus,
  ChunkInfo,
  DatabaseStats,
  Dialect,
  LabelMatcher,
  Labels,
  LatestMetric,
  MetricStats,
  MetricType,
  ReadQuery,
  ReadResult,
  Row,
  Sample as StoredSample,
  SeriesDef,
  SeriesInfo,
  SqlExecutor,
  SqlValue,
  Store,
  StoreOptions,
  TableStats,
} from '../storage/store.js';
export { startLarder } from './main.js';
export type { Larder as StandaloneLarder } from './main.js';
export { loadConfig, ConfigError, OPTION_GROUPS } from './config.js';
export type { Config, ConfigSources } from './config.js';
export { Logger, silentLogger } from './log.js';
export type { LogLevel, LogSink } from './log.js';
export type { RunningServer } from './server.js';
export { Authenticator, type AuthenticatorOptions, type AuthOutcome } from './web-auth.js';

// application metrics
export { SeriesGuard, SeriesGroup, GuardedCounter, GuardedGauge, GuardedHistogram, DEFAULT_SERIES_LIMIT, assertBuckets } from '../exporters/guard/series-guard.js';
export type { GuardedConfig, GuardLog, LabelSet, SeriesGuardOptions } from '../exporters/guard/series-guard.js';
export { InvalidNameError, assertMetricName, assertLabelNames, cleanLabelValue } from '../exporters/guard/names.js';
export { createHttpMetrics, DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS, UNMATCHED_ROUTE, ABORTED_STATUS } from '../exporters/http/middleware.js';
export type { HttpMetrics, HttpMetricsOptions } from '../exporters/http/middleware.js';
export { BusinessMetrics, SEED_BUSINESS_METRICS, parseBusinessMetrics } from '../exporters/business/business-metrics.js';
export type { BusinessCounter, BusinessGauge, BusinessMetricDefinition } from '../exporters/business/business-metrics.js';
export { createDbMetrics, DEFAULT_DB_BUCKETS } from '../exporters/db/db-metrics.js';
export type { DbMetrics } from '../exporters/db/db-metrics.js';
export { sqlOperation } from '../exporters/db/sql-operation.js';
export { instrumentPg } from '../exporters/db/pg.js';
export type { PgClientLike, PgPoolLike } from '../exporters/db/pg.js';
export { instrumentPgPromise } from '../exporters/db/pg-promise.js';
export { CONNECT_OPERATION } from '../exporters/db/pg-promise.js';
export type { PgPromiseEventContext, PgPromiseEvents } from '../exporters/db/pg-promise.js';
export { createRedisMetrics, DEFAULT_REDIS_BUCKETS } from '../exporters/redis/redis-metrics.js';
export type { RedisMetrics } from '../exporters/redis/redis-metrics.js';
export { instrumentIoRedis } from '../exporters/redis/ioredis.js';
export type { IoRedisLike } from '../exporters/redis/ioredis.js';
export { instrumentNodeRedis } from '../exporters/redis/node-redis.js';
export type { NodeRedisLike } from '../exporters/redis/node-redis.js';

// cluster view
export { ClusterView, validateClusterOptions, PEER_PATH } from './cluster/cluster-view.js';
export type { ClusterOptions, ClusterSnapshot } from './cluster/cluster-view.js';
export { mergeInstances, defaultMode, AGGREGATION_MODES } from './cluster/aggregate.js';
export type { AggregationMode, InstanceFamilies, MergeOptions } from './cluster/aggregate.js';

// collection and exposition
export { CollectorSet, COLLECTORS } from '../exporters/index.js';
export type { Collector, CollectorContext, CollectorDefinition, MetricFamily, Sample } from '../exporters/index.js';
export { collectSnapshot } from './exposition/snapshot.js';
export type { Snapshot } from './exposition/snapshot.js';
export { toPrometheusText, toOpenMetrics, negotiate, PROMETHEUS_TEXT, OPENMETRICS_TEXT } from './exposition/format.js';
