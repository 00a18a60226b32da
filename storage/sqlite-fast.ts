/**
 * Bulk numeric reads and writes on a node-sqlite3-wasm database, for work that moves
 * millions of rows inside the worker (the rollups). node-sqlite3-wasm's row API builds
 * one object per row and converts every INTEGER through a BigInt: 0.55-0.7 µs a row of
 * three columns here, against 0.25 µs calling the SQLite C functions it exports
 * (`_sqlite3_step`, `_sqlite3_column_double`, `_sqlite3_bind_double`, ...) on its own
 * statement handle. Those exports and the handle are not in its typings, so they are
 * looked up at run time; where they are missing (another version), the same results
 * come from the public API, only slower (`fastPathAvailable` tells which).
 */
import sqlite3 from 'node-sqlite3-wasm';
import type { Statement, StatementCache } from './sqlite-statements.js';
import { staleNaN } from './stale.js';

type Database = InstanceType<typeof sqlite3.Database>;

const SQLITE_ROW = 100;
const SQLITE_DONE = 101;
const SQLITE_BLOB = 4;
const SQLITE_NULL = 5;

/** The part of SQLite's C API that node-sqlite3-wasm's module object exports. */
interface WasmApi {
  _sqlite3_step(stmt: number): number;
  _sqlite3_reset(stmt: number): number;
  _sqlite3_column_count(stmt: number): number;
  _sqlite3_column_type(stmt: number, i: number): number;
  _sqlite3_column_double(stmt: number, i: number): number;
  _sqlite3_bind_double(stmt: number, i: number, v: number): number;
  _sqlite3_bind_null(stmt: number, i: number): number;
}

const API_FUNCTIONS: readonly (keyof WasmApi)[] = ['_sqlite3_step', '_sqlite3_reset', '_sqlite3_column_count', '_sqlite3_column_type', '_sqlite3_column_double', '_sqlite3_bind_double', '_sqlite3_bind_null'];

function wasmApi(): WasmApi | undefined {
  const m = sqlite3 as unknown as Record<string, unknown>;
  return API_FUNCTIONS.every((f) => typeof m[f] === 'function') ? (m as unknown as WasmApi) : undefined;
}

const api = wasmApi();

/** The statement's C handle, or undefined when this node-sqlite3-wasm keeps it elsewhere. */
function handleOf(st: Statement): number | undefined {
  const p = (st as unknown as { _ptr?: unknown })._ptr;
  return typeof p === 'number' && p !== 0 ? p : undefined;
}

/** True when the C functions are reachable (the fast path); false means the public API is used. */
export function fastPathAvailable(db: Database): boolean {
  if (api === undefined) return false;
  const st = db.prepare('SELECT 1');
  try {
    return handleOf(st) !== undefined;
  } finally {
    st.finalize();
  }
}

