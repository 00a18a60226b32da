/** Parser of /proc/meminfo, named as node_exporter names it. */

/** One field of /proc/meminfo as node_exporter exposes it. */
export interface MeminfoField {
  /** The metric name without `node_memory_`, e.g. `MemTotal_bytes`, `Active_anon_bytes`, `HugePages_Total`. */
  readonly name: string;
  /** Bytes for `kB` fields, the plain count otherwise. */
  readonly value: number;
}

/**
 * Parses /proc/meminfo. As node_exporter does: `(x)` becomes `_x`, `kB` values are
 * multiplied by 1024 and get a `_bytes` suffix, unit-less fields (HugePages_*) keep
 * their name. Lines that do not parse are skipped (the kernel adds fields over time).
 */
export function parseMeminfo(text: string): MeminfoField[] {
  const out: MeminfoField[] = [];
  for (const line of text.split('\n')) {
    const m = /^([^:\s]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (!m) continue;
    const key = m[1]!.replace(/\((.*)\)/, '_$1');
    const kb = m[3] !== undefined;
    out.push({ name: kb ? `${key}_bytes` : key, value: Number(m[2]) * (kb ? 1024 : 1) });
  }
  return out;
}

/** Looks up one parsed field by its node_exporter name (e.g. `MemTotal_bytes`). */
export function meminfoValue(fields: readonly MeminfoField[], name: string): number | undefined {
  return fields.find((f) => f.name === name)?.value;
}

/**
 * Fraction 0–1 of memory in use, `1 − MemAvailable / MemTotal` (MemAvailable counts
 * reclaimable cache as free, as `free` does). Kernels older than 3.14 lack
 * MemAvailable: then MemFree + Buffers + Cached stands in.
 */
export function memoryUsageRatio(fields: readonly MeminfoField[]): number {
  const total = meminfoValue(fields, 'MemTotal_bytes');
  if (!total) return NaN;
  const available =
    meminfoValue(fields, 'MemAvailable_bytes') ??
    (meminfoValue(fields, 'MemFree_bytes') ?? 0) + (meminfoValue(fields, 'Buffers_bytes') ?? 0) + (meminfoValue(fields, 'Cached_bytes') ?? 0);
  return Math.min(1, Math.max(0, 1 - available / total));
}
