/**
 * Crash: a Larder-like writer (crash-child.ts) on a real SQLite store, SIGKILLed again and
 * again, at random moments and at aimed ones (a backfill's journal synced and pages
 * spilling into the file, a rollup catching up, retention dropping chunks, the size cap
 * dropping chunks, a backup running). After each kill the next child opens the store without help and reports:
 * integrity_check ok, every committed batch there, at most the batch in flight lost, no
 * partial batch, no partially dropped chunk. At the end the rollups, run to completion on
 * the crashed store, equal those of an uninterrupted run over the same samples.
 * Quick form (make test): one kill per aimed moment (5). RELIABILITY=long: 100
 * (RELIABILITY_KILLS=n for another count), half aimed, half random.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../storage/fixtures/stores.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Store } from '../../storage/store.js';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { LONG, figure } from './figures.js';
import { MAIN_DEFS, SERIES, T0, batch, endOf, rowsThrough, batchOfRows, steps } from './crash-data.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
type Mode = 'record' | 'backfill' | 'rollup' | 'retention' | 'sizecap' | 'backup';
const AIMED = ['backfill', 'rollup', 'retention', 'sizecap', 'backup'] as const satisfies readonly Mode[];
const KILLS = LONG ? Number(process.env.RELIABILITY_KILLS ?? 100) : AIMED.length;

/** A seeded generator (mulberry32), so a failing run can be repeated with CRASH_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function journalSynced(path: string): boolean {
  try {
    const fd = openSync(`${path}-journal`, 'r');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 0);
    closeSync(fd);
    return b[0] === 0xd9;
  } catch {
    return false;
  }
}

interface Ready {
  readonly openMs: number;
  readonly integrity: string;
  readonly mainRows: number;
  readonly oldBad: number;
}

interface Cycle {
  readonly ready: Ready;
  /** Last batch announced as committed, and last one started. */
  readonly committed: number;
  readonly writing: number;
  readonly journalLeft: boolean;
  /** How the child ended when not by our SIGKILL (it failed): its exit code. */
  readonly died: string | undefined;
}

/** Runs one child in `mode`, kills it at the mode's moment (after `delay`, 0..1), returns what it said. */
async function cycle(path: string, mode: Mode, delay: number): Promise<Cycle> {
  const child = spawn(process.execPath, [...process.execArgv, CHILD, path, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
  });
  let ready: Ready | undefined;
  let committed = -1;
  let writing = -1;
  let backedUp = false;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = (): void => void child.kill('SIGKILL');
  let timedOut = false;
  const guard = setTimeout(() => {
    timedOut = true;
    kill();
  }, 120_000);
  let poll: NodeJS.Timeout | undefined;
  const after = (ms: number): void => void setTimeout(kill, ms);
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [word, a, b, c, d] = line.split(' ');
    if (word === 'ready') {
      ready = { openMs: Number(a), integrity: b!, mainRows: Number(c), oldBad: Number(d) };
      if (mode === 'record') after(200 + delay * 1800);
    } else if (word === 'writing') writing = Number(a);
    else if (word === 'committed') committed = Number(a);
    else if (word === 'partial') kill();
    else if (word === 'big' && mode === 'backfill') {
      // Once the journal is synced SQLite may write pages into the file: kill in that window.
      let polls = 0;
      const wait = Math.floor(delay * 40);
      poll = setInterval(() => {
        if (journalSynced(path) && polls++ >= wait) {
          clearInterval(poll);
          kill();
        }
      }, 2);
    } else if (word === 'committed' && mode === 'backfill' && steps(Number(a)) > 1) kill();
    else if (word === 'rolling' && mode === 'rollup') after(delay * 1500);
    else if (word === 'dropping' && mode === 'retention') after(delay * 300);
    else if (word === 'capping' && mode === 'sizecap') after(delay * 300);
    // The first backup must complete (one killed before must not block it), then kill the next.
    else if (word === 'backed-up' && mode === 'backup' && !backedUp) {
      backedUp = true;
      after(delay * 1000);
    }
  });
  await exited;
  clearTimeout(guard);
  if (poll) clearInterval(poll);
  if (ready === undefined) throw new Error(`the ${mode} child exited (${child.exitCode ?? child.signalCode}) before opening the store`);
  const died = timedOut ? 'stuck for 120 s' : child.signalCode === 'SIGKILL' ? undefined : `exit ${child.exitCode ?? child.signalCode}`;
  return { ready, committed, writing, journalLeft: existsSync(`${path}-journal`), died };
}

/** The main series' rollup rows, one line each (the long form has hundreds of thousands). */
async function dumpRollups(s: Store): Promise<string[]> {
  const out: string[] = [];
  for (const tier of DEFAULT_TIERS) {
    const rows = await s.query(
      `SELECT '${tier.name}' AS tier, se.labels, r.ts, r.count, r.sum, r.min, r.max, r.first, r.last, r.increase
       FROM ${`rollup_${tier.name}_all`} r JOIN series se ON se.id = r.series_id WHERE se.name = 'crash_main' ORDER BY se.labels, r.ts`,
    );
    for (const r of rows) out.push(JSON.stringify(r));
  }
  return out;
}

