/**
 * SIGKILL in the middle of a fold of the raw-sample head (storage/sqlite-head.ts): the
 * store reopens with every sample exactly once (none lost, none both in the head and in
 * its chunk), passes integrity_check, and the fold finishes after the restart.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { need, run } from '../helpers/peers.js';
import { tempDir } from './fixtures/stores.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { SERIES, T0, TICKS } from './crash-fold-child.js';

const CHILD = fileURLToPath(new URL('./crash-fold-child.ts', import.meta.url));

for (const killAfter of [1, 7]) {
  t.test(`SIGKILL inside fold step ${killAfter + 1}: nothing lost, nothing twice`, async (t) => {
    if (!(await need(t, 'sqlite3'))) return;
    const path = join(tempDir(t), 'monitoring.db');
    const child = spawn(process.execPath, [...process.execArgv, CHILD, path], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let steps = -1;
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const [word, n] = line.split(' ');
        if (word === 'step') steps = Number(n);
        if (word === 'done') reject(new Error('the fold finished before the kill'));
        if (steps === killAfter) {
          lines.removeAllListeners('line');
          // the next step's transaction holds the lock: kill inside it
          const since = Date.now();
          const poll = setInterval(() => {
            if (existsSync(`${path}.lock`) || Date.now() - since > 5000) {
              clearInterval(poll);
              child.kill('SIGKILL');
              resolve();
            }
          }, 1);
        }
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    await new Promise((r) => child.once('exit', r));
    t.equal(child.signalCode, 'SIGKILL');

    const s = await openSqliteStore({ path, now: () => T0 });
    t.teardown(() => s.close());
    const n = async (sql: string): Promise<number> => Number((await s.query(sql))[0]!['n']);
    const folded = await n("SELECT folded_below AS n FROM samples_heads WHERE role = 'fold'");
    t.ok(folded > 0, `killed mid-fold: series below ${folded} folded`);
    const check = async (when: string): Promise<void> => {
      t.equal(await n('SELECT COUNT(*) AS n FROM samples_all'), SERIES * TICKS, `${when}: every sample`);
      t.equal(await n('SELECT COUNT(*) AS n FROM (SELECT 1 FROM samples_all GROUP BY series_id, ts HAVING COUNT(*) > 1)'), 0, `${when}: none twice`);
      t.equal(await n(`SELECT COUNT(*) AS n FROM (SELECT series_id FROM samples_all GROUP BY series_id HAVING COUNT(*) = ${TICKS} AND SUM(value) = ${(TICKS * (TICKS - 1)) / 2})`), SERIES, `${when}: each series whole`);
      const r = await s.readSamples({ name: 'crash_fold', fromMs: T0, toMs: T0 + 86_400_000 });
      t.equal(r.samples.length, SERIES * TICKS, `${when}: readSamples`);
    };
    await check('after the restart');
    // A write after the restart finishes the fold (the worker steps after writes); foldHead finishes it at once.
    await s.writeSamples([{ seriesId: r0(await s.listSeries()), timeMs: T0 + TICKS * 15_000, value: TICKS }]);
    await s.foldHead();
    const chunk = (await s.listChunks('samples'))[0]!.name;
    t.equal(await n(`SELECT COUNT(*) AS n FROM "${chunk}"`), SERIES * TICKS + 1, 'all folded into the chunk table');
    t.equal(await n('SELECT COUNT(*) AS n FROM samples_head_a') + (await n('SELECT COUNT(*) AS n FROM samples_head_b')), 0, 'heads empty');
    t.equal(await n('SELECT COUNT(*) AS n FROM samples_all'), SERIES * TICKS + 1);
    await s.close();
    t.equal(run('sqlite3', [`file:${path}?vfs=unix-dotfile`, 'PRAGMA integrity_check']).trim(), 'ok');
  });
}

function r0(series: readonly { id: number }[]): number {
  return series[0]!.id;
}
