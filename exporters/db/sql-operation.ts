/**
 * The SQL verb of a statement (`SELECT`, `INSERT`, …) for the `operation` label:
 * never the query text, whose values would make a series per query. Comments and
 * leading parentheses are skipped; for `WITH` (a CTE) the verb of the main statement
 * after the CTE definitions is used, so `WITH x AS (…) INSERT …` is an INSERT.
 */

/** Verbs reported as themselves; anything else is `OTHER`. */
const VERBS = new Set([
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'VALUES', 'TABLE', 'COPY',
  'BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE', 'PREPARE', 'EXECUTE', 'DEALLOCATE',
  'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'COMMENT', 'GRANT', 'REVOKE', 'REINDEX', 'REFRESH', 'CLUSTER', 'VACUUM', 'ANALYZE', 'EXPLAIN',
  'SET', 'RESET', 'SHOW', 'DISCARD', 'LOCK', 'LISTEN', 'UNLISTEN', 'NOTIFY', 'DO', 'CALL', 'DECLARE', 'FETCH', 'MOVE', 'CLOSE', 'CHECKPOINT', 'LOAD', 'IMPORT', 'SECURITY', 'REASSIGN',
]);

/** The label for text that has no statement. */
export const UNKNOWN_OPERATION = 'OTHER';

/** Index of the first character after whitespace and comments from `i`. */
function skipSpace(sql: string, i: number): number {
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith('--', i)) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (sql.startsWith('/*', i)) {
      // PostgreSQL block comments nest
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql.startsWith('/*', i)) (depth++, (i += 2));
        else if (sql.startsWith('*/', i)) (depth--, (i += 2));
        else i++;
      }
    } else {
      return i;
    }
  }
}

/** Index just after the parenthesis closing the one at `i`, skipping strings, identifiers and comments. */
function skipParens(sql: string, i: number): number {
  let depth = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === "'" || c === '"') {
      const close = sql.indexOf(c, i + 1);
      if (close < 0) return sql.length;
      i = close;
    } else if (c === '$') {
      // dollar quoting: $tag$ … $tag$
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const close = sql.indexOf(m[0], i + m[0].length);
        if (close < 0) return sql.length;
        i = close + m[0].length - 1;
      }
    } else if (sql.startsWith('--', i) || sql.startsWith('/*', i)) {
      i = skipSpace(sql, i) - 1;
    }
    i++;
  }
  return sql.length;
}

function wordAt(sql: string, i: number): string {
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i, i + 64));
  return m ? m[0] : '';
}

/** The uppercase SQL verb of `sql`, or `OTHER`. Pure; never throws. */
export function sqlOperation(sql: unknown): string {
  if (typeof sql !== 'string') return UNKNOWN_OPERATION;
  let i = skipSpace(sql, 0);
  while (sql[i] === '(') i = skipSpace(sql, i + 1); // (SELECT …) UNION …
  let word = wordAt(sql, i).toUpperCase();
  if (word !== 'WITH') return VERBS.has(word) ? word : UNKNOWN_OPERATION;
  // WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] ( … ) [, …] verb
  i = skipSpace(sql, i + 4);
  if (wordAt(sql, i).toUpperCase() === 'RECURSIVE') i = skipSpace(sql, i + 9);
  for (let guard = 0; guard < 1000 && i < sql.length; guard++) {
    const name = wordAt(sql, i) || (sql[i] === '"' ? sql.slice(i, sql.indexOf('"', i + 1) + 1) : '');
    if (!name) return UNKNOWN_OPERATION;
    i = skipSpace(sql, i + name.length);
    if (sql[i] === '(') i = skipSpace(sql, skipParens(sql, i));
    if (wordAt(sql, i).toUpperCase() !== 'AS') return UNKNOWN_OPERATION;
    i = skipSpace(sql, i + 2);
    if (wordAt(sql, i).toUpperCase() === 'NOT') i = skipSpace(sql, i + 3);
    if (wordAt(sql, i).toUpperCase() === 'MATERIALIZED') i = skipSpace(sql, i + 12);
    if (sql[i] !== '(') return UNKNOWN_OPERATION;
    i = skipSpace(sql, skipParens(sql, i));
    if (sql[i] === ',') {
      i = skipSpace(sql, i + 1);
      continue;
    }
    while (sql[i] === '(') i = skipSpace(sql, i + 1);
    word = wordAt(sql, i).toUpperCase();
    return VERBS.has(word) ? word : UNKNOWN_OPERATION;
  }
  return UNKNOWN_OPERATION;
}
