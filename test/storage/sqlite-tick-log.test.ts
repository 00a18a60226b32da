/**
 * The tick log (storage/sqlite-tick-log.ts, sqlite-pending.ts): record ticks appended to a
 * log beside the SQLite file and committed together. Reads through the store answer as if
 * every tick had been committed at once; the file gets them when due, before any SQL, and
 * at close; what a crash leaves in the log is committed at the next open, once, and a cut
 * or damaged tail is dropped.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SqliteEngine } from '../../storage/sqlite-engine.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { decodeRecords, encodeRecord, tickLogPath } from '../../storage/sqlite-tick-log.js';
import { isStaleNaN, staleNaN } from '../../storage/stale.js';
import type { PackedReadResult, Sample } from '../../storage/store.js';
import { tempDir } from './fixtures/stores.js';
import { need, run } from '../helpers/peers.js';
import { SERIES, T0 } from './tick-log-child.js';

const STEP = 15_000;
const CHILD = fileURLToPath(new URL('./tick-log-child.ts', import.meta.url));

/** One tick of `ids` at tick `k`: value k * 1000 + series index. */
function tick(ids: readonly number[], k: number): Sample[] {
  return ids.map((id, i) => ({ seriesId: id, timeMs: T0 + k * STEP, value: k * 1000 + i }));
}

/** A packed read as [series, time, value] rows. */
function rows(p: PackedReadResult): number[][] {
  const out: number[][] = [];
  let at = 0;
  for (let k = 0; k < p.runs.length; k += 2) for (let j = 0; j < p.runs[k + 1]!; j++, at++) out.push([p.runs[k]!, p.ts[at]!, p.vs[at]!]);
  return out;
}

function open(path: string, commitIntervalMs: number): SqliteEngine {
  return new SqliteEngine({ path, nowMs: T0, commitIntervalMs });
}

function defs(n: number): { name: string; labels: Record<string, string>; type: 'gauge' }[] {
  return Array.from({ length: n }, (_, i) => ({ name: 'tick_log', labels: { i: String(i) }, type: 'gauge' as const }));
}

/** What the file holds, read by the sqlite3 command (another connection). */
function fileCount(path: string): number {
  return Number(run('sqlite3', ['-cmd', '.timeout 5000', `file:${path}?vfs=unix-dotfile`, 'SELECT COUNT(*) FROM samples_all']).trim());
}

t.test('a record is read back bit for bit; a cut or damaged tail ends the log', async (t) => {
  const a = new Float64Array([1, T0, 0.5, 2, T0, staleNaN(), 3, T0, Number.NaN, 4, T0, -0]);
  const b = new Float64Array([7, T0 + 100, 1, 8, T0 - 5000, 2, 7, T0 + 15_100, 3]); // times that differ
  const whole = Buffer.concat([encodeRecord(a), encodeRecord(b)]);
  const back = decodeRecords(whole);
  t.equal(back.validBytes, whole.length);
  t.equal(back.batches.length, 2);
  t.same([...back.batches[1]!], [...b], 'times that differ per sample');
  const bits = (x: Float64Array): string => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex');
  t.equal(bits(back.batches[0]!), bits(a), 'values bit for bit: a stale marker stays one, -0 stays -0');
  t.ok(isStaleNaN(back.batches[0]![5]!));

  const cut = decodeRecords(whole.subarray(0, whole.length - 3));
  t.equal(cut.batches.length, 1, 'a record cut short is not read');
  t.equal(cut.validBytes, encodeRecord(a).length, 'and the log ends before it');
  const damaged = Buffer.from(whole);
  damaged[encodeRecord(a).length + 20]! ^= 0xff;
  t.equal(decodeRecords(damaged).batches.length, 1, 'a record that fails its CRC is not read');
  t.equal(decodeRecords(Buffer.alloc(0)).batches.length, 0);
});

