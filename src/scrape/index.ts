/** Scrape targets: every configured target on its own timer, isolated from the others. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ScrapeTargetConfig } from '../options/recorder.js';
import type { Logger } from '../log.js';
import { ScrapeTarget, type ScrapeResult, type ScrapeSink, type TargetSpec } from './target.js';

export { scrapeOnce, formatOf, SCRAPE_ACCEPT, ScrapeTarget, type FailureReason, type ScrapeResult, type ScrapeSink, type TargetSpec } from './target.js';
export { DEFAULT_SCRAPE_LIMITS, ScrapeLimitError, type LimitName, type ScrapeLimits } from './limits.js';

/**
 * Turns configured targets into specs; a target without an interval uses the record
 * interval. Exposed timestamps are honoured unless the target says
 * `honor_timestamps: false`, up to `graceMs` old (the rollup grace, so a kept sample
 * still reaches the tiers).
 */
export function targetSpecs(targets: readonly ScrapeTargetConfig[], recordIntervalMs: number, graceMs = 120_000): TargetSpec[] {
  return targets.map((t) => {
    const intervalMs = t.interval > 0 ? t.interval : recordIntervalMs;
    const timestamps = t.honorTimestamps === false ? { honorTimestamps: false } : {};
    return { url: t.url, job: t.job, instance: t.instance, intervalMs, timeoutMs: Math.min(t.timeout, intervalMs), ...timestamps, maxTimestampAgeMs: graceMs, limits: t.limits };
  });
}

/** Running scrape targets. */
export interface ScrapeManager {
  readonly targets: readonly ScrapeTarget[];
  stop(): Promise<void>;
}

/**
 * Starts every target. `larder_scrape_target_up{job,instance}` on the registry shows
 * each target's state on /metrics too, and `larder_scrape_target_failures_total{job,
 * instance,reason}` counts failed scrapes by why (a limit's name, timeout, http_status,
 * connection, malformed), as Prometheus' `prometheus_target_scrapes_exceeded_*_total` do.
 */
export function startScrapeTargets(opts: { specs: readonly TargetSpec[]; sink: ScrapeSink; registry: Registry; log: Logger; now?: () => number }): ScrapeManager {
  const upGauge = new Gauge({ name: 'larder_scrape_target_up', help: 'Whether the last scrape of a recorded target succeeded.', labelNames: ['job', 'instance'], registers: [opts.registry] });
  const duplicates = new Counter({
    name: 'larder_scrape_target_samples_duplicate_total',
    help: 'Samples a recorded target repeated (same series and time in one scrape); the first was kept, these dropped.',
    labelNames: ['job', 'instance'],
    registers: [opts.registry],
  });
  const outOfBounds = new Counter({
    name: 'larder_scrape_target_samples_out_of_bounds_total',
    help: 'Samples of a recorded target dropped because their exposed timestamp was older than the rollup grace or over 10 minutes ahead.',
    labelNames: ['job', 'instance'],
    registers: [opts.registry],
  });
  const failures = new Counter({ name: 'larder_scrape_target_failures_total', help: 'Failed scrapes of a recorded target, by reason (an exceeded limit, timeout, http_status, connection, malformed).', labelNames: ['job', 'instance', 'reason'], registers: [opts.registry] });
  const onResult = (s: TargetSpec, r: ScrapeResult): void => {
    const labels = { job: s.job, instance: s.instance };
    upGauge.set(labels, r.up ? 1 : 0);
    duplicates.inc(labels, r.duplicates);
    outOfBounds.inc(labels, r.outOfBounds);
    if (r.reason !== undefined) failures.inc({ ...labels, reason: r.reason });
  };
  const targets = opts.specs.map((spec) => new ScrapeTarget(spec, opts.sink, opts.log, opts.now ?? Date.now, onResult));
  for (const t of targets) t.start();
  return {
    targets,
    async stop() {
      await Promise.all(targets.map((t) => t.stop()));
    },
  };
}
