/**
 * The hot journal a writer killed mid-transaction leaves behind: Larder rolls it back
 * at open, byte for byte as native SQLite does, so the half-written transaction is gone
 * whole. A store that fails its check at open is read-only and says why (also on
 * /healthz); a lock folder nobody owns is named; a folder Larder cannot write in is named
 * with the option that chose it.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { need, run } from '../helpers/peers.js';
import { tempDir } from './fixtures/stores.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { rollbackJournal } from '../../storage/sqlite-journal.js';
import { loadConfig } from '../../src/config.js';
import { startLarder } from '../../src/main.js';
import { silentLogger } from '../../src/log.js';

const CHILD = fileURLToPath(new URL('./crash-big-tx-child.ts', import.meta.url));
const ROWS = 300_000;
const T0 = Date.UTC(2026, 0, 10);
const dotfile = (path: string): string => `file:${path}?vfs=unix-dotfile`;

function journalHasHeader(path: string): boolean {
  try {
    const fd = openSync(`${path}-journal`, 'r');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 0);
    closeSync(fd);
    return b[0] === 0xd9; // the magic is written once the journal is synced, before the first database page
  } catch {
    return false;
  }
}

/** Leaves the pid file a Larder killed while owning `path` leaves (its process is gone). */
function leaveDeadOwner(path: string): void {
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  writeFileSync(`${path}.larder-pid`, `${gone}\n\n`);
}

