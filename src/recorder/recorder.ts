/**
 * The recorder: a periodic reader (in opentelemetry-js' sense) that takes one
 * snapshot of the registry /metrics serves and writes every sample in one batch with
 * one timestamp. Scrape targets hand their results to the same write queue. A series
 * missing from its source's next snapshot gets a stale marker (source-series.ts).
 * A failed write is kept and retried (a bounded buffer, oldest batch dropped and
 * counted when full); nothing here ever rejects into the caller's event loop.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MetricFamily } from '../../exporters/metric-family.js';
import type { Labels, Sample, Store } from '../../storage/store.js';
import { staleNaN } from '../../storage/stale.js';
import { collectSnapshot, type Snapshot } from '../exposition/snapshot.js';
import type { Logger } from '../log.js';
import { seriesKey, SeriesCache } from './series-cache.js';
import { SourceSeries, type SourceReport, type SourceSeriesEntry } from './source-series.js';

/** What the recorder needs. */
export interface RecorderOptions {
  /** The registry /metrics serves; its metrics and the recorder's own are recorded. */
  readonly registry: Registry;
  readonly store: Pick<Store, 'resolveSeries' | 'writeSamples'>;
  readonly log: Logger;
  /** Record interval, ms. @default 60_000 */
  readonly intervalMs?: number;
  /**
   * Delay of the first record after start(), ms (never more than the interval), so a
   * store has data seconds after start-up rather than one full interval later.
   * @default 1000
   */
  readonly firstRecordDelayMs?: number;
  /** Most samples kept for retry while the store fails; the oldest batches go first. @default 500_000 */
  readonly maxBufferedSamples?: number;
  /** The clock (epoch ms). @default Date.now */
  readonly now?: () => number;
  /**
   * What one record takes instead of the registry alone: under a cluster, the cluster
   * view's merged snapshot, so the one instance that records stores every instance's
   * metrics once. @default a snapshot of `registry`
   */
  readonly collect?: () => Promise<Snapshot>;
  /**
   * Labels of the registry's own series (`{job: 'larder', instance}`), winning over a
   * sample's own as a scrape's job and instance do (the sample's go to `exported_*`).
   * @default none
   */
  readonly ownLabels?: Labels;
  /** Added to every series recorded (the registry's and submitted ones) that lacks them. @default none */
  readonly externalLabels?: Labels;
  /**
   * Metric names of the registry that another writer puts in the store (the rule
   * evaluator's ALERTS and ALERTS_FOR_STATE, at evaluation times), left out of each
   * record so that each series has one writer. @default none
   */
  readonly exclude?: ReadonlySet<string>;
}

/**
 * A snapshot waiting to be written. `samples` is set once its series have ids; until
 * then (the store failed while resolving them) `report` keeps the values, and the ids are
 * looked up again before the write.
 */
interface Batch {
  readonly timeMs: number;
  /** Samples in it (the retry buffer's unit). */
  readonly count: number;
  samples?: Sample[];
  report?: SourceReport;
}

/** The staleness source of the registry's snapshots (a target's is `target` + its labels' key). */
const REGISTRY_SOURCE = 'registry';

/** Samples flattened between two turns of the event loop (recorder.queue). */
const SLICE_SAMPLES = 300;

/** Resolves after the event loop has run what is due (timers, I/O, requests). */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records a registry (and whatever else is submitted) into a store. */
export class Recorder {
  private readonly store: Pick<Store, 'resolveSeries' | 'writeSamples'>;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly firstDelayMs: number;
  private readonly maxBuffered: number;
  private readonly now: () => number;
  private readonly collect: () => Promise<Snapshot>;
  private readonly cache: SeriesCache;
  /** Each source's series from one report to the next (its stale markers, and no per-sample objects when steady). */
  private readonly sources = new Map<string, SourceSeries>();
  private readonly ownLabels: Labels | undefined;
  private readonly externalLabels: Labels | undefined;
  private readonly exclude: ReadonlySet<string>;
  /** Batches waiting to be written, oldest first. */
  private readonly pending: Batch[] = [];
  private pendingSamples = 0;
  /** The write loop in flight, if any; writes are serialized through it. */
  private flushing: Promise<void> | undefined;
  private ticking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Timestamp of the last registry snapshot, so the stop's markers come after it. */
  private lastTickMs = 0;

