/** Bucket maths: which buckets exist, which are closed, all aligned to the epoch (UTC). */

/** Start of the bucket holding `ts`. */
export function bucketStart(ts: number, resolutionMs: number): number {
  return Math.floor(ts / resolutionMs) * resolutionMs;
}

/**
 * The buckets a run may materialize: from the watermark (the end of the last bucket
 * done) up to the last bucket that is closed, i.e. whose end is at or before
 * `closedBefore`. Returns `[from, to)` with both on bucket edges, or undefined when
 * no bucket is closed yet. When there is no watermark, `firstData` (the oldest
 * sample or row in the tier below) says where to begin.
 */
export function closedRange(
  watermark: number | undefined,
  firstData: number | undefined,
  closedBefore: number,
  resolutionMs: number,
): { from: number; to: number } | undefined {
  const start = watermark ?? (firstData === undefined ? undefined : bucketStart(firstData, resolutionMs));
  if (start === undefined) return undefined;
  const to = bucketStart(closedBefore, resolutionMs);
  return to > start ? { from: start, to } : undefined;
}

/**
 * Splits `[from, to)` into slices of at most `maxBuckets` buckets, so catching up
 * after a long downtime commits in bounded transactions instead of one huge one.
 */
export function slices(from: number, to: number, resolutionMs: number, maxBuckets: number): { from: number; to: number }[] {
  const step = resolutionMs * Math.max(1, maxBuckets);
  const out: { from: number; to: number }[] = [];
  for (let a = from; a < to; a += step) out.push({ from: a, to: Math.min(to, a + step) });
  return out;
}
