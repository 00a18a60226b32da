/**
 * Time ranges and the step a range is read at. Pure (no DOM). The step aims at
 * 200-300 points a chart and is rounded up to a step the rollup tiers line up with,
 * so a year reads daily points and the engine can answer from the daily tier.
 */

/** The preset ranges of the picker, in seconds. */
export const PRESETS: readonly { key: string; label: string; seconds: number }[] = [
  { key: '15m', label: '15 minutes', seconds: 15 * 60 },
  { key: '1h', label: '1 hour', seconds: 3600 },
  { key: '6h', label: '6 hours', seconds: 6 * 3600 },
  { key: '24h', label: '24 hours', seconds: 86400 },
  { key: '7d', label: '7 days', seconds: 7 * 86400 },
  { key: '30d', label: '30 days', seconds: 30 * 86400 },
  { key: '1y', label: '1 year', seconds: 365 * 86400 },
];

/** Steps a range may be read at, in seconds: whole divisions of the 5m, 1h and 1d tiers. */
export const STEPS: readonly number[] = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** Points a chart aims at; the step rounds up from range / TARGET_POINTS. */
export const TARGET_POINTS = 250;

/** The shortest rate window: at the default 60 s recording interval it holds 5 samples. */
export const MIN_RATE_WINDOW = 300;

/** The smallest step of STEPS that gives at most TARGET_POINTS points (plus one) over the range. */
export function stepFor(rangeSeconds: number): number {
  const want = rangeSeconds / TARGET_POINTS;
  for (const s of STEPS) if (s >= want) return s;
  return STEPS[STEPS.length - 1] as number;
}

/** The window of `rate()` and friends at a step: never shorter than the step, so no sample is skipped. */
export function rateWindow(step: number): number {
  return Math.max(step, MIN_RATE_WINDOW);
}

/** Seconds as a PromQL duration (`300` → `5m`, `86400` → `1d`). */
export function promDuration(seconds: number): string {
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  for (const [size, name] of units) if (seconds % size === 0) return `${seconds / size}${name}`;
  return `${seconds}s`;
}

/** A resolved range in epoch seconds and the step it is read at. */
export interface Window {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

/** The window of `seconds` ending at `endSeconds` (whole seconds, as the API echoes them). */
export function windowFor(seconds: number, endSeconds: number): Window {
  const end = Math.floor(endSeconds);
  return { start: end - seconds, end, step: stepFor(seconds) };
}

/** Replaces `$__rate` in a panel's query with the rate window of a step. */
export function expand(query: string, step: number): string {
  return query.replaceAll('$__rate', promDuration(rateWindow(step)));
}
