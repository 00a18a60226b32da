/**
 * The errors Prometheus' PromQL lexer reports, found by a scan of the text that tracks
 * what its lexer tracks: parentheses, one open bracket, braces, strings and comments.
 * lezer recovers from these and points at where its grammar stopped (often the end of
 * input); Prometheus stops at the character and names it ("unclosed left parenthesis",
 * "unexpected right bracket ']'"). query/parse.ts asks for this only for a text lezer
 * rejected, and takes it when it comes no later than lezer's own error.
 */

/** A lexical error: `at` is where its character starts, `pos` where Prometheus reports it. */
export interface LexError {
  at: number;
  pos: number;
  message: string;
}

/** A character quoted as Go's `%q` quotes a rune, as Prometheus' messages show it. */
export function quoteRune(c: string): string {
  const escapes: Record<string, string> = { "'": "\\'", '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
  const e = escapes[c];
  if (e !== undefined) return `'${e}'`;
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, '0')}'`;
  return `'${c}'`;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isAlpha = (c: string): boolean => c === '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
/** Characters that begin or continue a token the lexer takes outside braces without complaint. */
const OPERATOR = new Set([',', '*', '/', '%', '+', '-', '^', '<', '>', '@', '.', ':', '=']);

/** The first lexical error of `text`, or undefined when Prometheus' lexer would take it all. */
export function firstLexError(text: string): LexError | undefined {
  const n = text.length;
  let parenDepth = 0;
  let bracketOpen = false;
  let braceOpen = false;
  const error = (at: number, message: string, pos = at): LexError => ({ at, pos, message });

  let i = 0;
  while (i < n) {
    const c = text[i]!;
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const end = stringEnd(text, i);
      if (end < 0) return error(i, c === '`' ? 'unterminated raw string' : 'unterminated quoted string');
      i = end + 1;
      continue;
    }
    if (braceOpen) {
      if (isAlpha(c)) {
        while (i < n && (isAlpha(text[i]!) || isDigit(text[i]!))) i++;
        continue;
      }
      if (c === ',') i++;
      else if (c === '=') i += text[i + 1] === '~' ? 2 : 1;
      else if (c === '!') {
        const next = text[i + 1];
        if (next !== '~' && next !== '=') return next === undefined ? undefined : error(i, `unexpected character after '!' inside braces: ${quoteRune(next)}`);
        i += 2;
      } else if (c === '{') return error(i, `unexpected left brace ${quoteRune(c)}`);
      else if (c === '}') {
        braceOpen = false;
        i++;
      } else return error(i, `unexpected character inside braces: ${quoteRune(c)}`);
      continue;
    }
    if (isAlpha(c) || isDigit(c)) {
      while (i < n && (isAlpha(text[i]!) || isDigit(text[i]!) || text[i] === ':' || text[i] === '.')) i++;
      continue;
    }
    switch (c) {
      case '(':
        parenDepth++;
        break;
      case ')':
        // Prometheus emits the parenthesis before it finds the depth negative: it reports the position after it.
        if (--parenDepth < 0) return error(i, `unexpected right parenthesis ${quoteRune(c)}`, i + 1);
        break;
      case '{':
        braceOpen = true;
        break;
      case '[':
        if (bracketOpen) return error(i, `unexpected left bracket ${quoteRune(c)}`);
        bracketOpen = true;
        break;
      case ']':
        if (!bracketOpen) return error(i, `unexpected right bracket ${quoteRune(c)}`);
        bracketOpen = false;
        break;
      case '=':
        if (text[i + 1] === '~') return error(i, `unexpected character after '=': ${quoteRune('~')}`);
        break;
      case '!': {
        const next = text[i + 1];
        if (next === undefined) return undefined;
        if (next !== '=') return error(i, `unexpected character after '!': ${quoteRune(next)}`);
        i++;
        break;
      }
      default:
        if (!OPERATOR.has(c)) return error(i, `unexpected character: ${quoteRune(String.fromCodePoint(text.codePointAt(i)!))}`);
    }
    i++;
  }
  if (braceOpen) return error(n, 'unexpected end of input inside braces');
  if (parenDepth !== 0) return error(n, 'unclosed left parenthesis');
  if (bracketOpen) return error(n, 'unclosed left bracket');
  return undefined;
}

/** Index of the quote that closes the string opened at `start`, or -1 (a quoted string also ends at a newline). */
function stringEnd(text: string, start: number): number {
  const q = text[start]!;
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (q !== '`' && c === '\\') i++;
    else if (c === q) return i;
    else if (q !== '`' && c === '\n') return -1;
  }
  return -1;
}
