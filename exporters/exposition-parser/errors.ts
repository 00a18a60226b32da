/** The error every exposition parser throws on malformed input. */

/** Malformed input, with the 1-based line it was found on. */
export class ExpositionParseError extends Error {
  override readonly name = 'ExpositionParseError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/** A line quoted in an error message, cut at 200 characters so a huge line cannot flood a log. */
export function quoteLine(line: string): string {
  return JSON.stringify(line.length > 200 ? line.slice(0, 200) + '…' : line);
}
