/**
 * The recording side of Larder, wired from the config: the recorder (registry →
 * store every record interval), the scrape targets, and the rollup schedules
 * (sub-daily tiers as their buckets close, an hourly catch-up at the top of the hour,
 * and at 03:00 the daily tier, retention and the daily summary; the size cap every 10 s).
 */
import type { Registry } from 'prom-client';
import type { Store } from '../../storage/store.js';
import type { Snapshot } from '../exposition/snapshot.js';
import { RollupEngine } from '../../rollup/engine.js';
import { applyRetention, applySizeCap, retentionTargets } from '../../rollup/retention.js';
import { buildDailySummary, utcDate } from '../../rollup/summary.js';
import { SEED_BUSINESS_METRICS } from '../../exporters/business/business-metrics.js';
import { resolveTiers, type Tier } from '../../rollup/tiers.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { SIZE_CAP_CRON, SizeCapJob } from '../scheduler/size-cap.js';
import { startScrapeTargets, targetSpecs, type ScrapeManager } from '../scrape/index.js';
import { Recorder } from './recorder.js';
import { onceAcrossHosts, ownLabels } from './hosts.js';

export { Recorder, type RecorderOptions } from './recorder.js';
export { onceAcrossHosts, ownLabels } from './hosts.js';
export { SeriesCache, flattenFamilies, seriesKey, type FlatSample } from './series-cache.js';

const DAY = 86_400_000;

/** What startRecording needs. */
export interface RecordingOptions {
  readonly registry: Registry;
  readonly store: Store;
  readonly config: Pick<Config, 'storage' | 'recorder' | 'app' | 'identity'>;
  readonly log: Logger;
  /** The clock. @default Date.now */
  readonly now?: () => number;
  /** Start the timers and schedules (false: build everything, run jobs by hand). @default true */
  readonly schedule?: boolean;
  /** What each record takes (see RecorderOptions.collect). @default a snapshot of `registry` */
  readonly collect?: () => Promise<Snapshot>;
}

/** The running recording side. */
export interface Recording {
  readonly recorder: Recorder;
  readonly engine: RollupEngine;
  readonly scheduler: Scheduler;
  readonly scrape: ScrapeManager;
  readonly tiers: readonly Tier[];
  /** The jobs, callable directly (each never overlaps itself when scheduled too). */
  readonly jobs: { readonly rollup: () => Promise<void>; readonly hourly: () => Promise<void>; readonly daily: () => Promise<void>; readonly sizeCap: () => Promise<void> };
  /** Stops schedules, targets and the recorder; flushes the batch in flight. */
  stop(): Promise<void>;
}

/** The daily job's work, outside the scheduler so tests can call it with a fixed clock. */
export async function dailyMaintenance(opts: {
  store: Store;
  engine: RollupEngine;
  tiers: readonly Tier[];
  rawRetentionDays: number;
  maxBytes: number;
  /** Counters whose name starts with this are business counters ('' = none by prefix). */
  businessPrefix: string;
  /** Business counters by name, whatever their prefix. @default [] */
  businessCounters?: Iterable<string>;
  nowMs: number;
  log: Logger;
}): Promise<void> {
  const { store, engine, tiers, nowMs, log } = opts;
  await engine.run();
  const watermarks = new Map<string, number | undefined>();
  for (const t of tiers) watermarks.set(t.name, await engine.watermark(t.name));
  const targets = retentionTargets(tiers, opts.rawRetentionDays * DAY, watermarks);
  const dropped = await applyRetention(store, targets, nowMs);
  // The seed's own tables (metrics_raw, metrics_hourly, resolved alerts); only once the
  // first tier has passed the raw cut, since this also drops raw chunks by age.
  const firstWm = tiers[0] ? watermarks.get(tiers[0].name) : undefined;
  if (firstWm !== undefined && firstWm >= nowMs - opts.rawRetentionDays * DAY) await store.cleanupOldMetrics(opts.rawRetentionDays);
  // PostgreSQL: raw chunks the first tier has rolled up are packed (storage/pg-pack.ts).
  if (firstWm !== undefined && store.packClosedChunks !== undefined) {
    const packed = await store.packClosedChunks(firstWm);
    if (packed.length > 0) log.info('packed raw chunks', { chunks: packed.length });
  }
  const capped = (await applySizeCap(store, targets, opts.maxBytes, nowMs)).dropped;
  if (capped.length > 0 && store.dialect === 'sqlite') await store.optimize(); // VACUUM gives the pages back to the disk
  if (dropped.length + capped.length > 0) log.info('retention dropped chunks', { byAge: dropped.length, bySizeCap: capped.length });
  // Summaries of the finished days the finest tier covers, up to a week back.
  const finest = tiers[0];
  const wm = finest ? watermarks.get(finest.name) : undefined;
  if (!finest || wm === undefined) return;
  // date is TEXT on SQLite and a date on PostgreSQL (which the driver would turn into a local-time Date).
  const last = await store.query<{ date: unknown }>(`SELECT max(date)${store.dialect === 'postgresql' ? '::text' : ''} AS date FROM daily_summaries`);
  const lastDate = last[0]?.date ? String(last[0].date).slice(0, 10) : undefined;
  const chunks = await store.listChunks(`rollup_${finest.name}`);
  for (let day = Math.floor(nowMs / DAY) * DAY - 7 * DAY; day + DAY <= Math.min(wm, Math.floor(nowMs / DAY) * DAY); day += DAY) {
    if (lastDate !== undefined && utcDate(day) <= lastDate) continue;
    const names = chunks.filter((c) => c.endMs > day && c.startMs < day + DAY).map((c) => c.name);
    if (names.length === 0) continue;
    const summary = await buildDailySummary(store, { tier: finest.name, chunks: names, dayStart: day, businessPrefix: opts.businessPrefix, businessCounters: opts.businessCounters ?? [] });
    await store.saveDailySummary(summary.date, summary);
  }
}

