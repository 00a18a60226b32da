/**
 * SIGKILL inside schema version 4's host-label step (storage/host-labels.ts), at its worst
 * moment: every series of a store written before version 4 rewritten with the opener's
 * labels, uncommitted, and the list in `series_unlabelled` not yet emptied. On SQLite the
 * step is larger than the page cache, so rewritten pages have already reached the file
 * (the journal is hot). After the kill the store opens without help, passes
 * `PRAGMA integrity_check`, every series is exactly as before the step (none half
 * labelled, the list whole), and the next start completes the step once.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PG, need } from '../helpers/peers.js';
import { openPgStore } from '../../storage/pg-store.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Dialect, Store } from '../../storage/store.js';
import { DIALECTS, dropSchema, tempDir } from './fixtures/stores.js';

const CHILD = fileURLToPath(new URL('./crash-host-labels-child.ts', import.meta.url));
const SERIES = 30_000;
const NOW = Date.UTC(2026, 2, 1, 12);

interface Child {
  /** Resolves with the first line the child prints that `want` accepts. */
  readonly line: Promise<string>;
  readonly kill: () => Promise<void>;
  readonly exited: Promise<number | null>;
}

function child(args: string[], want: (line: string) => boolean): Child {
  const c = spawn(process.execPath, [...process.execArgv, CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } });
  let stderr = '';
  c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
  const line = new Promise<string>((resolve, reject) => {
    createInterface({ input: c.stdout }).on('line', (l) => want(l) && resolve(l));
    void exited.then((code) => reject(new Error(`child ${args.join(' ')} exited (${String(code)}) before the line: ${stderr}`)));
  });
  return {
    line,
    exited,
    kill: async () => {
      c.kill('SIGKILL');
      await exited;
    },
  };
}

function journalHasHeader(path: string): boolean {
  if (!existsSync(`${path}-journal`)) return false;
  const fd = openSync(`${path}-journal`, 'r');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 0);
  closeSync(fd);
  return b[0] === 0xd9; // synced before the first page of the transaction reaches the file
}

/** Labels by series id. */
async function labelsById(s: Store): Promise<Map<number, string>> {
  return new Map((await s.listSeries()).map((x) => [x.id, JSON.stringify(x.labels)]));
}

async function unlabelled(s: Store): Promise<number> {
  return Number((await s.query<{ n: unknown }>('SELECT count(*) AS n FROM series_unlabelled'))[0]!.n);
}

for (const dialect of DIALECTS) {
  t.test(`${dialect}: SIGKILL inside the host-label step leaves the store as before it; the next start completes it`, async (t) => {
    let where: string;
    let open: () => Promise<Store>;
    if (dialect === 'sqlite') {
      where = join(tempDir(t), 'monitoring.db');
      open = () => openSqliteStore({ path: where, now: () => NOW });
    } else {
      if (!(await need(t, 'postgres'))) return;
      where = `audit_hl_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      t.teardown(() => dropSchema(where));
      open = () => openPgStore({ ...PG, schema: where, instance: 'web1', now: () => NOW, poolSize: 2 });
    }
    const args = (mode: string): string[] => [dialect as Dialect, where, mode, String(SERIES)];
    const seed = child(args('seed'), (l) => l === 'seeded');
    await seed.line;
    await seed.exited;

    const paused = child(args('pause'), (l) => l === 'inside');
    await paused.line;
    if (dialect === 'sqlite') t.ok(journalHasHeader(where), 'at the kill the journal is hot: rewritten pages have reached the file');
    await paused.kill();

    const s = await open();
    try {
      t.same(await s.query(dialect === 'sqlite' ? 'PRAGMA integrity_check' : 'SELECT 1 AS ok'), dialect === 'sqlite' ? [{ integrity_check: 'ok' }] : [{ ok: 1 }], 'the store opens without help and passes integrity_check');
      if (dialect === 'sqlite') t.notOk(existsSync(`${where}-journal`), 'the hot journal was rolled back and removed at open');
      const before = await labelsById(s);
      t.equal(before.size, SERIES, 'every series is there');
      t.same([...before.values()].filter((l) => l.includes('"instance"') || l.includes('"job"')), [], 'no series carries the labels of the killed step');
      t.equal(await unlabelled(s), SERIES, 'the list of series to label is whole');
      if (dialect === 'postgresql') {
        const hosts = await s.query<{ host: string }>('SELECT DISTINCT host FROM series');
        t.same(hosts.map((h) => h.host), [''], 'no series became the host\'s');
      }
    } finally {
      await s.close();
    }

    const finish = child(args('finish'), (l) => l.startsWith('{'));
    t.same(JSON.parse(await finish.line), { labelled: SERIES, kept: 0 }, 'the next start labels every series');
    t.equal(await finish.exited, 0);

    const after = await open();
    try {
      if (dialect === 'sqlite') t.same(await after.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
      const labels = await labelsById(after);
      t.equal(labels.size, SERIES);
      t.same([...labels.values()].filter((l) => !(l.includes('"instance":"web1"') && l.includes('"job":"larder"'))), [], 'every series has the host labels');
      t.equal(await unlabelled(after), 0, 'the list is emptied');
      const samples = await after.query<{ n: unknown }>('SELECT count(*) AS n FROM samples_all');
      t.equal(Number(samples[0]!.n), SERIES, 'the samples are untouched');
    } finally {
      await after.close();
    }
  });
}
