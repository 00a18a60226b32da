/**
 * `larder serve` on a port another process holds: the error names the address, and the
 * process exits 1 with the store closed (before, the store's worker and the rule timers
 * kept it alive after the message), so a second start on the same file is not refused.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CLI, assertBuilt } from '../helpers/larder-process.js';

t.test('a port in use: exit 1, the address named, the store released', async (t) => {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'larder-port-'));
  const holder = createServer();
  await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
  t.teardown(() => {
    holder.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const address = `127.0.0.1:${(holder.address() as AddressInfo).port}`;
  const db = join(dir, 'monitoring.db');
  const child = spawn(CLI, ['serve', `--listen=${address}`], { env: { ...process.env, MONITORING_DB: 'sqlite', SQLITE_DB_PATH: db, LARDER_SPOOL_PATH: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.once('exit', (c, s) => done([c, s])));
  clearTimeout(killer);
  t.equal(signal, null, 'exited by itself (not killed after 60 s)');
  t.equal(code, 1, 'exit code 1');
  t.match(stderr, `larder: listen EADDRINUSE: address already in use ${address}`, 'the address in use, named');
  t.ok(existsSync(db), 'the store had been opened');
  t.notOk(existsSync(`${db}.larder-pid`), 'and was closed: no owner left on the file');
});
