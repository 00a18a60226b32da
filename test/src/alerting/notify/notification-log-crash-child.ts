/**
 * Child process of notification-log-crash.test.ts: writes failed-notification rows
 * (receivers r0, r1, ...) to a SQLite store's `notification_log` through the real
 * notification log, which keeps the newest MAX_ROWS.
 * argv: <db path> <mode>
 * - after-insert / before-commit: writes 8 rows (each committed: printed "committed i"),
 *   then a ninth whose transaction stops for good after its INSERT (before the DELETE
 *   that bounds the table) or after both statements (before the COMMIT); prints "inside".
 * - loop: writes rows one after another, printing "committed i" after each, until killed.
 */
import { Logger } from '../../../../src/log.js';
import { createNotificationLog } from '../../../../src/alerting/notify/index.js';
import type { NotificationLogStore } from '../../../../src/alerting/notify/index.js';
import { openSqliteStore } from '../../../../storage/sqlite-store.js';
import type { SqlExecutor } from '../../../../storage/store.js';

const [path, mode] = process.argv.slice(2);
const MAX_ROWS = 5;
const store = await openSqliteStore({ path: path! });
const log = new Logger('error', () => {});

const hang = (): Promise<never> => {
  process.stdout.write('inside\n');
  return new Promise(() => {}); // the transaction stays open until the parent kills the process
};

/** The store, with its transactions stopped for good where `mode` says, once `armed`. */
let armed = false;
const paused: NotificationLogStore = {
  transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> =>
    store.transaction(async (tx) => {
      if (!armed) return fn(tx);
      const held = new Proxy(tx, {
        get(t, p, r) {
          if (p !== 'execute') return Reflect.get(t, p, r) as unknown;
          return async (sql: string, params?: Parameters<SqlExecutor['execute']>[1]) => {
            if (mode === 'after-insert' && sql.startsWith('DELETE FROM notification_log')) await hang();
            return t.execute(sql, params);
          };
        },
      });
      const result = await fn(held);
      if (mode === 'before-commit') await hang();
      return result;
    }),
};

const nlog = createNotificationLog(mode === 'loop' ? store : paused, log, MAX_ROWS);
const row = (i: number): Parameters<typeof nlog.record>[0] => ({
  at: Date.now(),
  receiver: `r${i}`,
  integration: 'webhook',
  groupKey: `{}:{alertname="A${i}"}`,
  alerts: 1,
  attempts: 3,
  error: `HTTP 503 ${'e'.repeat(200)}`,
  outcome: 'failed',
});
for (let i = 0; mode === 'loop' || i < 9; i++) {
  if (i === 8) armed = true;
  nlog.record(row(i));
  await nlog.flush();
  process.stdout.write(`committed ${i}\n`);
}
