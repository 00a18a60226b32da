/** Parser of /proc/net/softnet_stat (one line of hex columns per CPU). */

/** The per-CPU figures node_exporter exposes. */
export interface SoftnetStat {
  readonly cpu: string;
  readonly processed: number;
  readonly dropped: number;
  readonly timeSqueezed: number;
  /** Kernel 2.6.36+ (column 10). */
  readonly receivedRps?: number;
  /** Kernel 3.11+ (column 11). */
  readonly flowLimitCount?: number;
}

/** Parses softnet_stat; the CPU is column 13 (index 12) where the kernel gives it (5.10+), the line index otherwise (offline CPUs have no line). */
export function parseSoftnet(text: string): SoftnetStat[] {
  const out: SoftnetStat[] = [];
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .forEach((line, i) => {
      const c = line.trim().split(/\s+/).map((h) => parseInt(h, 16));
      if (c.length < 3 || c.some((n) => Number.isNaN(n))) throw new Error(`softnet_stat line ${i + 1}: expected hex columns`);
      out.push({
        cpu: String(c.length >= 13 ? c[12] : i),
        processed: c[0]!,
        dropped: c[1]!,
        timeSqueezed: c[2]!,
        ...(c.length >= 10 ? { receivedRps: c[9]! } : {}),
        ...(c.length >= 11 ? { flowLimitCount: c[10]! } : {}),
      });
    });
  return out;
}
