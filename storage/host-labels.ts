/**
 * Schema version 4's data step: the series recorded before host labels existed (listed in
 * `series_unlabelled` by the migration) get the labels of the Larder that opens the store
 * (`instance`, `job` and its external labels), each only where the series lacks it, their
 * fingerprint recomputed; on PostgreSQL they and the old watermarks become that Larder's
 * (`series.host`). Runs once: the list is emptied in the same transaction, and on
 * PostgreSQL under an advisory lock, so two hosts opening one database apply it once.
 */
import { canonicalLabels, fingerprint, parseLabels } from './series-key.js';
import type { Labels, SqlExecutor, Store } from './store.js';

/** What the step did. */
export interface HostLabelsResult {
  /** Series that got the labels. */
  readonly labelled: number;
  /** Series left as they were: with the labels added they would be a series that already exists. */
  readonly kept: number;
}

/** `labels` with each of `add` it lacks (a series' own label wins). */
export function withHostLabels(labels: Labels, add: Labels): Labels {
  const out: Record<string, string> = { ...labels };
  for (const [k, v] of Object.entries(add)) if (!(k in out)) out[k] = v;
  return out;
}

/**
 * Gives the series recorded before schema version 4 the labels `add` (their own labels
 * win), and on PostgreSQL makes them and the watermarks of that time owned by `host`.
 * Resolves with what it did ({0, 0} when nothing was waiting). Call before anything
 * resolves series on this store (ids are cached by fingerprint).
 */
export async function applyHostLabels(store: Store, add: Labels, host: string): Promise<HostLabelsResult> {
  canonicalLabels(add, 'host labels'); // validates the names
  const pg = store.dialect === 'postgresql';
  return store.transaction(async (tx) => {
    if (pg) await tx.query(`SELECT pg_advisory_xact_lock(hashtext('larder-host-labels'))`);
    const rows = await tx.query<{ id: unknown; name: string; labels: string }>(
      `SELECT s.id, s.name, s.labels${pg ? '::text' : ''} AS labels FROM series s JOIN series_unlabelled u ON u.id = s.id ORDER BY s.id`,
    );
    if (rows.length === 0) return { labelled: 0, kept: 0 };
    const taken = new Set((await tx.query<{ fingerprint: string }>('SELECT fingerprint FROM series')).map((r) => r.fingerprint));
    const changes: { id: number; labels: string; fp: string }[] = [];
    let kept = 0;
    for (const r of rows) {
      const own = parseLabels(r.labels);
      const labels = canonicalLabels(withHostLabels(own, add), `series ${String(r.id)}`);
      if (labels === canonicalLabels(own, `series ${String(r.id)}`)) continue; // it had them all
      const fp = fingerprint(r.name, labels);
      if (taken.has(fp)) {
        kept++; // another series already has these labels: two series must not become one
        continue;
      }
      taken.add(fp);
      changes.push({ id: Number(r.id), labels, fp });
    }
    await update(tx, changes);
    if (pg) {
      await tx.execute('UPDATE series SET host = $1 WHERE id IN (SELECT id FROM series_unlabelled)', [host]);
      // The watermarks of that time covered these series: they are this host's now.
      await tx.execute(`UPDATE rollup_watermarks SET host = $1 WHERE host = '' AND NOT EXISTS (SELECT 1 FROM rollup_watermarks w WHERE w.tier = rollup_watermarks.tier AND w.host = $1)`, [host]);
    }
    await tx.execute('DELETE FROM series_unlabelled');
    return { labelled: changes.length, kept };
  });
}

async function update(tx: SqlExecutor, changes: readonly { id: number; labels: string; fp: string }[]): Promise<void> {
  if (tx.dialect === 'postgresql') {
    for (let i = 0; i < changes.length; i += 5000) {
      const part = changes.slice(i, i + 5000);
      await tx.execute(
        'UPDATE series s SET labels = u.l::jsonb, fingerprint = u.f FROM jsonb_to_recordset($1::jsonb) AS u(id integer, l text, f text) WHERE s.id = u.id',
        [JSON.stringify(part.map((c) => ({ id: c.id, l: c.labels, f: c.fp })))],
      );
    }
    return;
  }
  for (const c of changes) await tx.execute('UPDATE series SET labels = ?, fingerprint = ? WHERE id = ?', [c.labels, c.fp, c.id]);
}
