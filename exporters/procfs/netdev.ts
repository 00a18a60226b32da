/** Parser of /proc/net/dev. */
import { fields, num } from './read.js';

/** One interface's counters, keyed as node_exporter names them (`receive_bytes`, `transmit_colls`…). */
export interface NetDevStats {
  readonly device: string;
  readonly counters: Readonly<Record<string, number>>;
}

/**
 * Parses /proc/net/dev. Column names come from the two header lines, so a kernel
 * that adds a column is read correctly; `errs` stays `errs` as in node_exporter.
 */
export function parseNetDev(text: string): NetDevStats[] {
  const lines = text.split('\n');
  const header = lines[1];
  if (header === undefined || !header.includes('|')) throw new Error('/proc/net/dev: missing header');
  const parts = header.split('|');
  const rx = fields(parts[1] ?? '').map((c) => `receive_${c}`);
  const tx = fields(parts[2] ?? '').map((c) => `transmit_${c}`);
  const names = [...rx, ...tx];
  const out: NetDevStats[] = [];
  for (const line of lines.slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const device = line.slice(0, colon).trim();
    const values = fields(line.slice(colon + 1));
    if (values.length !== names.length) throw new Error(`/proc/net/dev ${device}: expected ${names.length} columns, got ${values.length}`);
    const counters: Record<string, number> = {};
    names.forEach((n, i) => (counters[n] = num(values[i], `/proc/net/dev ${device}`)));
    out.push({ device, counters });
  }
  return out;
}
