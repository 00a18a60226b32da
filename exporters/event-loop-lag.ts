/**
 * Event-loop lag, sampled finely only while the loop is busy.
 *
 * Node's delay monitor (`monitorEventLoopDelay`) wakes the process every `resolution` ms
 * for ever: at 100 ms, 600 wake-ups a minute at about 40 µs each, 6–12 % of an idle
 * Larder's main thread (docs/cost.md). This sampler arms one timer at a time instead: every `coarseMs`
 * (1 s) while the loop is idle, every `fineMs` (100 ms) for at least `holdMs` after the
 * loop was busy (event-loop utilisation above `busyRatio` over `busyWindowMs`, 5 s) or
 * a sample lagged by more than `fineMs`. A sample is how late its timer ran (0 when on
 * time). The 5 s window keeps Larder's own collection every 15 s (some 100 ms of a
 * loaded machine's wall time) from counting as busy each time, while a 150 ms stall
 * every 2 s (7.5 %) does.
 *
 * So the figures a busy loop reports are those of a 100 ms monitor. While idle, a
 * coarse sample is recorded with the `coarseMs / fineMs − 1` samples of 0 the 100 ms
 * monitor would have taken of an idle loop, so the percentiles keep their meaning (a
 * share of the time, not of the wake-ups). What it gives up: a single stall shorter than
 * `coarseMs` in an otherwise idle loop shows in the lag only if the coarse timer was due
 * inside it (it still shows in the event-loop utilisation, and switches to fine
 * sampling); a longer stall T shows as a lag between T − `coarseMs` and T.
 */
import { createHistogram, performance, type EventLoopUtilization, type RecordableHistogram } from 'node:perf_hooks';

/** How the sampler paces itself. */
export interface LagSamplerOptions {
  /** Sampling period while busy, ms. @default 100 */
  readonly fineMs: number;
  /** Sampling period while idle, ms (a multiple of fineMs). @default 1000 */
  readonly coarseMs: number;
  /** Event-loop utilisation over `busyWindowMs` above which the loop counts as busy. @default 0.05 */
  readonly busyRatio: number;
  /** Span over which utilisation is measured, ms (at least coarseMs). @default 5000 */
  readonly busyWindowMs: number;
  /** How long fine sampling lasts after the loop was last seen busy, ms. @default 5000 */
  readonly holdMs: number;
}

export const LAG_SAMPLER_DEFAULTS: LagSamplerOptions = Object.freeze({ fineMs: 100, coarseMs: 1000, busyRatio: 0.05, busyWindowMs: 5000, holdMs: 5000 });

/** The lag figures of one window, in seconds (NaN when the window holds no sample). */
export interface LagFigures {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  /** Samples in the window, the idle fill of coarse samples included. */
  readonly count: number;
  /** Timer wake-ups in the window (what the sampler costs). */
  readonly wakeups: number;
}

/** One adaptive lag sampler; `start` arms it, `take` reads and resets the window. */
export class LagSampler {
  private readonly hist: RecordableHistogram = createHistogram();
  private readonly opts: LagSamplerOptions;
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer is due (performance.now() ms). */
  private due = 0;
  private period: number;
  private fineUntil = 0;
  private windowStart = 0;
  private windowElu: EventLoopUtilization | undefined;
  private wakeups = 0;

  constructor(opts: Partial<LagSamplerOptions> = {}) {
    this.opts = { ...LAG_SAMPLER_DEFAULTS, ...opts };
    if (!(this.opts.fineMs >= 1 && this.opts.coarseMs >= this.opts.fineMs)) throw new RangeError(`lag sampler: need 1 <= fineMs <= coarseMs (${this.opts.fineMs}, ${this.opts.coarseMs})`);
    this.period = this.opts.coarseMs;
  }

  /** Arms the first timer (coarse). Idempotent. */
  start(): void {
    if (this.timer !== undefined) return;
    this.windowStart = performance.now();
    this.windowElu = performance.eventLoopUtilization();
    this.arm(this.opts.coarseMs);
  }

  /** Disarms the timer. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The current sampling period, ms (for tests and the docs' figures). */
  currentPeriodMs(): number {
    return this.period;
  }

  /** The figures since the last call, then a fresh window. */
  take(): LagFigures {
    const h = this.hist;
    const n = h.count;
    const s = (ns: number): number => (n > 0 ? ns / 1e9 : NaN);
    const out: LagFigures = {
      min: s(h.min),
      max: s(h.max),
      mean: s(h.mean),
      stddev: s(h.stddev),
      p50: s(h.percentile(50)),
      p90: s(h.percentile(90)),
      p99: s(h.percentile(99)),
      count: n,
      wakeups: this.wakeups,
    };
    h.reset();
    this.wakeups = 0;
    return out;
  }

  private arm(period: number): void {
    this.period = period;
    this.due = performance.now() + period;
    this.timer = setTimeout(() => this.fire(), period);
    this.timer.unref();
  }

  private fire(): void {
    const now = performance.now();
    this.wakeups++;
    const { fineMs, busyRatio, busyWindowMs, holdMs } = this.opts;
    // libuv's millisecond clock lets a timer run up to a millisecond early: that is 0.
    const lagMs = Math.max(0, now - this.due);
    // The histogram takes integers >= 1 (ns): 1 ns stands for on time.
    this.hist.record(Math.max(1, Math.round(lagMs * 1e6)));
    if (this.period > fineMs) {
      // What a fine monitor would have recorded of the rest of an idle period.
      const fill = Math.round(this.period / fineMs) - 1;
      for (let i = 0; i < fill; i++) this.hist.record(1);
    }
    if (lagMs > fineMs) this.fineUntil = now + holdMs;
    // The window ends at the tick nearest its end: a timer fires up to a millisecond early
    // (above), and a window missed by that much waited a whole coarse period more to decide.
    if (now - this.windowStart >= busyWindowMs - fineMs / 2) {
      const elu = performance.eventLoopUtilization();
      if (this.windowElu && performance.eventLoopUtilization(elu, this.windowElu).utilization > busyRatio) this.fineUntil = now + holdMs;
      this.windowElu = elu;
      this.windowStart = now;
    }
    this.arm(now < this.fineUntil ? fineMs : this.opts.coarseMs);
  }
}

/**
 * How long a callback queued now waits for the loop (`setImmediate`), in seconds: the
 * one-shot figure of prom-client's `nodejs_eventloop_lag_seconds`.
 */
export function immediateLag(): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => setImmediate(() => resolve(Number(process.hrtime.bigint() - start) / 1e9)));
}
