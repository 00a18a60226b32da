/**
 * One scrape target: another process's /metrics, fetched on an interval with a
 * timeout, parsed (Prometheus text or OpenMetrics, as the response says), labelled
 * with job and instance, and handed to the recorder with Prometheus' synthetic
 * series `up`, `scrape_duration_seconds` and `scrape_samples_scraped`. A target that
 * is down, slow or sends garbage is recorded as `up 0`, its reason logged once.
 * Samples keep the timestamps the target exposes unless `honorTimestamps` is false;
 * a repeated series keeps the scrape, its repeats dropped and counted (sample-times.ts).
 */
import { parseExposition, type ExpositionFormat } from '../../exporters/text-parser.js';
import type { MetricFamily } from '../../exporters/metric-family.js';
import type { Labels } from '../../storage/store.js';
import type { Logger } from '../log.js';
import { settleSamples } from './sample-times.js';
import { redactSecrets } from '../redact.js';
import { checkSeriesLimits, DEFAULT_SCRAPE_LIMITS, readLimitedBody, ScrapeLimitError, type LimitName, type ScrapeLimits } from './limits.js';

/** What Prometheus sends: OpenMetrics preferred, then the text format. */
export const SCRAPE_ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.9,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** A target's settings. */
export interface TargetSpec {
  readonly url: string;
  readonly job: string;
  readonly instance: string;
  /** ms */
  readonly intervalMs: number;
  /** ms; at most the interval. */
  readonly timeoutMs: number;
  /** Store samples at the timestamps the target exposes (Prometheus' honor_timestamps). @default true */
  readonly honorTimestamps?: boolean;
  /** Oldest exposed timestamp kept, as an age at scrape time (ms): the rollup grace, so every kept sample reaches the tiers. @default 120_000 */
  readonly maxTimestampAgeMs?: number;
  /** sample_limit, body_size_limit and the label limits. @default DEFAULT_SCRAPE_LIMITS */
  readonly limits?: ScrapeLimits;
}

/** Why a scrape failed: a limit's name, or the kind of failure; the `reason` label. */
export type FailureReason = LimitName | 'timeout' | 'http_status' | 'connection' | 'malformed';

/** Exposed timestamps further ahead of the scrape time than this are dropped (a target with a wrong clock). */
export const MAX_TIMESTAMP_AHEAD_MS = 10 * 60_000;

/** The outcome of one scrape. */
export interface ScrapeResult {
  readonly up: boolean;
  /** Why the scrape failed (undefined when up). */
  readonly error?: string;
  /** The kind of failure (undefined when up). */
  readonly reason?: FailureReason;
  readonly durationSeconds: number;
  /** The target's families (empty when down) plus up/scrape_duration_seconds/scrape_samples_scraped. */
  readonly families: MetricFamily[];
  /** Samples dropped because the target repeated a series at one time (the first is kept). */
  readonly duplicates: number;
  /** Samples dropped because their exposed timestamp was too old or too far ahead. */
  readonly outOfBounds: number;
}

/** A response with a status other than 2xx. */
class HttpStatusError extends Error {}

/** The format of a response from its Content-Type. */
export function formatOf(contentType: string | null): ExpositionFormat {
  return contentType !== null && /^\s*application\/openmetrics-text/i.test(contentType) ? 'openmetrics' : 'text';
}

function synthetic(up: boolean, durationSeconds: number, samples: number): MetricFamily[] {
  const g = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'gauge', samples: [{ name, labels: {}, value }] });
  return [
    g('up', 'Whether the last scrape of the target succeeded (1) or not (0).', up ? 1 : 0),
    g('scrape_duration_seconds', 'Duration of the last scrape of the target.', durationSeconds),
    g('scrape_samples_scraped', 'Samples the target exposed in the last scrape.', samples),
  ];
}

/**
 * Scrapes once. Never rejects: every failure (connection refused, timeout, HTTP
 * status, malformed exposition) becomes `up: false` with the reason.
 */
