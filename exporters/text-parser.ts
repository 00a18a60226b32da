/**
 * A parser of the two exposition formats into ParsedFamily[]: the Prometheus text
 * format 0.0.4 and OpenMetrics 1.0. Used by the textfile collector and by anything
 * that scrapes another process's /metrics. Pure: bytes (or text) in, families out, and
 * an ExpositionParseError naming the line for anything malformed. Give it the bytes
 * as read: both formats are UTF-8 and invalid UTF-8 is refused, never replaced.
 * The formats live in exposition-parser/ (text-format.ts, openmetrics.ts).
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 * https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
import { decodeExposition } from './exposition-parser/decode.js';
import { parseOpenMetrics } from './exposition-parser/openmetrics.js';
import { isIgnorableTextLine, parseTextFormat } from './exposition-parser/text-format.js';
import type { ExpositionFormat, ParsedFamily } from './exposition-parser/types.js';

export { ExpositionParseError } from './exposition-parser/errors.js';
export { parseFloatToken } from './exposition-parser/numbers.js';
export type { DeclaredType, ExpositionFormat, ParsedFamily } from './exposition-parser/types.js';

/**
 * Parses an exposition. Throws ExpositionParseError (with the line number) on:
 * invalid UTF-8, bad metric or label names (`__name__` included), bad escapes,
 * unparsable values or timestamps, a second HELP/TYPE for a family, TYPE after the
 * family's samples, a sample name its family's type does not allow, a histogram
 * bucket without `le` or a summary quantile without `quantile`; and in OpenMetrics
 * everything the specification forbids (see exposition-parser/openmetrics-rules.ts).
 * A series repeated in one exposition is kept: the caller decides (a scrape keeps the
 * first and counts the rest, as Prometheus does).
 */
export function parseExposition(input: string | Uint8Array, format: ExpositionFormat): ParsedFamily[] {
  const om = format === 'openmetrics';
  const text = typeof input === 'string' ? input : decodeExposition(input, om ? () => false : isIgnorableTextLine);
  return om ? parseOpenMetrics(text) : parseTextFormat(text);
}