t.test(`${KILLS} SIGKILLs of a writer: the store always opens intact, loses at most the batch in flight, rollups converge`, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'monitoring.db');
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
  const rnd = random(seed);
  t.comment(`seed ${seed} (CRASH_SEED=${seed} repeats this run)`);

  let integrityFailures = 0;
  let maxLost = 0;
  let maxOpenMs = 0;
  let journals = 0;
  const byMode = new Map<string, number>();
  const problems: string[] = [];
  let previous: Cycle | undefined;
  for (let i = 0; i <= KILLS; i++) {
    // Half the kills aimed, in turn; the rest at a random moment of a random mode. The
    // child after the last kill only reports (and is killed while recording).
    const aimed = !LONG || i % 2 === 0;
    const mode: Mode = i === KILLS ? 'record' : aimed ? AIMED[(LONG ? i >> 1 : i) % AIMED.length]! : (['record', ...AIMED] as const)[Math.floor(rnd() * (AIMED.length + 1))]!;
    const c = await cycle(path, mode, rnd());
    const r = c.ready;
    // What this child found is the outcome of the previous kill.
    if (previous !== undefined) {
      const before = batchOfRows(previous.ready.mainRows) ?? -1;
      const committed = Math.max(before, previous.committed);
      const writing = Math.max(before, previous.writing);
      const k = batchOfRows(r.mainRows);
      if (r.integrity !== 'ok') {
        integrityFailures++;
        problems.push(`kill ${i}: integrity_check: ${r.integrity}`);
      }
      if (k === undefined) problems.push(`kill ${i}: ${r.mainRows} main rows is no whole number of batches (a partial batch)`);
      else {
        if (k < committed) problems.push(`kill ${i}: batch ${committed} was committed, the store ends at ${k}`);
        if (k > writing) problems.push(`kill ${i}: the store holds batch ${k}, never written`);
        const lost = writing > k ? rowsThrough(writing) - rowsThrough(k) : 0;
        if (lost > SERIES * steps(writing)) problems.push(`kill ${i}: lost ${lost} samples, more than the batch in flight`);
        maxLost = Math.max(maxLost, lost);
      }
      if (r.oldBad !== 0) problems.push(`kill ${i}: ${r.oldBad} old-region days partially dropped`);
      maxOpenMs = Math.max(maxOpenMs, r.openMs);
    }
    if (c.died !== undefined) problems.push(`kill ${i + 1}: the ${mode} child failed before the kill (${c.died}); see its stderr above`);
    if (i < KILLS) {
      byMode.set(mode, (byMode.get(mode) ?? 0) + 1);
      if (c.journalLeft) journals++;
    }
    previous = c;
  }

  figure(t, 'crash: kills', KILLS);
  figure(t, 'crash: kills by moment', [...byMode].map(([m, n]) => `${m} ${n}`).join(', '));
  figure(t, 'crash: kills that left a journal', journals);
  figure(t, 'crash: integrity failures', integrityFailures);
  figure(t, 'crash: max samples lost per kill', maxLost);
  figure(t, 'crash: max recovery time (open after a kill)', maxOpenMs, 'ms');
  t.same(problems, [], 'every kill: opens intact, committed batches kept, at most the batch in flight lost');
  t.equal(integrityFailures, 0);

  // Convergence: finish the rollups on the crashed store and on an uninterrupted copy.
  const s = await openSqliteStore({ path, now: () => T0 });
  t.teardown(() => s.close());
  const ids = await s.resolveSeries(MAIN_DEFS);
  const rows = Number((await s.query<{ n: number }>(`SELECT COUNT(*) AS n FROM samples_all WHERE series_id IN (${ids.join(', ')})`))[0]!.n);
  const last = batchOfRows(rows)!;
  const now = endOf(last) + 86_400_000;
  await new RollupEngine({ store: s, tiers: DEFAULT_TIERS, now: () => now, pauseBetweenTransactionsMs: 0 }).run();
  const ref = await openSqliteStore({ path: join(dir, 'reference.db'), now: () => T0 });
  t.teardown(() => ref.close());
  const refIds = await ref.resolveSeries(MAIN_DEFS);
  for (let k = 0; k <= last; k++) await ref.writeSamples(batch(refIds, k));
  await new RollupEngine({ store: ref, tiers: DEFAULT_TIERS, now: () => now, pauseBetweenTransactionsMs: 0 }).run();
  const [crashed, reference] = [await dumpRollups(s), await dumpRollups(ref)];

  figure(t, 'crash: batches written', last + 1);
  const differing = crashed.filter((line, i) => line !== reference[i]);
  figure(t, 'crash: rollup rows differing from an uninterrupted run', differing.length + Math.abs(crashed.length - reference.length));
  t.ok(crashed.length > 0, `${crashed.length} rollup rows`);
  t.equal(crashed.length, reference.length, 'as many rollup rows as an uninterrupted run');
  t.same(differing.slice(0, 5), [], 'the rollups equal an uninterrupted run over the same samples');
});
