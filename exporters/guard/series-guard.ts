/**
 * Bounds what application metrics can cost. Every label set a metric sees is tracked;
 * past the per-metric limit new label sets are dropped (counted in
 * `larder_dropped_series_total{metric}`, logged once per metric), so a label fed
 * from user input (a URL, a user id) cannot grow the process without bound. Label
 * sets not updated for `expireAfter` ms are removed by `sweep()`, so a route or user
 * that disappears does not stay on /metrics forever.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { assertLabelNames, assertMetricName, cleanLabelValue } from './names.js';

/** The logger the guard warns on (structural, so exporters need nothing from src/). */
export interface GuardLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** How the guard bounds series. */
export interface SeriesGuardOptions {
  readonly registry: Registry;
  /** Most label sets kept per metric; 0 = no limit. @default 2000 */
  readonly limit?: number;
  /** Label sets not updated for this many ms are removed; 0 = never. @default 0 */
  readonly expireAfter?: number;
  /** How often (ms) the expiry sweep runs once `start()` is called. @default expireAfter / 4, at least 1000 */
  readonly sweepInterval?: number;
  /** The clock, ms since the epoch. @default Date.now */
  readonly now?: () => number;
  readonly log?: GuardLog;
}

/** The default per-metric limit of label sets. */
export const DEFAULT_SERIES_LIMIT = 2000;

/** Label name → value, as the guarded metrics take them. */
export type LabelSet<L extends string> = { readonly [K in L]?: string | number };

/** Declaration of a guarded metric. */
export interface GuardedConfig<L extends string> {
  readonly name: string;
  /** A full sentence. */
  readonly help: string;
  readonly labelNames?: readonly L[];
}

/** A tracked label set: its cleaned labels and when it was last updated (ms). */
export interface TrackedSeries {
  readonly labels: Record<string, string>;
  last: number;
}
type Entry = TrackedSeries;

/** Removes one label set from the underlying metric. */
type Remove = (labels: Record<string, string>) => void;

/** The tracked label sets of one metric. */
class Tracker {
  readonly entries = new Map<string, Entry>();
  private warned = false;

  constructor(
    readonly name: string,
    readonly labelNames: readonly string[],
    private readonly remove: Remove,
    private readonly guard: SeriesGuard,
  ) {}

  /**
   * The cleaned labels if this label set may be updated, undefined when it is
   * dropped. Known label sets only refresh their timestamp.
   */
  admit(labels: Readonly<Record<string, string | number | undefined>> | undefined): Record<string, string> | undefined {
    return this.admitEntry(labels)?.labels;
  }

  /** Like admit, but returns the tracked entry, so a caller caching it can refresh `last` itself. */
  admitEntry(labels: Readonly<Record<string, string | number | undefined>> | undefined): Entry | undefined {
    const names = this.labelNames;
    let key = '';
    for (let i = 0; i < names.length; i++) {
      const v = labels?.[names[i]!];
      // \u0000 cannot be confused with content: two label sets never share a key
      key += (i === 0 ? '' : '\u0000') + (v === undefined ? '\u0001' : String(v));
    }
    const now = this.guard.now();
    const known = this.entries.get(key);
    if (known) {
      known.last = now;
      return known;
    }
    if (labels) {
      for (const k of Object.keys(labels)) {
        if (!names.includes(k)) throw new Error(`metric ${this.name}: unknown label "${k}"; declared labels: ${names.join(', ') || '(none)'}`);
      }
    }
    const limit = this.guard.limit;
    if (limit > 0 && this.entries.size >= limit) {
      this.guard.dropped(this);
      if (!this.warned) {
        this.warned = true;
        this.guard.log?.warn('cardinality limit reached; new label sets of this metric are dropped', { metric: this.name, limit });
      }
      return undefined;
    }
    const clean: Record<string, string> = {};
    for (const n of names) {
      const v = labels?.[n];
      if (v !== undefined) clean[n] = cleanLabelValue(v);
    }
    const entry = { labels: clean, last: now };
    this.entries.set(key, entry);
    return entry;
  }

  /** Removes label sets last updated before `cutoff`; returns how many. */
  expire(cutoff: number): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (e.last < cutoff) {
        this.entries.delete(key);
        this.remove(e.labels);
        n++;
      }
    }
    if (n > 0) this.warned = false;
    return n;
  }
}

/** A counter bounded by its guard. */
export class GuardedCounter<L extends string = string> {
  constructor(
    /** The prom-client metric underneath. */
    readonly metric: Counter<L>,
    private readonly tracker: Tracker,
  ) {}

  /** Adds `value` (default 1) to the series of `labels`; dropped past the limit. */
  inc(labels?: LabelSet<L>, value = 1): void {
    const clean = this.tracker.admit(labels);
    if (clean) this.metric.inc(clean as Partial<Record<L, string>>, value);
  }
}

/** A gauge bounded by its guard. */
export class GuardedGauge<L extends string = string> {
  constructor(
    readonly metric: Gauge<L>,
    private readonly tracker: Tracker,
  ) {}

