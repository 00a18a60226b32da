/**
 * Crash safety and outside readers on SQLite: a writer SIGKILLed mid-batch leaves a
 * file that passes integrity_check, holds every committed batch, and reopens without
 * anyone removing a lock by hand; a native sqlite3 reader on the dotfile VFS reads
 * consistent data while Larder writes.
 */
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { need, run } from '../helpers/peers.js';
import { tempDir } from './fixtures/stores.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';

const WRITER = fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url));
const BATCH = 20_000; // a transaction long enough that the kill usually lands inside it
const dotfile = (path: string): string => `file:${path}?vfs=unix-dotfile`;

t.test('SIGKILL mid-batch: integrity ok, every committed batch present, restart without manual unlock', async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const child = spawn(process.execPath, [...process.execArgv, WRITER, path, String(BATCH)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let committed = -1;
  let seriesId = 0;
  const at: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const [word, n] = line.split(' ');
      if (word === 'ready') seriesId = Number(n);
      if (word === 'committed') {
        committed = Number(n);
        at.push(Date.now());
      }
      // After a few batches, kill the moment the writer holds the lock (mid-transaction).
      if (committed === 4) {
        lines.removeAllListeners('line');
        const poll = setInterval(() => {
          if (existsSync(`${path}.lock`) || Date.now() - at[4]! > 10_000) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve();
          }
        }, 1);
      }
    });
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  await new Promise((r) => child.once('exit', r));
  t.equal(child.signalCode, 'SIGKILL');
  // The dead writer may or may not have held the lock at that instant; make sure the
  // restart path is exercised by leaving one as a killed writer does.
  const lockLeft = existsSync(`${path}.lock`);
  t.comment(`lock directory left by the killed writer: ${lockLeft}`);
  if (!lockLeft) mkdirSync(`${path}.lock`);
  t.ok(existsSync(`${path}.larder-pid`), 'the dead owner is recorded');

  const started = Date.now();
  const s = await openSqliteStore({ path, now: () => Date.UTC(2026, 0, 10) });
  t.comment(`reopened in ${Date.now() - started} ms`);
  const rows = await s.query<{ k: number; n: number }>('SELECT value AS k, COUNT(*) AS n FROM samples_all WHERE series_id = ? GROUP BY value ORDER BY value', [seriesId]);
  const last = rows.at(-1)?.k ?? -1;
  t.ok(last === committed || last === committed + 1 || last === committed + 2, `batches up to ${committed} committed, found up to ${last}`);
  t.same(rows, Array.from({ length: last + 1 }, (_, k) => ({ k, n: BATCH })), 'every stored batch is whole (no partial batch)');
  // and it writes again
  await s.writeSamples([{ seriesId, timeMs: Date.UTC(2026, 0, 10, 23), value: -1 }]);
  await s.close();
  t.notOk(existsSync(`${path}.lock`), 'no lock left after a clean close');
  t.equal(run('sqlite3', [dotfile(path), 'PRAGMA integrity_check']).trim(), 'ok');
});

t.test('a native sqlite3 reader (dotfile VFS) in a loop while Larder writes', async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const s = await openSqliteStore({ path, now: () => Date.UTC(2026, 0, 10), busyTimeoutMs: 20_000 });
  t.teardown(() => s.close());
  const [id] = await s.resolveSeries([{ name: 'reader_test', labels: {}, type: 'gauge' }]);
  const T0 = Date.UTC(2026, 0, 10);
  let stop = false;
  let batches = 0;
  const writer = (async () => {
    for (let k = 0; !stop; k++) {
      await s.writeSamples(Array.from({ length: 500 }, (_, i) => ({ seriesId: id!, timeMs: T0 + k * 500 + i, value: k })));
      batches++;
    }
  })();
  const counts: number[] = [];
  const errors: string[] = [];
  let busy = 0;
  // At least 5 s, and on until both sides did some work (a loaded machine is slow).
  const until = Date.now() + 5000;
  const hardStop = Date.now() + 30_000;
  while (Date.now() < until || ((counts.length < 10 || batches < 10) && Date.now() < hardStop)) {
    await new Promise<void>((resolve) => {
      execFile('sqlite3', ['-cmd', '.timeout 2000', dotfile(path), 'SELECT COUNT(*) FROM samples_all;'], (err, stdout, stderr) => {
        if (err !== null) {
          if (/database is locked|busy/i.test(stderr)) busy++;
          else errors.push(stderr || err.message);
        } else counts.push(Number(stdout.trim()));
        resolve();
      });
    });
  }
  stop = true;
  await writer;
  t.comment(`${counts.length} reads, ${busy} busy, ${batches} batches written`);
  t.same(errors, [], 'no errors beyond busy');
  t.ok(counts.length >= 10, 'the reader got answers');
  t.ok(batches >= 10, 'Larder kept writing');
  t.ok(counts.every((n) => n % 500 === 0), 'every read saw whole batches only');
  t.ok(counts.every((n, i) => i === 0 || n >= counts[i - 1]!), 'counts never go back');
  t.equal(Number((await s.query<{ n: number }>('SELECT COUNT(*) AS n FROM samples_all'))[0]!.n), batches * 500, 'nothing lost');
  t.equal(run('sqlite3', [dotfile(path), 'PRAGMA integrity_check']).trim(), 'ok');
});

t.test('Larder waits, rather than fails, while a dotfile reader holds the lock', async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const s = await openSqliteStore({ path, now: () => Date.UTC(2026, 0, 10) });
  t.teardown(() => s.close());
  const [id] = await s.resolveSeries([{ name: 'wait_test', labels: {}, type: 'gauge' }]);
  // The reader opens a transaction, reads, and keeps the lock for 2 s.
  const reader = new Promise<string>((resolve, reject) => {
    execFile('sqlite3', [dotfile(path), 'BEGIN;', 'SELECT COUNT(*) FROM series;', '.shell sleep 2', 'COMMIT;'], (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  // wait until the reader holds the lock
  for (let i = 0; i < 200 && !existsSync(`${path}.lock`); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(existsSync(`${path}.lock`), 'the reader holds the lock');
  const t0 = Date.now();
  await s.writeSamples([{ seriesId: id!, timeMs: Date.UTC(2026, 0, 10, 1), value: 1 }]);
  const waited = Date.now() - t0;
  t.ok(waited >= 1000, `the write waited for the reader (${waited} ms) and then succeeded`);
  t.equal((await reader).trim(), '1');
  t.equal((await s.readSamples({ seriesIds: [id!], fromMs: 0, toMs: Date.UTC(2027, 0, 1) })).samples.length, 1);
});
