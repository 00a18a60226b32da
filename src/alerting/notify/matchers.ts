/**
 * Alertmanager's label matchers (`name="value"`, `!=`, `=~`, `!~`), regexes anchored at
 * both ends as Alertmanager anchors them.
 */

/** One matcher. */
export interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
  readonly re?: RegExp;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** True when `s` is a valid label name. */
export function isLabelName(s: string): boolean {
  return LABEL_NAME.test(s);
}

function unquote(raw: string): string {
  if (!raw.startsWith('"')) {
    if (/[",{}]/.test(raw)) throw new Error('an unquoted value may not hold ", {, } or ,');
    return raw;
  }
  if (raw.length < 2 || !raw.endsWith('"')) throw new Error('unterminated quoted value');
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'string') throw new Error('not a string');
    return v;
  } catch {
    throw new Error('bad escape in quoted value');
  }
}

/** Builds a matcher, compiling (and anchoring) its regex; throws with the reason. */
export function makeMatcher(name: string, op: Matcher['op'], value: string): Matcher {
  if (!isLabelName(name)) throw new Error(`"${name}" is not a label name`);
  if (op === '=~' || op === '!~') {
    if (value.length > 1000) throw new Error('regex longer than 1000 characters');
    try {
      return { name, op, value, re: new RegExp(`^(?:${value})$`, 'u') };
    } catch (err) {
      throw new Error(`bad regular expression: ${(err as Error).message}`);
    }
  }
  return { name, op, value };
}

/** Parses one matcher string such as `severity=~"critical|page"`. */
export function parseMatcher(text: string): Matcher {
  if (text.length > 2000) throw new Error('matcher longer than 2000 characters');
  const m = MATCHER.exec(text);
  if (!m) throw new Error('expected name op value, with op one of =, !=, =~, !~ (e.g. severity="critical")');
  return makeMatcher(m[1]!, m[2] as Matcher['op'], unquote(m[3]!));
}

/** True when the labels satisfy the matcher (a missing label is the empty string). */
export function matches(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=': return v === m.value;
    case '!=': return v !== m.value;
    case '=~': return m.re!.test(v);
    case '!~': return !m.re!.test(v);
  }
}

/** True when the labels satisfy every matcher. */
export function matchesAll(ms: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return ms.every((m) => matches(m, labels));
}