  private readonly written: Counter;
  private readonly batches: Counter;
  private readonly errors: Counter;
  private readonly dropped: Counter;
  private readonly skipped: Counter;
  private readonly duration: Histogram;
  private readonly lag: Gauge;
  private readonly buffered: Gauge;

  constructor(opts: RecorderOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.firstDelayMs = Math.max(0, Math.min(opts.firstRecordDelayMs ?? 1000, this.intervalMs));
    this.maxBuffered = opts.maxBufferedSamples ?? 500_000;
    this.now = opts.now ?? Date.now;
    this.collect = opts.collect ?? (() => collectSnapshot(opts.registry));
    this.cache = new SeriesCache(opts.store);
    this.ownLabels = opts.ownLabels;
    this.externalLabels = opts.externalLabels;
    this.exclude = opts.exclude ?? new Set();
    const registers = [opts.registry];
    this.written = new Counter({ name: 'larder_recorder_samples_written_total', help: 'Samples written to the store by the recorder.', registers });
    this.batches = new Counter({ name: 'larder_recorder_batches_total', help: 'Batches written to the store by the recorder.', registers });
    this.errors = new Counter({ name: 'larder_recorder_errors_total', help: 'Failed recorder steps (collect or write); a failed write is retried.', labelNames: ['stage'], registers });
    this.dropped = new Counter({ name: 'larder_recorder_samples_dropped_total', help: 'Samples dropped because the retry buffer was full.', registers });
    this.skipped = new Counter({ name: 'larder_recorder_skipped_ticks_total', help: 'Record ticks skipped because the previous one was still running.', registers });
    this.duration = new Histogram({
      name: 'larder_recorder_write_duration_seconds',
      help: 'Time to write one batch to the store.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lag = new Gauge({ name: 'larder_recorder_lag_seconds', help: 'Age of the oldest snapshot not yet written (0 when all are written).', registers });
    this.buffered = new Gauge({ name: 'larder_recorder_buffered_samples', help: 'Samples waiting to be written (after failed writes).', registers });
    this.errors.inc({ stage: 'collect' }, 0);
    this.errors.inc({ stage: 'write' }, 0);
  }

  /**
   * Starts recording: once `firstRecordDelayMs` from now (the caller starts the recorder
   * after the collectors' first round, so that record has fresh values), then every
   * interval from there. Timers do not keep the process alive.
   */
  start(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.timer.unref();
      void this.tick();
    }, this.firstDelayMs);
    this.timer.unref();
  }

  /**
   * Takes one snapshot of the registry, queues it and starts writing it. A tick while
   * the previous one still collects is skipped (counted), so the recorder never
   * overlaps itself; a slow write does not hold the next tick back (its snapshot is
   * queued behind it), so a store that stalls for seconds loses no snapshot.
   * Resolves once the snapshot is written or kept for retry; never rejects.
   */
  tick(): Promise<void> {
    if (this.ticking) {
      this.skipped.inc();
      return this.ticking.then(() => this.flush());
    }
    const run = this.recordRegistry().finally(() => {
      this.ticking = undefined;
    });
    this.ticking = run;
    return run.then(() => this.flush());
  }

