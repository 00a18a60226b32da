/**
 * Several Larders on one PostgreSQL: the labels of this Larder's own series, and the
 * jobs that must run on one host at a time (retention, the seed's hourly table, the
 * daily summary), under a PostgreSQL advisory lock that the others skip rather than wait on.
 */
import type { Labels, Store } from '../../storage/store.js';
import type { Config } from '../config.js';

/** The job of Larder's own registry, as a Prometheus scraping /metrics would name it. */
export const OWN_JOB = 'larder';

/** `{job: 'larder', instance}`: the labels the recorder gives its own registry's series. */
export function ownLabels(identity: Config['identity']): Labels {
  return { job: OWN_JOB, instance: identity.instance };
}

/**
 * Runs `fn` unless another Larder on the same PostgreSQL database is running the job of
 * that name: then resolves undefined at once (it does the same work). The lock is a
 * transaction-scoped advisory lock held by a transaction that stays open while `fn`
 * runs on other connections (one pool connection for its duration). On SQLite (one
 * writer per file) `fn` just runs.
 */
export async function onceAcrossHosts<T>(store: Store, job: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (store.dialect !== 'postgresql') return fn();
  return store.transaction(async (tx) => {
    const got = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [`larder-job:${job}`]);
    return got[0]?.ok === true ? fn() : undefined;
  });
}
