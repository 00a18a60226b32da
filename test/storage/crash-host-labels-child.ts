/**
 * Child process of crash-host-labels.test.ts: schema version 4's host-label step on a
 * store written before it.
 * argv: <sqlite|postgresql> <db path or schema> <seed|pause|finish> <series>
 * - seed: records `series` series (one sample each) and takes the store back to schema
 *   version 3, so the next open lists them in `series_unlabelled`; prints "seeded".
 * - pause: opens the store (migration 4 runs) and applies the host labels, stopping inside
 *   the transaction just before the list is emptied, every series already rewritten
 *   (uncommitted); prints "inside" there and waits for the parent's SIGKILL.
 * - finish: opens the store and applies the host labels as `larder serve` does at start;
 *   prints the result as JSON.
 */
import { openPgStore } from '../../storage/pg-store.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { applyHostLabels } from '../../storage/host-labels.js';
import type { SqlExecutor, SqlValue, Store } from '../../storage/store.js';
import { PG } from '../helpers/peers.js';
import { undoVersion4 } from './fixtures/before-v4.js';

const [dialect, where, mode, seriesArg] = process.argv.slice(2);
const SERIES = Number(seriesArg ?? 1000);
const NOW = Date.UTC(2026, 2, 1, 12);
// the labels the opener gives the series from before
const HOST_LABELS = { job: 'larder', instance: 'web1' };

const open = (instance: string): Promise<Store> =>
  dialect === 'postgresql'
    ? openPgStore({ ...PG, schema: where!, instance, now: () => NOW, poolSize: 2 })
    : openSqliteStore({ path: where!, now: () => NOW });

/** `store` whose transactions stop for good before `DELETE FROM series_unlabelled`, saying "inside". */
function pausingBeforeTheListIsEmptied(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver) as unknown;
      return <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> =>
        target.transaction((tx) => {
          const paused = new Proxy(tx, {
            get(t, p, r) {
              if (p !== 'execute') return Reflect.get(t, p, r) as unknown;
              return async (sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> => {
                if (sql.startsWith('DELETE FROM series_unlabelled')) {
                  process.stdout.write('inside\n');
                  await new Promise(() => {}); // held open until the parent kills the process
                }
                return t.execute(sql, params);
              };
            },
          });
          return fn(paused);
        });
    },
  });
}

if (mode === 'seed') {
  const store = await open('');
  // a long label value makes the series table (and so the step's transaction) larger than
  // SQLite's page cache, so the rewritten pages spill into the file before the commit
  const pad = 'x'.repeat(120);
  for (let i = 0; i < SERIES; i += 5000) {
    const n = Math.min(5000, SERIES - i);
    const ids = await store.resolveSeries(Array.from({ length: n }, (_, k) => ({ name: 'migrated', labels: { n: String(i + k), pad }, type: 'gauge' as const })));
    await store.writeSamples(ids.map((id) => ({ seriesId: id, timeMs: NOW - 60_000, value: 1 })));
  }
  await undoVersion4(store);
  await store.close();
  process.stdout.write('seeded\n');
} else if (mode === 'pause') {
  const store = await open('web1');
  await applyHostLabels(pausingBeforeTheListIsEmptied(store), HOST_LABELS, 'web1');
  process.stdout.write('committed\n'); // never reached: the proxy holds the transaction open
} else if (mode === 'finish') {
  const store = await open('web1');
  const r = await applyHostLabels(store, HOST_LABELS, 'web1');
  await store.close();
  process.stdout.write(`${JSON.stringify(r)}\n`);
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
