/** Label sets `{a="b",…}` in both exposition formats. */

/** A label name at `lastIndex` (sticky, so no substring per label). */
const LABEL_AT = /[a-zA-Z_][a-zA-Z0-9_]*/y;

/**
 * Parses `a="b",c="d"}` from `pos` (just after `{`) into `into`; returns the position
 * after `}`. Both formats refuse a repeated label and `__name__` (the metric name is
 * not a label here). The text format, like Prometheus' own parser, takes blanks
 * around the tokens and a trailing comma, and knows only the escapes `\\`, `\"` and
 * `\n`. OpenMetrics takes no blanks and no trailing comma, and keeps an unknown escape
 * as it was written (`\z` stays `\z`), as its reference parser does.
 */
export function parseLabelSet(line: string, pos: number, into: Record<string, string>, fail: (why: string) => never, om: boolean): number {
  const skipBlanks = (): void => {
    if (om) return;
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
  };
  skipBlanks();
  while (line[pos] !== '}') {
    LABEL_AT.lastIndex = pos;
    const m = LABEL_AT.exec(line);
    if (!m) fail('expected a label name');
    const label = m![0];
    if (label === '__name__') fail('label __name__ is not allowed (the metric name goes before the braces)');
    pos += label.length;
    skipBlanks();
    if (line[pos] !== '=') fail(`expected = after label ${label}`);
    pos++;
    skipBlanks();
    if (line[pos] !== '"') fail(`expected " to open the value of label ${label}`);
    pos++;
    // copy runs of plain characters at once; only escapes are handled one by one
    let value = '';
    for (;;) {
      let end = pos;
      while (end < line.length && line[end] !== '"' && line[end] !== '\\') end++;
      value += line.slice(pos, end);
      pos = end;
      const c = line[pos];
      if (c === undefined) fail(`unterminated value of label ${label}`);
      if (c === '"') break;
      const e = line[pos + 1];
      if (e === '\\') value += '\\';
      else if (e === '"') value += '"';
      else if (e === 'n') value += '\n';
      else if (om && e !== undefined) value += '\\' + e;
      else fail(`invalid escape \\${e ?? ''} in the value of label ${label}`);
      pos += 2;
    }
    pos++; // closing quote
    if (Object.prototype.hasOwnProperty.call(into, label)) fail(`duplicate label ${label}`);
    into[label] = value;
    skipBlanks();
    if (line[pos] === ',') {
      pos++;
      skipBlanks();
      if (om && line[pos] === '}') fail('trailing comma in a label set');
    } else if (line[pos] !== '}') {
      fail('expected , or } after a label value');
    }
  }
  return pos + 1;
}
