/**
 * Retention: whole chunks dropped per tier once past their age, and a size cap for the
 * whole store that drops the oldest chunks of the cheapest-to-lose tables first (see
 * sizeCapOrder), never the chunk being written. Data a higher
 * tier has not yet rolled up is kept by age retention (the cut never passes the next
 * tier's watermark), so a rollup that fell behind never loses its input.
 */
import type { ChunkInfo, Store } from '../storage/store.js';
import type { Tier } from './tiers.js';

/** One logical table with its age limit and the watermark that protects its input role. */
export interface RetentionTarget {
  readonly table: string;
  readonly retentionMs: number;
  /** Rows at or after this are still input of an unfinished higher tier (undefined: none). */
  readonly keepFrom: number | undefined;
}

/** The age cut of one table: now − retention, never past what the next tier still needs. */
export function retentionCutoff(nowMs: number, retentionMs: number, keepFrom: number | undefined): number {
  const age = nowMs - retentionMs;
  return keepFrom === undefined ? age : Math.min(age, keepFrom);
}

/** Tables in the order the size cap sacrifices them: raw, then each tier finest first (quantiles with their tier). */
export function retentionTargets(tiers: readonly Tier[], rawRetentionMs: number, watermarks: ReadonlyMap<string, number | undefined>): RetentionTarget[] {
  const out: RetentionTarget[] = [];
  // Raw keeps what the first tier has not reached; with no watermark yet, everything.
  const first = tiers[0];
  out.push({ table: 'samples', retentionMs: rawRetentionMs, keepFrom: first ? (watermarks.get(first.name) ?? -Infinity) : undefined });
  tiers.forEach((t, i) => {
    const next = tiers[i + 1];
    const keepFrom = next ? (watermarks.get(next.name) ?? -Infinity) : undefined;
    out.push({ table: `rollup_${t.name}`, retentionMs: t.retentionMs, keepFrom });
    out.push({ table: `rollup_${t.name}_quantiles`, retentionMs: t.retentionMs, keepFrom: undefined });
  });
  return out;
}

/** Drops every chunk past its table's cut; resolves with what was dropped. */
export async function applyRetention(store: Store, targets: readonly RetentionTarget[], nowMs: number): Promise<ChunkInfo[]> {
  const dropped: ChunkInfo[] = [];
  for (const t of targets) {
    const cut = retentionCutoff(nowMs, t.retentionMs, t.keepFrom);
    if (!Number.isFinite(cut)) continue;
    dropped.push(...(await store.dropChunksBefore(t.table, cut)));
  }
  return dropped;
}

/**
 * Bytes the store's data takes. On SQLite, `sizeBytes()` is the file (page_count ×
 * page_size), which a dropped chunk does not shrink until VACUUM; its free pages are
 * subtracted here so the cap sees the drop at once.
 */
export async function usedBytes(store: Store): Promise<number> {
  const total = await store.sizeBytes();
  if (store.dialect !== 'sqlite') return total;
  const free = Number((await store.query('PRAGMA freelist_count'))[0]?.['freelist_count'] ?? 0);
  const page = Number((await store.query('PRAGMA page_size'))[0]?.['page_size'] ?? 0);
  return Math.max(0, total - free * page);
}

/** Why the size cap may drop a chunk; the first kind always goes before the second. */
export type CapReason =
  /** Its whole range is already in the next coarser tier (for raw: the first tier). */
  | 'rolled-up'
  /** Nothing rolled up is left to drop: older data the tiers do not hold yet goes too. */
  | 'last-resort';

/** A chunk the size cap may drop, and why. */
export interface CapCandidate {
  readonly chunk: ChunkInfo;
  readonly reason: CapReason;
}

/** What one size-cap run did. */
export interface SizeCapResult {
  /** Chunks dropped, in order, with their size just before the drop. */
  readonly dropped: readonly (CapCandidate & { readonly bytes: number })[];
  /** Bytes used after the run. */
  readonly usedBytes: number;
  /** False when even after every droppable chunk the store is over the cap. */
  readonly fits: boolean;
}

/**
 * The order in which the size cap drops chunks (pure; `chunks` per logical table,
 * oldest first). Never a chunk that reaches past `nowMs` (the chunk being written and
 * the empty ones made ahead), nor a table's newest chunk that has started (its latest
 * data, even when recording stopped for a while). Of the rest:
 *
 * 1. `rolled-up`: raw chunks the first tier has rolled up, then each tier finest first
 *    (its quantiles with it) whose range the next coarser tier already holds; oldest
 *    first within a table. The coarsest tier has nothing above it and is never here.
 * 2. `last-resort`: the remaining chunks in the same table order, oldest first: data
 *    no tier holds yet, lost for good, so only when the cap cannot be met otherwise.
 */
export function sizeCapOrder(targets: readonly RetentionTarget[], chunks: ReadonlyMap<string, readonly ChunkInfo[]>, nowMs: number): CapCandidate[] {
  const byTable = new Map(targets.map((x) => [x.table, x]));
  const coveredUntil = (x: RetentionTarget): number => {
    // Quantile tables go with their tier; keepFrom undefined on a tier: no coarser tier.
    const tier = x.table.endsWith('_quantiles') ? byTable.get(x.table.slice(0, -'_quantiles'.length)) : x;
    return tier?.keepFrom ?? -Infinity;
  };
  const droppable = (cs: readonly ChunkInfo[]): ChunkInfo[] => {
    const started = cs.filter((c) => c.startMs <= nowMs);
    const newest = started[started.length - 1];
    return cs.filter((c) => c.endMs <= nowMs && c !== newest);
  };
  const first: CapCandidate[] = [];
  const last: CapCandidate[] = [];
  for (const x of targets) {
    const cut = coveredUntil(x);
    for (const c of droppable([...(chunks.get(x.table) ?? [])].sort((a, b) => a.startMs - b.startMs))) {
      (c.endMs <= cut ? first : last).push({ chunk: c, reason: c.endMs <= cut ? 'rolled-up' : 'last-resort' });
    }
  }
  return [...first, ...last];
}

/**
 * Keeps the store under `maxBytes` (0: no cap): when over, drops chunks in
 * `sizeCapOrder` until it fits. Cheap when under the cap (one size read).
 */
export async function applySizeCap(store: Store, targets: readonly RetentionTarget[], maxBytes: number, nowMs: number): Promise<SizeCapResult> {
  const dropped: (CapCandidate & { bytes: number })[] = [];
  if (maxBytes <= 0) return { dropped, usedBytes: 0, fits: true };
  let used = await usedBytes(store);
  if (used <= maxBytes) return { dropped, usedBytes: used, fits: true };
  // Every chunk in one call; a tier whose tables the engine has not created yet has none.
  const chunks = new Map<string, ChunkInfo[]>();
  for (const c of await store.listChunks()) chunks.set(c.table, [...(chunks.get(c.table) ?? []), c]);
  for (const cand of sizeCapOrder(targets, chunks, nowMs)) {
    const bytes = await store.chunkBytes(cand.chunk.table, cand.chunk.name);
    await store.dropChunk(cand.chunk.table, cand.chunk.name);
    dropped.push({ ...cand, bytes });
    used = await usedBytes(store);
    if (used <= maxBytes) break;
  }
  return { dropped, usedBytes: used, fits: used <= maxBytes };
}
