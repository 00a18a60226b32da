/**
 * Opens a fresh store per dialect for the rollup tests: SQLite in a temp folder, and
 * PostgreSQL at 127.0.0.1:5432 in a fresh schema dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Test } from 'tap';
import type { Store } from '../../storage/store.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { openPgStore } from '../../storage/pg-store.js';
import { need, PG } from '../helpers/peers.js';

/** The dialects every rollup test loops over (ROLLUP_DIALECTS=sqlite narrows). */
export const DIALECTS = (process.env['ROLLUP_DIALECTS'] ?? 'sqlite,postgresql').split(',') as ('sqlite' | 'postgresql')[];

/** Drops a PostgreSQL schema (test cleanup). */
export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ ...PG });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** A fresh schema name. */
export function freshSchema(tag: string): string {
  return `larder_${tag}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
}

/** Opens a fresh store; returns undefined (test skipped or failed) when the peer is missing. */
export async function openTestStore(t: Test, dialect: 'sqlite' | 'postgresql', now: () => number, where?: { dir?: string; schema?: string }): Promise<Store | undefined> {
  if (dialect === 'sqlite') {
    const dir = where?.dir ?? mkdtempSync(join(tmpdir(), 'larder-rollup-'));
    const store = await openSqliteStore({ path: join(dir, 'monitoring.db'), now });
    t.teardown(async () => {
      await store.close();
      if (!where?.dir) rmSync(dir, { recursive: true, force: true });
    });
    return store;
  }
  if (!(await need(t, 'postgres'))) return undefined;
  const schema = where?.schema ?? freshSchema('rollup');
  const store = await openPgStore({ host: PG.host, port: PG.port, database: PG.database, user: PG.user, schema, now });
  t.teardown(async () => {
    await store.close();
    if (!where?.schema) await dropSchema(schema);
  });
  return store;
}