t.test('ticks wait in the log; reads see them as committed; the file gets them when due, with a late write, or at close', async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const e = open(path, 3_600_000);
  const refPath = join(dir, 'reference.db');
  const ref = open(refPath, 0);
  t.teardown(() => {
    e.close();
    ref.close();
  });
  const ids = e.resolveSeries(defs(SERIES), T0);
  t.same(ref.resolveSeries(defs(SERIES), T0), ids);
  const both = (samples: Sample[]): void => {
    e.writeSamples(samples, T0);
    ref.writeSamples(samples, T0);
  };
  const q = { seriesIds: ids, fromMs: T0, toMs: T0 + 86_400_000 };

  for (let k = 0; k < 3; k++) both(tick(ids, k));
  both([{ seriesId: ids[0]!, timeMs: T0 + 3 * STEP, value: staleNaN() }]);
  t.equal(e.pendingSamples, 3 * SERIES + 1, 'the ticks are pending');
  t.ok(statSync(tickLogPath(path)).size > 0, 'in the log');
  t.equal(fileCount(path), 0, 'not in the file yet');
  t.same(rows(e.readPacked(q)), rows(ref.readPacked(q)), 'a read sees them as a store that committed each');
  t.same(rows(e.readPacked({ ...q, fromMs: T0 + STEP, toMs: T0 + 2 * STEP })), rows(ref.readPacked({ ...q, fromMs: T0 + STEP, toMs: T0 + 2 * STEP })), 'within a range');
  t.same(rows(e.readPackedMany([{ name: 'tick_log', fromMs: T0, toMs: T0 + 86_400_000 }])[0]!), rows(ref.readPacked(q)), 'by name, in one read of many');
  for (const limit of [0, 1, SERIES - 1, SERIES + 3, 2 * SERIES, 3 * SERIES + 1, 10 * SERIES]) {
    t.same(rows(e.readPacked({ ...q, limit })), rows(ref.readPacked({ ...q, limit })), `a read cut at ${limit} samples, as the reference cuts it`);
  }
  const stale = e.readPacked({ seriesIds: [ids[0]!], fromMs: T0 + 3 * STEP, toMs: T0 + 4 * STEP });
  t.ok(isStaleNaN(stale.vs[0]!), 'a stale marker read from the log is still one');

  // A sample older than what is pending is not logged: it is committed, the ticks with it.
  both([{ seriesId: ids[1]!, timeMs: T0 + STEP, value: -1 }]);
  t.equal(e.pendingSamples, 0, 'a late write commits what was pending');
  t.equal(statSync(tickLogPath(path)).size, 0, 'and empties the log');
  // samples_all leaves stale markers out: 3 ticks of SERIES
  t.equal(fileCount(path), 3 * SERIES, 'the file has every sample once');
  t.equal(fileCount(path), fileCount(refPath), 'as the reference does');
  t.same(rows(e.readPacked(q)), rows(ref.readPacked(q)), 'the late write replaced its sample as in the reference');

  both(tick(ids, 4));
  t.equal(e.pendingSamples, SERIES);
  // The file's read is cut by the limit before the pending tick is merged in.
  for (const limit of [1, 3, 4, 5, 3 * SERIES, 4 * SERIES - 1]) {
    t.same(rows(e.readPacked({ ...q, limit })), rows(ref.readPacked({ ...q, limit })), `stored and pending, cut at ${limit} samples as the reference cuts it`);
  }
  e.commitPending();
  t.equal(fileCount(path), 4 * SERIES, 'commitPending commits');
  both(tick(ids, 5));
  e.close();
  t.notOk(existsSync(tickLogPath(path)), 'a clean close commits the rest and removes the log');
  t.equal(fileCount(path), 5 * SERIES);
});

t.test('a log left by a crash after its ticks were committed is committed again without a sample twice', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const e = open(path, 3_600_000);
  const ids = e.resolveSeries(defs(SERIES), T0);
  for (let k = 0; k < 4; k++) e.writeSamples(tick(ids, k), T0);
  copyFileSync(tickLogPath(path), join(dir, 'log-copy'));
  e.commitPending(); // committed; the crash comes before the log is emptied
  e.close();
  copyFileSync(join(dir, 'log-copy'), tickLogPath(path));
  appendFileSync(tickLogPath(path), Buffer.from([40, 0, 0, 0, 1, 2])); // and a cut record after it

  const again = open(path, 3_600_000);
  t.teardown(() => again.close());
  t.equal(again.pendingSamples, 0, 'replayed at open, nothing left pending');
  t.equal(statSync(tickLogPath(path)).size, 0, 'the log is emptied');
  const n = (sql: string): number => Number(again.query(sql)[0]!['n']);
  t.equal(n('SELECT COUNT(*) AS n FROM samples_all'), 4 * SERIES, 'every sample');
  t.equal(n('SELECT COUNT(*) AS n FROM (SELECT 1 FROM samples_all GROUP BY series_id, ts HAVING COUNT(*) > 1)'), 0, 'none twice');
  t.equal(n(`SELECT COUNT(*) AS n FROM samples_all WHERE value = (ts - ${T0}) / ${STEP} * 1000 + series_id - ${ids[0]!}`), 4 * SERIES, 'each with its value');
});

/** Runs the child from tick `first`, kills it once it has acknowledged `killAt` ticks; the last tick acknowledged. */
async function writeThenKill(t: Test, path: string, commitMs: number, first: number, killAt: number): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, CHILD, path, String(commitMs), String(first)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let acked = -1;
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const [word, k] = line.split(' ');
      if (word === 'acked') acked = Number(k);
      if (acked >= first + killAt) {
        lines.removeAllListeners('line');
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
  await new Promise((r) => child.once('exit', r));
  t.equal(child.signalCode, 'SIGKILL');
  return acked;
}

