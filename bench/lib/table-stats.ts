import { ident } from '../../rollup/sql.js';
import type { Store } from '../../storage/store.js';

/** Rows and bytes (the store's chunkBytes: on PostgreSQL heap, TOAST and indexes) of a logical table's chunks. */
export async function tableStats(store: Store, table: string): Promise<{ rows: number; bytes: number; chunks: number }> {
  let rows = 0;
  let bytes = 0;
  const chunks = await store.listChunks(table);
  for (const c of chunks) {
    rows += Number((await store.query(`SELECT count(*) AS n FROM ${ident(c.name)}`))[0]!['n']);
    bytes += await store.chunkBytes(table, c.name);
  }
  return { rows, bytes, chunks: chunks.length };
}
