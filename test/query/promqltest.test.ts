/**
 * PromQL's own test corpus (../shared/reference/promqltest/) through the engine over a
 * real SQLite store and a real PostgreSQL schema. Asserts the in-scope pass rate of the
 * cases run, a floor on the cases passed (it only goes up), and that every skip says why.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { openPgStore } from '../../storage/pg-store.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Store } from '../../storage/store.js';
import { PG, need } from '../helpers/peers.js';
import { dropSchema, schemaName } from '../storage/fixtures/stores.js';
import { CORPUS_DIR, IN_SCOPE_FILES, runFile } from './promqltest-runner.js';
import type { FileReport } from './promqltest-runner.js';

/** Least share of the in-scope cases run that must pass (the goal). */
const MIN_PASS_RATE = 0.98;
/** Least number of in-scope cases that must pass on each dialect (measured; raise it, never lower it). */
const MIN_PASSED = 842;

async function runAll(t: Test, store: Store, dialect: string): Promise<void> {
  if (!existsSync(CORPUS_DIR)) {
    t.fail(`${CORPUS_DIR} is missing: the corpus is read from the shared folder beside the repository`);
    return;
  }
  const reports: FileReport[] = [];
  for (const f of IN_SCOPE_FILES) reports.push(await runFile(join(CORPUS_DIR, `${f}.test`), store));
  const lines = reports.map((r) => `${r.file.padEnd(22)} passed ${String(r.passed).padStart(4)}  failed ${String(r.failed).padStart(3)}  skipped ${String(r.skipped).padStart(4)}`);
  t.comment(`${dialect}:\n${lines.join('\n')}`);
  const passed = reports.reduce((a, r) => a + r.passed, 0);
  const failed = reports.reduce((a, r) => a + r.failed, 0);
  for (const r of reports) for (const c of r.cases) if (c.status === 'failed') t.comment(`failed ${r.file}:${c.line} ${c.query}: ${c.reason ?? ''}`);
  const skipsWithoutReason = reports.flatMap((r) => r.cases.filter((c) => c.status === 'skipped' && (c.reason ?? '') === ''));
  t.equal(skipsWithoutReason.length, 0, 'every skipped case says why');
  t.ok(passed / Math.max(1, passed + failed) >= MIN_PASS_RATE, `${dialect}: ${passed} of ${passed + failed} in-scope cases run pass (≥ ${MIN_PASS_RATE * 100}%)`);
  t.ok(passed >= MIN_PASSED, `${dialect}: ${passed} cases pass, floor ${MIN_PASSED}`);
}

t.test('promqltest corpus on SQLite', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-promqltest-'));
  const store = await openSqliteStore({ path: join(dir, 'promqltest.db') });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await runAll(t, store, 'sqlite');
});

t.test('promqltest corpus on PostgreSQL', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const schema = schemaName();
  const store = await openPgStore({ ...PG, schema });
  t.teardown(async () => {
    await store.close();
    await dropSchema(schema);
  });
  await runAll(t, store, 'postgresql');
});
