/**
 * Store tasks on a real SQLite file: a task module runs in the worker with the fast
 * numeric scan and insert (NULL ↔ NaN), inside a transaction that a throwing task
 * rolls back; bad task URLs and bad SQL give clear errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'node-sqlite3-wasm';
import t, { type Test } from 'tap';
import { fastPathAvailable } from '../../storage/sqlite-fast.js';
import { openSqliteStore, type SqliteStore } from '../../storage/sqlite-store.js';
import { taskModuleUrl } from '../../storage/sqlite-task.js';

const TASK = taskModuleUrl(import.meta.url, 'fixtures/numbers-task');

/** A store in a temp folder with two empty tables `a` and `b` (k INTEGER PRIMARY KEY, v REAL). */
async function openWithTables(t: Test): Promise<SqliteStore> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-task-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openSqliteStore({ path: join(dir, 'm.db') });
  t.teardown(() => store.close());
  await store.execute('CREATE TABLE a (k INTEGER PRIMARY KEY, v REAL)');
  await store.execute('CREATE TABLE b (k INTEGER PRIMARY KEY, v REAL)');
  return store;
}

t.test('a task scans and inserts numbers in the worker, NULL as NaN both ways', async (t) => {
  const store = await openWithTables(t);
  const big = 2 ** 53 - 1;
  await store.execute(`INSERT INTO a VALUES (1, 1.5), (2, NULL), (3, -0.25), (${big}, 7)`);
  // 150 more rows: more than one multi-row INSERT statement's worth, and a remainder.
  await store.execute('WITH RECURSIVE s(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM s WHERE i < 159) INSERT INTO a SELECT i, i * 0.5 FROM s');

  const r = await store.runTask<{ scanned: number; seen: number[][] }>(TASK, { from: 'a', to: 'b' });
  t.equal(r.scanned, 154, 'every row scanned');
  t.same(r.seen.slice(0, 3), [[1, 1.5], [2, NaN], [3, -0.25]], 'NULL comes as NaN');
  t.same(r.seen.at(-1), [big, 7], 'integers up to 2^53 exact');
  const b = await store.query('SELECT k, v FROM b ORDER BY k');
  t.equal(b.length, 154, 'every row inserted');
  t.same(b.slice(0, 3), [{ k: 1, v: 3 }, { k: 2, v: null }, { k: 3, v: -0.5 }], 'NaN is stored as NULL; doubles with integral values take INTEGER affinity');
  t.same(b.at(-1), { k: big, v: 14 });

  await t.rejects(store.runTask(TASK, { from: 'a', to: 'b' }), /UNIQUE constraint failed/, 'an insert error reaches the caller with SQLite\'s message');
  await t.rejects(store.runTask(TASK, { from: 'a', to: 'b', sql: 'SELECT k, v FROM missing_table WHERE k >= ?1' }), /no such table: missing_table/, 'a bad query names the problem');
  await t.rejects(store.runTask(TASK, { from: 'a', to: 'b', sql: 'SELECT k, v FROM a' }), /parameter 1 of 1 has no placeholder/, 'a parameter without a placeholder is refused, not ignored');
});

t.test('a task runs in a transaction: one that throws writes nothing', async (t) => {
  const store = await openWithTables(t);
  await store.execute('INSERT INTO a VALUES (1, 1), (2, 2)');
  await t.rejects(store.runTask(TASK, { from: 'a', to: 'b', fail: true }), /task failed on purpose/);
  t.same(await store.query('SELECT count(*) AS n FROM b'), [{ n: 0 }], 'rolled back');

  // Inside the caller's transaction it joins it: the caller's rollback undoes the task too.
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.runTask!(TASK, { from: 'a', to: 'b' });
      t.same(await tx.query('SELECT count(*) AS n FROM b'), [{ n: 2 }], 'visible inside the transaction');
      throw new Error('caller gives up');
    }),
    /caller gives up/,
  );
  t.same(await store.query('SELECT count(*) AS n FROM b'), [{ n: 0 }], 'undone with the caller\'s transaction');
  t.same(await store.query('SELECT count(*) AS n FROM a'), [{ n: 2 }], 'the source untouched');
});

t.test('bad task modules are refused with a clear error', async (t) => {
  const store = await openWithTables(t);
  await t.rejects(store.runTask(new URL('https://example.com/task.js'), {}), /a task is a local module \(file: URL\)/);
  await t.rejects(store.runTask(taskModuleUrl(import.meta.url, 'fixtures/stores'), {}), /has no default-exported function/);
  t.equal(store.runTask !== undefined, true);
});

t.test('the fast path is active with this node-sqlite3-wasm (a slower fallback would hide behind it)', async (t) => {
  const db = new sqlite3.Database(':memory:');
  t.teardown(() => db.close());
  t.equal(fastPathAvailable(db), true, 'SQLite C functions and statement handles reachable');
});
