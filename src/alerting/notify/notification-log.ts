/**
 * Records notifications that failed for good in the store's `notification_log` table
 * (schema version 7), beside the error log line and the counter. Writes are queued,
 * one at a time, never rejected (a store that is down loses the row, not the process),
 * and the table keeps its newest `maxRows` rows.
 */
import type { Logger } from '../../log.js';
import type { Store } from '../../../storage/store.js';
import type { FailedNotification } from './delivery.js';

/** Rows waiting for the store at most; past that new ones are dropped (and logged once). */
const MAX_PENDING = 100;
/** Longest error text kept. */
const MAX_ERROR = 1000;

/** The part of the store the log needs. */
export type NotificationLogStore = Pick<Store, 'transaction'>;

export interface NotificationLog {
  /** Queues a row; returns at once. */
  record(f: FailedNotification): void;
  /** Resolves once queued rows are written (or failed). */
  flush(): Promise<void>;
}

/** A notification log over the store; `maxRows` bounds the table. @default 10000 rows */
export function createNotificationLog(store: NotificationLogStore, log: Logger, maxRows = 10_000): NotificationLog {
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
  const write = async (f: FailedNotification): Promise<void> => {
    await store.transaction(async (tx) => {
      const pg = tx.dialect === 'postgresql';
      const p = (i: number): string => (pg ? `$${i}` : '?');
      const ts = pg ? `to_timestamp(${p(1)}::double precision / 1000)` : p(1);
      await tx.execute(
        `INSERT INTO notification_log (ts, receiver, integration, group_key, alerts, attempts, outcome, error) VALUES (${ts}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)})`,
        [f.at, f.receiver, f.integration, f.groupKey.slice(0, MAX_ERROR), f.alerts, f.attempts, f.outcome, f.error.slice(0, MAX_ERROR)],
      );
      await tx.execute(`DELETE FROM notification_log WHERE id <= (SELECT max(id) FROM notification_log) - ${p(1)}`, [maxRows]);
    });
  };
  return {
    record(f) {
      if (pending >= MAX_PENDING) {
        log.once('notification-log-full', 'warn', 'Notification log: the store is behind, rows are dropped', { pending });
        return;
      }
      pending++;
      chain = chain.then(() => write(f)).then(
        () => { log.clearOnce('notification-log-error'); },
        (err: unknown) => { log.once('notification-log-error', 'warn', 'Notification log: cannot write to the store', { err: err as Error }); },
      ).finally(() => {
        pending--;
        if (pending === 0) log.clearOnce('notification-log-full');
      });
    },
    flush: () => chain,
  };
}
