/**
 * Child of sqlite-store.test.ts: whether Node's promise hooks are on (a new promise then
 * carries async-id symbols) before a store is opened, inside a transaction, and after it.
 * A child process, because tap's own async hooks are on in the test process.
 */
import { join } from 'node:path';
import { openSqliteStore } from '../../storage/sqlite-store.js';

const hooked = (): number => Object.getOwnPropertySymbols(new Promise(() => undefined)).length;
/** Lets Node turn the hooks off: it does so in a microtask after they are disabled. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

const dir = process.argv[2]!;
const before = hooked();
const s = await openSqliteStore({ path: join(dir, 'm.db') });
await s.execute('CREATE TABLE t (k INTEGER)');
let inside = -1;
let joined: unknown;
await s.transaction(async (tx) => {
  await tx.execute('INSERT INTO t VALUES (1)');
  inside = hooked();
  // A call on the store itself, not on tx, from inside: it joins the open transaction.
  joined = (await s.query<{ n: number }>('SELECT count(*) AS n FROM t'))[0]?.n;
});
await settle();
const after = hooked();
await s.transaction(async () => {
  await s.execute('INSERT INTO t VALUES (2)');
});
await settle();
const afterSecond = hooked();
const rows = (await s.query<{ n: number }>('SELECT count(*) AS n FROM t'))[0]?.n;
await s.close();
process.stdout.write(JSON.stringify({ before, inside, joined, after, afterSecond, rows }) + '\n');