/** Throws SQLite's error for a step's return code (node-sqlite3-wasm's own handler reads the message). */
function checkStep(db: Database, rc: number, sql: string): void {
  if (rc === SQLITE_ROW || rc === SQLITE_DONE) return;
  const handle = (db as unknown as { _handleError?: (rc: number) => void })._handleError;
  try {
    handle?.call(db, rc);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)} (in ${sql.slice(0, 120)})`, { cause: e });
  }
  throw new Error(`SQLite error ${rc} (in ${sql.slice(0, 120)})`);
}

/** scanNumbers bound to a connection (and its statement cache): what the readers are given. */
export type ScanNumbers = (sql: string, params: readonly number[], each: (row: Float64Array) => void) => number;

/**
 * Runs a query whose parameters and columns are all numbers (or NULL) and calls `each`
 * with every row, as a Float64Array reused from row to row: NULL is NaN (as NaN is
 * stored as NULL), a BLOB the stale marker (storage/stale.ts), integers come as doubles (exact up to 2^53); parameters are bound
 * as doubles, which compare with INTEGER columns by value. Returns the number of rows.
 * With `statements`, a statement that cache keeps comes from it and is reset after, not finalized.
 */
export function scanNumbers(db: Database, sql: string, params: readonly number[], each: (row: Float64Array) => void, statements?: StatementCache): number {
  const kept = statements !== undefined && api !== undefined && statements.keeps(sql);
  const st = kept ? statements.get(sql) : db.prepare(sql);
  const p = handleOf(st);
  try {
    if (api === undefined || p === undefined) return scanPublic(st, params, each);
    // A kept statement may have been run to its end by the public API, which resets only
    // before it binds: binding a statement not reset since its last step fails.
    if (kept) api._sqlite3_reset(p);
    for (let i = 0; i < params.length; i++) {
      if (api._sqlite3_bind_double(p, i + 1, params[i]!) !== 0) throw new RangeError(`scanNumbers: parameter ${i + 1} of ${params.length} has no placeholder in ${sql.slice(0, 120)}`);
    }
    const width = api._sqlite3_column_count(p);
    const row = new Float64Array(width);
    let n = 0;
    for (;;) {
      const rc = api._sqlite3_step(p);
      if (rc !== SQLITE_ROW) {
        checkStep(db, rc, sql);
        return n;
      }
      for (let i = 0; i < width; i++) {
        const type = api._sqlite3_column_type(p, i);
        row[i] = type === SQLITE_NULL ? Number.NaN : type === SQLITE_BLOB ? staleNaN() : api._sqlite3_column_double(p, i);
      }
      each(row);
      n++;
    }
  } finally {
    if (!kept) st.finalize();
    // A kept statement is reset (its run ended, its read released, an error's code
    // cleared), ready for the next binding; one without a handle cannot be, so it goes.
    else if (p !== undefined) api._sqlite3_reset(p);
    else statements.forget(sql);
  }
}

function scanPublic(st: Statement, params: readonly number[], each: (row: Float64Array) => void): number {
  let row: Float64Array | undefined;
  let n = 0;
  for (const r of st.iterate([...params])) {
    const values = Object.values(r);
    row ??= new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      row[i] = v === null ? Number.NaN : v instanceof Uint8Array ? staleNaN() : Number(v);
    }
    each(row);
    n++;
  }
  return n;
}

/** Rows per multi-row INSERT statement. */
const ROWS_PER_STATEMENT = 64;

/**
 * Inserts `rows` (row-major, `columns.length` values a row; NaN as NULL) into `table`
 * with multi-row INSERTs. `table` and `columns` must be trusted identifiers, already
 * quoted. Returns the number of rows inserted.
 */
export function insertNumbers(db: Database, table: string, columns: readonly string[], rows: Float64Array): number {
  const width = columns.length;
  if (width === 0 || rows.length % width !== 0) throw new RangeError(`insertNumbers: ${rows.length} values do not make rows of ${width}`);
  const total = rows.length / width;
  const one = `(${columns.map(() => '?').join(', ')})`;
  const sqlFor = (n: number): string => `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: n }, () => one).join(', ')}`;
  let done = 0;
  const full = Math.floor(total / ROWS_PER_STATEMENT);
  if (full > 0) {
    const st = db.prepare(sqlFor(ROWS_PER_STATEMENT));
    try {
      for (let k = 0; k < full; k++, done += ROWS_PER_STATEMENT) runBound(db, st, rows, done * width, ROWS_PER_STATEMENT * width);
    } finally {
      st.finalize();
    }
  }
  if (done < total) {
    const st = db.prepare(sqlFor(total - done));
    try {
      runBound(db, st, rows, done * width, (total - done) * width);
    } finally {
      st.finalize();
    }
  }
  return total;
}

function runBound(db: Database, st: Statement, rows: Float64Array, start: number, count: number): void {
  const p = handleOf(st);
  if (api === undefined || p === undefined) {
    st.run(Array.from(rows.subarray(start, start + count), (v) => (Number.isNaN(v) ? null : v)));
    return;
  }
  api._sqlite3_reset(p);
  for (let i = 0; i < count; i++) {
    const v = rows[start + i]!;
    // Numbered from 1; a double with an integral value takes the column's INTEGER affinity.
    if (Number.isNaN(v)) api._sqlite3_bind_null(p, i + 1);
    else api._sqlite3_bind_double(p, i + 1, v);
  }
  checkStep(db, api._sqlite3_step(p), 'INSERT');
}
