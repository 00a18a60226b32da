/**
 * The engine's cache of prepared statements (storage/sqlite-statements.ts) and scans that
 * reuse them (scanNumbers with a cache): on a real SQLite file, the least recently used
 * statement is finalized past the capacity, a kept statement answers each run with its
 * new parameters, and it releases its read (the dotfile lock) when its run ends, also
 * when the run fails midway.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'node-sqlite3-wasm';
import t from 'tap';
import { fastPathAvailable, scanNumbers } from '../../storage/sqlite-fast.js';
import { StatementCache } from '../../storage/sqlite-statements.js';

const dir = mkdtempSync(join(tmpdir(), 'larder-statements-'));
const path = join(dir, 's.db');
const db = new sqlite3.Database(path);
t.teardown(() => {
  if (db.isOpen) db.close();
  rmSync(dir, { recursive: true, force: true });
});
db.exec('CREATE TABLE x (k INTEGER PRIMARY KEY, v REAL)');
db.exec(`INSERT INTO x (k, v) VALUES ${Array.from({ length: 100 }, (_, k) => `(${k}, ${k / 2})`).join(', ')}`);

/** A cache over `db` that counts its prepares. */
function counting(capacity: number): { cache: StatementCache; prepared: string[] } {
  const prepared: string[] = [];
  const cache = new StatementCache((sql) => {
    prepared.push(sql);
    return db.prepare(sql);
  }, capacity);
  return { cache, prepared };
}

t.test('the least recently used statement is finalized past the capacity', async (t) => {
  const { cache, prepared } = counting(2);
  const a = cache.get('SELECT 1');
  const b = cache.get('SELECT 2');
  t.equal(cache.get('SELECT 1'), a, 'a hit answers the same statement');
  const c = cache.get('SELECT 3'); // SELECT 2 is now the least recently used
  t.equal(cache.size, 2);
  t.ok(b.isFinalized, 'the least recently used went');
  t.notOk(a.isFinalized, 'the one used since stayed');
  t.notOk(c.isFinalized);
  t.same(prepared, ['SELECT 1', 'SELECT 2', 'SELECT 3'], 'each prepared once');
  cache.get('SELECT 2');
  t.equal(prepared.length, 4, 'a dropped one is prepared again');
  cache.clear();
  t.equal(cache.size, 0);
  t.ok(a.isFinalized && c.isFinalized, 'clear finalizes every statement');
});

t.test('forget finalizes the statements naming a fragment', async (t) => {
  const { cache } = counting(8);
  const one = cache.get('SELECT v FROM x WHERE k = 1');
  const two = cache.get('SELECT 2');
  cache.forget('FROM x');
  t.ok(one.isFinalized);
  t.notOk(two.isFinalized);
  t.equal(cache.size, 1);
  cache.clear();
});

t.test('clear drops every statement even when one fails to finalize, then throws', async (t) => {
  const { cache } = counting(8);
  const a = cache.get('SELECT 1');
  const b = cache.get('SELECT 2');
  a.finalize(); // finalized behind the cache's back: finalizing it again throws
  t.throws(() => cache.clear(), /already finalized/);
  t.equal(cache.size, 0);
  t.ok(b.isFinalized, 'the others were finalized all the same');
});

t.test('the capacity must be a positive integer', async (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN]) t.throws(() => new StatementCache((sql) => db.prepare(sql), bad), /capacity must be a positive integer/, String(bad));
});

t.test('a kept scan answers each run with its parameters and releases its read', async (t) => {
  if (!fastPathAvailable(db)) t.comment('node-sqlite3-wasm without its C exports: scans prepare each time');
  const { cache, prepared } = counting(4);
  const sql = 'SELECT k, v FROM x WHERE k >= ? AND k < ? ORDER BY k';
  const run = (from: number, to: number): number[] => {
    const ks: number[] = [];
    scanNumbers(db, sql, [from, to], (row) => ks.push(row[0]!), cache);
    return ks;
  };
  t.same(run(0, 3), [0, 1, 2]);
  t.same(run(95, 200), [95, 96, 97, 98, 99], 'the second run binds its own parameters');
  t.same(run(10, 10), [], 'an empty run');
  if (fastPathAvailable(db)) t.equal(prepared.length, 1, 'prepared once for the three runs');
  t.notOk(existsSync(`${path}.lock`), 'no read is held between runs (the dotfile lock is gone)');

  // A run that fails midway (the row callback throws) still ends the statement's read.
  t.throws(() =>
    scanNumbers(db, sql, [0, 100], (row) => {
      if (row[0] === 5) throw new Error('stop at 5');
    }, cache),
  /stop at 5/);
  t.notOk(existsSync(`${path}.lock`), 'the failed run released its read');
  // Another connection writes: it would be locked out by a read left open.
  const other = new sqlite3.Database(path);
  try {
    other.exec('INSERT INTO x (k, v) VALUES (100, 50)');
  } finally {
    other.close();
  }
  t.same(run(99, 200), [99, 100], 'and the kept statement reads the other connection’s row');
  cache.clear();
});

t.test('a kept statement last run by the public API scans again', async (t) => {
  const { cache } = counting(4);
  const sql = 'SELECT k, v FROM x WHERE k >= ? AND k < ? ORDER BY k';
  // The engine's row reads and its scans share one cache: `all` steps to the end and does not reset.
  t.equal(cache.get(sql).all([1, 3]).length, 2);
  const ks: number[] = [];
  scanNumbers(db, sql, [4, 6], (row) => ks.push(row[0]!), cache);
  t.same(ks, [4, 5]);
  cache.clear();
});

t.test('a scan with long SQL (a read of many ids) is prepared and finalized, not kept', async (t) => {
  const { cache, prepared } = counting(4);
  const ids = Array.from({ length: 600 }, (_, k) => k);
  const sql = `SELECT k, v FROM x WHERE k IN (${ids.map(() => '?').join(',')}) ORDER BY k`;
  t.ok(sql.length > cache.maxSqlLength);
  for (let i = 0; i < 2; i++) t.equal(scanNumbers(db, sql, ids, () => {}, cache), 101);
  t.equal(cache.size, 0, 'nothing kept');
  t.equal(prepared.length, 0, 'prepared outside the cache');
  t.notOk(existsSync(`${path}.lock`), 'its read was released');
});