t.test('SIGKILL while ticks wait in the log, and while they are committed: every acknowledged tick is there once', async (t) => {
  const path = join(tempDir(t), 'monitoring.db');
  // An hour: every tick waits in the log. Then 30 ms: kills land in appends and in commits.
  let acked = await writeThenKill(t, path, 3_600_000, 0, 12);
  t.ok(existsSync(tickLogPath(path)), 'the log was left behind');
  for (const killAt of [17, 23]) {
    acked = await writeThenKill(t, path, 30, acked + 1, killAt);
    t.comment(`acknowledged through tick ${acked}`);
  }

  const s = await openSqliteStore({ path, commitIntervalMs: 60_000 });
  t.teardown(() => s.close());
  const n = async (sql: string): Promise<number> => Number((await s.query(sql))[0]!['n']);
  const ticks = await n('SELECT COUNT(DISTINCT ts) AS n FROM samples_all');
  t.ok(ticks >= acked + 1, `every acknowledged tick (${acked + 1}) is stored: ${ticks}`);
  t.equal(await n(`SELECT COUNT(*) AS n FROM samples_all WHERE ts <= ${T0 + acked * STEP}`), (acked + 1) * SERIES, 'each whole');
  t.equal(await n('SELECT COUNT(*) AS n FROM (SELECT 1 FROM samples_all GROUP BY series_id, ts HAVING COUNT(*) > 1)'), 0, 'none twice');
  t.equal(await n(`SELECT COUNT(*) AS n FROM samples_all WHERE value <> (ts - ${T0}) / ${STEP}`), 0, 'each with its value');
  t.same(await s.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
});

t.test('through the worker: reads merge, SQL commits first, a timer commits when due', async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const path = join(tempDir(t), 'monitoring.db');
  // Long enough that the checks before the timer's commit finish first on a loaded machine.
  const s = await openSqliteStore({ path, commitIntervalMs: 8000, now: () => T0 });
  t.teardown(() => s.close());
  const ids = await s.resolveSeries(defs(SERIES));
  await s.writeSamples(tick(ids, 0));
  await s.writeSamples(tick(ids, 1));
  t.equal(fileCount(path), 0, 'pending: not in the file');
  const packed = await s.readSamplesPacked({ name: 'tick_log', fromMs: T0, toMs: T0 + 86_400_000 });
  t.equal(packed.ts.length, 2 * SERIES, 'a packed read merges them');
  t.equal(fileCount(path), 0, 'without committing');
  const limited = await s.readSamplesMany([{ name: 'tick_log', fromMs: T0, toMs: T0 + 86_400_000, limit: 3 }]);
  t.same(limited[0]!.samples.map((x) => x.timeMs), [T0, T0 + STEP, T0], 'a read with a limit merges too, cut by series then time');
  t.equal(fileCount(path), 0, 'without committing');

  await s.writeSamples(tick(ids, 2));
  t.equal(Number((await s.query('SELECT COUNT(*) AS n FROM samples_all'))[0]!['n']), 3 * SERIES, 'SQL through the store commits first');
  await s.writeSamples(tick(ids, 3));
  t.equal(fileCount(path), 3 * SERIES, 'a new tick waits');
  const started = Date.now();
  while (fileCount(path) < 4 * SERIES && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 200));
  t.equal(fileCount(path), 4 * SERIES, `committed by the timer ${Date.now() - started} ms later (interval 8000 ms)`);
});

t.test('a store opened without a tick log still commits one a previous run left', async (t) => {
  const path = join(tempDir(t), 'monitoring.db');
  const e = open(path, 3_600_000);
  const ids = e.resolveSeries(defs(3), T0);
  e.writeSamples(tick(ids, 0), T0);
  const log = tickLogPath(path);
  copyFileSync(log, `${log}.copy`);
  e.close();
  // the file without the tick, and the log as a crash left it
  const wipe = open(path, 0);
  wipe.execute('DELETE FROM samples_head_a');
  wipe.execute('DELETE FROM samples_head_b');
  for (const c of wipe.listChunks('samples')) wipe.execute(`DELETE FROM ${c.name}`);
  wipe.close();
  copyFileSync(`${log}.copy`, log);
  const again = open(path, 0);
  t.teardown(() => again.close());
  t.equal(Number(again.query('SELECT COUNT(*) AS n FROM samples_all')[0]!['n']), 3, 'the logged tick is committed');
  again.close();
  t.notOk(existsSync(log), 'and the log removed');
  writeFileSync(log, ''); // an empty log is no trouble either
  const third = open(path, 0);
  third.close();
  t.notOk(existsSync(log));
});
