/**
 * Keeps the dotfile lock a few milliseconds after a transaction ends, so that a run of
 * short reads takes it once.
 *
 * node-sqlite3-wasm locks with a `<db>.lock` directory: an `mkdir` when a transaction
 * starts and an `rmdir` when it ends. On ext4 the `rmdir` is a journaled metadata change
 * that waits behind other processes' fsyncs: on a busy shared machine it measured 0.2 to
 * 1 ms, most of a small query's time (PromQL's 30-day tier read spent half of its 2 ms in
 * it). Here the `rmdir` of the owner's lock is put off for `lingerMs`; a transaction
 * that starts in that time finds the directory still there and keeps it, and only an idle
 * owner gives it up. A dotfile reader (sqlite3 with `vfs=unix-dotfile`) waits as it waits
 * for any transaction: after `maxHoldMs` of holding it, the owner unlocks at the end of
 * every transaction again for as long, as it did before it lingered.
 *
 * The VFS calls `fs.mkdirSync` and `fs.rmdirSync` on the `node:fs` module object at each
 * lock and unlock, so this wraps those two functions of the thread it runs in (one
 * SQLite worker per store, see sqlite-worker.ts) for the one lock path and passes every
 * other call through. Nothing changes on disk: while the lock lingers the directory
 * exists, as while a transaction runs, and a crash leaves it as a crash in a transaction
 * does (sqlite-lock.ts recovers a dead owner's lock).
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';

/** Options of a lingering lock. */
export interface LockLingerOptions {
  /** How long an idle owner keeps the lock after a transaction, ms. */
  readonly lingerMs: number;
  /** Longest the lock is kept without a gap, ms: past it, every unlock is real for as long. */
  readonly maxHoldMs: number;
}

/** A lingering lock on one database file, from lingerLock. */
export interface LockLinger {
  /** Real lock cycles so far (an `mkdir` that created the directory). */
  readonly cycles: () => number;
  /** Gives a lingering lock up now (before closing, or another process's turn). */
  flush(): void;
  /** Flushes and restores the wrapped functions. */
  uninstall(): void;
}

type State = 'free' | 'held' | 'lingering';

/**
 * Wraps `fs.mkdirSync`/`fs.rmdirSync` of this thread so that the dotfile lock of the
 * database at `dbPath` lingers after each transaction. One per thread.
 */
export function lingerLock(dbPath: string, opts: LockLingerOptions): LockLinger {
  // The VFS names it from the resolved path; Larder's own code from the path as given.
  const lockPath = `${resolve(dbPath)}.lock`;
  const isLock = (p: fs.PathLike): boolean => typeof p === 'string' && p.endsWith('.lock') && resolve(p) === lockPath;
  const realMkdir = fs.mkdirSync;
  const realRmdir = fs.rmdirSync;
  let state: State = 'free';
  let heldSince = 0;
  // After a hold of maxHoldMs, as long again with a real unlock after every transaction:
  // the gaps a waiting reader had before lingering existed.
  let cooldownUntil = 0;
  let cycles = 0;
  let timer: NodeJS.Timeout | undefined;

  const release = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (state !== 'lingering') return;
    try {
      realRmdir(lockPath);
      state = 'free';
    } catch (e) {
      // Gone already: free. Otherwise still ours (it runs from a timer, where a throw would
      // end the worker): the next transaction adopts it and its unlock tries again.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') state = 'free';
    }
  };

  const mkdirSync = ((path: fs.PathLike, options?: fs.MakeDirectoryOptions | fs.Mode | null) => {
    if (!isLock(path)) return realMkdir(path, options as fs.MakeDirectoryOptions);
    if (state === 'lingering') {
      clearTimeout(timer);
      timer = undefined;
      state = 'held';
      return undefined;
    }
    const r = realMkdir(path, options as fs.MakeDirectoryOptions);
    state = 'held';
    heldSince = Date.now();
    cycles++;
    return r;
  }) as typeof fs.mkdirSync;

  const rmdirSync = ((path: fs.PathLike, options?: fs.RmDirOptions) => {
    if (state !== 'held' || !isLock(path)) return realRmdir(path, options);
    const now = Date.now();
    if (now - heldSince >= opts.maxHoldMs) cooldownUntil = now + opts.maxHoldMs;
    if (now < cooldownUntil) {
      state = 'free';
      return realRmdir(path, options);
    }
    state = 'lingering';
    timer = setTimeout(release, opts.lingerMs);
    return undefined;
  }) as typeof fs.rmdirSync;

  fs.mkdirSync = mkdirSync;
  fs.rmdirSync = rmdirSync;
  // Named imports of node:fs (sqlite-lock.ts's withDotfileLock) see the wrappers too, so
  // every taker of this lock in the thread agrees on who holds it.
  syncBuiltinESMExports();
  return {
    cycles: () => cycles,
    flush: release,
    uninstall(): void {
      release();
      fs.mkdirSync = realMkdir;
      fs.rmdirSync = realRmdir;
      syncBuiltinESMExports();
    },
  };
}