  /** Sets the series of `labels` to `value`. */
  set(labels: LabelSet<L> | undefined, value: number): void {
    const clean = this.tracker.admit(labels);
    if (clean) this.metric.set(clean as Partial<Record<L, string>>, value);
  }

  /** Adds `value` (default 1). */
  inc(labels?: LabelSet<L>, value = 1): void {
    const clean = this.tracker.admit(labels);
    if (clean) this.metric.inc(clean as Partial<Record<L, string>>, value);
  }

  /** Subtracts `value` (default 1). */
  dec(labels?: LabelSet<L>, value = 1): void {
    const clean = this.tracker.admit(labels);
    if (clean) this.metric.dec(clean as Partial<Record<L, string>>, value);
  }
}

/** A histogram bounded by its guard. */
export class GuardedHistogram<L extends string = string> {
  constructor(
    readonly metric: Histogram<L>,
    private readonly tracker: Tracker,
  ) {}

  /** Records one observation. */
  observe(labels: LabelSet<L> | undefined, value: number): void {
    const clean = this.tracker.admit(labels);
    if (clean) this.metric.observe(clean as Partial<Record<L, string>>, value);
  }
}

/**
 * Metrics always updated together with the same labels (the HTTP middleware's count,
 * duration and sizes) sharing one tracker: one admission per update instead of one
 * per metric, and a label set expires from all of them at once.
 */
export class SeriesGroup<L extends string = string> {
  private readonly removers: Remove[] = [];
  private readonly tracker: Tracker;

  constructor(
    private readonly guard: SeriesGuard,
    /** The name the group's drops are counted under. */
    readonly name: string,
    readonly labelNames: readonly L[],
  ) {
    this.tracker = guard.track(name, labelNames, (l) => {
      for (const r of this.removers) r(l);
    });
  }

  /** The cleaned labels to update every member with, or undefined when the label set is dropped. */
  admit(labels: LabelSet<L>): Readonly<Partial<Record<L, string>>> | undefined {
    return this.tracker.admit(labels) as Partial<Record<L, string>> | undefined;
  }

  /**
   * Like `admit`, returning the tracked entry: a caller that caches it must set
   * `entry.last = guard.now()` on every update, or the label set expires while in use.
   */
  admitEntry(labels: LabelSet<L>): TrackedSeries | undefined {
    return this.tracker.admitEntry(labels);
  }

  /** The guard's clock (ms). */
  now(): number {
    return this.guard.now();
  }

  /** Adds a function called with the labels of each label set that expires. */
  onRemove(remove: (labels: Readonly<Partial<Record<L, string>>>) => void): void {
    this.removers.push(remove as Remove);
  }

  /** Declares a counter of the group (update it only with labels from `admit`). */
  counter(config: { readonly name: string; readonly help: string }): Counter<L> {
    this.guard.checkDeclaration({ ...config, labelNames: this.labelNames }, 'counter');
    const metric = new Counter<L>({ name: config.name, help: config.help, labelNames: [...this.labelNames], registers: [this.guard.registry] });
    this.removers.push((l) => metric.remove(l as Partial<Record<L, string>>));
    return metric;
  }

  /** Declares a histogram of the group. */
  histogram(config: { readonly name: string; readonly help: string; readonly buckets: readonly number[] }): Histogram<L> {
    this.guard.checkDeclaration({ ...config, labelNames: this.labelNames }, 'histogram');
    assertBuckets(config.name, config.buckets);
    const metric = new Histogram<L>({ name: config.name, help: config.help, labelNames: [...this.labelNames], buckets: [...config.buckets], registers: [this.guard.registry] });
    this.removers.push((l) => metric.remove(l as Partial<Record<L, string>>));
    return metric;
  }
}

