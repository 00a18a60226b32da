/**
 * Disk full: Larder recording every second into a SQLite store on a 2 MB tmpfs that a
 * filler file then fills to the last byte. Writes fail with an error that says the
 * filesystem is full and which file; /metrics is still served; once the filler is
 * removed recording resumes by itself, and the store passes integrity_check with what
 * it held before. Needs root (mount); skipped otherwise.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Logger } from '../../src/log.js';
import { startLarder } from '../../src/main.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { figure } from './figures.js';
import { need, run } from '../helpers/peers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Mounts a tmpfs of `size` at a fresh folder; undefined when this process may not mount. */
function mountTmpfs(t: Test, size: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'larder-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  t.teardown(() => {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes zeros into `path` until the filesystem refuses (ENOSPC). */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return written;
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
  return Date.now() - started;
}

// Each tick committed as it comes, and ticks logged beside the file and committed each second (docs/storage.md, the tick log).
for (const commit of ['0s', '1s']) t.test(`disk full (--storage.sqlite-commit-interval=${commit}): a clear error, /metrics served, recording resumes when space is freed, nothing damaged`, async (t) => {
  const dir = mountTmpfs(t, '2m');
  if (dir === undefined) {
    t.pass('a small filesystem', { skip: 'needs root and a tmpfs mount (mount -t tmpfs -o size=2m)' });
    return;
  }
  if (!(await need(t, 'sqlite3'))) return;
  const path = join(dir, 'monitoring.db');
  const lines: string[] = [];
  const log = new Logger('info', (l) => lines.push(l));
  const { config } = loadConfig({ argv: ['--listen=127.0.0.1:0', '--record-interval=1s', '--collect-interval=1s', `--storage.sqlite-commit-interval=${commit}`], env: { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: path } });
  const larder = await startLarder(config, log);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await larder.stop();
  });
  const url = larder.server.url;
  const errors = (): Promise<number> =>
    fetch(`${url}/metrics`)
      .then((r) => r.text())
      .then((text) => text.split('\n').filter((l) => l.startsWith('larder_recorder_errors_total{')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0));
  const newest = (): number => Number(run('sqlite3', ['-cmd', '.timeout 5000', `file:${path}?vfs=unix-dotfile`, 'SELECT COALESCE(MAX(ts), 0) FROM samples_all']).trim());

  await sleep(3000); // a few batches recorded
  t.equal(await errors(), 0, 'recording works before the disk fills');
  t.ok(newest() > 0, 'samples are stored');

  const filler = join(dir, 'filler');
  const filled = fill(filler);
  const fullAt = Date.now();
  t.comment(`filler took the last ${filled} bytes`);
  await until('a failed write', async () => (await errors()) > 0);
  const full = lines.find((l) => /level=error/.test(l));
  t.match(full, /the filesystem holding it is full \(\d+ bytes free in /, 'the log says the filesystem is full');
  t.match(full, `SQLite store ${path}:`, 'and names the store');
  t.match(full, /recording resumes by itself once space is freed/);
  t.notMatch(full, /disk I\/O error"/, 'not a bare "disk I/O error"');
  const during = await fetch(`${url}/metrics`);
  t.equal(during.status, 200, '/metrics is served while the disk is full');
  await sleep(2500); // a few more failing ticks
  const stuck = newest();

  rmSync(filler);
  const freedAt = Date.now();
  const resumedMs = await until('samples stored after the space was freed', async () => newest() > freedAt);
  figure(t, `disk full: recording resumed after space was freed (commit interval ${commit})`, resumedMs, 'ms');
  figure(t, `disk full: seconds without samples stored (commit interval ${commit})`, Math.round((freedAt - Math.max(stuck, fullAt - 1000)) / 1000), 's');
  const healthy = await fetch(`${url}/healthz`);
  t.equal(healthy.status, 200, '/healthz OK once writing works again');
  stopped = true;
  await larder.stop();

  const s = await openSqliteStore({ path });
  t.teardown(() => s.close());
  const ok = await s.query<{ integrity_check: string }>('PRAGMA integrity_check');
  figure(t, `disk full: integrity failures (commit interval ${commit})`, ok[0]?.integrity_check === 'ok' ? 0 : 1);
  t.same(ok, [{ integrity_check: 'ok' }], 'the store is intact');
  const written = await s.query<{ n: number }>('SELECT COUNT(*) AS n FROM samples_all WHERE ts < ?', [fullAt - 1000]);
  t.ok(Number(written[0]!.n) > 0, 'what was stored before the disk filled is still there');
});
