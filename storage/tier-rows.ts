/**
 * Reads of rollup tier rows as packed columns (`Store.readTierRows`): the query's checks,
 * the builder both stores fill, and the read through plain SQL (PostgreSQL's, and the
 * fallback for a store without its own). A 30-day chart reads ~40k rows; as typed
 * arrays they cross from the SQLite worker by transfer instead of one structured clone
 * per row object.
 */
import { pgIdent, msOf, tsOf } from './pg-sql.js';
import { checkTimeMs } from './series-key.js';
import { ident } from './sqlite-sql.js';
import { KIND_COLUMNS, checkTier, tierTables } from './table-kinds.js';
import type { Store, TierColumn, TierRows, TierRowsQuery } from './store.js';

/** Most series ids one tier read takes (the query engine's widest selector stays far below). */
export const MAX_TIER_READ_IDS = 100_000;

/** Every value column of a rollup row, in table order. */
export const TIER_COLUMNS: readonly TierColumn[] = KIND_COLUMNS.rollup.map((c) => c.name as TierColumn);

/** Ids per SQLite statement: well under SQLite's bound-parameter limit. */
const SQLITE_IDS_PER_STATEMENT = 500;

/** A checked TierRowsQuery: ids sorted and distinct, columns resolved. */
export interface CheckedTierRowsQuery {
  readonly tier: string;
  readonly seriesIds: readonly number[];
  readonly fromMs: number;
  readonly toMs: number;
  readonly columns: readonly TierColumn[];
}

/** Throws unless `q` is a well-formed tier read (bounded ids, valid times, known columns). */
export function checkTierRowsQuery(q: TierRowsQuery): CheckedTierRowsQuery {
  if (q === null || typeof q !== 'object') throw new TypeError('readTierRows: expected {tier, seriesIds, fromMs, toMs}');
  checkTier(q.tier, 'readTierRows');
  checkTimeMs(q.fromMs, `readTierRows ${q.tier} fromMs`);
  checkTimeMs(q.toMs, `readTierRows ${q.tier} toMs`);
  if (!Array.isArray(q.seriesIds)) throw new TypeError(`readTierRows ${q.tier}: seriesIds must be an array`);
  if (q.seriesIds.length > MAX_TIER_READ_IDS) throw new RangeError(`readTierRows ${q.tier}: ${q.seriesIds.length} series ids, at most ${MAX_TIER_READ_IDS}`);
  for (const id of q.seriesIds) {
    if (!Number.isInteger(id) || id <= 0 || id > 0x7fffffff) throw new TypeError(`readTierRows ${q.tier}: invalid series id ${String(id)}: expected a positive 32-bit integer`);
  }
  const columns = q.columns ?? TIER_COLUMNS;
  if (!Array.isArray(columns)) throw new TypeError(`readTierRows ${q.tier}: columns must be an array`);
  for (const [i, c] of columns.entries()) {
    if (!TIER_COLUMNS.includes(c)) throw new TypeError(`readTierRows ${q.tier}: unknown column ${JSON.stringify(c)}: expected one of ${TIER_COLUMNS.join(', ')}`);
    if (columns.indexOf(c) !== i) throw new TypeError(`readTierRows ${q.tier}: column ${c} asked twice`);
  }
  const seriesIds = [...new Set(q.seriesIds)].sort((a, b) => a - b);
  return { tier: q.tier, seriesIds, fromMs: q.fromMs, toMs: q.toMs, columns };
}

/** Collects rows into growing typed arrays; `finish` trims them and orders the rows. */
export class TierRowsBuilder {
  private n = 0;
  private ids = new Int32Array(1024);
  private ts = new Float64Array(1024);
  private values: Float64Array[];
  private nulls = new Uint8Array(1024);

  constructor(readonly columns: readonly TierColumn[]) {
    this.values = columns.map(() => new Float64Array(1024));
  }

  /**
   * Appends a row laid out as `[series_id, ts, ...columns]` (what sqlite-fast's
   * scanNumbers yields): NaN is NULL, as SQLite stores NaN so.
   */
  pushScanned(row: Float64Array): void {
    const i = this.append(row[0]!, row[1]!);
    let bits = 0;
    for (let c = 0; c < this.values.length; c++) {
      const v = row[c + 2]!;
      this.values[c]![i] = v;
      if (v !== v) bits |= 1 << c;
    }
    this.nulls[i] = bits;
  }

  /** Appends a row from a driver's row object (`s`, `t`, then the columns by name); null or undefined is NULL. */
  pushRow(r: Readonly<Record<string, unknown>>): void {
    const i = this.append(Number(r['s']), Number(r['t']));
    let bits = 0;
    for (let c = 0; c < this.values.length; c++) {
      const v = r[this.columns[c]!];
      if (v === null || v === undefined) {
        this.values[c]![i] = Number.NaN;
        bits |= 1 << c;
      } else this.values[c]![i] = Number(v);
    }
    this.nulls[i] = bits;
  }