export async function scrapeOnce(spec: TargetSpec, now: () => number = Date.now): Promise<ScrapeResult> {
  const start = now();
  let families: MetricFamily[] = [];
  let exposed = 0;
  let duplicates = 0;
  let outOfBounds = 0;
  let error: string | undefined;
  let reason: FailureReason | undefined;
  const limits = spec.limits ?? DEFAULT_SCRAPE_LIMITS;
  try {
    const res = await fetch(spec.url, {
      headers: { Accept: SCRAPE_ACCEPT, 'X-Prometheus-Scrape-Timeout-Seconds': String(spec.timeoutMs / 1000) },
      signal: AbortSignal.timeout(spec.timeoutMs),
      redirect: 'follow',
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new HttpStatusError(`HTTP status ${res.status} ${res.statusText}`.trim());
    }
    const body = await readLimitedBody(res, limits);
    const parsed = parseExposition(body, formatOf(res.headers.get('content-type')));
    checkSeriesLimits(parsed, limits, spec);
    exposed = parsed.reduce((n, f) => n + f.samples.length, 0);
    const policy = { honor: spec.honorTimestamps ?? true, scrapeTimeMs: Math.round(start), maxAgeMs: spec.maxTimestampAgeMs ?? 120_000, maxAheadMs: MAX_TIMESTAMP_AHEAD_MS };
    ({ families, duplicates, outOfBounds } = settleSamples(parsed, policy));
  } catch (err) {
    families = [];
    ({ error, reason } = describeFailure(err, spec));
  }
  const durationSeconds = (now() - start) / 1000;
  const up = error === undefined;
  return error === undefined
    ? { up, durationSeconds, families: [...families, ...synthetic(up, durationSeconds, exposed)], duplicates, outOfBounds }
    : { up, error, reason: reason ?? 'connection', durationSeconds, families: synthetic(up, durationSeconds, 0), duplicates: 0, outOfBounds: 0 };
}

/** The message and kind of a failed scrape. */
function describeFailure(err: unknown, spec: TargetSpec): { error: string; reason: FailureReason } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e instanceof ScrapeLimitError) return { error: e.message, reason: e.limit };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { error: `timeout after ${spec.timeoutMs} ms`, reason: 'timeout' };
  if (e.name === 'ExpositionParseError') return { error: `malformed exposition: ${e.message}`, reason: 'malformed' };
  if (e instanceof HttpStatusError) return { error: e.message, reason: 'http_status' };
  return { error: e.cause?.code ? `${e.message}: ${e.cause.code}` : e.message, reason: 'connection' };
}

/** Where a target's results go (the recorder's submit). */
export type ScrapeSink = (families: readonly MetricFamily[], timeMs: number, labels: Labels) => Promise<void>;

/** A target scraped on its own timer, never overlapping itself. */
export class ScrapeTarget {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  // the kind of failure last logged, so a failure is logged once per change
  private loggedReason: FailureReason | undefined;
  /** The last result, for status pages and tests. */
  last: ScrapeResult | undefined;

  constructor(
    readonly spec: TargetSpec,
    private readonly sink: ScrapeSink,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly onResult?: (spec: TargetSpec, result: ScrapeResult) => void,
  ) {}

  /** The labels every series of this target carries. */
  get labels(): Labels {
    return { job: this.spec.job, instance: this.spec.instance };
  }

  /** Scrapes now (unless a scrape is running) and hands the result to the sink. Never rejects. */
  scrape(): Promise<void> {
    if (this.running) return this.running;
    const run = (async () => {
      const timeMs = Math.round(this.now());
      const result = await scrapeOnce(this.spec, this.now);
      this.last = result;
      const key = `scrape:${this.spec.job}:${this.spec.instance}`;
      this.logChange(result);
      this.onResult?.(this.spec, result);
      try {
        await this.sink(result.families, timeMs, this.labels);
      } catch (err) {
        this.log.once(`${key}:sink`, 'error', 'recording a scrape failed', { job: this.spec.job, error: err as Error });
      }
    })().finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Logs a failure once per change of its kind, and the recovery once. */
  private logChange(result: ScrapeResult): void {
    if (result.up) {
      if (this.loggedReason !== undefined) this.log.info('scrape target is up again', { job: this.spec.job, instance: this.spec.instance });
      this.loggedReason = undefined;
    } else if (result.reason !== this.loggedReason) {
      this.loggedReason = result.reason;
      this.log.warn('scrape target down', { job: this.spec.job, instance: this.spec.instance, url: redactSecrets(this.spec.url), reason: result.error });
    }
    const key = `scrape:${this.spec.job}:${this.spec.instance}`;
    if (result.duplicates > 0) {
      this.log.once(`${key}:duplicates`, 'warn', 'scrape target repeats series: the first sample of each was kept, the repeats dropped', { job: this.spec.job, instance: this.spec.instance, dropped: result.duplicates });
    }
    if (result.outOfBounds > 0) {
      const hint = 'timestamps older than --rollup.grace or over 10 min ahead are dropped; set honor_timestamps: false on the target to use the scrape time';
      this.log.once(`${key}:out-of-bounds`, 'warn', 'scrape target exposes timestamps out of bounds: those samples were dropped', { job: this.spec.job, instance: this.spec.instance, dropped: result.outOfBounds, hint });
    }
  }

  /** Scrapes at once, then every interval. */
  start(): void {
    if (this.timer) return;
    void this.scrape();
    this.timer = setInterval(() => void this.scrape(), this.spec.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a scrape in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
