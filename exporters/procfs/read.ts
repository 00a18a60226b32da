/**
 * Thin, asynchronous reads of procfs/sysfs files under an injectable root, so tests
 * point a collector at a fixture tree. Never sync I/O: a collector runs on the
 * event loop that also serves /metrics.
 */
import { close, open, read } from 'node:fs';
import { join } from 'node:path';

/** First read size: every /proc file a collector reads fits, so most reads are one read plus the EOF read. */
const FIRST_CHUNK = 16 * 1024;
const NEXT_CHUNK = 64 * 1024;

/**
 * Reads a whole file with plain open/read/close callbacks. Measured here,
 * `fs.promises.readFile` costs ~1 ms of CPU per /proc file (procfs reports size 0,
 * which sends it down its slow unknown-size path); this costs ~0.08 ms.
 * The kernel's seq_file may return less than asked before the end, so it reads until 0.
 */
export function readWhole(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (err, fd) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      let size = 0;
      const next = (): void => {
        const buf = Buffer.allocUnsafe(chunks.length === 0 ? FIRST_CHUNK : NEXT_CHUNK);
        read(fd, buf, 0, buf.length, null, (e, n) => {
          if (e) {
            close(fd, () => reject(e));
            return;
          }
          if (n === 0) {
            close(fd, () => {});
            resolve(Buffer.concat(chunks, size).toString('utf8'));
            return;
          }
          chunks.push(n === buf.length ? buf : buf.subarray(0, n));
          size += n;
          next();
        });
      };
      next();
    });
  });
}

/** Reads `<root>/<parts…>` as text. Rejects with the file system's error (ENOENT…). */
export function readText(root: string, ...parts: string[]): Promise<string> {
  return readWhole(join(root, ...parts));
}

/** Like readText, but resolves undefined when the file is missing or unreadable (optional kernel features). */
export async function readOptional(root: string, ...parts: string[]): Promise<string | undefined> {
  try {
    return await readWhole(join(root, ...parts));
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
