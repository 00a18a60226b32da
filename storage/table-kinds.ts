/**
 * The kinds of chunked logical tables and their columns, shared by both dialects.
 * `ts` is the sample time, or the bucket start for rollup rows.
 */

/** Kinds of chunked tables. */
export type TableKind = 'samples' | 'rollup' | 'quantiles';

/** Value columns (after `series_id, ts`) of each kind, with whether they hold integers. */
export const KIND_COLUMNS: Readonly<Record<TableKind, readonly { name: string; integer: boolean }[]>> = {
  samples: [{ name: 'value', integer: false }],
  rollup: [
    { name: 'count', integer: true },
    { name: 'sum', integer: false },
    { name: 'min', integer: false },
    { name: 'max', integer: false },
    { name: 'first', integer: false },
    { name: 'last', integer: false },
    { name: 'increase', integer: false },
  ],
  quantiles: [
    { name: 'count', integer: true },
    { name: 'sum', integer: false },
    { name: 'p50', integer: false },
    { name: 'p95', integer: false },
    { name: 'p99', integer: false },
  ],
};

/** Tier names: '1m', '5m', '1h', '1d', … */
const TIER = /^[0-9a-z]{1,10}$/;

/** Throws unless `tier` is a valid tier name. */
export function checkTier(tier: unknown, where: string): asserts tier is string {
  if (typeof tier !== 'string' || !TIER.test(tier)) {
    throw new TypeError(`${where}: invalid rollup tier ${JSON.stringify(tier)}: expected [0-9a-z]{1,10}, such as 5m or 1h`);
  }
}

/** The two logical tables of a tier. */
export function tierTables(tier: string): { rollup: string; quantiles: string } {
  return { rollup: `rollup_${tier}`, quantiles: `rollup_${tier}_quantiles` };
}
