/**
 * Prometheus' per-target scrape limits: `body_size_limit` and `sample_limit` are
 * enforced while the body streams in (the request is aborted past either, nothing is
 * buffered beyond the cap), the label limits on the parsed series. Exceeding any fails
 * the whole scrape, as in Prometheus: `up` 0 and the limit named as the reason.
 * https://prometheus.io/docs/prometheus/latest/configuration/configuration/#scrape_config
 */
import type { MetricFamily } from '../../exporters/metric-family.js';

/** A target's limits; 0 means none. */
export interface ScrapeLimits {
  /** Most samples one scrape may hold. @default 50000 */
  readonly sampleLimit: number;
  /** Most labels one series may carry, counting `__name__`, `job` and `instance`. @default 0 */
  readonly labelLimit: number;
  /** Longest label name, in bytes. @default 0 */
  readonly labelNameLengthLimit: number;
  /** Longest label value (the metric name included, as `__name__`), in bytes. @default 0 */
  readonly labelValueLengthLimit: number;
  /** Largest body, in bytes after decompression. @default 16 MiB */
  readonly bodySizeLimit: number;
}

/**
 * Applied to every target that does not set its own: an unconfigured Larder must not
 * be exhausted by one runaway target. 50 000 samples parse in about 0.2 s and a large
 * service exposes well under that; 16 MiB leaves 300+ bytes a sample line.
 */
export const DEFAULT_SCRAPE_LIMITS: ScrapeLimits = Object.freeze({
  sampleLimit: 50_000,
  labelLimit: 0,
  labelNameLengthLimit: 0,
  labelValueLengthLimit: 0,
  bodySizeLimit: 16 * 1024 * 1024,
});

/** Which limit a scrape exceeded; the config key's name, also the `reason` label. */
export type LimitName = 'body_size_limit' | 'sample_limit' | 'label_limit' | 'label_name_length_limit' | 'label_value_length_limit';

/** A scrape that exceeded one of its limits. */
export class ScrapeLimitError extends Error {
  override readonly name = 'ScrapeLimitError';
  constructor(
    readonly limit: LimitName,
    message: string,
  ) {
    super(message);
  }
}

const NEWLINE = 0x0a;
const HASH = 0x23;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;

/**
 * Counts sample lines (not blank, not a `#` comment) of a body arriving in chunks,
 * so `sample_limit` is enforced before the body is complete or parsed. In both
 * exposition formats every such line is exactly one sample.
 */
export class SampleLineCounter {
  /** Sample lines seen so far. */
  count = 0;
  // true while at the start of a line, before its first non-blank byte
  private atStart = true;

  /** Feeds one chunk; returns the count so far. */
  push(chunk: Uint8Array): number {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.atStart) {
        const b = chunk[i]!;
        if (b === SPACE || b === TAB || b === CR) {
          i++;
          continue;
        }
        this.atStart = false;
        if (b === NEWLINE) {
          this.atStart = true;
          i++;
          continue;
        }
        if (b !== HASH) this.count++;
      }
      const nl = chunk.indexOf(NEWLINE, i);
      if (nl < 0) return this.count;
      i = nl + 1;
      this.atStart = true;
    }
    return this.count;
  }
}

/**
 * Reads a response body, aborting (which cancels the request) as soon as it passes
 * `bodySizeLimit` bytes or `sampleLimit` sample lines. A Content-Length above the
 * limit fails before any byte is read. Returns bytes, not text: the parser checks the
 * UTF-8 itself, so nothing is replaced by U+FFFD first.
 */
export async function readLimitedBody(res: Response, limits: ScrapeLimits): Promise<Uint8Array> {
  const { bodySizeLimit, sampleLimit } = limits;
  // Content-Length counts compressed bytes when the body is encoded; the limit is on what is decoded
  const declared = res.headers.get('content-encoding') ? NaN : Number(res.headers.get('content-length') ?? NaN);
  if (bodySizeLimit > 0 && declared > bodySizeLimit) {
    await res.body?.cancel();
    throw new ScrapeLimitError('body_size_limit', `body size limit exceeded: Content-Length ${declared} bytes > body_size_limit ${bodySizeLimit}`);
  }
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  const lines = new SampleLineCounter();
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (bodySizeLimit > 0 && total > bodySizeLimit) throw new ScrapeLimitError('body_size_limit', `body size limit exceeded: more than ${bodySizeLimit} bytes (body_size_limit)`);
      if (sampleLimit > 0 && lines.push(value) > sampleLimit) throw new ScrapeLimitError('sample_limit', `sample limit exceeded: more than ${sampleLimit} samples (sample_limit)`);
      chunks.push(value);
    }
  } catch (err) {
    // drops the connection instead of draining the rest of the body
    await reader.cancel().catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks);
}

function byteLength(s: string, limit: number): number {
  // a UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no encoding
  return s.length * 3 <= limit ? s.length : Buffer.byteLength(s, 'utf8');
}

/** Quotes at most 50 characters of a value for an error message. */
function short(s: string): string {
  return JSON.stringify(s.length > 50 ? `${s.slice(0, 50)}…` : s);
}

/**
 * Checks the parsed scrape against the sample and label limits, as Prometheus does
 * on the final label set (the target's `job` and `instance` counted in). Throws a
 * ScrapeLimitError naming the first offending series.
 */
export function checkSeriesLimits(families: readonly MetricFamily[], limits: ScrapeLimits, target: { job: string; instance: string }): void {
  const { sampleLimit, labelLimit, labelNameLengthLimit: nameMax, labelValueLengthLimit: valueMax } = limits;
  if (sampleLimit > 0) {
    const count = families.reduce((n, f) => n + f.samples.length, 0);
    if (count > sampleLimit) throw new ScrapeLimitError('sample_limit', `sample limit exceeded: ${count} samples > sample_limit ${sampleLimit}`);
  }
  if (labelLimit <= 0 && nameMax <= 0 && valueMax <= 0) return;
  const targetLabels: [string, string][] = [['job', target.job], ['instance', target.instance]];
  for (const f of families) {
    for (const s of f.samples) {
      const own = Object.entries(s.labels);
      // a series' own job/instance is kept as exported_job/exported_instance beside the target's
      const count = own.length + 1 + targetLabels.length;
      if (labelLimit > 0 && count > labelLimit) {
        throw new ScrapeLimitError('label_limit', `label_limit exceeded: metric ${short(s.name)} has ${count} labels > label_limit ${labelLimit}`);
      }
      for (const [name, value] of [['__name__', s.name] as [string, string], ...own, ...targetLabels]) {
        if (nameMax > 0 && byteLength(name, nameMax) > nameMax) {
          throw new ScrapeLimitError('label_name_length_limit', `label_name_length_limit exceeded: metric ${short(s.name)}, label name ${short(name)} is ${byteLength(name, 0)} bytes > ${nameMax}`);
        }
        if (valueMax > 0 && byteLength(value, valueMax) > valueMax) {
          throw new ScrapeLimitError('label_value_length_limit', `label_value_length_limit exceeded: metric ${short(s.name)}, label ${short(name)} value is ${byteLength(value, 0)} bytes > ${valueMax}`);
        }
      }
    }
  }
}
