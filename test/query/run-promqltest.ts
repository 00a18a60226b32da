/**
 * `make promqltest`: runs the corpus over SQLite (and PostgreSQL with
 * PROMQLTEST_DIALECTS=sqlite,postgresql) and prints per-file counts and totals.
 * Arguments: file names to run (default: every file); -v prints each failure and skip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { openPgStore } from '../../storage/pg-store.js';
import type { Store } from '../../storage/store.js';
import { CORPUS_DIR, IN_SCOPE_FILES, OPTIONAL_FILES, OUT_OF_SCOPE_FILES, runFile } from './promqltest-runner.js';
import type { FileReport } from './promqltest-runner.js';
import { PG } from '../helpers/peers.js';
import { dropSchema } from '../storage/fixtures/stores.js';

const args = process.argv.slice(2);
const verbose = args.includes('-v');
const names = args.filter((a) => !a.startsWith('-'));
const files = names.length > 0 ? names : [...IN_SCOPE_FILES, ...OPTIONAL_FILES, ...OUT_OF_SCOPE_FILES];
const dialects = (process.env['PROMQLTEST_DIALECTS'] ?? 'sqlite').split(',');

async function withStore<T>(dialect: string, fn: (s: Store) => Promise<T>): Promise<T> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'larder-promqltest-'));
    const s = await openSqliteStore({ path: join(dir, 'promqltest.db') });
    try {
      return await fn(s);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const schema = `larder_promqltest_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const s = await openPgStore({ ...PG, schema });
  try {
    return await fn(s);
  } finally {
    await s.close();
    await dropSchema(schema);
  }
}

let exit = 0;
for (const dialect of dialects) {
  const reports: FileReport[] = [];
  await withStore(dialect, async (s) => {
    for (const f of files) reports.push(await runFile(join(CORPUS_DIR, `${f}.test`), s));
  });
  console.log(`\n== ${dialect} ==`);
  console.log(`${'file'.padEnd(22)} ${'passed'.padStart(7)} ${'failed'.padStart(7)} ${'skipped'.padStart(8)}`);
  for (const r of reports) {
    console.log(`${r.file.padEnd(22)} ${String(r.passed).padStart(7)} ${String(r.failed).padStart(7)} ${String(r.skipped).padStart(8)}`);
    if (verbose) for (const c of r.cases) if (c.status !== 'passed') console.log(`    ${c.status} ${r.file}:${c.line} ${c.query}\n        ${c.reason ?? ''}`);
  }
  const inScope = reports.filter((r) => (IN_SCOPE_FILES as readonly string[]).includes(r.file));
  const sum = (rs: FileReport[], k: 'passed' | 'failed' | 'skipped'): number => rs.reduce((a, r) => a + r[k], 0);
  const p = sum(inScope, 'passed');
  const fl = sum(inScope, 'failed');
  const sk = sum(inScope, 'skipped');
  console.log(`in-scope files: ${p} passed, ${fl} failed, ${sk} skipped; pass rate of the cases run ${((100 * p) / Math.max(1, p + fl)).toFixed(1)}%, of all cases ${((100 * p) / Math.max(1, p + fl + sk)).toFixed(1)}%`);
  console.log(`all files: ${sum(reports, 'passed')} passed, ${sum(reports, 'failed')} failed, ${sum(reports, 'skipped')} skipped`);
  if (fl > 0) exit = 1;
}
process.exitCode = exit;