/** Validates names, creates bounded metrics on one registry, and expires idle series. */
export class SeriesGuard {
  /** Most label sets per metric (0 = none). */
  readonly limit: number;
  readonly expireAfter: number;
  readonly now: () => number;
  readonly log: GuardLog | undefined;
  readonly registry: Registry;
  private readonly trackers: Tracker[] = [];
  private readonly droppedTotal: Counter<'metric'>;
  private readonly expiredTotal: Counter<'metric'>;
  private readonly sweepInterval: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: SeriesGuardOptions) {
    this.registry = opts.registry;
    this.limit = opts.limit ?? DEFAULT_SERIES_LIMIT;
    this.expireAfter = opts.expireAfter ?? 0;
    if (!Number.isSafeInteger(this.limit) || this.limit < 0) throw new Error(`series guard: limit must be an integer >= 0, got ${opts.limit}`);
    if (!(this.expireAfter >= 0)) throw new Error(`series guard: expireAfter must be >= 0 ms, got ${opts.expireAfter}`);
    this.sweepInterval = opts.sweepInterval ?? Math.max(1000, Math.floor(this.expireAfter / 4));
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    this.droppedTotal = new Counter({
      name: 'larder_dropped_series_total',
      help: 'Updates dropped because their metric already had as many label sets as the cardinality limit allows.',
      labelNames: ['metric'],
      registers: [opts.registry],
    });
    this.expiredTotal = new Counter({
      name: 'larder_expired_series_total',
      help: 'Label sets removed because they were not updated within the series expiry time.',
      labelNames: ['metric'],
      registers: [opts.registry],
    });
  }

  /** Declares a bounded counter; throws InvalidNameError on a bad name. */
  counter<L extends string = never>(config: GuardedConfig<L>): GuardedCounter<L> {
    const labelNames = this.check(config, 'counter');
    const metric = new Counter<L>({ name: config.name, help: config.help, labelNames, registers: [this.registry] });
    return new GuardedCounter(metric, this.track(config.name, labelNames, (l) => metric.remove(l as Partial<Record<L, string>>)));
  }

  /** Declares a bounded gauge. */
  gauge<L extends string = never>(config: GuardedConfig<L>): GuardedGauge<L> {
    const labelNames = this.check(config, 'gauge');
    const metric = new Gauge<L>({ name: config.name, help: config.help, labelNames, registers: [this.registry] });
    return new GuardedGauge(metric, this.track(config.name, labelNames, (l) => metric.remove(l as Partial<Record<L, string>>)));
  }

  /** Declares a bounded histogram with the given upper bounds. */
  histogram<L extends string = never>(config: GuardedConfig<L> & { readonly buckets: readonly number[] }): GuardedHistogram<L> {
    const labelNames = this.check(config, 'histogram');
    assertBuckets(config.name, config.buckets);
    const metric = new Histogram<L>({ name: config.name, help: config.help, labelNames, buckets: [...config.buckets], registers: [this.registry] });
    return new GuardedHistogram(metric, this.track(config.name, labelNames, (l) => metric.remove(l as Partial<Record<L, string>>)));
  }

  /** A group of metrics updated together with the same labels; `name` is what drops are counted under. */
  group<L extends string = never>(name: string, labelNames: readonly L[]): SeriesGroup<L> {
    assertMetricName(name);
    assertLabelNames(name, labelNames, 'histogram');
    return new SeriesGroup(this, name, labelNames);
  }

  /** Label sets tracked now, per metric (or group) name. */
  seriesCounts(): Record<string, number> {
    return Object.fromEntries(this.trackers.map((t) => [t.name, t.entries.size]));
  }

  /** Removes every label set idle for longer than `expireAfter`; returns how many. A no-op when expiry is off. */
  sweep(): number {
    if (this.expireAfter <= 0) return 0;
    const cutoff = this.now() - this.expireAfter;
    let total = 0;
    for (const t of this.trackers) {
      const n = t.expire(cutoff);
      if (n > 0) this.expiredTotal.inc({ metric: t.name }, n);
      total += n;
    }
    return total;
  }

  /** Runs `sweep()` on an interval (unref'd) when expiry is on. */
  start(): void {
    if (this.expireAfter <= 0 || this.timer) return;
    this.timer = setInterval(() => this.sweep(), this.sweepInterval);
    this.timer.unref();
  }

  /** Stops the sweep. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** @internal called by a tracker when it drops an update. */
  dropped(t: Tracker): void {
    this.droppedTotal.inc({ metric: t.name });
  }

  /** @internal validates a declaration; returns its label names. */
  checkDeclaration<L extends string>(config: GuardedConfig<L>, type: 'counter' | 'gauge' | 'histogram'): L[] {
    return this.check(config, type);
  }

  private check<L extends string>(config: GuardedConfig<L>, type: 'counter' | 'gauge' | 'histogram'): L[] {
    assertMetricName(config.name);
    const labelNames = [...(config.labelNames ?? [])];
    assertLabelNames(config.name, labelNames, type);
    if (typeof config.help !== 'string' || config.help.trim() === '') throw new Error(`metric ${config.name}: help text is required`);
    if (this.registry.getSingleMetric(config.name)) throw new Error(`metric ${config.name} is already registered`);
    return labelNames;
  }

  /** @internal */
  track(name: string, labelNames: readonly string[], remove: Remove): Tracker {
    const t = new Tracker(name, labelNames, remove, this);
    this.trackers.push(t);
    return t;
  }
}

/** Throws unless `buckets` is a non-empty, strictly increasing list of finite numbers. */
export function assertBuckets(metric: string, buckets: readonly number[]): void {
  if (!Array.isArray(buckets) || buckets.length === 0) throw new Error(`metric ${metric}: buckets must be a non-empty list of numbers`);
  buckets.forEach((b, i) => {
    if (typeof b !== 'number' || !Number.isFinite(b)) throw new Error(`metric ${metric}: bucket ${i} (${JSON.stringify(b)}) is not a finite number`);
    if (i > 0 && b <= buckets[i - 1]!) throw new Error(`metric ${metric}: buckets must increase strictly, but ${b} follows ${buckets[i - 1]}`);
  });
}
