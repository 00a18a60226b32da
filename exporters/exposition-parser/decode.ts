/**
 * Bytes → text for the exposition parsers, without loss: both formats are UTF-8, and
 * a body that is not must be refused, not read with U+FFFD in place of the bad bytes
 * (a label value would silently become another value).
 */
import { ExpositionParseError } from './errors.js';

const STRICT = new TextDecoder('utf-8', { fatal: true });
const LOSSY = new TextDecoder('utf-8');

/**
 * Decodes an exposition. A line that is not valid UTF-8 throws an
 * ExpositionParseError naming it, unless `ignorable(line)` says the parser would
 * skip that line anyway (a plain comment of the text format), in which case it is
 * replaced by an empty comment.
 */
export function decodeExposition(bytes: Uint8Array, ignorable: (lossyLine: string) => boolean): string {
  try {
    return STRICT.decode(bytes);
  } catch {
    // slow path, only for bad input: find the line(s) at fault
  }
  const lines: string[] = [];
  let start = 0;
  for (let lineNo = 1; start <= bytes.length; lineNo++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const raw = bytes.subarray(start, end);
    try {
      lines.push(STRICT.decode(raw));
    } catch {
      const lossy = LOSSY.decode(raw);
      if (!ignorable(lossy)) throw new ExpositionParseError(lineNo, 'invalid UTF-8 (the exposition formats are UTF-8)');
      lines.push('#');
    }
    start = end + 1;
  }
  return lines.join('\n');
}
