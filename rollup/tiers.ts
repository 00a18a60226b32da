/**
 * Rollup tiers: a resolution (the bucket width) and how long its rows are kept.
 * Tiers form a chain, finest first; each is built from the one below it (the first
 * from raw samples), so a coarse tier never rereads raw data.
 */

/** One rollup tier. */
export interface Tier {
  /** Table-safe name, e.g. `5m`, `1h`, `1d` (tables are `rollup_<name>`). */
  readonly name: string;
  /** Bucket width in ms; buckets are aligned to the Unix epoch (UTC). */
  readonly resolutionMs: number;
  /** Rows older than this are dropped (whole chunks). */
  readonly retentionMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/**
 * The default chain: the seed's 5 minutes, hourly and daily. Retentions: 5m for a
 * quarter (90d), hourly for two years (year-over-year comparison), daily for ten.
 */
export const DEFAULT_TIERS: readonly Tier[] = Object.freeze([
  { name: '5m', resolutionMs: 5 * MINUTE, retentionMs: 90 * DAY },
  { name: '1h', resolutionMs: HOUR, retentionMs: 2 * YEAR },
  { name: '1d', resolutionMs: DAY, retentionMs: 10 * YEAR },
]);

/**
 * The 1-minute tier added when samples are recorded more often than once a minute.
 * Kept 30 days like raw by default: beyond that the 5m tier answers.
 */
export const MINUTE_TIER: Tier = Object.freeze({ name: '1m', resolutionMs: MINUTE, retentionMs: 30 * DAY });

const UNIT: Record<string, number> = { s: 1000, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY, y: YEAR };

function parseSpan(text: string, what: string): number {
  const m = /^(\d+)([smhdwy])$/.exec(text);
  if (!m) throw new Error(`${what} "${text}" is not a duration such as 5m, 1h, 90d or 2y`);
  const ms = Number(m[1]) * UNIT[m[2]!]!;
  if (ms <= 0) throw new Error(`${what} "${text}" must be positive`);
  return ms;
}

/** The short name of a resolution: `300000` → `5m`. */
export function tierName(resolutionMs: number): string {
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', 1000]] as const) {
    if (resolutionMs % size === 0) return `${resolutionMs / size}${unit}`;
  }
  throw new Error(`resolution ${resolutionMs} ms is not a whole number of seconds`);
}

/**
 * Checks a chain of tiers: strictly increasing resolutions, each a whole multiple of
 * the one below (so a coarse bucket is made of whole fine buckets), dividing a day
 * (so buckets line up with days), and a retention at least one bucket long.
 * Throws an Error naming the tier at fault.
 */
export function validateTiers(tiers: readonly Tier[]): readonly Tier[] {
  if (tiers.length === 0) throw new Error('at least one tier is needed');
  tiers.forEach((t, i) => {
    if (!/^[0-9]+[smhd]$/.test(t.name)) throw new Error(`tier "${t.name}": name must be like 5m, 1h or 1d`);
    if (t.resolutionMs < MINUTE) throw new Error(`tier ${t.name}: resolution must be at least 1m`);
    if (t.resolutionMs <= DAY ? DAY % t.resolutionMs !== 0 : t.resolutionMs % DAY !== 0) {
      throw new Error(`tier ${t.name}: resolution must divide a day (or be whole days)`);
    }
    if (t.retentionMs < t.resolutionMs) throw new Error(`tier ${t.name}: retention must be at least one bucket`);
    const below = tiers[i - 1];
    if (below) {
      if (t.resolutionMs <= below.resolutionMs) throw new Error(`tier ${t.name}: resolutions must increase (after ${below.name})`);
      if (t.resolutionMs % below.resolutionMs !== 0) throw new Error(`tier ${t.name}: resolution must be a multiple of ${below.name}'s`);
    }
  });
  return Object.freeze([...tiers]);
}

/**
 * Parses a tier list such as `5m:90d,1h:2y,1d:10y` (resolution:retention).
 * Throws an Error naming the entry at fault.
 */
export function parseTiers(text: string): readonly Tier[] {
  const tiers = text.split(',').map((part) => part.trim()).filter((p) => p !== '').map((part) => {
    const [res, ret, ...rest] = part.split(':');
    if (res === undefined || ret === undefined || rest.length > 0) throw new Error(`tier "${part}" must be resolution:retention, e.g. 5m:90d`);
    const resolutionMs = parseSpan(res, `tier "${part}": resolution`);
    return { name: tierName(resolutionMs), resolutionMs, retentionMs: parseSpan(ret, `tier "${part}": retention`) };
  });
  return validateTiers(tiers);
}

/** Formats tiers back to `5m:90d,1h:2y`. */
export function formatTiers(tiers: readonly Tier[]): string {
  const span = (ms: number): string => {
    for (const [unit, size] of [['y', YEAR], ['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
    return `${ms}ms`;
  };
  return tiers.map((t) => `${t.name}:${span(t.retentionMs)}`).join(',');
}

/**
 * The tiers in effect: the configured list, or the defaults with the 1m tier in front
 * when the record interval is below a minute (a configured list is taken as given).
 */
export function resolveTiers(configured: readonly Tier[] | undefined, recordIntervalMs: number): readonly Tier[] {
  if (configured) return validateTiers(configured);
  return recordIntervalMs < MINUTE ? Object.freeze([MINUTE_TIER, ...DEFAULT_TIERS]) : DEFAULT_TIERS;
}
