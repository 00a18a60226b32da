/**
 * `larder backup` and `larder restore` (SQLite). Backup: a consistent copy with VACUUM
 * INTO through the dotfile lock while Larder runs, optionally gzipped, renamed into
 * place only when complete. Restore: checks the copy (integrity_check, a Larder schema
 * this version knows), takes ownership of the target as Larder would (so it refuses
 * while a Larder runs there and no Larder starts during it), keeps the old file as
 * `<db>.pre-restore` and renames the new one into place atomically.
 */
import { chmodSync, createReadStream, createWriteStream, existsSync, linkSync, renameSync, rmSync, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { createGunzip, createGzip } from 'node:zlib';
import sqlite3 from 'node-sqlite3-wasm';
import { SQLITE_MIGRATIONS } from '../../storage/sqlite-sql.js';
import { acquireOwnership, StoreInUseError, withDotfileLock } from '../../storage/sqlite-lock.js';
import { FailedError, interruptGuard, UsageError, type Command } from './command.js';
import { formatBytes, ProgressBar, type OutStream } from './output.js';
import { describeStore, liveOwner, stopFirst, storeOptionsOf } from './store-access.js';

const FILE_MODE = 0o640;

function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './backup-worker.ts' : './backup-worker.js', import.meta.url);
}

/** Copies `from` to `to` through `transform` (gzip / gunzip), counting input bytes on a bar. */
async function copyWithProgress(from: string, to: string, transform: NodeJS.ReadWriteStream, bar: ProgressBar): Promise<void> {
  let done = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      bar.update(done);
      cb(null, chunk);
    },
  });
  await pipeline(createReadStream(from), count, transform, createWriteStream(to, { mode: FILE_MODE }));
  bar.update(done, true);
}

/** VACUUM INTO `dest` in a worker, drawing the copy's growth against the source size. */
export async function vacuumInto(source: string, dest: string, stderr: OutStream): Promise<void> {
  const bar = new ProgressBar(stderr, 'backup', statSync(source).size, formatBytes);
  const worker = new Worker(workerUrl(), { workerData: { source, dest, busyTimeoutMs: 60_000 } });
  const timer = setInterval(() => {
    try {
      bar.update(statSync(dest).size);
    } catch {
      /* not created yet */
    }
  }, 200);
  const replied = new Promise<{ ok?: true; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`backup worker exited with code ${code}`)));
  });
  // Interrupted: let VACUUM INTO end (it holds the lock), then exit; the copy is removed.
  interruptGuard.wait = () => replied.catch(() => undefined).finally(() => rmSync(dest, { force: true }));
  try {
    const reply = await replied;
    if (reply.error !== undefined) throw new Error(reply.error);
    bar.update(statSync(dest).size, true);
    bar.finish();
  } finally {
    clearInterval(timer);
    interruptGuard.wait = undefined;
    await worker.terminate();
  }
}

