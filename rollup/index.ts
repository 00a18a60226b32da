/** The rollups' public surface: tiers, the engine, retention, summaries and tier-aware reads. */
export { DEFAULT_TIERS, MINUTE_TIER, formatTiers, parseTiers, resolveTiers, tierName, validateTiers, type Tier } from './tiers.js';
export { bucketStart, closedRange, slices } from './buckets.js';
export { increase, resetDelta } from './counter.js';
export { histogramQuantile, parseLe, type Bucket } from './quantile.js';
export { quantileRows, type IncreaseRow, type QuantileRow } from './quantile-rows.js';
export { CARRY_TABLE, RollupEngine, tierChunkMs, type RollupOptions, type TierRun } from './engine.js';
export { applyRetention, applySizeCap, retentionCutoff, retentionTargets, sizeCapOrder, usedBytes, type CapCandidate, type CapReason, type RetentionTarget, type SizeCapResult } from './retention.js';
export { buildDailySummary, businessCounterTest, nearestRank, utcDate, type BusinessCounterSelection, type CounterDaySummary, type DailySummary, type GaugeDaySummary, type MetricDaySummary } from './summary.js';
export { chooseTier, getMetricStatsTiered, readRange, readTier, type RangePoint, type RangeResult, type TieredMetricStats } from './read.js';
