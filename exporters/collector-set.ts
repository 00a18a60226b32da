/**
 * Runs the enabled collectors on their intervals, node_exporter-style: each one is
 * timed, a failure or timeout marks `larder_collector_success` 0 and keeps the last
 * values, the cause is logged once until it clears, and no collector overlaps itself.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Collector, CollectorContext, CollectorDefinition } from './collector.js';

/** How the set runs. */
export interface CollectorSetOptions {
  /** Refresh interval in ms. @default 15000 */
  readonly interval: number;
  /** Refresh interval of slow collectors in ms. @default 60000 */
  readonly slowInterval: number;
  /** An update running longer than this (ms) is abandoned. @default 10000 */
  readonly timeout: number;
}

interface Running {
  readonly def: CollectorDefinition;
  readonly collector: Collector;
  /** Metric names this collector registered, for the `collect[]` filter. */
  readonly metrics: ReadonlySet<string>;
  inFlight?: Promise<void>;
  timer?: NodeJS.Timeout;
  failing: boolean;
}

/** The enabled collectors of one registry, and their schedule. */
export class CollectorSet {
  private readonly running: Running[] = [];
  private readonly duration: Gauge<'collector'>;
  private readonly success: Gauge<'collector'>;
  private stopped = false;

  constructor(
    private readonly ctx: CollectorContext,
    definitions: readonly CollectorDefinition[],
    private readonly opts: CollectorSetOptions,
  ) {
    this.duration = new Gauge({
      name: 'larder_collector_duration_seconds',
      help: 'Duration of the last update of a collector.',
      labelNames: ['collector'],
      registers: [ctx.registry],
    });
    this.success = new Gauge({
      name: 'larder_collector_success',
      help: 'Whether the last update of a collector succeeded (1) or failed or timed out (0).',
      labelNames: ['collector'],
      registers: [ctx.registry],
    });
    for (const def of definitions) {
      const before = new Set(metricNames(ctx.registry));
      const collector = def.create(ctx);
      const metrics = new Set(metricNames(ctx.registry).filter((n) => !before.has(n)));
      this.running.push({ def, collector, metrics, failing: false });
    }
  }

  /** Names of the collectors in this set. */
  names(): string[] {
    return this.running.map((r) => r.def.name);
  }

  /** Metric names registered by the named collectors. */
  metricsOf(collectors: Iterable<string>): Set<string> {
    const wanted = new Set(collectors);
    const out = new Set<string>();
    for (const r of this.running) {
      if (!wanted.has(r.def.name)) continue;
      for (const m of r.metrics) out.add(m);
      for (const m of r.collector.dynamicMetrics?.() ?? []) out.add(m);
    }
    return out;
  }

  /**
   * Metric names the named collector registered after it was created: one per field of a
   * kernel file (meminfo, netstat, vmstat, sockstat) or per textfile family, so they
   * depend on the host.
   */
  dynamicMetricsOf(collector: string): Set<string> {
    const r = this.running.find((x) => x.def.name === collector);
    return new Set(r?.collector.dynamicMetrics?.() ?? []);
  }

  /** Every metric name owned by some collector (the rest belong to no collector and are always served). */
  ownedMetrics(): Set<string> {
    return this.metricsOf(this.names());
  }

  /** Runs every collector once, waiting for all (each bounded by the timeout). */
  async updateAll(): Promise<void> {
    await Promise.all(this.running.map((r) => this.runOnce(r)));
  }

  /** Runs every collector now, then each on its interval. Resolves after the first round. */
  async start(): Promise<void> {
    await this.updateAll();
    for (const r of this.running) this.schedule(r);
  }

  /** Stops the schedule; an update in flight is left to finish or time out. */
  stop(): void {
    this.stopped = true;
    for (const r of this.running) {
      if (r.timer) clearTimeout(r.timer);
      r.collector.close?.();
    }
  }

  private schedule(r: Running): void {
    if (this.stopped) return;
    const interval = (r.collector.slow ?? r.def.slow) ? this.opts.slowInterval : this.opts.interval;
    r.timer = setTimeout(() => {
      void this.runOnce(r).finally(() => this.schedule(r));
    }, interval);
    r.timer.unref();
  }

  /** One bounded update. Never rejects. */
  private async runOnce(r: Running): Promise<void> {
    const name = r.def.name;
    if (r.inFlight) {
      // the previous update is still hung (e.g. a stale NFS mount): do not pile up another
      this.success.set({ collector: name }, 0);
      return;
    }
    const abort = new AbortController();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(`timed out after ${this.opts.timeout} ms`));
      }, this.opts.timeout);
      timer.unref();
    });
    const update = Promise.resolve().then(() => r.collector.update(abort.signal));
    r.inFlight = update.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      r.inFlight = undefined;
    });
    try {
      await Promise.race([update, timeout]);
      this.success.set({ collector: name }, 1);
      if (r.failing) {
        r.failing = false;
        this.ctx.log.info('collector recovered', { collector: name });
      }
    } catch (err) {
      this.success.set({ collector: name }, 0);
      if (!r.failing) {
        r.failing = true;
        this.ctx.log.warn('collector failed; serving its last values', { collector: name, err: (err as Error).message });
      }
    } finally {
      clearTimeout(timer);
      this.duration.set({ collector: name }, (performance.now() - started) / 1000);
    }
  }
}

function metricNames(registry: Registry): string[] {
  return registry.getMetricsAsArray().map((m) => m.name);
}
