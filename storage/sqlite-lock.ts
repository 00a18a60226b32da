/**
 * Who owns a SQLite file, and recovery from our own stale lock.
 *
 * node-sqlite3-wasm locks with a `<db>.lock` directory (the unix-dotfile protocol).
 * A writer killed with SIGKILL leaves it behind and the file stays locked for
 * everyone. Larder therefore records its owner in `<db>.larder-pid` (pid and the
 * process start time, so a reused pid is not mistaken for the owner). At start-up:
 * a live owner means a second Larder, refused with a clear error; a dead owner's
 * leftover `.lock` directory is removed once it has stayed unchanged for a grace
 * period (a live dotfile reader holds it only for its query, and re-creates it for
 * the next). A lock without a dead Larder owner is never touched: we wait for it.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmdirSync, statSync, unlinkSync, writeFileSync, fchmodSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** How the option naming the file is spelt, for messages. */
const OPTION = 'SQLITE_DB_PATH (--storage.sqlite-path)';

/** Recorded owner of a database file. */
export interface Owner {
  readonly pid: number;
  /** Start time of the process as the kernel counts it (/proc/<pid>/stat field 22), or '' where unknown. */
  readonly start: string;
}

/** The start time of a process, '' when /proc does not tell. */
export function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

/** Whether the recorded owner still runs (same pid and, where known, same start time). */
export function ownerAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.start === '') return true;
  const now = processStart(owner.pid);
  return now === '' || now === owner.start;
}

function readOwner(path: string): Owner | undefined {
  try {
    const [pid, start] = readFileSync(path, 'utf8').split('\n');
    const n = Number(pid);
    return Number.isSafeInteger(n) && n > 0 ? { pid: n, start: start ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** The error a second Larder on the same file gets. */
export class StoreInUseError extends Error {
  constructor(dbPath: string, owner: Owner) {
    super(
      `${dbPath} is in use by ${owner.pid === process.pid ? 'this process (opened twice)' : `another Larder process (pid ${owner.pid})`}; ` +
        'two writers on one SQLite file would corrupt it: stop the other one or set SQLITE_DB_PATH to another file',
    );
    this.name = 'StoreInUseError';
  }
}

/** Synchronous sleep (the SQLite engine runs in a worker thread, where blocking is fine). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Ownership of a database file, from acquireOwnership. */
export interface Ownership {
  /** Gives the file up (removes the pid file if it is still ours). */
  release(): void;
  /** The previous owner died without closing (its pid file was still there): the file may hold a half-written transaction. */
  readonly uncleanShutdown: boolean;
}

/**
 * Takes ownership of `dbPath` for this process, recovering a dead owner's stale lock.
 * Throws StoreInUseError while a live Larder owns it.
 */
export function acquireOwnership(dbPath: string, staleGraceMs = 1500): Ownership {
  const pidPath = `${dbPath}.larder-pid`;
  const me: Owner = { pid: process.pid, start: processStart(process.pid) };
  const tmp = `${pidPath}.${process.pid}.${Date.now()}.tmp`;
  try {
    mkdirSync(dirname(dbPath), { recursive: true });
    writeFileSync(tmp, `${me.pid}\n${me.start}\n`, { mode: 0o640 });
  } catch (e) {
    throw unwritable(dbPath, e);
  }
  let uncleanShutdown = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, pidPath); // atomic: fails if another owner's file is there
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) throw e;
      }
      const owner = readOwner(pidPath);
      if (owner !== undefined && ownerAlive(owner)) throw new StoreInUseError(dbPath, owner);
      uncleanShutdown = true;
      // The owner is dead: its `.lock` directory, if any, is stale once it stops changing.
      removeStaleLock(`${dbPath}.lock`, staleGraceMs);
      try {
        unlinkSync(pidPath);
      } catch {
        /* another starter removed it first; the link retry decides who wins */
      }
    }
  } finally {
    unlinkSync(tmp);
  }
  const release = (): void => {
    const owner = readOwner(pidPath);
    if (owner?.pid === me.pid && owner.start === me.start) {
      try {
        unlinkSync(pidPath);
      } catch {
        /* already gone */
      }
    }
  };
  return { release, uncleanShutdown };
}

