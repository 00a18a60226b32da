/**
 * Retention: whole chunks dropped per tier once past their age, and a size cap for the
 * whole store that drops the oldest chunks first, raw before rollups. Data a higher
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

/**
 * Keeps the store under `maxBytes`: drops the oldest chunk of the first table in
 * `targets` order that has more than one chunk (raw first), until the store fits or
 * only each table's newest chunk is left. Resolves with what was dropped.
 */
export async function applySizeCap(store: Store, targets: readonly RetentionTarget[], maxBytes: number): Promise<ChunkInfo[]> {
  const dropped: ChunkInfo[] = [];
  if (maxBytes <= 0) return dropped;
  for (const t of targets) {
    for (;;) {
      if ((await usedBytes(store)) <= maxBytes) return dropped;
      const chunks = await store.listChunks(t.table);
      if (chunks.length <= 1) break;
      const oldest = chunks[0]!;
      await store.dropChunk(t.table, oldest.name);
      dropped.push(oldest);
    }
  }
  return dropped;
}