export const backupCommand: Command = {
  name: 'backup',
  summary: 'a consistent copy of the SQLite store while Larder runs (--gzip optional)',
  usage: `Usage: larder backup DEST [--gzip]

Writes a consistent copy of the SQLite store to DEST (VACUUM INTO, through the same lock
Larder uses, so it works while larder serve runs; Larder's writes wait for it). With
--gzip the copy is gzip-compressed (".gz" is added to DEST when missing). DEST appears
only once complete. PostgreSQL: use pg_dump.`,
  flags: [
    { name: 'gzip', boolean: true, help: 'compress the copy with gzip' },
    { name: 'force', boolean: true, help: 'replace DEST when it exists' },
  ],
  async run({ flags, words, config, stdout, stderr }) {
    if (words.length !== 1) throw new UsageError('give the destination file: larder backup /var/backups/larder.db');
    const opts = storeOptionsOf(config);
    if (opts.engine !== 'sqlite') throw new UsageError('larder backup copies a SQLite store; for PostgreSQL use pg_dump');
    const source = opts.sqlitePath!;
    if (!existsSync(source)) throw new FailedError(`no SQLite store at ${source} (SQLITE_DB_PATH, --storage.sqlite-path)`);
    const gz = flags.has('gzip');
    const dest = gz && !words[0]!.endsWith('.gz') ? `${words[0]}.gz` : words[0]!;
    if (existsSync(dest) && !flags.has('force')) throw new FailedError(`${dest} exists: choose another name or add --force to replace it`);
    const plain = `${dest}.${process.pid}.tmp`;
    // A killed earlier run leaves its copy's journal and lock folder: ours to remove.
    for (const p of [plain, `${plain}-journal`, `${plain}.lock`, `${dest}.tmp`]) rmSync(p, { force: true, recursive: true });
    const started = Date.now();
    try {
      await vacuumInto(source, plain, stderr);
      chmodSync(plain, FILE_MODE);
      if (gz) {
        const bar = new ProgressBar(stderr, 'gzip  ', statSync(plain).size, formatBytes);
        await copyWithProgress(plain, `${dest}.tmp`, createGzip(), bar);
        bar.finish();
        rmSync(plain, { force: true });
        renameSync(`${dest}.tmp`, dest);
      } else renameSync(plain, dest);
    } catch (e) {
      for (const p of [plain, `${plain}-journal`, `${dest}.tmp`]) rmSync(p, { force: true });
      throw new FailedError(`backup of ${source} to ${dest} failed: ${(e as Error).message}`);
    }
    stdout.write(`backup of ${source} written to ${dest} (${formatBytes(statSync(dest).size)}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  },
};

/** Throws FailedError unless `path` is a sound Larder SQLite store this Larder can open. */
export function checkCopy(path: string, shown: string): void {
  let db: InstanceType<typeof sqlite3.Database>;
  try {
    db = new sqlite3.Database(path, { readOnly: true });
  } catch (e) {
    throw new FailedError(`${shown} cannot be opened as SQLite: ${(e as Error).message}`);
  }
  try {
    let result: string[];
    try {
      result = db.all('PRAGMA integrity_check(5)').map((r) => String(Object.values(r)[0]));
    } catch (e) {
      result = [(e as Error).message];
    }
    if (result.length !== 1 || result[0] !== 'ok') throw new FailedError(`${shown} is damaged (PRAGMA integrity_check: ${result.join('; ').slice(0, 300)}); the store was not touched: restore another backup`);
    const has = db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (has === null) throw new FailedError(`${shown} is a SQLite file but not a Larder store (no schema_migrations); the store was not touched`);
    const v = Number(db.get('SELECT MAX(version) AS v FROM schema_migrations')?.['v'] ?? 0);
    const known = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version;
    if (v > known) throw new FailedError(`${shown} has schema version ${v}, newer than this Larder knows (${known}): restore it with a newer Larder`);
  } finally {
    db.close();
  }
}

/** Points of the swap, for a test that kills the process there. */
export type SwapStep = 'copy-written' | 'old-kept' | 'renamed';

/**
 * Puts the checked copy `tmp` in place of the store `target`, owning it as Larder would
 * (no Larder starts meanwhile) and under its dotfile lock: the old file is hard-linked
 * to `<target>.pre-restore`, then `tmp` is renamed over `target`. Each step is atomic, so
 * a process killed at any point leaves the old store or the new one, whole. `onStep` is
 * called at each point (test/cli/restore-crash.test.ts pauses there and kills).
 */
export function swapIntoPlace(tmp: string, target: string, onStep: (step: SwapStep) => void = () => undefined): void {
  let ownership;
  try {
    ownership = acquireOwnership(target);
  } catch (e) {
    if (e instanceof StoreInUseError) throw new FailedError(`${e.message}; the store was not touched`);
    throw e;
  }
  try {
    withDotfileLock(target, 10_000, () => {
      onStep('copy-written');
      if (existsSync(target)) {
        rmSync(`${target}.pre-restore`, { force: true });
        linkSync(target, `${target}.pre-restore`);
      }
      // A journal left beside the old file belongs to it, never to the copy.
      if (existsSync(`${target}-journal`)) renameSync(`${target}-journal`, `${target}.pre-restore-journal`);
      onStep('old-kept');
      renameSync(tmp, target);
      onStep('renamed');
    });
  } finally {
    ownership.release();
  }
}

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'put a backup in place of the SQLite store (checked first; refuses while Larder runs)',
  usage: `Usage: larder restore BACKUP

Checks BACKUP (plain or .gz) with PRAGMA integrity_check and that it is a Larder store,
then replaces the SQLite store with it atomically. The previous file is kept as
<db>.pre-restore. Refused while a Larder owns the store: stop it first, start it after.`,
  flags: [],
  async run({ words, config, stdout, stderr }) {
    if (words.length !== 1) throw new UsageError('give the backup file: larder restore /var/backups/larder.db.gz');
    const opts = storeOptionsOf(config);
    if (opts.engine !== 'sqlite') throw new UsageError('larder restore restores a SQLite store; for PostgreSQL use pg_restore');
    const target = opts.sqlitePath!;
    const src = words[0]!;
    if (!existsSync(src)) throw new FailedError(`backup ${src} does not exist`);
    const owner = liveOwner(target);
    if (owner !== undefined) throw new FailedError(`${describeStore(opts)} is owned by a running Larder (pid ${owner.pid}); restore replaces the file under it. ${stopFirst(owner.pid, `larder restore ${src}`)}`);
    const tmp = `${target}.restore.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    try {
      if (src.endsWith('.gz')) {
        const bar = new ProgressBar(stderr, 'gunzip', statSync(src).size, formatBytes);
        try {
          await copyWithProgress(src, tmp, createGunzip(), bar);
        } catch (e) {
          throw new FailedError(`${src} is not a sound gzip file (${(e as Error).message}); the store was not touched`);
        }
        bar.finish();
      } else {
        const bar = new ProgressBar(stderr, 'copy  ', statSync(src).size, formatBytes);
        await copyWithProgress(src, tmp, new Transform({ transform: (c, _e, cb) => cb(null, c) }), bar);
        bar.finish();
      }
      checkCopy(tmp, src);
      swapIntoPlace(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    stdout.write(`restored ${src} to ${target}${existsSync(`${target}.pre-restore`) ? ` (the previous file is kept as ${target}.pre-restore)` : ''}\n`);
    return 0;
  },
};
