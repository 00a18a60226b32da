/** Reads whole rollup tables back for comparisons. */
import { ident, tsMs } from '../../rollup/sql.js';
import type { Store } from '../../storage/store.js';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Every row of a logical table, series mapped back to fixture indexes. */
export async function tableRows(store: Store, table: string, cols: readonly string[], indexOf: Map<number, number>): Promise<Record<string, number | null>[]> {
  const out: Record<string, number | null>[] = [];
  for (const c of await store.listChunks(table)) {
    const rows = await store.query(`SELECT series_id, ${tsMs(store.dialect, 'ts')} AS t, ${cols.map(ident).join(', ')} FROM ${ident(c.name)}`);
    for (const r of rows) {
      const row: Record<string, number | null> = { series: indexOf.get(Number(r['series_id'])) ?? -1, ts: Number(r['t']) };
      for (const col of cols) row[col] = num(r[col]);
      out.push(row);
    }
  }
  return out.sort((a, b) => a['series']! - b['series']! || a['ts']! - b['ts']!);
}

export const ROLLUP_COLS = ['count', 'sum', 'min', 'max', 'first', 'last', 'increase'] as const;
export const QUANTILE_COLS = ['count', 'sum', 'p50', 'p95', 'p99'] as const;

