/**
 * Counter increase with resets, the reference (pure) version of what the rollup SQL
 * computes. A drop means the counter restarted from zero, so the delta across it is
 * the new value, exactly as Prometheus' increase()/rate() treat resets
 * (promql/functions.go extrapolatedRate: `if cur < prev { resets += prev }`).
 *
 * Larder does NOT extrapolate to the window edges the way increase() does. A bucket's
 * increase is the sum of the reset-corrected deltas between consecutive samples whose
 * later sample falls in the bucket, the first one measured from the last sample before
 * the bucket (however far back, e.g. across a gap). So increases add up exactly: the
 * hourly increase is the sum of its twelve 5m increases, and over any span the sum
 * equals what the counter really counted (Prometheus' extrapolated increase() over a
 * window [t-r, t] equals this sum times (r + extrapolated edges) / sampled interval).
 */

/** A delta corrected for a reset: `cur - prev`, or `cur` when the counter went down. */
export function resetDelta(prev: number, cur: number): number {
  return cur >= prev ? cur - prev : cur;
}

/**
 * Increase of a run of samples (ordered by time), starting from `prev`, the last value
 * before them (undefined when there is none: the first sample then only sets the level).
 */
export function increase(values: readonly number[], prev?: number): number {
  let total = 0;
  let last = prev;
  for (const v of values) {
    if (last !== undefined) total += resetDelta(last, v);
    last = v;
  }
  return total;
}
