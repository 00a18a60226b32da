/**
 * The storage package's public surface, published as the subpath
 * `larder-metrics/storage`: `import { openStore } from 'larder-metrics/storage'`.
 * Loading it loads the PostgreSQL driver; the main entry exports `openStore` and the
 * types without it. See docs/storage.md.
 */
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
  RollupTierDef,
  Row,
  Sample,
  SeriesDef,
  SeriesInfo,
  SqlExecutor,
  SqlValue,
  Store,
  StoreOptions,
  TableStats,
  TierColumn,
  TierRows,
  TierRowsQuery,
} from './store.js';
export { openStore, pgOptionsOf } from './open-store.js';
export { openSqliteStore, SqliteStore, SqliteStoreError, type SqliteStoreOptions } from './sqlite-store.js';
export { openPgStore, PgStore, isConnectionError, type PgStoreOptions } from './pg-store.js';
export { openFallbackStore, FallbackStore, type FallbackStoreOptions } from './fallback-store.js';
export { NewerSchemaError } from './store-common.js';
export { StoreInUseError } from './sqlite-lock.js';
export { KIND_COLUMNS, tierTables, type TableKind } from './table-kinds.js';
export { canonicalLabels, fingerprint } from './series-key.js';
export { chunkName, chunkRange } from './chunking.js';
export { MAX_TIER_READ_IDS, readTierRowsBySql } from './tier-rows.js';
