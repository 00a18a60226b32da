/** Parser of /proc/diskstats (https://www.kernel.org/doc/Documentation/ABI/testing/procfs-diskstats). */
import { fields, num } from './read.js';

/** One block device's counters; optional fields are missing on older kernels. */
export interface DiskStats {
  readonly major: string;
  readonly minor: string;
  readonly device: string;
  readonly readsCompleted: number;
  readonly readsMerged: number;
  readonly sectorsRead: number;
  readonly readTimeMs: number;
  readonly writesCompleted: number;
  readonly writesMerged: number;
  readonly sectorsWritten: number;
  readonly writeTimeMs: number;
  readonly ioNow: number;
  readonly ioTimeMs: number;
  readonly ioTimeWeightedMs: number;
  /** Kernel 4.18+. */
  readonly discards?: { completed: number; merged: number; sectors: number; timeMs: number };
  /** Kernel 5.5+. */
  readonly flush?: { completed: number; timeMs: number };
}

/** Parses /proc/diskstats; lines with fewer than the 14 classic columns are skipped. */
export function parseDiskstats(text: string): DiskStats[] {
  const out: DiskStats[] = [];
  for (const line of text.split('\n')) {
    const f = fields(line);
    if (f.length < 14) continue;
    const device = f[2]!;
    const n = f.map((t, i) => (i < 3 ? 0 : num(t, `/proc/diskstats ${device}`)));
    const s: DiskStats = {
      major: f[0]!,
      minor: f[1]!,
      device,
      readsCompleted: n[3]!,
      readsMerged: n[4]!,
      sectorsRead: n[5]!,
      readTimeMs: n[6]!,
      writesCompleted: n[7]!,
      writesMerged: n[8]!,
      sectorsWritten: n[9]!,
      writeTimeMs: n[10]!,
      ioNow: n[11]!,
      ioTimeMs: n[12]!,
      ioTimeWeightedMs: n[13]!,
      ...(f.length >= 18 ? { discards: { completed: n[14]!, merged: n[15]!, sectors: n[16]!, timeMs: n[17]! } } : {}),
      ...(f.length >= 20 ? { flush: { completed: n[18]!, timeMs: n[19]! } } : {}),
    };
    out.push(s);
  }
  return out;
}
