/**
 * The dotfile lock lingers after a transaction (storage/sqlite-lock-linger.ts): a run of
 * reads takes it once, an idle owner and a closed store give it up, a hold never shuts a
 * dotfile reader out, and Larder's own takers of the lock in the same thread agree with
 * SQLite's on who holds it. On real files, with the sqlite3 CLI as the outside reader.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteEngine } from '../../storage/sqlite-engine.js';
import { withDotfileLock } from '../../storage/sqlite-lock.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { need } from '../helpers/peers.js';
import { tempDir } from './fixtures/stores.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('in a thread of its own (the engine, as the worker runs it)', async (t) => {
  const path = join(tempDir(t), 'linger.db');
  const lock = `${path}.lock`;
  const e = new SqliteEngine({ path, nowMs: Date.now(), lockLinger: { lingerMs: 100, maxHoldMs: 1000 } });
  let open = true;
  t.teardown(() => {
    if (open) e.close();
  });

  t.test('a run of reads takes the lock once, and an idle owner gives it up', async (t) => {
    await sleep(300); // the open's own transactions' lock given up
    t.notOk(existsSync(lock), 'no lock while idle');
    const before = e.lockCycles()!;
    for (let i = 0; i < 50; i++) {
      e.query('SELECT COUNT(*) AS n FROM series');
      await tick();
    }
    // One; a stall of this shared machine longer than lingerMs between two reads adds one.
    const cycles = e.lockCycles()! - before;
    t.ok(cycles >= 1 && cycles <= 3, `50 reads, ${cycles} mkdir of the lock (without lingering: 50)`);
    t.ok(existsSync(lock), 'the lock lingers just after');
    await sleep(300);
    t.notOk(existsSync(lock), 'and is gone once the owner is idle');
  });

  t.test('Larder\'s own withDotfileLock in the same thread adopts a lingering lock', async (t) => {
    e.query('SELECT COUNT(*) AS n FROM series');
    t.ok(existsSync(lock), 'lingering');
    const started = Date.now();
    t.equal(withDotfileLock(path, 200, () => 7), 7, 'taken at once, no wait for our own lock');
    t.ok(Date.now() - started < 150, 'without waiting out its timeout');
    await sleep(300);
    t.notOk(existsSync(lock), 'released after');
  });

  t.test('other directories are not touched', async (t) => {
    const other = join(tempDir(t), 'other.lock');
    mkdirSync(other);
    t.throws(() => mkdirSync(other), { code: 'EEXIST' }, 'an existing directory is still refused');
    rmdirSync(other);
    t.notOk(existsSync(other), 'and removed when asked');
  });

  t.test('a dotfile reader gets in while the owner reads without pause', async (t) => {
    if (!(await need(t, 'sqlite3'))) return;
    const read = (): Promise<{ ok: boolean; ms: number; out: string }> => {
      const started = Date.now();
      return new Promise((resolve) => {
        execFile('sqlite3', ['-cmd', '.timeout 5000', `file:${path}?vfs=unix-dotfile`, 'SELECT COUNT(*) FROM series;'], (err, stdout, stderr) => resolve({ ok: err === null, ms: Date.now() - started, out: err === null ? stdout.trim() : stderr }));
      });
    };
    const idle = await read();
    let reading = true;
    let reads = 0;
    const owner = (async () => {
      while (reading) {
        e.query('SELECT COUNT(*) AS n FROM series');
        reads++;
        await tick();
      }
    })();
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await read());
    reading = false;
    await owner;
    t.ok(reads > 100, `the owner read all along (${reads} reads)`);
    t.same(results.map((r) => [r.ok, r.out]), results.map(() => [true, '0']), 'every outside read succeeded');
    t.comment(`outside reads: ${results.map((r) => r.ms).join(', ')} ms (idle ${idle.ms} ms)`);
  });

  t.test('close gives a lingering lock up at once', async (t) => {
    await sleep(2200); // past the reader test's hold and the unlocking after it
    e.query('SELECT COUNT(*) AS n FROM series');
    t.ok(existsSync(lock), 'lingering');
    e.close();
    open = false;
    t.notOk(existsSync(lock), 'gone right after close');
  });
});

t.test('the store\'s worker lingers: the lock outlives its reads', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'store.db');
  const lock = `${path}.lock`;
  const store = await openSqliteStore({ path, now: () => Date.now() });
  const [id] = await store.resolveSeries([{ name: 'linger_gauge', labels: {}, type: 'gauge' }]);
  await store.writeSamples([{ seriesId: id!, timeMs: Date.now() - 1000, value: 1 }]);
  await sleep(50);
  // Without lingering the worker removes the lock before it replies, so it is never there
  // when a read has come back. With it the lock stays the worker's 5 ms: it is there after
  // every read whose reply reached this thread sooner. How many do depends on this shared
  // machine's scheduling (a count of lock cycles did too: a hold past maxHoldMs unlocks
  // after every read for as long, so slow reads add a cycle each), so only one must.
  let seen = 0;
  for (let i = 0; i < 100; i++) {
    await store.readSamples({ seriesIds: [id!], fromMs: 0, toMs: Date.now() + 1 });
    if (existsSync(lock)) seen++;
  }
  await store.close();
  t.ok(seen > 0, `the lock was still there just after ${seen} of 100 reads back to back`);
  t.notOk(existsSync(lock), 'no lock left after close');
});