  private async recordRegistry(): Promise<void> {
    const timeMs = Math.round(this.now());
    this.lastTickMs = timeMs;
    try {
      const snapshot = await this.collect();
      for (const e of snapshot.errors) this.log.once(`collect:${e.metric}`, 'warn', 'metric left out of the recording: its collect failed', { metric: e.metric, error: e.error });
      const families = this.exclude.size === 0 ? snapshot.families : snapshot.families.filter((f) => !this.exclude.has(f.name));
      await this.queue(families, timeMs, this.ownLabels, REGISTRY_SOURCE);
    } catch (err) {
      this.errors.inc({ stage: 'collect' });
      this.log.once('recorder:collect', 'error', 'recording a snapshot failed', { error: err as Error });
    }
  }

  /**
   * Queues the samples of `families` at `timeMs` (one timestamp for all but those
   * that carry their own: a scrape target's honoured timestamps), with
   * `extraLabels` added to each (and the external labels each lacks), and writes what
   * is queued. The submissions with the same `extraLabels` (a scrape target's job and
   * instance) are one source: a series it reported last time and not now gets a stale
   * marker (source-series.ts). Resolves when this batch is written or kept for retry; never rejects.
   */
  async submit(families: readonly MetricFamily[], timeMs: number, extraLabels?: Labels): Promise<void> {
    if (await this.queue(families, timeMs, extraLabels, `target${seriesKey('', extraLabels ?? {})}`)) await this.flush();
  }

  /**
   * Resolves the series of `families` and of the markers of `source`'s vanished series and
   * queues their samples; false when nothing was queued. The work is cut into slices with
   * the event loop let run between them: a snapshot of ~1,500 samples flattened, looked up
   * and packed in one go held the main thread 6–13 ms every record interval, the longest
   * stall of an idle Larder (the rules bench's stall probe).
   */
  private async queue(families: readonly MetricFamily[], timeMs: number, extraLabels: Labels | undefined, source: string): Promise<boolean> {
    let series = this.sources.get(source);
    if (series === undefined) this.sources.set(source, (series = new SourceSeries(extraLabels, this.externalLabels)));
    const done = await series.turn();
    let report: SourceReport;
    try {
      report = await this.reportSliced(series, families);
      await yieldToLoop();
      for (const e of series.end()) addMarker(report, e, timeMs);
    } finally {
      done();
    }
    if (report.entries.length === 0) return false;
    const batch: Batch = { timeMs, count: report.entries.length, report };
    // A failure here (the store is failing) keeps the values; flush() retries the look-up.
    await this.resolve(batch).catch(() => undefined);
    this.enqueue(batch);
    await yieldToLoop(); // the write (checked and packed on this thread) in a turn of its own
    return true;
  }

  /** One report of `series` from `families`, in slices of about SLICE_SAMPLES samples with the event loop let run between them. */
  private async reportSliced(series: SourceSeries, families: readonly MetricFamily[]): Promise<SourceReport> {
    const report = series.begin();
    let from = 0;
    let count = 0;
    for (let i = 0; i < families.length; i++) {
      count += families[i]!.samples.length;
      if (count < SLICE_SAMPLES && i < families.length - 1) continue;
      if (from > 0) await yieldToLoop();
      series.add(report, families.slice(from, i + 1));
      from = i + 1;
      count = 0;
    }
    return report;
  }

  /** Gives a batch's samples their series ids (creating missing series); rejects when the store fails. */
  private async resolve(batch: Batch): Promise<Sample[]> {
    if (batch.samples) return batch.samples;
    const { entries, values, times } = batch.report!;
    // a steady source's series all have their ids from the last tick: no look-up at all
    const missing = entries.filter((e) => e.id === undefined);
    try {
      if (missing.length > 0) {
        const ids = await this.cache.idsOf(missing);
        missing.forEach((e, i) => (e.id = ids[i]!));
      }
    } catch (err) {
      this.errors.inc({ stage: 'write' });
      this.log.once('recorder:series', 'error', 'resolving series failed; the values are kept for retry', { error: err as Error });
      throw err;
    }
    if (this.log.clearOnce('recorder:series')) this.log.info('resolving series works again');
    const samples = new Array<Sample>(entries.length);
    for (let i = 0; i < entries.length; i++) samples[i] = { seriesId: entries[i]!.id!, timeMs: times?.[i] ?? batch.timeMs, value: values[i]! };
    batch.samples = samples;
    batch.report = undefined;
    return samples;
  }

