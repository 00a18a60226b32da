/**
 * Tasks: code that runs next to the data. A SQLite store's file is owned by its worker
 * thread; work that reads millions of rows and writes back a fraction (the rollups)
 * is cheapest there, without sending the rows across threads. A task is a module whose
 * default export is a `SqliteTask`; `Store.runTask(moduleUrl, input)` loads it in the
 * worker and calls it, inside the caller's transaction when there is one. The store
 * knows nothing of what tasks do (rollup/ holds its own), so dependencies keep
 * pointing one way.
 */
import type { Row, SqlValue } from './store.js';

/** What a task may do with the database, synchronously, on the worker thread. */
export interface SqliteTaskContext {
  /** Rows of a statement. */
  query(sql: string, params?: readonly SqlValue[]): Row[];
  /** Runs a statement; the number of rows changed. */
  execute(sql: string, params?: readonly SqlValue[]): { changes: number };
  /**
   * Streams a numeric query (numeric parameters, numeric or NULL columns) row by row;
   * the row array is reused, NULL is NaN. See sqlite-fast.ts.
   */
  scanNumbers(sql: string, params: readonly number[], each: (row: Float64Array) => void): number;
  /** Inserts row-major numbers (NaN as NULL) into a table; identifiers must be trusted and quoted. */
  insertNumbers(table: string, columns: readonly string[], rows: Float64Array): number;
}

/** The default export of a task module. Its input and result cross threads (structured clone). */
export type SqliteTask<I = unknown, O = unknown> = (ctx: SqliteTaskContext, input: I) => O;

/**
 * The URL of a task module beside the calling one: `name.ts` when the caller runs from
 * TypeScript sources (tests, benchmarks), `name.js` from the build.
 */
export function taskModuleUrl(callerUrl: string, name: string): URL {
  return new URL(`./${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}
