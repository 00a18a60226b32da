/**
 * Thin, asynchronous reads of procfs/sysfs files under an injectable root, so tests
 * point a collector at a fixture tree. Never sync I/O: a collector runs on the
 * event loop that also serves /metrics.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Reads `<root>/<parts…>` as text. Rejects with the file system's error (ENOENT…). */
export function readText(root: string, ...parts: string[]): Promise<string> {
  return readFile(join(root, ...parts), 'utf8');
}

/** Like readText, but resolves undefined when the file is missing or unreadable (optional kernel features). */
export async function readOptional(root: string, ...parts: string[]): Promise<string | undefined> {
  try {
    return await readFile(join(root, ...parts), 'utf8');
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
