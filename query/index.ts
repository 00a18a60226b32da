/** The PromQL engine's public surface (docs/promql.md). */
export { createQueryEngine, MAX_POINTS_PER_SERIES, type EngineOptions } from './engine.js';
export { parseQuery, parseDuration, typeOf } from './parse.js';
export { TIERED_FUNCTIONS, type TierSource } from './tiers.js';
export { QueryError } from './types.js';
export type { InstantSample, Point, QueryEngine, QueryErrorType, QueryOptions, QueryResult, QueryValue, RangeSeries, SeriesQuery } from './types.js';
export type { Expr, ValueType } from './ast.js';