/**
 * The business counters the daily summary totals by name: `--rollup.business-counters`
 * (by default the seed's: recipes_created_total, searches_total,
 * user_registrations_total) and the counters the config file declares under
 * `business-metrics`. Names are enough: the counters may come from a scrape target.
 */
export function businessCounterNames(config: Pick<Config, 'recorder' | 'app'>): Set<string> {
  const names = new Set(config.recorder.businessCounters);
  for (const d of config.app.businessMetrics) if (d.type === 'counter') names.add(d.name);
  return names;
}

/**
 * Starts the recorder, the scrape targets and the rollup schedules. Throws on a bad
 * schedule; nothing it starts rejects later (failures are logged and counted).
 */
export function startRecording(opts: RecordingOptions): Recording {
  const { registry, store, config, log } = opts;
  const now = opts.now ?? Date.now;
  const recordInterval = config.storage.recordInterval;
  const tiers = resolveTiers(config.recorder.tiers, recordInterval);
  const recorder = new Recorder({
    registry,
    store,
    log: log.child('recorder'),
    intervalMs: recordInterval,
    now,
    ownLabels: ownLabels(config.identity),
    externalLabels: config.identity.externalLabels,
    // the rule evaluator writes these itself, at evaluation times (src/alerting/)
    exclude: new Set(['ALERTS', 'ALERTS_FOR_STATE']),
    ...(opts.collect ? { collect: opts.collect } : {}),
  });
  const engine = new RollupEngine({ store, tiers, graceMs: config.recorder.grace, maxBucketsPerTransaction: config.recorder.maxBucketsPerRun, now, instance: config.identity.instance });
  const scheduler = new Scheduler(registry, log.child('scheduler'));
  const businessCounters = businessCounterNames(config);
  const subDaily = tiers.filter((t) => t.resolutionMs < DAY).reduce((m, t) => Math.max(m, t.resolutionMs), 0);
  // Jobs that read or drop chunks run one at a time: the size cap or retention dropping
  // a chunk under a rollup in progress would fail it ("no such table").
  let maintenance: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = maintenance.then(fn);
    maintenance = run.catch(() => undefined);
    return run;
  };
  const rollupLog = log.child('rollup');
  // A spool still holding samples (PostgreSQL was out of reach) is forwarded first: the
  // rollup waits, so this host's watermarks never pass samples still on their way.
  const spoolDrained = async (): Promise<boolean> => {
    const depth = await store.spoolDepth();
    if (depth === 0 && store.spooling?.() !== true) return true;
    rollupLog.once('rollup:spool', 'info', 'rollup waits: the local spool still holds samples for PostgreSQL', { spooled: depth });
    return false;
  };
  const jobs = {
    rollup: () =>
      exclusive(async () => {
        if (await spoolDrained()) await engine.run(subDaily);
      }),
    hourly: () =>
      exclusive(async () => {
        if (!(await spoolDrained())) return;
        // the seed's metrics_hourly keeps being filled, by one host at a time (the tiers
        // roll up on --rollup.cron: a run here too would rewrite their leaves once more)
        await onceAcrossHosts(store, 'hourly', () => store.aggregateHourlyMetrics());
      }),
    daily: () =>
      exclusive(async () => {
        if (!(await spoolDrained())) return;
        await engine.run();
        // Retention, the size cap's drop and the daily summary: by one host at a time.
        await onceAcrossHosts(store, 'daily', () => dailyMaintenance({
        store,
        engine,
        tiers,
        rawRetentionDays: config.storage.retentionDays,
        maxBytes: 0, // the size-cap job keeps the cap (logged and counted there)
        businessPrefix: config.recorder.businessPrefix,
        businessCounters,
        nowMs: now(),
        log: log.child('retention'),
      }));
      }),
  };
  const scheduled = opts.schedule ?? true;
  scheduler.add('rollup', scheduled ? config.recorder.rollupCron : undefined, jobs.rollup);
  scheduler.add('rollup-hourly', scheduled ? config.recorder.hourlyCron : undefined, jobs.hourly);
  scheduler.add('rollup-daily', scheduled ? config.recorder.dailyCron : undefined, jobs.daily);
  const sizeCap = new SizeCapJob({
    store,
    tiers,
    watermark: (tier) => engine.watermark(tier),
    rawRetentionMs: config.storage.retentionDays * DAY,
    maxBytes: config.storage.maxBytes,
    registry,
    log: log.child('size-cap'),
    now,
  });
  scheduler.add('size-cap', scheduled && config.storage.maxBytes > 0 ? SIZE_CAP_CRON : undefined, () => exclusive(() => sizeCap.run()));
  const scrape = startScrapeTargets({
    specs: scheduled ? targetSpecs(config.recorder.targets, recordInterval, config.recorder.grace) : [],
    sink: (families, timeMs, labels) => recorder.submit(families, timeMs, labels),
    registry,
    log: log.child('scrape'),
    now,
  });
  if (scheduled) recorder.start();
  return {
    recorder,
    engine,
    scheduler,
    scrape,
    tiers,
    jobs: { rollup: () => scheduler.run('rollup'), hourly: () => scheduler.run('rollup-hourly'), daily: () => scheduler.run('rollup-daily'), sizeCap: () => scheduler.run('size-cap') },
    async stop() {
      await scheduler.stop();
      await scrape.stop();
      await recorder.stop();
    },
  };
}
