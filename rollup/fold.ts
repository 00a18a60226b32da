/**
 * Rollup rows computed in one ordered pass, as an alternative to SQL for stores where
 * the SQL costs too much (SQLite: a GROUP BY sorts every sample, and first/last/increase
 * need a window or per-bucket lookups on top). The rows are exactly those the SQL of
 * rollup/sql.ts writes: sums with SQLite's compensated summation, NULL (NaN) where the
 * SQL aggregates give NULL, and the same counter-increase rule. Pure: rows in, rows out.
 */

/** Columns of a rollup row, in output order (series_id, ts, then ROLLUP_COLUMNS' values). */
export const ROW_WIDTH = 9;

/**
 * A sum as SQLite's sum() computes it over REAL values (Kahan-Babuska-Neumaier, since
 * SQLite 3.43): folded rows then equal the rows SQL would write, to the last bit.
 */
class CompensatedSum {
  private s = 0;
  private err = 0;
  count = 0;

  add(v: number): void {
    const t = this.s + v;
    if (Math.abs(this.s) > Math.abs(v)) this.err += this.s - t + v;
    else this.err += v - t + this.s;
    this.s = t;
    this.count++;
  }

  /** NaN (SQL NULL) when nothing was added, as SQL's sum(). */
  value(): number {
    if (this.count === 0) return Number.NaN;
    return Number.isFinite(this.err) ? this.s + this.err : this.s;
  }

  reset(): void {
    this.s = 0;
    this.err = 0;
    this.count = 0;
  }
}

/** Where folded rows go: `emit` gets each finished row (9 values, reused array). */
export type RowSink = (row: Float64Array) => void;

/** One series' open bucket. */
class Bucket {
  bucket = Number.NaN;
  count = 0;
  readonly sum = new CompensatedSum();
  min = Number.NaN;
  max = Number.NaN;
  first = Number.NaN;
  last = Number.NaN;
  readonly increase = new CompensatedSum();
  /** Previous sample's value, across buckets (raw fold only): the LAG of the SQL. */
  prev: number;

  constructor(
    readonly seriesId: number,
    readonly counterLike: boolean,
    prev: number,
  ) {
    this.prev = prev;
  }

  open(bucket: number, first: number): void {
    this.bucket = bucket;
    this.count = 0;
    this.sum.reset();
    this.min = Number.NaN;
    this.max = Number.NaN;
    this.first = first;
    this.increase.reset();
  }

  extremes(lo: number, hi: number): void {
    // NaN is SQL NULL: skipped, as min() and max() skip NULL.
    if (!Number.isNaN(lo) && !(lo >= this.min)) this.min = lo;
    if (!Number.isNaN(hi) && !(hi <= this.max)) this.max = hi;
  }
}

/** Shared state of both folds: the open bucket per series and the output row. */
abstract class Fold {
  protected readonly open = new Map<number, Bucket>();
  protected current: Bucket | undefined;
  protected readonly out = new Float64Array(ROW_WIDTH);
  rows = 0;

  constructor(
    protected readonly resolutionMs: number,
    protected readonly sink: RowSink,
  ) {}

  /** The bucket state of a series, created on first sight. */
  protected stateOf(seriesId: number): Bucket {
    if (this.current?.seriesId === seriesId) return this.current;
    let b = this.open.get(seriesId);
    if (b === undefined) {
      b = this.create(seriesId);
      this.open.set(seriesId, b);
    }
    this.current = b;
    return b;
  }

  protected abstract create(seriesId: number): Bucket;
  protected abstract increaseOf(b: Bucket): number;

  protected emit(b: Bucket): void {
    if (Number.isNaN(b.bucket)) return;
    const o = this.out;
    o[0] = b.seriesId;
    o[1] = b.bucket;
    o[2] = b.count;
    o[3] = b.sum.value();
    o[4] = b.min;
    o[5] = b.max;
    o[6] = b.first;
    o[7] = b.last;
    o[8] = this.increaseOf(b);
    this.sink(o);
    this.rows++;
  }

  /** Emits every open bucket; call once after the last row. */
  finish(): void {
    for (const b of this.open.values()) this.emit(b);
  }

  /** Each series' last bucket start and last value, after finish() (the raw fold's carry). */
  lastValues(): { seriesId: number; bucket: number; last: number }[] {
    return [...this.open.values()].filter((b) => !Number.isNaN(b.bucket)).map((b) => ({ seriesId: b.seriesId, bucket: b.bucket, last: b.last }));
  }
}

/**
 * The first tier from raw samples, fed in (series, time) order per series (series may
 * interleave, e.g. one source chunk after another). Per bucket: count, sum, min, max of
 * the non-NaN values, the first and last value (NaN included), and for counter-like
 * series the increase: the sum of the deltas between consecutive samples, a drop
 * counting as a reset (the new value is the delta), as Prometheus' increase() does; a
 * delta next to a NaN is skipped; the first sample's delta is taken from `carry`, the
 * series' last value before the range, when known.
 */
export class RawFold extends Fold {
  constructor(
    resolutionMs: number,
    private readonly isCounterLike: (seriesId: number) => boolean,
    private readonly carry: ReadonlyMap<number, number>,
    sink: RowSink,
  ) {
    super(resolutionMs, sink);
  }

  protected create(seriesId: number): Bucket {
    return new Bucket(seriesId, this.isCounterLike(seriesId), this.carry.get(seriesId) ?? Number.NaN);
  }

  protected increaseOf(b: Bucket): number {
    if (!b.counterLike) return Number.NaN;
    return b.increase.count === 0 ? 0 : b.increase.value();
  }

  /** One sample. */
  add(seriesId: number, ts: number, v: number): void {
    const b = this.stateOf(seriesId);
    const bucket = ts - (ts % this.resolutionMs);
    if (bucket !== b.bucket) {
      this.emit(b);
      b.open(bucket, v);
    }
    if (!Number.isNaN(v)) {
      b.count++;
      b.sum.add(v);
      b.extremes(v, v);
      const p = b.prev;
      if (b.counterLike && !Number.isNaN(p)) b.increase.add(v >= p ? v - p : v);
    }
    b.prev = v;
    b.last = v;
  }
}

/**
 * A higher tier from the rows of the tier below, fed in (series, time) order per
 * series: counts and sums added, min of mins, max of maxes, the first row's first and
 * the last row's last, increases added (NaN when no row has one).
 */
export class TierFold extends Fold {
  protected create(seriesId: number): Bucket {
    return new Bucket(seriesId, false, Number.NaN);
  }

  protected increaseOf(b: Bucket): number {
    return b.increase.value();
  }

  /** One row of the tier below: series_id, ts, count, sum, min, max, first, last, increase. */
  add(row: Float64Array): void {
    const b = this.stateOf(row[0]!);
    const ts = row[1]!;
    const bucket = ts - (ts % this.resolutionMs);
    if (bucket !== b.bucket) {
      this.emit(b);
      b.open(bucket, row[6]!);
    }
    b.count += row[2]!;
    if (!Number.isNaN(row[3]!)) b.sum.add(row[3]!);
    b.extremes(row[4]!, row[5]!);
    b.last = row[7]!;
    if (!Number.isNaN(row[8]!)) b.increase.add(row[8]!);
  }
}
