/** Parser of /proc/pressure/{cpu,io,memory,irq} (pressure stall information). */

/** Total stall time in seconds of the `some` and `full` lines. */
export interface Pressure {
  readonly some?: number;
  readonly full?: number;
}

/** Parses `some avg10=0.00 avg60=0.00 avg300=0.00 total=123` lines; total is µs. */
export function parsePressure(text: string): Pressure {
  const out: { some?: number; full?: number } = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full)\s.*\btotal=(\d+)/.exec(line.trim());
    if (m) out[m[1] as 'some' | 'full'] = Number(m[2]) / 1e6;
  }
  return out;
}
