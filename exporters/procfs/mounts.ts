/** Parser of /proc/mounts and the mount selection of the filesystem collector. */
import { fields } from './read.js';

/** One mount. */
export interface Mount {
  readonly device: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly options: readonly string[];
}

/** Undoes the kernel's octal escapes in /proc/mounts (`\040` space, `\011` tab, `\012` newline, `\134` backslash). */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/mounts (fstab format). Short lines are skipped. */
export function parseMounts(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = fields(line);
    if (f.length < 4) continue;
    out.push({
      device: unescapeMountField(f[0]!),
      mountPoint: unescapeMountField(f[1]!),
      fsType: f[2]!,
      options: f[3]!.split(','),
    });
  }
  return out;
}

/** Which mounts to report. */
export interface MountFilter {
  readonly mountPointsExclude?: RegExp | undefined;
  readonly mountPointsInclude?: RegExp | undefined;
  readonly fsTypesExclude?: RegExp | undefined;
}

/**
 * Applies include/exclude patterns and drops duplicates: when one mount point is
 * mounted over, only the last (visible) mount counts, as `df` shows it.
 */
export function selectMounts(mounts: readonly Mount[], filter: MountFilter): Mount[] {
  const byPoint = new Map<string, Mount>();
  for (const m of mounts) {
    if (filter.mountPointsExclude?.test(m.mountPoint)) continue;
    if (filter.mountPointsInclude && !filter.mountPointsInclude.test(m.mountPoint)) continue;
    if (filter.fsTypesExclude?.test(m.fsType)) continue;
    byPoint.delete(m.mountPoint); // re-insert so the order follows the last mount
    byPoint.set(m.mountPoint, m);
  }
  return [...byPoint.values()];
}
