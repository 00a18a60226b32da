/** Parser of /proc/net/sockstat and sockstat6. */
import { num } from './read.js';

/** One figure: `sockets used`, `TCP inuse`, `TCP6 inuse`… */
export interface SockStat {
  readonly protocol: string;
  readonly field: string;
  readonly value: number;
}

/** Parses `TCP: inuse 13 orphan 0 tw 42 alloc 16 mem 0` lines. */
export function parseSockstat(text: string): SockStat[] {
  const out: SockStat[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const protocol = line.slice(0, colon).trim();
    const parts = line.slice(colon + 1).trim().split(/\s+/);
    if (parts.length % 2 !== 0) throw new Error(`sockstat ${protocol}: odd number of fields`);
    for (let i = 0; i < parts.length; i += 2) out.push({ protocol, field: parts[i]!, value: num(parts[i + 1], `sockstat ${protocol} ${parts[i]}`) });
  }
  return out;
}
