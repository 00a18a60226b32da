/**
 * Opens a fresh store of each dialect for a test: SQLite in a temp folder, PostgreSQL
 * in a fresh schema of the test database (dropped afterwards). STORE_DIALECTS=sqlite
 * (or postgresql) narrows the loop, as kysely's suites do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import pgPromise from 'pg-promise';
import { PG, need } from '../helpers/peers.js';
import { openPgStore } from '../../storage/pg-store.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Dialect, Store } from '../../storage/store.js';

/** Dialects under test. */
export const DIALECTS: readonly Dialect[] = (['sqlite', 'postgresql'] as const).filter(
  (d) => process.env['STORE_DIALECTS'] === undefined || process.env['STORE_DIALECTS'].split(',').includes(d),
);

/** A settable clock. */
export interface Clock {
  ms: number;
  readonly now: () => number;
}

/** A clock starting at `ms`. */
export function clock(ms: number): Clock {
  const c: Clock = { ms, now: () => c.ms };
  return c;
}

/** A temp folder removed when the test ends. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'larder-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A unique schema name for this run. */
export function schemaName(): string {
  return `larder_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Drops a test schema (ignoring a missing one). */
export async function dropSchema(schema: string): Promise<void> {
  const pgp = pgPromise({ noWarnings: true });
  const db = pgp({ ...PG });
  try {
    await db.none(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await db.$pool.end();
  }
}

/** Options for `openTestStore`. */
export interface TestStoreOptions {
  readonly now: () => number;
  readonly chunkMs?: number;
}

/**
 * A fresh store of `dialect`, closed (and its schema dropped) at teardown; undefined
 * when the peer is missing (the test was skipped or failed by `need`).
 */
export async function openTestStore(t: Test, dialect: Dialect, o: TestStoreOptions): Promise<Store | undefined> {
  if (dialect === 'sqlite') {
    const dir = tempDir(t);
    const store = await openSqliteStore({ path: join(dir, 'monitoring.db'), now: o.now, ...(o.chunkMs !== undefined ? { chunkMs: o.chunkMs } : {}) });
    t.teardown(() => store.close());
    return store;
  }
  if (!(await need(t, 'postgres'))) return undefined;
  const schema = schemaName();
  const store = await openPgStore({ ...PG, schema, now: o.now, poolSize: 3, ...(o.chunkMs !== undefined ? { chunkMs: o.chunkMs } : {}) });
  t.teardown(async () => {
    await store.close();
    await dropSchema(schema);
  });
  return store;
}

/** SQL placeholder number `i` (1-based) in `dialect`. */
export function ph(dialect: Dialect, i: number): string {
  return dialect === 'sqlite' ? '?' : `$${i}`;
}

/** An expression giving column `col` (a time) as epoch ms in `dialect`. */
export function msExpr(dialect: Dialect, col: string): string {
  return dialect === 'sqlite' ? col : `round(extract(epoch from ${col}) * 1000)::float8`;
}
