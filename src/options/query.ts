/** Options of the PromQL query API (`/api/v1/*`) over the store. */
import { bool, defineOptions, duration, int, oneOf, showDuration } from './option.js';

export const queryOptions = defineOptions({
  api: {
    flag: 'query.api',
    env: ['LARDER_QUERY_API'],
    default: true,
    help: 'serve the Prometheus query API (/api/v1/query, query_range, series, labels, …) over the store (--query.api=false turns it off)',
    parse: bool(),
  },
  timeout: {
    flag: 'query.timeout',
    env: ['LARDER_QUERY_TIMEOUT'],
    default: 120_000,
    help: 'longest a query may run; a request\'s timeout parameter can only shorten it',
    parse: duration({ min: 1000, max: 3_600_000 }),
    show: showDuration,
  },
  maxResolution: {
    flag: 'query.max-resolution',
    env: ['LARDER_QUERY_MAX_RESOLUTION'],
    default: 'tiers' as 'tiers' | 'raw',
    help: 'raw: answer every query from raw samples; tiers: let *_over_time, rate and increase read a rollup tier when the step and window allow (docs/promql.md)',
    parse: oneOf(['tiers', 'raw'] as const),
  },
  maxConcurrency: {
    flag: 'query.max-concurrency',
    env: ['LARDER_QUERY_MAX_CONCURRENCY'],
    default: 4,
    help: 'queries evaluated at once; up to 64 more wait, past that a query gets 503',
    parse: int({ min: 1, max: 64 }),
  },
});
