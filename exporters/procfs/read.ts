/**
 * Thin reads of procfs/sysfs files under an injectable root, so tests point a collector
 * at a fixture tree. A collector runs on the event loop that also serves /metrics, so
 * anything that can block (sysfs attributes, regular files) is read on libuv's pool. Files
 * under a real procfs are the exception: the kernel renders them from memory without
 * blocking, so they are kept open and re-read synchronously from offset 0 (see readKept).
 */
import { close, closeSync, open, openSync, read, readSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** First buffer size: nearly every /proc and /sys file a collector reads fits, so a read is open, read, EOF read, close. */
const FIRST_CHUNK = 8 * 1024;

/**
 * Reads a whole file with plain open/read/close callbacks. Measured here,
 * `fs.promises.readFile` costs ~1 ms of CPU per /proc file (procfs reports size 0,
 * which sends it down its slow unknown-size path); this costs ~0.08 ms.
 * The kernel's seq_file may return less than asked before the end, so it reads until
 * 0, into the same buffer while it has room (one allocation per file).
 */
export function readWhole(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (err, fd) => {
      if (err) return reject(err);
      let buf = Buffer.allocUnsafe(FIRST_CHUNK);
      let size = 0;
      const next = (): void => {
        if (size === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 4);
          buf.copy(bigger, 0, 0, size);
          buf = bigger;
        }
        read(fd, buf, size, buf.length - size, null, (e, n) => {
          if (e) {
            close(fd, () => reject(e));
            return;
          }
          if (n === 0) {
            // Resolved once closed: a caller that counts descriptors sees none left.
            const text = buf.toString('utf8', 0, size);
            close(fd, () => resolve(text));
            return;
          }
          size += n;
          next();
        });
      };
      next();
    });
  });
}

/**
 * Reads a small file the kernel renders whole on the first read: a sysfs attribute (at
 * most one page) or a single-record proc file such as /proc/<pid>/stat (seq_file fills
 * the buffer to the end). One read instead of `readWhole`'s read plus EOF read; a
 * buffer filled to the brim falls back to reading on. Resolves undefined when the file
 * is missing or refuses to be read (the carrier of a down link gives EINVAL).
 */
export function readSingleShot(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    open(path, 'r', (err, fd) => {
      if (err) return resolve(undefined);
      const buf = Buffer.allocUnsafe(FIRST_CHUNK);
      read(fd, buf, 0, buf.length, 0, (e, n) => {
        close(fd, () => {});
        if (e) resolve(undefined);
        else if (n < buf.length) resolve(buf.toString('utf8', 0, n));
        else readWhole(path).then(resolve, () => resolve(undefined));
      });
    });
  });
}

/** statfs(2) f_type of procfs. */
const PROC_SUPER_MAGIC = 0x9fa0;
/** At most this many files are kept open (the host collectors re-read about 25); more are read and closed. */
const MAX_KEPT = 64;
/** A read buffer grown past this (a long mount table) is let go after the read. */
const KEEP_BUFFER_BYTES = 1024 * 1024;
const kept = new Map<string, number>();
const procRoots = new Map<string, boolean>();
let keptBuf = Buffer.allocUnsafe(FIRST_CHUNK);

/** Whether root is a mounted procfs (a fixture tree is not), asked once per root. */
export function isProcfs(root: string): boolean {
  let is = procRoots.get(root);
  if (is === undefined) {
    try {
      is = statfsSync(root).type === PROC_SUPER_MAGIC;
    } catch {
      is = false;
    }
    procRoots.set(root, is);
  }
  return is;
}

/**
 * Reads `fd` from offset 0 to its end into the shared buffer, which grows as needed: until
 * a read returns 0, or with `singleRecord` also after a first read short of the buffer
 * (seq_file renders a single-record file such as /proc/<pid>/stat whole in one read).
 */
function readFromStart(fd: number, singleRecord: boolean): string {
  let size = 0;
  for (;;) {
    if (size === keptBuf.length) {
      const bigger = Buffer.allocUnsafe(keptBuf.length * 4);
      keptBuf.copy(bigger, 0, 0, size);
      keptBuf = bigger;
    }
    const n = readSync(fd, keptBuf, size, keptBuf.length - size, size);
    if (n === 0) break;
    size += n;
    if (singleRecord && size === n && size < keptBuf.length) break;
  }
  const text = keptBuf.toString('utf8', 0, size);
  if (keptBuf.length > KEEP_BUFFER_BYTES) keptBuf = Buffer.allocUnsafe(FIRST_CHUNK);
  return text;
}

/**
 * Reads a procfs file synchronously through a descriptor kept open: pread from offset 0,
 * which makes the kernel render the file anew, until it returns 0. An open, read, read
 * and close on libuv's pool is four hand-overs to a pool thread and back, each a thread
 * wake-up (issue 20); this is two system calls on the loop thread. Throws the file
 * system's error (ENOENT…); a descriptor that fails is closed and opened again next time.
 */
export function readKept(path: string): string {
  let fd = kept.get(path);
  const keep = fd !== undefined || kept.size < MAX_KEPT;
  fd ??= openSync(path, 'r');
  try {
    const text = readFromStart(fd, false);
    if (keep) kept.set(path, fd);
    else closeSync(fd);
    return text;
  } catch (e) {
    kept.delete(path);
    closeSync(fd);
    throw e;
  }
}

/**
 * Reads a small procfs file once, synchronously: open, one read, close, on the loop
 * thread (only under a real procfs, see isProcfs). For the files read once a round and
 * not kept, such as every /proc/<pid>/stat: on the pool each is three hand-overs to a
 * pool thread and back. A file longer than the buffer is read on to its end. Undefined
 * when the file is gone or refuses to be read (a process that exited).
 */
export function readProcOnce(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return readFromStart(fd, true);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Closes the descriptors readKept holds (they are opened again on the next read). */
export function closeKept(): void {
  for (const fd of kept.values()) closeSync(fd);
  kept.clear();
}

/** `<root>/<parts…>`: kept open and read synchronously under a real procfs, on the pool otherwise. */
function readUnder(root: string, parts: string[]): Promise<string> {
  const path = join(root, ...parts);
  if (!isProcfs(root)) return readWhole(path);
  try {
    return Promise.resolve(readKept(path));
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

/** Reads `<root>/<parts…>` as text. Rejects with the file system's error (ENOENT…). */
export function readText(root: string, ...parts: string[]): Promise<string> {
  return readUnder(root, parts);
}

/** Like readText, but resolves undefined when the file is missing or unreadable (optional kernel features). */
export async function readOptional(root: string, ...parts: string[]): Promise<string | undefined> {
  try {
    return await readUnder(root, parts);
  } catch {
    return undefined;
  }
}

/** Splits on runs of spaces and tabs, dropping empty fields. */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/).filter((f) => f !== '');
}

/** A non-negative decimal (kernel counters), or throws naming the file and the bad token. */
export function num(token: string | undefined, what: string): number {
  const n = token === undefined ? NaN : Number(token);
  if (token === undefined || token === '' || Number.isNaN(n)) throw new Error(`${what}: expected a number, got ${JSON.stringify(token)}`);
  return n;
}
