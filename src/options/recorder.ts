/**
 * Options of the recorder, the scrape targets and the rollup schedules. The record
 * interval, raw retention and size cap stay in the storage group (the seed's names).
 */
import { parseDuration, formatDuration } from '../duration.js';
import { formatTiers, parseTiers, type Tier } from '../../rollup/tiers.js';
import { SEED_BUSINESS_METRICS } from '../../exporters/business/business-metrics.js';
import { assertMetricName } from '../../exporters/guard/names.js';
import { defineOptions, duration, int, showDuration, str } from './option.js';
import type { ScrapeLimits } from '../scrape/limits.js';
import { LIMIT_KEYS, parseTargetLimits } from './target-limits.js';

/** The seed's business counters (recipes_created_total, searches_total, user_registrations_total). */
const SEED_BUSINESS_COUNTERS: readonly string[] = Object.freeze(SEED_BUSINESS_METRICS.filter((d) => d.type === 'counter').map((d) => d.name).sort());

/** Metric names separated by commas (a list in the config file); empty for none. */
function nameList(raw: unknown): readonly string[] {
  const items = Array.isArray(raw) ? raw : String(raw).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length > 1000) throw new Error('expected at most 1000 names');
  return Object.freeze(
    items.map((v) => {
      if (typeof v !== 'string') throw new Error(`expected metric names, got ${JSON.stringify(v)}`);
      try {
        assertMetricName(v);
      } catch {
        throw new Error(`${JSON.stringify(v)} is not a metric name (letters, digits, _ and :, not starting with a digit)`);
      }
      return v;
    }),
  );
}

/** One other process whose /metrics Larder records. */
export interface ScrapeTargetConfig {
  /** http(s) URL of the exposition, e.g. `http://127.0.0.1:3000/metrics`. */
  readonly url: string;
  /** The `job` label. */
  readonly job: string;
  /** The `instance` label. @default the URL's host:port */
  readonly instance: string;
  /** Scrape interval in ms. @default the record interval (0 here means "use it") */
  readonly interval: number;
  /** Per-scrape timeout in ms. @default 10s, never above the interval */
  readonly timeout: number;
  /** Store samples at the timestamps the target exposes (`honor_timestamps`). @default true */
  readonly honorTimestamps: boolean;
  /** sample_limit, body_size_limit and the label limits. @default DEFAULT_SCRAPE_LIMITS */
  readonly limits: ScrapeLimits;
}

const TARGET_KEYS: readonly string[] = ['url', 'job', 'instance', 'interval', 'timeout', 'honor_timestamps', ...LIMIT_KEYS];

function durationField(raw: unknown, at: string): number {
  const ms = typeof raw === 'string' ? parseDuration(raw.trim()) : undefined;
  if (ms === undefined || ms < 100 || ms > 3_600_000) throw new Error(`${at}: expected a duration such as 15s or 1m, from 100ms to 1h`);
  return ms;
}

/** Validates the config file's `targets:` list. */
export function parseTargets(raw: unknown): readonly ScrapeTargetConfig[] {
  if (raw === null || raw === undefined || raw === '') return [];
  if (!Array.isArray(raw)) throw new Error('expected a list of {url, job, instance, interval, timeout, honor_timestamps}');
  const seen = new Set<string>();
  return Object.freeze(raw.map((item: unknown, i) => {
    const at = `targets[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new Error(`${at}: expected a mapping with url and job`);
    const obj = item as Record<string, unknown>;
    for (const key of Object.keys(obj)) if (!TARGET_KEYS.includes(key)) throw new Error(`${at}: unknown key "${key}" (allowed: ${TARGET_KEYS.join(', ')})`);
    const url = obj['url'];
    let parsed: URL;
    try {
      if (typeof url !== 'string') throw new Error('not a string');
      parsed = new URL(url);
    } catch {
      throw new Error(`${at}.url: expected an http(s) URL such as http://127.0.0.1:3000/metrics`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`${at}.url: only http and https are supported`);
    const job = obj['job'];
    if (typeof job !== 'string' || job === '') throw new Error(`${at}.job: expected a non-empty string`);
    const instance = obj['instance'] ?? parsed.host;
    if (typeof instance !== 'string' || instance === '') throw new Error(`${at}.instance: expected a non-empty string`);
    const interval = obj['interval'] === undefined ? 0 : durationField(obj['interval'], `${at}.interval`);
    const timeout = obj['timeout'] === undefined ? 10_000 : durationField(obj['timeout'], `${at}.timeout`);
    if (interval > 0 && timeout > interval) throw new Error(`${at}.timeout: must not exceed the interval (${formatDuration(interval)})`);
    const honorTimestamps = obj['honor_timestamps'] ?? true;
    if (typeof honorTimestamps !== 'boolean') throw new Error(`${at}.honor_timestamps: expected true or false`);
    const key = `${job}\u0000${instance}`;
    if (seen.has(key)) throw new Error(`${at}: job "${job}" instance "${instance}" is listed twice`);
    seen.add(key);
    return Object.freeze({ url: parsed.toString(), job, instance, interval, timeout, honorTimestamps, limits: parseTargetLimits(obj, at) });
  }));
}

