/**
 * Worker of `larder backup`: `VACUUM INTO` on a read-only connection (the dotfile lock,
 * as Larder takes it), off the main thread so that it can draw the progress bar.
 * workerData: { source, dest, busyTimeoutMs }. Posts { ok: true } or { error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import sqlite3 from 'node-sqlite3-wasm';

const { source, dest, busyTimeoutMs } = workerData as { source: string; dest: string; busyTimeoutMs: number };
try {
  const db = new sqlite3.Database(source, { readOnly: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    const deadline = Date.now() + busyTimeoutMs;
    for (;;) {
      try {
        db.run('VACUUM INTO ?', [dest]);
        break;
      } catch (e) {
        if (!/database is locked|SQLITE_BUSY/i.test((e as Error).message) || Date.now() > deadline) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
  } finally {
    db.close();
  }
  parentPort!.postMessage({ ok: true });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