/** Runs the child until its big transaction has spilled pages into the file, then SIGKILLs it. */
async function killMidTransaction(path: string): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, CHILD, path, String(ROWS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line === 'committed') reject(new Error('the big transaction committed before the kill'));
        if (line === 'big') resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before its big transaction`)));
    });
    // The transaction is open and waits: its pages spilled into the file behind a synced journal.
    if (!journalHasHeader(path)) throw new Error('the open transaction left no synced journal');
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

t.test('a writer killed mid-transaction: the journal is rolled back at open, as native SQLite does', async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  await killMidTransaction(path);
  t.ok(existsSync(`${path}-journal`), 'the killed writer left its journal');
  t.ok(existsSync(`${path}.lock`), 'and its lock folder');

  // What the old open path showed a reader: the half-applied transaction.
  rmdirSync(`${path}.lock`);
  const torn = run('sqlite3', [dotfile(path), 'SELECT COUNT(*) FROM samples_all WHERE value = 1']).trim();
  t.comment(`rows of the killed transaction visible without the rollback: ${torn}`);
  mkdirSync(`${path}.lock`);

  // Native SQLite (POSIX locks, which do see the journal is hot) on a copy, and our rollback on another.
  const native = join(dir, 'native.db');
  const ours = join(dir, 'ours.db');
  for (const p of [native, ours]) {
    copyFileSync(path, p);
    copyFileSync(`${path}-journal`, `${p}-journal`);
  }
  t.equal(run('sqlite3', [native, 'PRAGMA integrity_check']).trim(), 'ok', 'native sqlite3 rolls it back');
  t.notOk(existsSync(`${native}-journal`));
  const r = rollbackJournal(ours);
  t.ok(r !== undefined && r.pages > 0, `pages rolled back: ${r?.pages} in ${r?.segments} segment(s)`);
  t.notOk(existsSync(`${ours}-journal`), 'the journal is deleted once rolled back');
  t.ok(readFileSync(ours).equals(readFileSync(native)), 'the rolled-back file is byte for byte what native SQLite makes of it');

  // And the store itself, opened the normal way, removes the dead owner's lock and rolls back.
  const s = await openSqliteStore({ path, now: () => T0 });
  t.teardown(() => s.close());
  t.ok(s.recovered !== undefined && s.recovered.pages > 0, 'the open rolled the journal back');
  t.equal(s.problem(), undefined, 'the store passes its check');
  const values = await s.query<{ v: number; n: number }>('SELECT value AS v, COUNT(*) AS n FROM samples_all GROUP BY value');
  t.same(values, [{ v: 0, n: ROWS }], 'the killed transaction is gone whole, every committed row is there');
  t.same(await s.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
});

t.test('a journal without a synced header is not played back (nothing reached the file)', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'm.db');
  const s = await openSqliteStore({ path, now: () => T0 });
  await s.close();
  const before = readFileSync(path);
  writeFileSync(`${path}-journal`, Buffer.alloc(4096)); // header zeroed: the writer died before syncing it
  const r = rollbackJournal(path);
  t.same(r, { pages: 0, sizeBytes: 0, segments: 0 });
  t.ok(readFileSync(path).equals(before), 'the database is untouched');
});

t.test('a store damaged when Larder died is opened read-only and says why, /healthz too', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const s = await openSqliteStore({ path, now: () => T0 });
  const [id] = await s.resolveSeries([{ name: 'damaged_test', labels: {}, type: 'gauge' }]);
  await s.writeSamples(Array.from({ length: 20_000 }, (_, i) => ({ seriesId: id!, timeMs: T0 + i * 1000, value: i })));
  const root = await s.query<{ rootpage: number }>("SELECT rootpage FROM sqlite_master WHERE name LIKE 'samples_2026%' ORDER BY name LIMIT 1");
  await s.close();
  // Overwrite the chunk table's root page header: a page type that does not exist.
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from([0x77, 0x77, 0x77, 0x77]), 0, 4, (root[0]!.rootpage - 1) * 4096);
  closeSync(fd);

  // After a clean shutdown the check is skipped (it reads every page) unless asked for.
  const clean = await openSqliteStore({ path, now: () => T0 });
  t.equal(clean.problem(), undefined, 'a clean start does not check');
  await clean.close();
  const asked = await openSqliteStore({ path, now: () => T0, checkAtOpen: true });
  t.match(asked.problem(), /is damaged/, 'checkAtOpen checks anyway');
  await asked.close();

  leaveDeadOwner(path); // the previous Larder died: the check runs
  const d = await openSqliteStore({ path, now: () => T0 });
  t.teardown(() => d.close());
  const problem = d.problem();
  t.match(problem, new RegExp(`SQLite store ${path} is damaged \\(PRAGMA quick_check: .+\\): Larder will not write to it`));
  t.match(problem, /restore a backup|\.recover/, 'and says what to do');
  await t.rejects(d.writeSamples([{ seriesId: id!, timeMs: T0, value: 1 }]), { name: 'StoreDamagedError', message: /will not write/ });
  await t.rejects(d.execute('DELETE FROM series'), { name: 'StoreDamagedError' });
  t.same(await d.listSeries(), [{ id: id!, name: 'damaged_test', labels: {}, type: 'gauge', help: '', fingerprint: (await d.listSeries())[0]!.fingerprint, createdMs: T0 }], 'what can be read still is');
  await d.close();

  leaveDeadOwner(path);
  const { config } = loadConfig({ argv: ['--listen=127.0.0.1:0'], env: { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: path } });
  const larder = await startLarder(config, silentLogger);
  t.teardown(() => larder.stop());
  const health = await fetch(`${larder.server.url}/healthz`);
  t.equal(health.status, 503, '/healthz is not OK');
  t.match(await health.text(), /is damaged/);
  t.equal((await fetch(`${larder.server.url}/metrics`)).status, 200, '/metrics is still served');
});

t.test('a lock folder no Larder owns: the error names it and says whether it is safe to remove', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const s = await openSqliteStore({ path, now: () => T0 });
  await s.close();
  mkdirSync(`${path}.lock`); // a crashed reader's, say: no larder-pid file
  await t.rejects(openSqliteStore({ path, now: () => T0, busyTimeoutMs: 300 }), {
    name: 'LockHeldError',
    message: new RegExp(`locked by the lock folder ${path}\\.lock.*safe to remove: rmdir '${path}\\.lock'`),
  });
  rmdirSync(`${path}.lock`);
  const again = await openSqliteStore({ path, now: () => T0 });
  await again.close();
  t.pass('opens once the folder is gone');
});

t.test('a store folder Larder cannot create files in: the error names the store and the option', async (t) => {
  const dir = tempDir(t);
  const blocker = join(dir, 'not-a-folder');
  writeFileSync(blocker, '');
  const path = join(blocker, 'monitoring.db');
  await t.rejects(openSqliteStore({ path, now: () => T0 }), {
    message: new RegExp(`cannot open the SQLite store ${path} \\(SQLITE_DB_PATH \\(--storage.sqlite-path\\)\\): Larder cannot create files in ${blocker}`),
  });
  const rejected = await openSqliteStore({ path, now: () => T0 }).catch((e: Error) => e.message);
  t.notMatch(rejected, /\.tmp/, 'no temporary file name in the message');
});

t.test('a backup killed mid-way does not block the next one', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const s = await openSqliteStore({ path, now: () => T0, busyTimeoutMs: 500 });
  t.teardown(() => s.close());
  const dest = join(dir, 'backup.db');
  // What a SIGKILL during VACUUM INTO leaves: the copy, its journal and its lock folder.
  writeFileSync(`${dest}.tmp`, '');
  writeFileSync(`${dest}.tmp-journal`, Buffer.alloc(512));
  mkdirSync(`${dest}.tmp.lock`);
  await s.backup(dest);
  t.ok(existsSync(dest), 'the backup is written');
  t.notOk(existsSync(`${dest}.tmp.lock`), 'no lock folder left');
  t.equal(run('sqlite3', [dest, 'PRAGMA integrity_check']).trim(), 'ok');
});