/** 5- or 6-field cron expression (node-schedule's syntax); light check, node-schedule has the last word. */
function cron(): (raw: unknown) => string {
  return (raw) => {
    const s = String(raw).trim();
    const fields = s.split(/\s+/);
    if ((fields.length !== 5 && fields.length !== 6) || !fields.every((f) => /^[0-9*,\-/A-Za-z?LW#]+$/.test(f))) {
      throw new Error('expected a cron expression with 5 or 6 fields, e.g. "0 3 * * *"');
    }
    return s;
  };
}

export const recorderOptions = defineOptions({
  tiers: {
    flag: 'rollup.tiers',
    env: ['LARDER_ROLLUP_TIERS'],
    default: undefined as readonly Tier[] | undefined,
    help: 'rollup tiers as resolution:retention, finest first; default 5m:90d,1h:2y,1d:10y plus 1m:30d when the record interval is below 1m',
    parse: (raw: unknown): readonly Tier[] | undefined => (raw === '' ? undefined : parseTiers(String(raw))),
    show: (v: readonly Tier[] | undefined) => (v ? formatTiers(v) : 'auto'),
  },
  grace: {
    flag: 'rollup.grace',
    env: ['LARDER_ROLLUP_GRACE'],
    default: 120_000,
    help: 'how long a bucket stays open after its end for late samples (retried writes) before it is rolled up',
    parse: duration({ min: 0, max: 86_400_000 }),
    show: showDuration,
  },
  rollupCron: {
    flag: 'rollup.cron',
    env: ['LARDER_ROLLUP_CRON'],
    default: '20 2 */6 * * *',
    help: 'when the sub-daily tiers (1m, 5m, hourly) roll up the buckets that have closed (cron, seconds field allowed); PromQL reads raw samples past them. On SQLite each run rewrites a B-tree leaf per series and tier: fewer runs write less to disk (docs/cost.md)',
    parse: cron(),
  },
  hourlyCron: {
    flag: 'rollup.hourly-cron',
    env: ['LARDER_ROLLUP_HOURLY_CRON'],
    default: '0 * * * *',
    help: "the hourly run at the top of the hour (the seed cadence): fills the seed's metrics_hourly table",
    parse: cron(),
  },
  dailyCron: {
    flag: 'rollup.daily-cron',
    env: ['LARDER_ROLLUP_DAILY_CRON'],
    default: '0 3 * * *',
    help: 'the daily run: daily tier, retention of every tier, size cap and the daily_summaries row',
    parse: cron(),
  },
  maxBucketsPerRun: {
    flag: 'rollup.max-buckets-per-transaction',
    env: ['LARDER_ROLLUP_MAX_BUCKETS'],
    default: 288,
    help: 'buckets per rollup transaction when catching up, so a long catch-up commits in bounded steps',
    parse: int({ min: 1, max: 100_000 }),
  },
  targets: {
    flag: 'targets',
    default: [] as readonly ScrapeTargetConfig[],
    help: 'other processes whose /metrics are recorded: [{url, job, instance, interval, timeout, honor_timestamps (true), sample_limit (50000), body_size_limit (16MiB), label_limit, label_name_length_limit, label_value_length_limit}]',
    parse: parseTargets,
    show: (v: readonly ScrapeTargetConfig[]) => (v.length ? v.map((t) => t.url).join(',') : 'none'),
    fileOnly: true,
  },
  businessPrefix: {
    flag: 'rollup.business-prefix',
    env: ['LARDER_BUSINESS_PREFIX'],
    default: 'business_',
    help: 'counters whose name starts with this are business counters too (empty: none by prefix)',
    parse: str(),
  },
  businessCounters: {
    flag: 'rollup.business-counters',
    env: ['LARDER_BUSINESS_COUNTERS'],
    default: SEED_BUSINESS_COUNTERS,
    help: 'business counters by name (comma-separated), whose day totals the daily summary keeps, with the counters declared under business-metrics in the config file',
    parse: nameList,
    show: (v: readonly string[]) => v.join(','),
  },
});
