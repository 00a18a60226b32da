/**
 * Time chunks, pure: which chunk holds a time, and the physical name of a chunk.
 * Chunks are aligned on multiples of the chunk interval since the epoch (UTC), so a
 * 1-day chunk is one UTC day.
 */

/** Logical chunked tables are lowercase identifiers: 'samples', 'rollup_5m', 'rollup_5m_quantiles'. */
const LOGICAL = /^[a-z][a-z0-9_]{0,40}$/;

/** Throws unless `name` can be a logical chunked table name. */
export function checkLogicalTable(name: unknown, where: string): asserts name is string {
  if (typeof name !== 'string' || !LOGICAL.test(name)) {
    throw new TypeError(`${where}: invalid table name ${JSON.stringify(name)}: expected [a-z][a-z0-9_]*`);
  }
}

/** The half-open range `[startMs, endMs)` of the chunk holding `timeMs`. */
export function chunkRange(timeMs: number, chunkMs: number): { startMs: number; endMs: number } {
  const startMs = Math.floor(timeMs / chunkMs) * chunkMs;
  return { startMs, endMs: startMs + chunkMs };
}

/** `samples_20261128t000000`: the logical name and the chunk's UTC start, readable and sortable. */
export function chunkName(logical: string, startMs: number): string {
  const iso = new Date(startMs).toISOString(); // 2026-11-28T00:00:00.000Z
  return `${logical}_${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}t${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** Checks a chunk interval: whole seconds, from one minute to a year. */
export function checkChunkMs(ms: unknown, where: string): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 60_000 || ms > 366 * 86_400_000 || ms % 1000 !== 0) {
    throw new RangeError(`${where}: invalid chunk interval ${String(ms)} ms: expected whole seconds from 1 minute to 1 year`);
  }
}

/** Table names in code-unit order: they are ASCII identifiers, and localeCompare would load ICU's collation data into the process. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Chunks oldest first, then by logical table. */
export function compareChunks(a: { readonly startMs: number; readonly table: string }, b: { readonly startMs: number; readonly table: string }): number {
  return a.startMs - b.startMs || compareNames(a.table, b.table);
}