  private append(seriesId: number, ts: number): number {
    if (this.n === this.ids.length) {
      const cap = this.n * 2;
      this.ids = grow(this.ids, new Int32Array(cap));
      this.ts = grow(this.ts, new Float64Array(cap));
      this.values = this.values.map((v) => grow(v, new Float64Array(cap)));
      this.nulls = grow(this.nulls, new Uint8Array(cap));
    }
    this.ids[this.n] = seriesId;
    this.ts[this.n] = ts;
    return this.n++;
  }

  /** The rows, ordered by series id then bucket start (reads of several chunks come in chunk order). */
  finish(): TierRows {
    const n = this.n;
    const rows: TierRows = {
      columns: [...this.columns],
      seriesIds: this.ids.slice(0, n),
      ts: this.ts.slice(0, n),
      values: this.values.map((v) => v.slice(0, n)),
      nulls: this.nulls.slice(0, n),
    };
    return ordered(rows) ? rows : sortRows(rows);
  }
}

function grow<A extends Int32Array | Float64Array | Uint8Array>(from: A, to: A): A {
  to.set(from);
  return to;
}

function ordered(r: TierRows): boolean {
  for (let i = 1; i < r.seriesIds.length; i++) {
    const d = r.seriesIds[i]! - r.seriesIds[i - 1]!;
    if (d < 0 || (d === 0 && r.ts[i]! < r.ts[i - 1]!)) return false;
  }
  return true;
}

function sortRows(r: TierRows): TierRows {
  const n = r.seriesIds.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => r.seriesIds[a]! - r.seriesIds[b]! || r.ts[a]! - r.ts[b]!);
  const take = <A extends Int32Array | Float64Array | Uint8Array>(src: A, dst: A): A => {
    for (let i = 0; i < n; i++) dst[i] = src[order[i]!]!;
    return dst;
  };
  return {
    columns: r.columns,
    seriesIds: take(r.seriesIds, new Int32Array(n)),
    ts: take(r.ts, new Float64Array(n)),
    values: r.values.map((v) => take(v, new Float64Array(n))),
    nulls: take(r.nulls, new Uint8Array(n)),
  };
}

/** The buffers of a TierRows, to transfer it to another thread rather than copy it. */
export function tierRowsBuffers(r: TierRows): ArrayBuffer[] {
  return [r.seriesIds, r.ts, ...r.values, r.nulls].map((a) => a.buffer as ArrayBuffer);
}

/** The value at row `i` of column `c`, or null where it is NULL. */
export function tierValue(r: TierRows, c: number, i: number): number | null {
  return (r.nulls[i]! & (1 << c)) !== 0 ? null : r.values[c]![i]!;
}

/**
 * `readTierRows` through `query`: on PostgreSQL one statement on the partitioned tier
 * table (partition pruning picks the chunks, no catalog round trips); on SQLite one per
 * chunk that overlaps the range and batch of ids. Rejects an unknown tier.
 */
export async function readTierRowsBySql(store: Pick<Store, 'dialect' | 'query' | 'listChunks'>, query: TierRowsQuery): Promise<TierRows> {
  const q = checkTierRowsQuery(query);
  const b = new TierRowsBuilder(q.columns);
  if (q.seriesIds.length === 0) return b.finish();
  const table = tierTables(q.tier).rollup;
  if (store.dialect === 'postgresql') {
    const cols = q.columns.map(pgIdent).join(', ');
    const rows = await store.query(
      `SELECT series_id AS s, ${msOf('ts')} AS t, ${cols} FROM ${pgIdent(table)} WHERE series_id = ANY($1::int[]) AND ts >= ${tsOf('$2')} AND ts < ${tsOf('$3')} ORDER BY series_id, ts`,
      [`{${q.seriesIds.join(',')}}`, q.fromMs, q.toMs],
    );
    for (const r of rows) b.pushRow(r);
    return b.finish();
  }
  for (const chunk of (await store.listChunks(table)).filter((c) => c.endMs > q.fromMs && c.startMs < q.toMs)) {
    for (const st of sqliteTierStatements(chunk.name, q)) for (const r of await store.query(st.sql, st.params)) b.pushRow(r);
  }
  return b.finish();
}

/**
 * SQLite: the statements reading one chunk's rows of a checked query, one per batch of
 * ids, each row `[s (series_id), t (ts), ...columns]`, ordered by series then time.
 */
export function sqliteTierStatements(chunk: string, q: CheckedTierRowsQuery): { sql: string; params: number[] }[] {
  const out: { sql: string; params: number[] }[] = [];
  const cols = q.columns.map(ident).join(', ');
  for (let k = 0; k < q.seriesIds.length; k += SQLITE_IDS_PER_STATEMENT) {
    const ids = q.seriesIds.slice(k, k + SQLITE_IDS_PER_STATEMENT);
    out.push({
      sql: `SELECT series_id AS s, ts AS t, ${cols} FROM ${ident(chunk)} WHERE series_id IN (${ids.map(() => '?').join(', ')}) AND ts >= ? AND ts < ? ORDER BY series_id, ts`,
      params: [...ids, q.fromMs, q.toMs],
    });
  }
  return out;
}
