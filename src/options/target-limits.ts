/** The per-target scrape limits of the config file's `targets:` entries, Prometheus' keys and meanings. */
import { DEFAULT_SCRAPE_LIMITS, type ScrapeLimits } from '../scrape/limits.js';
import { bytes } from './option.js';

/** The limit keys a target may set. */
export const LIMIT_KEYS = ['sample_limit', 'label_limit', 'label_name_length_limit', 'label_value_length_limit', 'body_size_limit'] as const;

const COUNTS = {
  sample_limit: 'sampleLimit',
  label_limit: 'labelLimit',
  label_name_length_limit: 'labelNameLengthLimit',
  label_value_length_limit: 'labelValueLengthLimit',
} as const;

function count(raw: unknown, at: string): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${at}: expected a whole number, 0 for no limit`);
  return n;
}

/**
 * Reads a target's limits; a key not given keeps its default (DEFAULT_SCRAPE_LIMITS:
 * sample_limit 50000, body_size_limit 16MiB, the label limits off). 0 turns a limit off.
 */
export function parseTargetLimits(obj: Readonly<Record<string, unknown>>, at: string): ScrapeLimits {
  const limits: { -readonly [K in keyof ScrapeLimits]: number } = { ...DEFAULT_SCRAPE_LIMITS };
  for (const [key, field] of Object.entries(COUNTS)) {
    if (obj[key] !== undefined) limits[field] = count(obj[key], `${at}.${key}`);
  }
  const body = obj['body_size_limit'];
  if (body !== undefined) {
    try {
      limits.bodySizeLimit = bytes()(body);
    } catch (err) {
      throw new Error(`${at}.body_size_limit: ${(err as Error).message}`);
    }
  }
  return Object.freeze(limits);
}