/**
 * Removes a dead owner's lock directory once it has stayed the same (inode and mtime)
 * for `graceMs`. A live reader releases and re-creates it, which shows as a change.
 */
function removeStaleLock(lockPath: string, graceMs: number): void {
  const id = (): string | undefined => {
    try {
      const s = statSync(lockPath);
      return `${s.ino}:${s.mtimeMs}`;
    } catch {
      return undefined;
    }
  };
  let seen = id();
  if (seen === undefined) return;
  let since = Date.now();
  while (Date.now() - since < graceMs) {
    sleepSync(50);
    const now = id();
    if (now === undefined) return; // released: it was a live reader's
    if (now !== seen) {
      seen = now;
      since = Date.now();
    }
  }
  try {
    rmdirSync(lockPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Creates the database file with `mode` if missing (node-sqlite3-wasm would create it 0600). */
export function createWithMode(dbPath: string, mode: number): void {
  mkdirSync(dirname(dbPath), { recursive: true });
  if (existsSync(dbPath)) return;
  try {
    const fd = openSync(dbPath, 'wx', mode);
    fchmodSync(fd, mode); // the umask may have narrowed it
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/**
 * The error for a store folder Larder cannot write in: it names the database file and
 * the option, not the temporary file the failure happened on.
 */
export function unwritable(dbPath: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new Error(
    `cannot open the SQLite store ${dbPath} (${OPTION}): Larder cannot create files in ${dirname(resolve(dbPath))} (${code}); ` +
      'it keeps the database, its journal and its lock there: make that folder writable by this user or point the option at a writable place',
    { cause: e },
  );
}

/** The processes (other than this one) that have `dbPath` open, and whether every process could be inspected. */
export function processesWithFileOpen(dbPath: string): { pids: number[]; complete: boolean } {
  let target: string;
  try {
    target = realpathSync(dbPath);
  } catch {
    return { pids: [], complete: false };
  }
  const pids: number[] = [];
  let complete = true;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d));
  } catch {
    return { pids, complete: false };
  }
  for (const d of entries) {
    const pid = Number(d);
    if (pid === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') complete = false; // not ours to look at
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${d}/fd/${fd}`) === target) {
          pids.push(pid);
          break;
        }
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return { pids, complete };
}

/** The error when another program has held the lock folder longer than we wait. */
export class LockHeldError extends Error {
  constructor(dbPath: string, lockPath: string, waitedMs: number) {
    const { pids, complete } = processesWithFileOpen(dbPath);
    const who =
      pids.length > 0
        ? `process${pids.length > 1 ? 'es' : ''} ${pids.join(', ')} ha${pids.length > 1 ? 've' : 's'} the file open (a sqlite3 or Grafana reader releases the lock when its query ends): do not remove it while they run`
        : complete
          ? `no process has the file open, so the folder is stale (left by a program killed while reading or writing it) and it is safe to remove: rmdir '${lockPath}'`
          : `no Larder owns it; if no other program (sqlite3, Grafana) has ${dbPath} open (check with: fuser '${dbPath}'), it is stale and safe to remove: rmdir '${lockPath}'`;
    super(`SQLite store ${dbPath} is locked by the lock folder ${lockPath}, held for over ${Math.round(waitedMs / 1000)} s and not by a Larder process: ${who}`);
    this.name = 'LockHeldError';
  }
}

/**
 * Takes the dotfile lock (`<db>.lock`, the folder node-sqlite3-wasm and SQLite's
 * unix-dotfile VFS create) for `fn`, waiting up to `timeoutMs` for another holder.
 * With it held no reader or writer is inside the file: a journal there is hot.
 */
export function withDotfileLock<T>(dbPath: string, timeoutMs: number, fn: () => T): T {
  const lockPath = `${dbPath}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lockPath);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw unwritable(dbPath, e);
      if (Date.now() - started >= timeoutMs) throw new LockHeldError(dbPath, lockPath, Date.now() - started);
      sleepSync(20);
    }
  }
  try {
    return fn();
  } finally {
    rmdirSync(lockPath);
  }
}
