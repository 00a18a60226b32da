/**
 * `larder restore`'s swap killed with SIGKILL at each of its points (the copy written and
 * checked; the old file kept as .pre-restore; the copy renamed into place): the store is
 * then the old one or the new one, whole (PRAGMA integrity_check ok), and Larder opens it
 * afterwards without anyone removing a lock or a pid file by hand.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import sqlite3 from 'node-sqlite3-wasm';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { SwapStep } from '../../src/cli/backup.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./restore-swap-child.ts', import.meta.url));

/** A store whose one series is named `marker`. */
async function storeWith(path: string, marker: string): Promise<void> {
  const s = await openSqliteStore({ path });
  const [id] = await s.resolveSeries([{ name: marker, labels: {}, type: 'gauge' }]);
  await s.writeSamples(Array.from({ length: 500 }, (_, i) => ({ seriesId: id!, timeMs: Date.UTC(2026, 0, 1) + i * 1000, value: i })));
  await s.close();
}

function rows(path: string, sql: string): Record<string, unknown>[] {
  const db = new sqlite3.Database(path, { readOnly: true });
  try {
    return db.all(sql);
  } finally {
    db.close();
  }
}

const CASES: [SwapStep, 'old' | 'new'][] = [
  ['copy-written', 'old'],
  ['old-kept', 'old'],
  ['renamed', 'new'],
];

t.test('SIGKILL at each point of the swap: the old store or the new one, whole', async (t) => {
  const dir = tempDir(t);
  const oldStore = join(dir, 'old.db');
  const newStore = join(dir, 'new.db');
  await storeWith(oldStore, 'old_marker');
  await storeWith(newStore, 'new_marker');
  for (const [step, expect] of CASES) {
    await t.test(step, async (t) => {
      const target = join(dir, `${step}.db`);
      const tmp = `${target}.restore.tmp`;
      copyFileSync(oldStore, target);
      copyFileSync(newStore, tmp);
      const child = spawn(process.execPath, [...process.execArgv, CHILD, tmp, target, step], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((r) => child.once('close', r));
      const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
      t.equal(line, `PAUSED ${step}`, 'paused at the point');
      child.kill('SIGKILL');
      await exited;
      t.equal(child.signalCode, 'SIGKILL');
      t.ok(existsSync(`${target}.lock`) && existsSync(`${target}.larder-pid`), 'killed holding the lock and the ownership');
      // Larder starts on it: the dead restore's pid file and lock folder are no obstacle.
      const store = await openSqliteStore({ path: target });
      t.equal((await store.listSeries())[0]?.name, `${expect}_marker`, 'Larder opens it');
      await store.close();
      t.same(rows(target, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }], 'integrity_check ok');
      t.same(rows(target, 'SELECT name FROM series'), [{ name: `${expect}_marker` }], `the ${expect} store`);
      if (step !== 'copy-written') t.same(rows(`${target}.pre-restore`, 'SELECT name FROM series'), [{ name: 'old_marker' }], 'the old file kept as .pre-restore');
      t.equal(existsSync(tmp), expect === 'old', expect === 'old' ? 'the copy is still beside it (restore can be run again)' : 'the copy was renamed');
    });
  }
});
