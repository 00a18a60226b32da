/**
 * Opens a fresh store per dialect for the rollup tests: SQLite in a temp folder, and
 * PostgreSQL at 127.0.0.1:5432 in a fresh schema dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { Store } from '../../storage/store.js';
import { SqliteEngine } from '../../storage/sqlite-engine.js';
import { need } from '../helpers/peers.js';

/** The dialects every rollup test loops over (ROLLUP_DIALECTS=sqlite narrows). */
export const DIALECTS = (process.env['ROLLUP_DIALECTS'] ?? 'sqlite,postgresql').split(',') as ('sqlite' | 'postgresql')[];

/** A temporary main-thread adapter over the synchronous engine, until SqliteStore lands. */
function engineStore(engine: SqliteEngine, now: () => number): Store {
  const e = engine;
  let inTx = false;
  const s = {
    dialect: 'sqlite' as const,
    schemaVersion: e.schemaVersion,
    query: async (sql: string, params?: readonly unknown[]) => e.query(sql, (params ?? []) as never),
    execute: async (sql: string, params?: readonly unknown[]) => e.execute(sql, (params ?? []) as never),
    async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
      if (inTx) throw new Error('nested transaction');
      e.begin();
      inTx = true;
      try {
        const r = await fn(s as unknown as Store);
        e.commit();
        return r;
      } catch (err) {
        e.rollback();
        throw err;
      } finally {
        inTx = false;
      }
    },
    ensureRollupTier: async (d: { tier: string; chunkMs: number }) => e.ensureRollupTier(d.tier, d.chunkMs),
    ensureChunk: async (table: string, t: number) => e.ensureChunk(table, t, now()),
    listChunks: async (table?: string) => e.listChunks(table),
    dropChunksBefore: async (table: string, cutoff: number) => e.dropChunksBefore(table, cutoff),
    dropChunk: async (table: string, name: string) => e.dropChunk(table, name),
    chunkBytes: async (table: string, name: string) => e.chunkBytes(table, name),
    sizeBytes: async () => e.sizeBytes(),
    resolveSeries: async (defs: never) => e.resolveSeries(defs, now()),
    listSeries: async (ids?: readonly number[]) => e.listSeries(ids),
    writeSamples: async (samples: never) => e.writeSamples(samples, now()),
    readSamples: async (q: never) => e.readSamples(q),
    getMetricStats: async (name: string, hours: number) => e.getMetricStats(name, hours, now()),
    saveDailySummary: async (date: string, data: unknown) => e.saveDailySummary(date, data, now()),
    cleanupOldMetrics: async (days: number) => e.cleanupOldMetrics(days, now()),
    getDatabaseStats: async () => e.getDatabaseStats(0),
    close: async () => e.close(),
  };
  return s as unknown as Store;
}

/** Opens a fresh store; returns undefined (test skipped or failed) when the peer is missing. */
export async function openTestStore(t: Test, dialect: 'sqlite' | 'postgresql', now: () => number): Promise<Store | undefined> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'larder-rollup-'));
    const engine = new SqliteEngine({ path: join(dir, 'monitoring.db'), nowMs: now() });
    const store = engineStore(engine, now);
    t.teardown(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  }
  if (!(await need(t, 'postgres'))) return undefined;
  t.fail('PostgreSQL store not available yet');
  return undefined;
}
