/**
 * The lexical half of `query --sql`'s read-only rule: one statement, starting with a
 * reading verb. The other half is the store's: SQLite opened read-only with
 * query_only, PostgreSQL in a READ ONLY transaction. Both refuse before anything is
 * written; this check also stops `SELECT 1; COMMIT; DELETE …`, which would leave the
 * read-only transaction on PostgreSQL, and gives a clear message early.
 */
import { UsageError } from './command.js';

const READING = /^(select|with|values|table|explain|show|pragma)\b/i;
/** PRAGMAs that only read (with no `=` assignment). */
const PRAGMA_ASSIGN = /^pragma\s+[\w.]+\s*=/i;

/** The statement without comments and with string literals blanked, and whether a second statement follows. */
export function stripSql(sql: string): { text: string; statements: number } {
  let out = '';
  let statements = 0;
  let sawCode = false;
  for (let i = 0; i < sql.length; ) {
    const c = sql[i]!;
    const two = sql.slice(i, i + 2);
    if (two === '--') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
      out += ' ';
    } else if (two === '/*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      out += `${c}${c}`;
      sawCode = true;
      i = j + 1;
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? sql.length : end + tag[0].length;
        out += "''";
        sawCode = true;
      } else {
        out += c;
        i++;
      }
    } else if (c === ';') {
      if (sawCode) statements++;
      sawCode = false;
      out += ';';
      i++;
    } else {
      if (!/\s/.test(c)) sawCode = true;
      out += c;
      i++;
    }
  }
  if (sawCode) statements++;
  return { text: out.trim(), statements };
}

/** Throws UsageError unless `sql` is one reading statement. */
export function checkReadOnlySql(sql: string): void {
  if (sql.length > 100_000) throw new UsageError('--sql: the statement is over 100,000 characters');
  const { text, statements } = stripSql(sql);
  if (statements === 0) throw new UsageError('--sql: empty statement');
  if (statements > 1) throw new UsageError('--sql: one statement at a time (found a ";" followed by another statement)');
  if (!READING.test(text) || PRAGMA_ASSIGN.test(text)) {
    throw new UsageError(`--sql runs read-only SQL: refused ${JSON.stringify(text.split(/\s+/)[0]!.slice(0, 20).toUpperCase())}; start with SELECT, WITH, VALUES, EXPLAIN, SHOW or PRAGMA (reading)`);
  }
}
