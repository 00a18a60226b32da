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

/**
 * The window of `seconds` ending at `endSeconds`: the start on a step edge (so that each
 * point's window is whole rollup buckets, which lets the engine answer from a tier), the
 * end on the first step edge at or after `endSeconds` (so the newest samples show).
 */
export function windowFor(seconds: number, endSeconds: number): Window {
  const step = stepFor(seconds);
  const start = Math.floor((endSeconds - seconds) / step) * step;
  const end = start + Math.ceil((endSeconds - start) / step) * step;
  return { start, end, step };
}

/**
 * Fills a panel's query for a step: `$__rate` becomes the rate window; `$__gauge(sel)`
 * and `$__peak(sel)` become `sel` at steps under the rate window, and at coarser steps
 * `avg_over_time` / `max_over_time` over the step, so a point stands for its whole step
 * (not one sample in it) and the engine can read it from a rollup tier.
 */
export function expand(query: string, step: number): string {
  const window = promDuration(rateWindow(step));
  const coarse = step >= MIN_RATE_WINDOW;
  return query
    .replace(/\$__gauge\(([^()]*)\)/g, (_m, sel: string) => (coarse ? `avg_over_time(${sel}[${window}])` : sel))
    .replace(/\$__peak\(([^()]*)\)/g, (_m, sel: string) => (coarse ? `max_over_time(${sel}[${window}])` : sel))
    .replaceAll('$__rate', window);
}
