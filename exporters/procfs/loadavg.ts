/** Parser of /proc/loadavg. */
import { fields, num } from './read.js';

/** The 1, 5 and 15 minute load averages. */
export interface LoadAvg {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
}

/** Parses /proc/loadavg (`0.33 0.35 0.22 1/136 7955`). */
export function parseLoadavg(text: string): LoadAvg {
  const f = fields(text);
  return { load1: num(f[0], '/proc/loadavg'), load5: num(f[1], '/proc/loadavg'), load15: num(f[2], '/proc/loadavg') };
}
