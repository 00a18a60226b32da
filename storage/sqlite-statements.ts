/**
 * The SQLite engine's prepared statements, kept by their SQL text and reused. Preparing
 * is SQLite parsing and planning the statement; in this wasm build it was about a third
 * of the worker's time for a small read (a query over an hourly tier: 0.60 → 0.42 ms).
 * The SQL of a chunk read names its chunk and its number of ids, so the texts are many:
 * the least recently used statement is finalized past `capacity`, and a scan keeps only
 * statements with short SQL (`keeps`). Each statement holds memory in the wasm heap, which
 * never shrinks: 256 kept reads of 500 ids each grew the process by about 60 MB, while
 * small statements fit in the heap the connection starts with.
 */
import type sqlite3 from 'node-sqlite3-wasm';

type Database = InstanceType<typeof sqlite3.Database>;
/** A prepared statement of node-sqlite3-wasm. */
export type Statement = ReturnType<Database['prepare']>;

/** Statements kept between calls, at most `capacity`, least recently used dropped first. */
export class StatementCache {
  // A Map iterates in insertion order: a hit is moved to the end, so the first is the oldest.
  private readonly kept = new Map<string, Statement>();

  /**
   * @param prepare prepares a statement on the current connection
   * @param capacity statements kept at most
   * @param maxSqlLength longest SQL whose statement a scan keeps (`keeps`)
   */
  constructor(
    private readonly prepare: (sql: string) => Statement,
    readonly capacity: number,
    readonly maxSqlLength = 1000,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`StatementCache: capacity must be a positive integer, got ${capacity}`);
  }

  /**
   * Whether a one-off statement for `sql` (a read naming many ids) is worth keeping: short
   * SQL only, since a long IN list's statement is large and seldom asked for again.
   */
  keeps(sql: string): boolean {
    return sql.length <= this.maxSqlLength;
  }

  /** Statements kept now. */
  get size(): number {
    return this.kept.size;
  }

  /**
   * The statement for `sql`, prepared on first use. The caller runs it to the end (or
   * resets it) before asking for another: a statement dropped to make room is finalized.
   */
  get(sql: string): Statement {
    const hit = this.kept.get(sql);
    if (hit !== undefined) {
      this.kept.delete(sql);
      this.kept.set(sql, hit);
      return hit;
    }
    const st = this.prepare(sql);
    this.kept.set(sql, st);
    if (this.kept.size > this.capacity) {
      const [oldest, old] = this.kept.entries().next().value as [string, Statement];
      this.kept.delete(oldest);
      old.finalize();
    }
    return st;
  }

  /** Finalizes the statements whose SQL contains `fragment` (a dropped chunk's name). */
  forget(fragment: string): void {
    for (const [sql, st] of this.kept) {
      if (!sql.includes(fragment)) continue;
      st.finalize();
      this.kept.delete(sql);
    }
  }

  /**
   * Finalizes every statement (before VACUUM, close or a reconnect). All are dropped even
   * when one fails to finalize; the first failure is then thrown.
   */
  clear(): void {
    let failure: unknown;
    for (const st of this.kept.values()) {
      try {
        st.finalize();
      } catch (e) {
        failure ??= e;
      }
    }
    this.kept.clear();
    if (failure !== undefined) throw failure;
  }
}
