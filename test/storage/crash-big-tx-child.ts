/**
 * Child process of crash-journal.test.ts: fills a store with ROWS samples of one series
 * (committed, values 0), prints "base", then rewrites every one of them with value 1 in
 * a single transaction large enough to spill SQLite's page cache into the file, prints
 * "big" and waits, the transaction open, for the parent's SIGKILL.
 * argv: <db path> <rows>
 */
import { openSqliteStore } from '../../storage/sqlite-store.js';

const [path, rowsArg] = process.argv.slice(2);
const ROWS = Number(rowsArg ?? 200_000);
const T0 = Date.UTC(2026, 0, 10);
const store = await openSqliteStore({ path: path!, now: () => T0 });
const ids = await store.resolveSeries(Array.from({ length: 50 }, (_, i) => ({ name: 'crash_big', labels: { n: String(i) }, type: 'gauge' as const })));
const samples = (value: number): { seriesId: number; timeMs: number; value: number }[] =>
  Array.from({ length: ROWS }, (_, i) => ({ seriesId: ids[i % ids.length]!, timeMs: T0 + Math.floor(i / ids.length) * 1000, value }));
const existing = await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM samples_all');
if (Number(existing[0]!.n) === 0) {
  const all = samples(0);
  for (let i = 0; i < all.length; i += 20_000) await store.writeSamples(all.slice(i, i + 20_000));
}
process.stdout.write('base\n');
// Every row rewritten in one transaction that never commits: far more pages than the
// page cache holds, so SQLite spills them into the file (after syncing the journal)
// while the transaction is open. The parent SIGKILLs the child once it sees that.
const chunks = (await store.listChunks('samples')).map((c) => c.name);
await store.transaction(async (tx) => {
  for (const name of chunks) await tx.execute(`UPDATE "${name}" SET value = 1`);
  process.stdout.write('big\n');
  await new Promise(() => undefined);
});
process.stdout.write('committed\n');
