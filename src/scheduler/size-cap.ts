/**
 * The size cap as a background job (issue 11): `--storage.max-bytes` is checked every
 * few seconds, not only by the daily job, so the store cannot outgrow it during the
 * day. A check under the cap is one size read; over it, chunks go in the order
 * rollup/retention.ts `sizeCapOrder` gives, each logged with its reason and counted.
 */
import { Counter, type Registry } from 'prom-client';
import type { Store } from '../../storage/store.js';
import { applySizeCap, retentionTargets, usedBytes, type SizeCapResult } from '../../rollup/retention.js';
import type { Tier } from '../../rollup/tiers.js';
import type { Logger } from '../log.js';

/** How often the recording side checks the cap. */
export const SIZE_CAP_CRON = '*/10 * * * * *';

/** What the job needs. */
export interface SizeCapOptions {
  readonly store: Store;
  readonly tiers: readonly Tier[];
  /** A tier's watermark (end of the last bucket rolled up), epoch ms. */
  readonly watermark: (tier: string) => Promise<number | undefined>;
  /** Raw retention, ms (only the table order and protection come from it here). */
  readonly rawRetentionMs: number;
  /** The cap in bytes; 0 = none. */
  readonly maxBytes: number;
  readonly registry: Registry;
  readonly log: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The size-cap job; the scheduler runs it (never overlapping itself) and logs its failures. */
export class SizeCapJob {
  private readonly chunks: Counter;
  private readonly bytes: Counter;

  constructor(private readonly opts: SizeCapOptions) {
    const registers = [opts.registry];
    this.chunks = new Counter({ name: 'larder_store_size_cap_dropped_chunks_total', help: 'Chunks dropped to keep the store under --storage.max-bytes, by logical table.', labelNames: ['table'], registers });
    this.bytes = new Counter({ name: 'larder_store_size_cap_dropped_bytes_total', help: 'Bytes of the chunks dropped to keep the store under --storage.max-bytes, by logical table.', labelNames: ['table'], registers });
    this.chunks.inc({ table: 'samples' }, 0);
    this.bytes.inc({ table: 'samples' }, 0);
  }

  /** Checks the cap once and drops what it must. */
  async run(): Promise<SizeCapResult> {
    const { store, tiers, maxBytes, log } = this.opts;
    const nowMs = (this.opts.now ?? Date.now)();
    if (maxBytes <= 0) return { dropped: [], usedBytes: 0, fits: true };
    // The common case is one size read; watermarks and chunk lists only when over.
    const used = await usedBytes(store);
    if (used <= maxBytes) {
      if (log.clearOnce('size-cap:unmet')) log.info('size cap: the store fits again', { usedBytes: used, maxBytes });
      return { dropped: [], usedBytes: used, fits: true };
    }
    const watermarks = new Map<string, number | undefined>();
    for (const t of tiers) watermarks.set(t.name, await this.opts.watermark(t.name));
    const result = await applySizeCap(store, retentionTargets(tiers, this.opts.rawRetentionMs, watermarks), maxBytes, nowMs);
    for (const d of result.dropped) {
      this.chunks.inc({ table: d.chunk.table });
      this.bytes.inc({ table: d.chunk.table }, d.bytes);
      log.warn('size cap: chunk dropped', {
        table: d.chunk.table,
        chunk: d.chunk.name,
        from: iso(d.chunk.startMs),
        to: iso(d.chunk.endMs),
        bytes: d.bytes,
        reason: d.reason === 'rolled-up' ? 'over the cap; its range is kept by a coarser tier' : 'over the cap; nothing already rolled up was left to drop',
        maxBytes,
      });
    }
    if (!result.fits) log.once('size-cap:unmet', 'warn', 'size cap: still over after dropping every chunk it may (the chunks being written are kept)', { usedBytes: result.usedBytes, maxBytes });
    else if (log.clearOnce('size-cap:unmet')) log.info('size cap: the store fits again', { usedBytes: result.usedBytes, maxBytes });
    return result;
  }
}
