/**
 * The filter words of `larder latest` and `larder alerts`: an optional NAME (with `*`
 * for any run of characters), then label matchers as PromQL writes them inside braces
 * (`job=larder`, `cpu!=0`, `route=~"/api/.*"`, `le!~0\..*`), applied to rows in memory.
 */
import type { Labels } from '../../storage/store.js';
import { UsageError } from './command.js';

/** A parsed filter: whether a name and its labels pass. */
export interface RowFilter {
  test(name: string, labels: Labels): boolean;
}

/** Longest regular expression accepted in a matcher (input from the command line is bounded). */
const MAX_PATTERN = 500;

/** `node_cpu*` → a RegExp matching whole names. */
function namePattern(glob: string): RegExp {
  if (!/^[a-zA-Z_:*][a-zA-Z0-9_:*]*$/.test(glob) || glob.length > 200) {
    throw new UsageError(`invalid metric name ${JSON.stringify(glob.slice(0, 60))}: expected a metric name, * matching any characters (e.g. node_cpu*)`);
  }
  return new RegExp(`^${glob.replace(/\*/g, '.*')}$`);
}

/** One `LABEL=VALUE`, `!=`, `=~` or `!~` word → a test of a label set. */
function matcher(word: string): (labels: Labels) => boolean {
  const m = /^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)(.*)$/s.exec(word);
  if (!m) throw new UsageError(`expected LABEL=VALUE (or !=, =~, !~), got ${JSON.stringify(word.slice(0, 60))}`);
  const [, label, op, raw] = m as unknown as [string, string, string, string];
  // A quoted value as PromQL writes it; the shell usually took the quotes already.
  const value = /^".*"$/s.test(raw) ? raw.slice(1, -1) : raw;
  if (op === '=' || op === '!=') {
    const want = op === '=';
    return (l) => ((l[label] ?? '') === value) === want;
  }
  if (value.length > MAX_PATTERN) throw new UsageError(`the pattern for ${label} is longer than ${MAX_PATTERN} characters`);
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${value})$`, 's');
  } catch (e) {
    throw new UsageError(`invalid regular expression for ${label}${op}: ${(e as Error).message}`);
  }
  const want = op === '=~';
  return (l) => re.test(l[label] ?? '') === want;
}

/**
 * Parses `[NAME] [MATCHER ...]`: the first word is a name unless it is a matcher. A
 * label missing from a row counts as the empty value, as in PromQL.
 */
export function parseRowFilter(words: readonly string[]): RowFilter {
  const [first, ...rest] = words;
  const isMatcher = (w: string): boolean => /^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|!~)/.test(w);
  const name = first !== undefined && !isMatcher(first) ? namePattern(first) : undefined;
  const matchers = (name === undefined ? words : rest).map(matcher);
  return { test: (n, labels) => (name === undefined || name.test(n)) && matchers.every((f) => f(labels)) };
}
