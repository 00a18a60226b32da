/**
 * The deterministic data of the crash suite (crash.test.ts, crash-child.ts): batch k
 * of the main series is a function of k alone, so a killed writer's successor rewrites
 * the same rows, and an uninterrupted reference store can be rebuilt from the count.
 * Every BIG_EVERY-th batch is a backfill of BIG_STEPS timestamps per series, large
 * enough that SQLite spills its page cache into the file before committing (a hot
 * journal when killed); the others are one timestamp, like a record tick.
 */
import type { Sample, SeriesDef } from '../../storage/store.js';

export const T0 = Date.UTC(2026, 0, 10);
export const STEP = 10_000;
export const SERIES = 100;
export const BIG_EVERY = 12;
export const BIG_STEPS = 2000;
/** The old region retention drops: OLD_DAYS one-day chunks before T0 of OLD_SERIES series, hourly. */
export const OLD_DAYS = 20;
export const OLD_SERIES = 10;
export const DAY = 86_400_000;

export const MAIN_DEFS: readonly SeriesDef[] = Array.from({ length: SERIES }, (_, i) => ({ name: 'crash_main', labels: { i: String(i) }, type: 'gauge' as const }));
export const OLD_DEFS: readonly SeriesDef[] = Array.from({ length: OLD_SERIES }, (_, i) => ({ name: 'crash_old', labels: { i: String(i) }, type: 'gauge' as const }));

/** Timestamps per series in batch k. */
export function steps(k: number): number {
  return k % BIG_EVERY === BIG_EVERY - 1 ? BIG_STEPS : 1;
}

const starts: number[] = [0];
/** Index of batch k's first timestamp. */
export function firstStep(k: number): number {
  while (starts.length <= k) starts.push(starts[starts.length - 1]! + steps(starts.length - 1));
  return starts[k]!;
}

/** Main rows stored once batches 0..k are all in (k = -1: none). */
export function rowsThrough(k: number): number {
  return k < 0 ? 0 : SERIES * firstStep(k + 1);
}

/** The batch whose rows make exactly `rows` main rows, or undefined when no whole number of batches does. */
export function batchOfRows(rows: number): number | undefined {
  for (let k = -1; rowsThrough(k) <= rows; k++) if (rowsThrough(k) === rows) return k;
  return undefined;
}

/** Batch k's samples. */
export function batch(ids: readonly number[], k: number): Sample[] {
  const out: Sample[] = [];
  const first = firstStep(k);
  for (let s = first; s < first + steps(k); s++) {
    for (const [i, id] of ids.entries()) out.push({ seriesId: id, timeMs: T0 + s * STEP, value: ((s * 7 + i * 13) % 1000) / 10 });
  }
  return out;
}

/** Time just after batch k (the clock a rollup after it uses). */
export function endOf(k: number): number {
  return T0 + firstStep(k + 1) * STEP;
}
