/**
 * The sqlite3 commands the docs print get in while Larder records. The dotfile VFS has
 * no shared lock: a reader that meets a write transaction fails at once with "database
 * is locked" unless it has a busy timeout (issue 11, item 7: 9 of 200 reads failed while
 * Larder recorded every second). So every dotfile `sqlite3` command in docs/*.md sets
 * one, and the one docs/storage.md puts first, run as printed in a loop while a store
 * records every second, never fails.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need } from '../helpers/peers.js';
import { tempDir } from '../storage/fixtures/stores.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const SECONDS = 15;

/** The `sqlite3` commands of a page's fenced blocks (quoted ones too), continuation lines joined. */
function sqlite3Commands(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  let pending: string | undefined;
  for (const raw of markdown.split('\n')) {
    const line = raw.replace(/^>\s?/, '');
    if (line.trimStart().startsWith('```')) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) continue;
    const text = line.trim();
    if (pending !== undefined) pending += ` ${text.replace(/\\$/, '').trim()}`;
    else if (text.startsWith('sqlite3 ')) pending = text.replace(/\\$/, '').trim();
    if (pending !== undefined && !text.endsWith('\\')) {
      out.push(pending);
      pending = undefined;
    }
  }
  return out;
}

/** Shell words of a command with single quotes only (as the docs print them). */
const words = (command: string): string[] => (command.match(/'[^']*'|[^\s'<]+/g) ?? []).map((w) => w.replace(/^'|'$/g, ''));

t.test('every dotfile sqlite3 command in docs/ sets a busy timeout of at least 5 s', async (t) => {
  const commands = readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .flatMap((f) => sqlite3Commands(readFileSync(join(DOCS, f), 'utf8')).map((c) => ({ page: f, c })))
    .filter(({ c }) => c.includes('vfs=unix-dotfile'));
  t.ok(commands.length >= 5, `found ${commands.length} commands`);
  for (const { page, c } of commands) {
    const timeout = /-cmd '\.timeout (\d+)'/.exec(c);
    t.ok(timeout !== null && Number(timeout[1]) >= 5000, `${page}: ${c}`);
  }
});

t.test(`the first command of docs/storage.md, run as printed for ${SECONDS} s while a store records every second, never fails`, async (t) => {
  if (!(await need(t, 'sqlite3'))) return;
  const printed = sqlite3Commands(readFileSync(join(DOCS, 'storage.md'), 'utf8'))[0]!;
  t.match(printed, /vfs=unix-dotfile/);
  const path = join(tempDir(t), 'monitoring.db');
  const store = await openSqliteStore({ path });
  t.teardown(() => store.close());
  const ids = await store.resolveSeries(Array.from({ length: 300 }, (_, i) => ({ name: 'reader_probe', labels: { i: String(i) }, type: 'gauge' as const })));
  let recording = true;
  let batches = 0;
  const recorder = (async () => {
    while (recording) {
      await store.writeSamples(ids.map((id) => ({ seriesId: id, timeMs: Date.now(), value: batches })));
      batches++;
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  /** Reads in a loop for `seconds` with `args`; the errors. */
  const loop = async (args: string[], seconds: number): Promise<{ reads: number; errors: string[] }> => {
    const errors: string[] = [];
    let reads = 0;
    for (const end = Date.now() + seconds * 1000; Date.now() < end; reads++) {
      await new Promise<void>((resolve) =>
        execFile(args[0]!, args.slice(1), (err, _out, stderr) => {
          if (err !== null) errors.push(stderr.trim() || err.message);
          resolve();
        }),
      );
    }
    return { reads, errors };
  };
  const asPrinted = words(printed).map((w) => w.replace('data/monitoring.db', path));
  const withTimeout = await loop(asPrinted, SECONDS);
  // the same command without its busy timeout, for the record: what the old docs printed
  const bare = asPrinted.filter((w, i) => !(w === '-cmd' && asPrinted[i + 1]?.startsWith('.timeout')) && !w.startsWith('.timeout'));
  const without = await loop(bare, 5);
  recording = false;
  await recorder;
  t.comment(`as printed: ${withTimeout.reads} reads, ${withTimeout.errors.length} failed; without the timeout: ${without.reads} reads, ${without.errors.length} failed (${[...new Set(without.errors)].join('; ')})`);
  t.ok(batches >= SECONDS - 2, `the store recorded every second (${batches} batches)`);
  t.ok(withTimeout.reads >= 20, `the reader ran (${withTimeout.reads} reads)`);
  t.same(withTimeout.errors, [], 'no read of the printed command failed');
});