  private enqueue(batch: Batch): void {
    this.pending.push(batch);
    this.pendingSamples += batch.count;
    while (this.pendingSamples > this.maxBuffered && this.pending.length > 1) {
      const old = this.pending.shift()!;
      this.pendingSamples -= old.count;
      this.dropped.inc(old.count);
      this.log.once('recorder:dropped', 'warn', 'retry buffer full: oldest batch dropped', { samples: old.count, bufferLimit: this.maxBuffered });
    }
    this.updateGauges();
  }

  private updateGauges(): void {
    this.buffered.set(this.pendingSamples);
    const oldest = this.pending[0];
    this.lag.set(oldest ? Math.max(0, (this.now() - oldest.timeMs) / 1000) : 0);
  }

  /** Writes queued batches oldest first, one write at a time; stops at the first failure (kept for the next try). */
  flush(): Promise<void> {
    // The loop in flight reads the queue as it goes, so it also writes what was just queued.
    if (this.flushing) return this.flushing;
    const run = (async () => {
      while (this.pending.length > 0) {
        const batch = this.pending[0]!;
        let samples: Sample[];
        try {
          samples = await this.resolve(batch);
        } catch {
          break; // counted and logged by resolve; kept for the next try
        }
        const end = this.duration.startTimer();
        try {
          await this.store.writeSamples(samples);
        } catch (err) {
          end();
          this.errors.inc({ stage: 'write' });
          this.log.once('recorder:write', 'error', 'writing samples failed; kept for retry', { error: err as Error, buffered: this.pendingSamples });
          break;
        }
        end();
        if (this.pending[0] === batch) {
          this.pending.shift();
          this.pendingSamples -= batch.count;
        }
        this.written.inc(batch.count);
        this.batches.inc();
        if (this.log.clearOnce('recorder:write')) this.log.info('writing samples works again');
      }
      this.updateGauges();
    })().finally(() => {
      this.flushing = undefined;
    });
    this.flushing = run;
    return run;
  }

  /** Samples waiting for a retry. */
  get bufferedSamples(): number {
    return this.pendingSamples;
  }

  /**
   * Stops the timer, waits for the tick in flight, ends every series the last reports
   * had with a stale marker (so queries after the stop do not draw their last values
   * for the 5-minute lookback, and a restarted Larder's series that are gone do not
   * linger), and tries once more to write what is buffered (SIGTERM path).
   */
  async stop(): Promise<void> {
    // clearInterval also clears a pending first-record timeout (one timer type in Node).
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.flush();
    const endMs = Math.max(Math.round(this.now()), this.lastTickMs + 1);
    const markers: SourceReport = { entries: [], values: [], times: undefined };
    for (const series of this.sources.values()) for (const e of series.endAll()) addMarker(markers, e, endMs);
    this.sources.clear();
    // only once every sample is written: the markers must not push kept samples out of
    // the bounded retry buffer, and a store still failing would refuse them too
    if (markers.entries.length > 0 && this.pending.length === 0) {
      const batch: Batch = { timeMs: endMs, count: markers.entries.length, report: markers };
      await this.resolve(batch).catch(() => undefined); // a failing store: flush() tries once more
      this.enqueue(batch);
      await this.flush();
    }
    if (this.pendingSamples > 0) this.log.warn('recorder stopped with unwritten samples', { samples: this.pendingSamples });
  }
}

/** Adds a stale marker for `e` at `timeMs` to `report`. */
function addMarker(report: SourceReport, e: SourceSeriesEntry, timeMs: number): void {
  (report.times ??= [])[report.entries.length] = timeMs;
  report.entries.push(e);
  report.values.push(staleNaN());
}
